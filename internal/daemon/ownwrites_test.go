package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// ownWritesEnv is an enforcing environment whose first pass writes beside
// the manifests: the sealed consumer secret of a new application key, the
// state directory, and a truststore file (with its .bak once rewritten).
func ownWritesEnv(t *testing.T) map[string]string {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join("..", "..", "examples", "environments", "base", "certs", "wso2is.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"wso2sync.yaml": fmt.Sprintf(envFile, "enforce"),
		"apps.yaml": `apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: own-writes-app
spec:
  throttlingPolicy: Unlimited
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      grantTypes: [client_credentials]
`,
		"certs/wso2is.pem": string(pem),
		"trust.yaml": `apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata:
  name: wso2is
spec:
  usage: trust
  source:
    file: certs/wso2is.pem
    sha256: 7B:B1:44:C2:76:0C:7A:B1:1E:D3:B2:0D:13:D1:42:3B:66:B4:9A:BF:11:5C:76:5B:5D:1A:83:51:2B:CF:C3:6C
---
apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata:
  name: local-truststore
spec:
  path: stores/client-truststore.p12
  type: PKCS12
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries:
    - {alias: wso2is, certificate: wso2is}
  restartCommand: ["true"]
`,
	}
}

func ownWritesPass(t *testing.T, s *sim.Sim) PassFunc {
	t.Helper()
	t.Setenv("WSO2SYNC_TRUSTSTORE_PASSWORD", "changeit")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), UserAgent: "wso2sync-test",
		SealRecipients: []string{id.Recipient().String()}, Trust: reconcile.TrustOptions{},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
}

// settled waits for an idle daemon, then well past the debounce, and
// returns the reasons of every pass so far (oldest first).
func settled(t *testing.T, d *Daemon, quiet time.Duration) []string {
	t.Helper()
	waitFor(t, "an idle daemon", 30*time.Second, func() bool { return d.Status().Running == nil && len(d.Status().History) > 0 })
	time.Sleep(quiet)
	waitFor(t, "an idle daemon", 30*time.Second, func() bool { return d.Status().Running == nil })
	var out []string
	for _, h := range d.Status().History {
		out = append([]string{h.Reason}, out...)
	}
	return out
}

// TestOwnWritesNeverTriggerAPass (folder source): the first pass seals a
// key, writes its state directory and a truststore file inside the
// watched folder; no pass follows by itself. A manifest edit gives
// exactly one pass (which rewrites the truststore and keeps a .bak),
// and again none after it.
func TestOwnWritesNeverTriggerAPass(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	dir := t.TempDir()
	for p, c := range ownWritesEnv(t) {
		writeFile(t, filepath.Join(dir, p), c)
	}
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := startDaemon(t, Options{Source: src, Pass: ownWritesPass(t, s), Scheduler: SchedulerOptions{Interval: time.Hour}})
	if lp := passAfter(t, d, 0, "the first pass"); lp.Result != ResultSuccess || lp.Applied["ApplicationKey"]["create"] != 1 || lp.Applied["Truststore"]["create"] != 1 {
		t.Fatalf("first pass: %+v", lp)
	}
	for _, p := range []string{"sealed/daemon-test", ".wso2sync", "stores/client-truststore.p12"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatalf("the pass did not write %s: %v", p, err)
		}
	}
	if reasons := settled(t, d, time.Second); len(reasons) != 1 || reasons[0] != "start" {
		t.Fatalf("passes %q: want only the start pass; the daemon's own writes triggered the rest", reasons)
	}

	// A second certificate in the truststore: one pass, named after the
	// file, which rewrites the store (with a backup) and triggers nothing.
	trust := strings.Replace(ownWritesEnv(t)["trust.yaml"], "    - {alias: wso2is, certificate: wso2is}\n",
		"    - {alias: wso2is, certificate: wso2is}\n    - {alias: wso2is-again, certificate: wso2is}\n", 1)
	writeFile(t, filepath.Join(dir, "trust.yaml"), trust)
	lp := passAfter(t, d, 1, "the pass for trust.yaml")
	if lp.Result != ResultSuccess || lp.Applied["Truststore"]["update"] != 1 || lp.Reason != "change: trust.yaml" {
		t.Fatalf("pass after the edit: %+v", lp)
	}
	if _, err := os.Stat(filepath.Join(dir, "stores", "client-truststore.p12.bak")); err != nil {
		t.Fatalf("no truststore backup: %v", err)
	}
	if reasons := settled(t, d, time.Second); len(reasons) != 2 || reasons[1] != "change: trust.yaml" {
		t.Fatalf("passes %q: want start and one change: trust.yaml", reasons)
	}
	// The folder's digest names what the passes read: the edit changed it.
	h := d.Status().History
	if h[0].Revision == "" || h[0].Revision == h[1].Revision || !strings.HasPrefix(h[0].Revision, "sha256:") {
		t.Errorf("folder revisions %q then %q: want two different digests", h[1].Revision, h[0].Revision)
	}
}

// TestOwnWritesNeverTriggerAPassGit: the same estate from a git source
// (polled every 50 ms): the pass's writes into the checkout never count
// as a new revision; only a pushed commit does.
func TestOwnWritesNeverTriggerAPassGit(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	g := newGitRemote(t)
	files := map[string]string{}
	for p, c := range ownWritesEnv(t) {
		files["envs/dev/"+p] = c
	}
	g.commit("estate", files)
	g.push("main")
	src, err := NewGitSource(GitOptions{URL: g.bare, Ref: "main", Path: "envs/dev", CacheDir: t.TempDir(), PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := startDaemon(t, Options{Source: src, Pass: ownWritesPass(t, s), Scheduler: SchedulerOptions{Interval: time.Hour}})
	if lp := passAfter(t, d, 0, "the first pass"); lp.Result != ResultSuccess || lp.Applied["ApplicationKey"]["create"] != 1 {
		t.Fatalf("first pass: %+v", lp)
	}
	if reasons := settled(t, d, time.Second); len(reasons) != 1 {
		t.Fatalf("passes %q: want only the start pass", reasons)
	}
	c := g.commit("edit", map[string]string{"envs/dev/apps.yaml": ownWritesEnv(t)["apps.yaml"] + appDoc("second-app", "x")})
	g.push("main")
	lp := passAfter(t, d, 1, "the pass for the commit")
	if lp.Result != ResultSuccess || lp.Revision.Commit != c || lp.Trigger.Kind != "git" || lp.Revision.Author != "t" || lp.Revision.Message != "edit" {
		t.Fatalf("pass after the push: %+v", lp)
	}
	if reasons := settled(t, d, time.Second); len(reasons) != 2 {
		t.Fatalf("passes %q: want start and one for the commit", reasons)
	}
}
