package daemon

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// lockedBuffer is a bytes.Buffer safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The daemon's enforce pass is apply's: a newly declared application's
// generated consumer secret is sealed to the run's recipient (the .age
// file opens with the identity to the secret the server holds), and the
// secret shows in none of the daemon's logs (debug level), /status,
// /metrics or status page.
func TestEnforceSealsGeneratedSecrets(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "enforce"))
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	pass := Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), UserAgent: "wso2sync-test",
		SealRecipients: []string{id.Recipient().String()},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
	d, url := startDaemon(t, Options{Source: src, Pass: pass, Log: log, Scheduler: SchedulerOptions{Interval: time.Hour}})
	if lp := passAfter(t, d, 0, "the first pass"); lp.Result != ResultSuccess {
		t.Fatalf("first pass: %+v", lp)
	}

	writeFile(t, filepath.Join(dir, "apps.yaml"), `apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: sealed-app
spec:
  throttlingPolicy: Unlimited
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      grantTypes: [client_credentials]
`)
	store := secrets.NewStore(filepath.Join(dir, "sealed", "daemon-test"))
	var entry secrets.IndexEntry
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("status: %+v", d.Status().LastPass)
			_ = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error { t.Log(p); return nil })
			ix, err := store.ReadIndex()
			t.Logf("index %+v %v", ix, err)
		}
	})
	waitFor(t, "sealed-app's key sealed", 20*time.Second, func() bool {
		ix, err := store.ReadIndex()
		if err != nil {
			return false
		}
		es := ix.Lookup("sealed-app", "PRODUCTION")
		if len(es) == 1 {
			entry = es[0]
			return true
		}
		return false
	})
	c, err := store.OpenFile(entry.File, secrets.Identities{id})
	if err != nil {
		t.Fatal(err)
	}
	var live string
	for _, k := range s.APIM().Dump().KeyMappings {
		if k.ConsumerKey != "" && k.ConsumerKey == c.ConsumerKey {
			live = k.ConsumerSecret
		}
	}
	if live == "" || c.ConsumerSecret.Reveal() != live {
		t.Fatalf("the sealed secret is not the simulator's secret of consumer key %q", c.ConsumerKey)
	}
	if !strings.HasPrefix(entry.Fingerprint, "hmac-sha256/") {
		t.Errorf("index fingerprint %q is not keyed", entry.Fingerprint)
	}

	// The sealed files the pass wrote are not manifest changes: no pass
	// follows by itself. One more pass finds the estate converged, with
	// nothing left to seal.
	waitFor(t, "an idle daemon", 20*time.Second, func() bool { return d.Status().Running == nil })
	n := len(d.Status().History)
	time.Sleep(300 * time.Millisecond) // well past the 100 ms debounce
	if got := len(d.Status().History); got != n {
		t.Fatalf("writing the sealed outputs triggered %d more pass(es)", got-n)
	}
	d.Trigger("check")
	lp := passAfter(t, d, n, "the check pass")
	if lp.Result != ResultSuccess || lp.Plan.Changes() != 0 {
		t.Fatalf("check pass: %+v", lp)
	}
	// Calls by server come from the transport's observer: a plan reads both.
	seen := map[string]bool{}
	for _, c := range lp.Calls {
		if c.Status == "200" && c.Count > 0 {
			seen[c.Server] = true
		}
	}
	if !seen["apim"] || !seen["is"] {
		t.Errorf("calls by server %+v: want 200s from apim and is", lp.Calls)
	}

	surfaces := map[string]string{"logs": logs.String()}
	for _, p := range []string{"/status", "/metrics", "/"} {
		code, body := get(t, url+p)
		if code != 200 {
			t.Fatalf("GET %s: %d", p, code)
		}
		surfaces["GET "+p] = body
	}
	if !strings.Contains(surfaces["logs"], `"msg":"sealed"`) || !strings.Contains(surfaces["logs"], entry.File) {
		t.Errorf("the logs do not report the seal of %s", entry.File)
	}
	for name, out := range surfaces {
		if strings.Contains(out, entry.Fingerprint[strings.LastIndex(entry.Fingerprint, ":")+1:]) {
			t.Errorf("the keyed fingerprint of the secret appears in %s", name)
		}
	}
	for name, out := range surfaces {
		if strings.Contains(out, live) {
			t.Errorf("the consumer secret appears in %s", name)
		}
	}
}
