//go:build unix

package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// acquire takes the lock with flock(2) on the lock file, and writes the
// holder's details into it.
//
// The kernel releases a flock when its holder dies, however it dies, so a
// lock file that can be flocked but still names a holder is stale by
// construction: no PID probing, which PID reuse would fool (a dead
// holder's PID given to an unrelated process looks alive forever).
func (l *Lock) acquire() error {
	// A holder releasing the lock removes the file while we may have it
	// open; then our flock is on a file nobody else will see. Retry on the
	// new file (a few times: each retry means another process won a race).
	for range 5 {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b, _ := io.ReadAll(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return heldError(l.path, parseLockInfo(b))
			}
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		if !samePath(f, l.path) {
			f.Close()
			continue
		}
		b, err := io.ReadAll(f)
		if err == nil {
			l.stale = parseLockInfo(b)
			err = l.write(f)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		l.f = f
		return nil
	}
	return heldError(l.path, nil)
}

// samePath reports whether the open file is still the one at path.
func samePath(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// write replaces the file's content with this holder's details.
func (l *Lock) write(f *os.File) error {
	b, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		return err
	}
	return f.Sync()
}

// Release gives the lock up: the file goes first, then the flock (closing
// the file), so a waiting process never flocks a file that stays behind.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
