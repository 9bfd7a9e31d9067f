package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunAndStatus runs `wso2sync run` in-process against the simulator,
// asks `wso2sync status`, then stops it as SIGTERM would: exit 0, no lock.
func TestRunAndStatus(t *testing.T) {
	t.Setenv("WSO2SYNC_ADMIN_USERNAME", "admin")
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "admin")
	t.Setenv("HOOK_SECRET", "s3cret")
	s := sim.Start(t, sim.Options{Seed: sim.DefaultEstate()})
	dir := t.TempDir()
	env := fmt.Sprintf(`apiVersion: wso2sync/v1alpha1
kind: Environment
metadata: {name: cli-run}
spec:
  apim: {url: %s}
  is: {url: %s}
  credentials:
    username: {env: WSO2SYNC_ADMIN_USERNAME}
    password: {env: WSO2SYNC_ADMIN_PASSWORD}
  mode: dry-run
---
apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: cli-run-app}
spec: {throttlingPolicy: Unlimited}
`, s.APIMURL(), s.ISURL())
	if err := os.WriteFile(filepath.Join(dir, "wso2sync.yaml"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"run", "--env", dir, "--listen", addr, "--mode", "enforce",
			"--webhook-secret-env", "HOOK_SECRET", "--log-format", "json"}, &stdout, &stderr)
	}()
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	var out bytes.Buffer
	for {
		out.Reset()
		var errb bytes.Buffer
		if run(context.Background(), []string{"status", "--url", url}, &out, &errb) == 0 &&
			strings.Contains(out.String(), "last pass") && strings.Contains(out.String(), "success") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful pass; status: %s\nlogs: %s", out.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"ready:     yes", "mode:      enforce", "applied: Application create ×1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d after shutdown; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
	if _, err := os.Stat(filepath.Join(apply.StateDir(dir), apply.LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
	if !strings.Contains(stderr.String(), `"pass":"`) {
		t.Errorf("no pass ID in the logs:\n%s", stderr.String())
	}

	// Flag errors.
	var e bytes.Buffer
	if c := run(context.Background(), []string{"run", "--env", dir, "--git", "https://example.com/x.git"}, &e, &e); c != 1 || !strings.Contains(e.String(), "--env and --git") {
		t.Errorf("--env with --git: %d %s", c, e.String())
	}
	e.Reset()
	if c := run(context.Background(), []string{"run", "--env", dir, "--webhook-secret-env", "NOPE_UNSET"}, &e, &e); c != 1 || !strings.Contains(e.String(), "NOPE_UNSET") {
		t.Errorf("unset secret: %d %s", c, e.String())
	}
	e.Reset()
	if c := run(context.Background(), []string{"status", "--url", url}, &e, &e); c != 1 || !strings.Contains(e.String(), "no daemon answers") {
		t.Errorf("status of a stopped daemon: %d %s", c, e.String())
	}
}
