package daemon

import "context"

// Source is where the manifests come from.
type Source interface {
	// Sync brings the source up to date (git: fetch and check out) and
	// returns the environment directory and the revision it holds. It is
	// called at the start of every pass, never concurrently.
	Sync(ctx context.Context) (dir string, rev Revision, err error)
	// Watch calls changed whenever the source changes, until ctx ends.
	Watch(ctx context.Context, changed func(reason string)) error
	// StateDir is where passes keep the lock, journal and inventory
	// (empty: beside the manifests).
	StateDir() string
	// Describe is the source for people, before any Sync.
	Describe() Revision
}

// outputsKeeper is a Source whose passes keep their outputs (sealed
// credentials and index) in a folder of their own rather than beside the
// manifests, because the manifests' folder is not theirs (a git checkout).
type outputsKeeper interface {
	OutputsDir() string
}

// extraWatcher is a Source that can watch more folders (those the
// manifests include from outside the environment directory).
type extraWatcher interface {
	WatchMore(dirs []string)
	// IgnoreDirs makes changes below dirs (what the pass itself writes)
	// no reason for a pass.
	IgnoreDirs(dirs []string)
}
