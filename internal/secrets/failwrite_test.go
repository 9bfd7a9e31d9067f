package secrets

import (
	"errors"
	"os"

	"github.com/google/renameio/v2"
)

// failingWrite writes part of the content to a renameio pending file and
// fails before the rename, as a crash or a full disk would.
func failingWrite(path string, part []byte, mode os.FileMode) error {
	f, err := renameio.NewPendingFile(path, renameio.WithPermissions(mode))
	if err != nil {
		return err
	}
	defer f.Cleanup()
	if _, err := f.Write(part); err != nil {
		return err
	}
	return errors.New("injected: disk full")
}
