package apply

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// StateDirName is the state directory's name inside an environment
// directory.
const StateDirName = ".wso2sync"

// StateDir returns the default state directory of an environment:
// <envDir>/.wso2sync. It sits beside the manifests so that each
// environment's lock, journal and inventory travel with it, and it carries
// a .gitignore so they are never committed with the manifests.
func StateDir(envDir string) string { return filepath.Join(envDir, StateDirName) }

// ensureStateDir creates the state directory (private to the user) and its
// .gitignore.
func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ign := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ign); errors.Is(err, fs.ErrNotExist) {
		// A failure here costs nothing but tidiness.
		_ = os.WriteFile(ign, []byte("# wso2sync state: lock, journal, inventory. Not for git.\n*\n"), 0o600)
	}
	return nil
}

// syncDir makes a new directory entry durable. It is best effort: some
// platforms cannot sync a directory, and the file's own fsync matters more.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
