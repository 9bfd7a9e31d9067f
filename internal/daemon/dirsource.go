package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a directory must be quiet before a change
// triggers a pass: an editor's burst of writes gives one pass.
const DefaultDebounce = 2 * time.Second

// DirOptions configure a directory source.
type DirOptions struct {
	// Dir is the environment directory.
	Dir string
	// Debounce (default 2s).
	Debounce time.Duration
	Log      *slog.Logger
	// Now is the clock of Revision.Time (default time.Now).
	Now func() time.Time
}

// DirSource is an environment directory on disk, watched with fsnotify
// (the whole tree, new sub-folders included).
type DirSource struct {
	opts DirOptions
	dir  string

	mu      sync.Mutex
	watcher *fsnotify.Watcher
	roots   map[string]bool
	// outputs are folders the pass writes (sealed outputs); their changes
	// are not manifest changes.
	outputs []string
}

// NewDirSource returns a directory source.
func NewDirSource(o DirOptions) (*DirSource, error) {
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &DirSource{opts: o, dir: abs, roots: map[string]bool{abs: true}}, nil
}

func (s *DirSource) Describe() Revision { return Revision{Source: "dir", URL: s.dir} }

func (s *DirSource) StateDir() string { return "" }

func (s *DirSource) Sync(context.Context) (string, Revision, error) {
	if _, err := os.Stat(filepath.Join(s.dir, "wso2sync.yaml")); err != nil {
		// The pass reports it the way `wso2sync validate` does.
		s.opts.Log.Debug("no wso2sync.yaml yet", "dir", s.dir)
	}
	r := s.Describe()
	r.Time = s.opts.Now().UTC()
	r.Digest, r.Files = s.digest()
	return s.dir, r, nil
}

// digest identifies what the folder holds, so the history can tell one
// revision of a folder from another as it does commits: sha256 over the
// relative names and contents of its files, leaving out what the watch
// ignores (hidden files, the state directory, editors' temporary files)
// and the pass's own outputs. Folders included from outside (../base) are
// not covered.
func (s *DirSource) digest() (string, int) {
	h := sha256.New()
	n := 0
	_ = filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != s.dir && (ignored(p) || s.isOutput(p)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		rel, _ := filepath.Rel(s.dir, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		if _, err := io.Copy(h, f); err != nil {
			return nil
		}
		h.Write([]byte{0})
		n++
		return nil
	})
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:12], n
}

// WatchMore adds folders the manifests include (../base) to the watch.
func (s *DirSource) WatchMore(dirs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil || s.roots[abs] || s.covered(abs) {
			continue
		}
		s.roots[abs] = true
		if s.watcher != nil {
			s.addTree(abs)
		}
	}
}

// IgnoreDirs replaces the folders whose changes never trigger a pass.
func (s *DirSource) IgnoreDirs(dirs []string) {
	var abs []string
	for _, d := range dirs {
		if a, err := filepath.Abs(d); err == nil {
			abs = append(abs, a)
		}
	}
	s.mu.Lock()
	s.outputs = abs
	s.mu.Unlock()
}

// isOutput reports whether p lies in a folder the pass writes, or is a
// folder on the way to one (the pass creates sealed/ before sealed/<env>).
func (s *DirSource) isOutput(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.outputs {
		if within(o, p) || (p != s.dir && within(p, o)) {
			return true
		}
	}
	return false
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// covered reports whether dir is inside a watched root. Callers hold mu.
func (s *DirSource) covered(dir string) bool {
	for r := range s.roots {
		if within(r, dir) {
			return true
		}
	}
	return false
}

// Watch watches the tree until ctx ends; changed gets "change" once per
// burst of events, Debounce after the last one.
func (s *DirSource) Watch(ctx context.Context, changed func(reason string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	s.mu.Lock()
	s.watcher = w
	for r := range s.roots {
		s.addTree(r)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.watcher = nil
		s.mu.Unlock()
	}()

	var (
		debounce <-chan time.Time
		timer    *time.Timer
		changes  []string // paths of the burst, first seen first
	)
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.opts.Log.Warn("watching the manifests", "err", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ignored(ev.Name) || s.isOutput(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					s.mu.Lock()
					s.addTree(ev.Name)
					s.mu.Unlock()
				}
			}
			s.opts.Log.Debug("manifest change", "path", ev.Name, "op", ev.Op.String())
			if !slices.Contains(changes, ev.Name) {
				changes = append(changes, ev.Name)
			}
			if timer == nil {
				timer = time.NewTimer(s.opts.Debounce)
			} else {
				if !timer.Stop() {
					select {
					case <-timer.C:
					default:
					}
				}
				timer.Reset(s.opts.Debounce)
			}
			debounce = timer.C
		case <-debounce:
			debounce = nil
			// Checked again: a pass may have named its outputs after
			// their first events arrived.
			var names []string
			for _, p := range changes {
				if s.isOutput(p) {
					continue
				}
				rel, err := filepath.Rel(s.dir, p)
				if err != nil {
					rel = p
				}
				names = append(names, filepath.ToSlash(rel))
			}
			changes = changes[:0]
			if len(names) == 0 {
				continue
			}
			changed(ChangeReason(names))
		}
	}
}

// maxChangeNames is how many changed files a pass's reason names.
const maxChangeNames = 5

// ChangeReason is the reason of a pass for changed files:
// "change: a.yaml, b.yaml (+3 more)".
func ChangeReason(names []string) string {
	r := "change: "
	if len(names) <= maxChangeNames {
		return r + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s%s (+%d more)", r, strings.Join(names[:maxChangeNames], ", "), len(names)-maxChangeNames)
}

// addTree watches dir and every folder below it, skipping the state
// directory and hidden folders (.git). Callers hold mu.
func (s *DirSource) addTree(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished meanwhile; its parent's events cover it
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if err := s.watcher.Add(p); err != nil {
			s.opts.Log.Warn("cannot watch a folder", "dir", p, "err", err)
		}
		return nil
	})
}

// ignored reports whether a path's changes do not matter: the state
// directory (.wso2sync: the journal is written during every pass), other
// hidden files and folders, and editors' temporary files.
// Hidden folders are never watched, so their own entries are the only
// events that come from them.
func ignored(p string) bool {
	base := filepath.Base(p)
	return strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") ||
		strings.HasSuffix(base, ".swx") || strings.HasSuffix(base, ".tmp") || base == "4913"
}
