//go:build !unix

package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// acquire creates the lock file exclusively. Without flock there is no
// safe stale detection here: a lock left by a crash must be removed by
// hand (the error's hint says so).
func (l *Lock) acquire() error {
	b, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		held, _ := os.ReadFile(l.path)
		return heldError(l.path, parseLockInfo(held))
	}
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(l.path)
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	l.f = f
	return nil
}

// Release removes the lock file.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	l.f = nil
	return os.Remove(l.path)
}
