package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// These tests run the daemon with the real pass (internal/reconcile)
// against the simulator. Every wait polls with a deadline.

const envFile = `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata:
  name: daemon-test
spec:
  apim: {url: http://apim.invalid}
  is: {url: http://is.invalid}
  credentials:
    username: {env: WSO2SYNC_ADMIN_USERNAME}
    password: {env: WSO2SYNC_ADMIN_PASSWORD}
  mode: %s
`

func appDoc(name, description string) string {
	return fmt.Sprintf(`---
apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: %s
spec:
  description: %s
  throttlingPolicy: Unlimited
`, name, description)
}

func startSimEnv(t *testing.T, o sim.Options) *sim.Sim {
	t.Helper()
	t.Setenv("WSO2SYNC_ADMIN_USERNAME", "admin")
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "admin")
	if o.Seed == nil {
		o.Seed = sim.DefaultEstate()
	}
	return sim.Start(t, o)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func reconcilePass(s *sim.Sim) PassFunc {
	return Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), UserAgent: "wso2sync-test",
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
}

// simApp returns the simulator's application of that name.
func simApp(s *sim.Sim, name string) (description string, ok bool) {
	for _, a := range s.APIM().Dump().Applications {
		if a.Name == name {
			return a.Description, true
		}
	}
	return "", false
}

func lastPass(d *Daemon) *PassStatus { return d.Status().LastPass }

// passAfter waits for a pass that started after n passes and returns it.
func passAfter(t *testing.T, d *Daemon, n int, what string) *PassStatus {
	t.Helper()
	var lp *PassStatus
	waitFor(t, what, 20*time.Second, func() bool {
		st := d.Status()
		if len(st.History) > n && st.Running == nil {
			lp = st.LastPass
			return true
		}
		return false
	})
	return lp
}

func TestDirectorySourceAgainstTheSimulator(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "enforce"))
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := startDaemon(t, Options{Source: src, Pass: reconcilePass(s), Scheduler: SchedulerOptions{Interval: time.Hour}})
	if lp := passAfter(t, d, 0, "the first pass"); lp.Result != ResultSuccess {
		t.Fatalf("first pass: %+v", lp)
	}

	// A new application manifest appears in the simulator.
	n := len(d.Status().History)
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("daemon-app-1", "first"))
	waitFor(t, "daemon-app-1 in the simulator", 20*time.Second, func() bool { _, ok := simApp(s, "daemon-app-1"); return ok })
	if lp := passAfter(t, d, n, "the pass"); lp.Result != ResultSuccess || lp.Applied["Application"]["create"] != 1 || !strings.HasPrefix(lp.Reason, "change") {
		t.Errorf("pass: %+v", lp)
	}

	// An invalid edit is reported and changes nothing.
	n = len(d.Status().History)
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("daemon-app-1", "first")+appDoc("daemon-app-2", "second")+"  colour: blue\n")
	lp := passAfter(t, d, n, "the invalid pass")
	if lp.Result != ResultInvalid || len(lp.Errors) == 0 || !strings.Contains(strings.Join(lp.Errors, "\n"), "apps.yaml") {
		t.Fatalf("invalid pass: %+v", lp)
	}
	if _, ok := simApp(s, "daemon-app-2"); ok {
		t.Fatal("an invalid tree was applied")
	}
	if ready := d.Status(); ready.LastSuccess == nil {
		t.Error("the last success was forgotten")
	}

	// Fixing it applies.
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("daemon-app-1", "first")+appDoc("daemon-app-2", "second"))
	waitFor(t, "daemon-app-2 in the simulator", 20*time.Second, func() bool { _, ok := simApp(s, "daemon-app-2"); return ok })

	// A new sub-folder is watched too (certificates live in them).
	n = len(d.Status().History)
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	passAfter(t, d, n, "a pass for the new folder")
	n = len(d.Status().History)
	writeFile(t, filepath.Join(dir, "certs", "note.txt"), "x")
	if lp := passAfter(t, d, n, "a pass for a file in the new folder"); !strings.Contains(lp.Reason, "certs") {
		t.Errorf("reason %q", lp.Reason)
	}
	// The state directory's own writes never trigger passes.
	if _, err := os.Stat(filepath.Join(dir, apply.StateDirName, "journal.jsonl")); err != nil {
		t.Errorf("no journal: %v", err)
	}
}

