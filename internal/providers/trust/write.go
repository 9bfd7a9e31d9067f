package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2/maybe"
)

// BackupSuffix names the copy of the previous file that WriteFile keeps.
const BackupSuffix = ".bak"

// WriteFile replaces path with data atomically (temporary file in the same
// directory, fsync, rename), after copying the previous file to
// path+BackupSuffix. The new file keeps the previous file's mode; a new
// file is 0644 (a truststore holds public certificates, and the JVM often
// runs as another user than wso2sync). It returns the backup's path ("" if
// there was no previous file).
func WriteFile(path string, data []byte) (backup string, err error) {
	mode := fs.FileMode(0o644)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
		backup = path + BackupSuffix
		if err := maybe.WriteFile(backup, old, mode); err != nil {
			return "", fmt.Errorf("cannot keep a backup of the previous truststore: %w", err)
		}
	}
	if err := maybe.WriteFile(path, data, mode); err != nil {
		return backup, err
	}
	return backup, nil
}
