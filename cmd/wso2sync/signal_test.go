package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
)

// runMainEnv makes the test binary run Main instead of the tests (see
// TestMain), so a test can send signals to a real wso2sync process.
const runMainEnv = "WSO2SYNC_TEST_RUN_MAIN"

// stopBound is the bound: a command stops within 5 s of SIGINT or
// SIGTERM, whatever it is blocked on.
const stopBound = 5 * time.Second

// startMain starts the test binary as wso2sync with args.
func startMain(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "WSO2SYNC_APIM_URL=", "WSO2SYNC_IS_URL=", "WSO2SYNC_AGE_IDENTITY=")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// signalAndWait sends sig once the process is blocked (blocked is
// closed; nil means a second after the start, for a block no test can
// observe) if it still runs, and returns its exit code, failing the test
// if it has not stopped stopBound after the signal.
func signalAndWait(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, sig syscall.Signal, blocked <-chan struct{}) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if blocked == nil {
		blocked = closedAfter(time.Second)
	}
	var err error
	select {
	case err = <-done:
		return exitCode(t, err)
	case <-blocked:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("never got to the point where it blocks; output:\n%s", out)
	}
	_ = cmd.Process.Signal(sig)
	sent := time.Now()
	select {
	case err = <-done:
	case <-time.After(stopBound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running %s after %s; output:\n%s", stopBound, sig, out)
	}
	t.Logf("stopped %s after %s", time.Since(sent).Round(time.Millisecond), sig)
	return exitCode(t, err)
}

// openingFIFO is closed once a thread of process pid waits in the open of
// a FIFO for a writer (Linux: its wchan is wait_for_partner), or a second
// after the start where /proc cannot tell.
func openingFIFO(pid int) <-chan struct{} {
	if _, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid)); err != nil {
		return closedAfter(time.Second)
	}
	c := make(chan struct{})
	go func() {
		defer close(c)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
			if len(tasks) == 0 {
				return // gone
			}
			for _, w := range tasks {
				if b, _ := os.ReadFile(w); string(b) == "wait_for_partner" {
					return
				}
			}
		}
	}()
	return c
}

func closedAfter(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}

// waitExit waits for a process that must stop by itself, killing it and
// failing the test if it runs for a minute.
func waitExit(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(t, err)
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running after a minute; output:\n%s", out)
	}
	return 0
}

func exitCode(t *testing.T, err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// writeEnv writes a minimal environment in dir/env.
func writeEnv(t *testing.T, dir, apimURL, extra string) string {
	t.Helper()
	env := filepath.Join(dir, "env")
	if err := os.MkdirAll(env, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata: {name: sig}
spec:
  apim: {url: "` + apimURL + `"}
  is: {url: "` + apimURL + `"}
  credentials: {username: {env: SIG_USER}, password: {env: SIG_PASSWORD}}
` + extra
	if err := os.WriteFile(filepath.Join(env, "wso2sync.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return env
}

// A FIFO named like a manifest blocked validate forever, deaf to signals:
// now it is refused without being opened, and validate stops by itself
// (no signal: one sent a fixed second after the start reached a slow
// start on a loaded machine).
func TestSignalValidateFIFO(t *testing.T) {
	dir := t.TempDir()
	env := writeEnv(t, dir, "https://apim.example", "")
	if err := syscall.Mkfifo(filepath.Join(env, "pipe.yaml"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	cmd, out := startMain(t, dir, nil, "validate", "--env", "env")
	code := waitExit(t, cmd, out)
	if code != 1 || !strings.Contains(out.String(), "pipe.yaml\" is not a regular file (a FIFO)") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

// A command blocked where the context cannot reach (opening an identity
// FIFO nobody writes to: `--identity <(…)` is a legitimate use) still
// stops on SIGTERM, with the shell's code for it.
func TestSignalBlockedOpenStops(t *testing.T) {
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	writeEnv(t, dir, "https://apim.example", "  seal: {recipients: ["+id.Recipient().String()+"]}\n")
	fifo := filepath.Join(dir, "identity.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	cmd, out := startMain(t, dir, nil, "secrets", "reseal", "--env", "env", "--identity", fifo)
	if code := signalAndWait(t, cmd, out, syscall.SIGTERM, openingFIFO(cmd.Process.Pid)); code != 143 || !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("exit %d (want 143), output:\n%s", code, out)
	}
}

// plan against a server that accepts connections and never answers stops
// on SIGINT.
func TestSignalPlanHangingServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Signalled once plan waits on the server, not after a fixed time.
	accepted := make(chan struct{})
	go func() {
		var once sync.Once
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			once.Do(func() { close(accepted) })
			defer c.Close() // held open, never answered
		}
	}()
	dir := t.TempDir()
	writeEnv(t, dir, "http://"+ln.Addr().String(), "")
	cmd, out := startMain(t, dir, []string{"SIG_USER=admin", "SIG_PASSWORD=admin"}, "plan", "--env", "env")
	if code := signalAndWait(t, cmd, out, syscall.SIGINT, accepted); code != 130 {
		t.Fatalf("exit %d (want 130), output:\n%s", code, out)
	}
}