// TestDrift: an object changed behind the daemon's back is put back after
// the (short) interval in enforce mode, and only reported in dry-run.
func TestDriftAgainstTheSimulator(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "dry-run"))
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("drift-app", "as declared"))

	tamper := func() {
		t.Helper()
		ctx := context.Background()
		p, err := reconcile.Load(ctx, reconcile.Options{EnvDir: dir, APIMURL: s.APIMURL(), ISURL: s.ISURL()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Compute(ctx, nil); err != nil {
			t.Fatal(err)
		}
		app := *p.State.Application("drift-app")
		app.Spec.Description = "changed by hand"
		if err := p.Providers.APIM.Applications.Update(ctx, p.Live.ID(spec.KindApplication, "drift-app"), &app); err != nil {
			t.Fatal(err)
		}
	}

	// Enforce (the flag overrides the environment's dry-run).
	run := func(mode string) (*Daemon, context.CancelFunc, chan error) {
		src, _ := NewDirSource(DirOptions{Dir: dir, Debounce: 50 * time.Millisecond})
		d, err := New(Options{Source: src, Pass: reconcilePass(s), Mode: mode, Listen: "127.0.0.1:0", Log: testLogger(t),
			Scheduler: SchedulerOptions{Interval: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		return d, cancel, done
	}
	d, cancel, done := run("enforce")
	waitFor(t, "drift-app created", 20*time.Second, func() bool { _, ok := simApp(s, "drift-app"); return ok })
	tamper()
	waitFor(t, "drift corrected", 20*time.Second, func() bool { desc, _ := simApp(s, "drift-app"); return desc == "as declared" })
	waitFor(t, "a pass that corrected drift", 20*time.Second, func() bool {
		for _, h := range d.Status().History {
			if h.Applied > 0 && h.Reason == "interval" {
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Dry-run (the environment's mode): reported, not corrected.
	d, cancel, done = run("")
	defer func() { cancel(); <-done }()
	passAfter(t, d, 0, "first dry-run pass")
	tamper()
	var lp *PassStatus
	waitFor(t, "drift reported", 20*time.Second, func() bool {
		lp = lastPass(d)
		return lp != nil && lp.Drift["Application"] == 1 && lp.Mode == "dry-run"
	})
	passAfter(t, d, len(d.Status().History), "another dry-run pass")
	if desc, _ := simApp(s, "drift-app"); desc != "changed by hand" {
		t.Errorf("dry-run changed the estate: description %q", desc)
	}
	if lp.Result != ResultSuccess || len(lp.Applied) != 0 {
		t.Errorf("dry-run pass: %+v", lp)
	}
}

// TestShutdownMidPass: stopping the daemon while it applies leaves no
// lock and a journal the next run resolves.
func TestShutdownMidPass(t *testing.T) {
	slow := make(chan struct{})
	s := startSimEnv(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if server == "apim" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/applications") {
				select {
				case <-slow:
				case <-time.After(300 * time.Millisecond):
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "enforce"))
	var apps strings.Builder
	for i := range 12 {
		apps.WriteString(appDoc(fmt.Sprintf("slow-app-%02d", i), "slow"))
	}
	writeFile(t, filepath.Join(dir, "apps.yaml"), apps.String())
	src, _ := NewDirSource(DirOptions{Dir: dir})
	pass := Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), Concurrency: 2,
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, MaxRetries: 1}})
	d, err := New(Options{Source: src, Pass: pass, Listen: "127.0.0.1:0", Log: testLogger(t),
		ShutdownTimeout: 100 * time.Millisecond, Scheduler: SchedulerOptions{Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stateDir := apply.StateDir(dir)
	waitFor(t, "the apply under way", 20*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(stateDir, apply.JournalFile))
		return strings.Contains(string(b), "slow-app")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	close(slow)
	if _, err := os.Stat(filepath.Join(stateDir, apply.LockFile)); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
	lp := d.Status().LastPass
	if lp == nil || lp.Result == ResultSuccess {
		t.Fatalf("the interrupted pass: %+v", lp)
	}
	created := 0
	for i := range 12 {
		if _, ok := simApp(s, fmt.Sprintf("slow-app-%02d", i)); ok {
			created++
		}
	}
	if created == 12 {
		t.Fatal("the pass was not interrupted")
	}

	// The journal is consistent: the next pass resolves it and converges
	// without duplicates.
	res, err := pass(context.Background(), PassRequest{Dir: dir, Log: testLogger(t)})
	if err != nil {
		t.Fatalf("next pass: %v %+v", err, res)
	}
	names := map[string]int{}
	for _, a := range s.APIM().Dump().Applications {
		names[a.Name]++
	}
	for i := range 12 {
		if n := names[fmt.Sprintf("slow-app-%02d", i)]; n != 1 {
			t.Errorf("slow-app-%02d exists %d times", i, n)
		}
	}
	res, err = pass(context.Background(), PassRequest{Dir: dir, Log: testLogger(t)})
	if err != nil || res.Plan.Changes() != 0 {
		t.Errorf("not converged: %v %+v", err, res.Plan)
	}

}
