//go:build unix

package apply

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockExcludes(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir, "apply")
	if err != nil {
		t.Fatal(err)
	}
	if l.Stale() != nil {
		t.Errorf("a fresh lock reports a stale one: %+v", l.Stale())
	}
	_, err = Acquire(dir, "plan")
	var ae *Error
	want := fmt.Sprintf("another wso2sync (pid %d on host %s, since ", os.Getpid(), l.Info().Host)
	if !errors.As(err, &ae) || !strings.HasPrefix(ae.Message, want) || !strings.Contains(ae.Message, "running apply) holds the lock on "+dir) ||
		!strings.Contains(ae.Hint, filepath.Join(dir, LockFile)) {
		t.Fatalf("second Acquire: %v, want %q…", err, want)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Release left the lock file: %v", err)
	}
	l2, err := Acquire(dir, "apply")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

// A lock file left by a dead process (nobody holds its flock) is replaced,
// and the caller learns whose it was.
func TestLockStale(t *testing.T) {
	dir := t.TempDir()
	left := LockInfo{PID: 999999, Host: "old-host", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Command: "apply"}
	b, _ := json.Marshal(left)
	if err := os.WriteFile(filepath.Join(dir, LockFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(dir, "apply")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if s := l.Stale(); s == nil || *s != left {
		t.Errorf("Stale() = %+v, want %+v", s, left)
	}
	var now LockInfo
	b, _ = os.ReadFile(filepath.Join(dir, LockFile))
	if err := json.Unmarshal(b, &now); err != nil || now.PID != os.Getpid() {
		t.Errorf("lock file now says %s", b)
	}
}

// Another process holds the lock; once it dies, the lock is ours.
func TestLockAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("WSO2SYNC_LOCK_HELPER"); dir != "" {
		_, err := Acquire(dir, "helper")
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // hold it until killed
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), "WSO2SYNC_LOCK_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.StdinPipe(); err != nil { // kept open: the helper waits on it
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}

	_, err = Acquire(dir, "apply")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d ", cmd.Process.Pid)) || !strings.Contains(err.Error(), "running helper") {
		t.Fatalf("Acquire while the helper holds it: %v", err)
	}

	cmd.Process.Kill() // dies without releasing
	cmd.Wait()
	l, err := Acquire(dir, "apply")
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	defer l.Release()
	if s := l.Stale(); s == nil || s.PID != cmd.Process.Pid {
		t.Errorf("Stale() = %+v, want the helper's pid %d", s, cmd.Process.Pid)
	}
}
