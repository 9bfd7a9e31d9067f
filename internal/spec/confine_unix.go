//go:build unix

package spec

import (
	"os"
	"syscall"
)

// openNonBlocking opens a file for reading without blocking: opening a
// FIFO with no writer would otherwise wait forever (and ignore signals).
// Reads of a regular file are unaffected by O_NONBLOCK.
func openNonBlocking(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
