package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the lock's name in the state directory.
const LockFile = "lock"

// LockInfo is what a lock file says about its holder.
type LockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command string    `json:"command,omitempty"`
}

// Lock is the exclusive right to write to one environment. WSO2's APIs
// have no If-Match, so two applies at once could undo each other's writes
// and interleave their journals; the lock makes them take turns.
type Lock struct {
	path  string
	info  LockInfo
	stale *LockInfo
	f     *os.File // holds the OS lock, where there is one
}

// Info is what this lock recorded about its holder.
func (l *Lock) Info() LockInfo { return l.info }

// Stale returns the holder of a stale lock this one replaced (a process
// that died without releasing it), or nil; the caller should warn.
func (l *Lock) Stale() *LockInfo { return l.stale }

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

// Acquire takes the lock of a state directory, creating the directory if
// need be. command describes the holder for whoever finds the lock taken
// ("apply", "run"). If another process holds it, Acquire returns an *Error
// naming it; it does not wait.
func Acquire(stateDir, command string) (*Lock, error) {
	if err := ensureStateDir(stateDir); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	host, _ := os.Hostname()
	l := &Lock{
		path: filepath.Join(stateDir, LockFile),
		info: LockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC(), Command: command},
	}
	if err := l.acquire(); err != nil {
		return nil, err
	}
	return l, nil
}

// heldError describes the holder of a lock this process could not take.
func heldError(path string, info *LockInfo) error {
	hint := fmt.Sprintf("wait for it to finish; if you are sure no wso2sync is running for this environment, remove %s", path)
	if info == nil || info.PID == 0 {
		return &Error{Message: fmt.Sprintf("another wso2sync holds the lock on %s", filepath.Dir(path)), Hint: hint}
	}
	msg := fmt.Sprintf("another wso2sync (pid %d on host %s, since %s", info.PID, info.Host, info.Started.Format(time.RFC3339))
	if info.Command != "" {
		msg += ", running " + info.Command
	}
	return &Error{Message: msg + ") holds the lock on " + filepath.Dir(path), Hint: hint}
}

// parseLockInfo reads a lock file's content; nil when it says nothing
// useful (empty, or torn by a crash while it was written).
func parseLockInfo(b []byte) *LockInfo {
	var info LockInfo
	if len(b) == 0 || json.Unmarshal(b, &info) != nil {
		return nil
	}
	return &info
}
