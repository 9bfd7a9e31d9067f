package daemon

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// keyedApps declares two applications with generated keys, so that an
// enforcing pass seals their credentials.
const keyedApps = `apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: keyed-one
spec:
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      grantTypes: [client_credentials]
---
apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: keyed-two
spec:
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
    - keyType: SANDBOX
      keyManager: Resident Key Manager
`

// estateWrites are the write requests between two snapshots of the
// simulator's counters, without the pass's own sign-in (APIM DCR
// registration and tokens, which every pass makes).
func estateWrites(before, after sim.Stats) map[string]int64 {
	out := map[string]int64{}
	for _, side := range []struct{ b, a sim.ServerStats }{{before.APIM, after.APIM}, {before.IS, after.IS}} {
		for route, n := range side.a.Routes {
			method, path, _ := strings.Cut(route, " ")
			if method == "GET" || method == "HEAD" || strings.Contains(path, "/oauth2/token") || strings.Contains(path, "/client-registration/") {
				continue
			}
			if d := n - side.b.Routes[route]; d != 0 {
				out[route] = d
			}
		}
	}
	return out
}

// sealedFiles maps each file under dir to its content and modification
// time.
func sealedFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fmt.Sprintf("%x@%s", b, fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	return out
}

// TestUnrelatedChangeChangesNothing runs the daemon on a folder source
// and on a git source alike: after the pass that applies and seals the
// keys, a change that touches only an unrelated file (a README; on git, a
// commit with only that file) is followed by a pass that plans nothing,
// reports no drift, writes nothing on the servers and leaves every sealed
// file as it was. On git the sealed outputs and the state live outside the
// checkout (before, each new commit's pass re-sealed every key).
func TestUnrelatedChangeChangesNothing(t *testing.T) {
	for _, kind := range []string{"folder", "git"} {
		t.Run(kind, func(t *testing.T) {
			s := startSimEnv(t, sim.Options{})
			id, err := age.GenerateX25519Identity()
			if err != nil {
				t.Fatal(err)
			}
			var (
				src       Source
				outputs   string // where the sealed outputs must be
				checkout  string // what must not hold them
				unrelated func()
			)
			switch kind {
			case "folder":
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "enforce"))
				writeFile(t, filepath.Join(dir, "apps.yaml"), keyedApps)
				ds, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond, Log: testLogger(t)})
				if err != nil {
					t.Fatal(err)
				}
				src, outputs = ds, filepath.Join(dir, "sealed", "daemon-test")
				unrelated = func() { writeFile(t, filepath.Join(dir, "README.md"), "notes\n") }
			case "git":
				remote := newGitRemote(t)
				envDir := "environments/test"
				remote.commit("the environment", map[string]string{
					envDir + "/wso2sync.yaml": fmt.Sprintf(envFile, "enforce"),
					envDir + "/apps.yaml":     keyedApps,
					"README.md":               "estate\n",
				})
				remote.push("main")
				cache := t.TempDir()
				gs, err := NewGitSource(GitOptions{URL: remote.bare, Ref: "main", Path: envDir, CacheDir: cache, Log: testLogger(t)})
				if err != nil {
					t.Fatal(err)
				}
				src, outputs, checkout = gs, filepath.Join(cache, "outputs", "sealed", "daemon-test"), filepath.Join(cache, "repo")
				unrelated = func() {
					remote.commit("docs only", map[string]string{"README.md": "estate, documented\n"})
					remote.push("main")
				}
			}
			pass := Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), UserAgent: "wso2sync-test",
				SealRecipients: []string{id.Recipient().String()},
				Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
					RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
			d, _ := startDaemon(t, Options{Source: src, Pass: pass, Log: testLogger(t), Scheduler: SchedulerOptions{Interval: time.Hour}})
			lp := passAfter(t, d, 0, "the first pass")
			if lp.Result != ResultSuccess || lp.Applied["ApplicationKey"]["create"] != 3 {
				t.Fatalf("first pass: %+v", lp)
			}
			before := sealedFiles(t, outputs)
			if len(before) != 4 { // three keys and the index
				t.Fatalf("sealed outputs in %s: %v", outputs, before)
			}
			if checkout != "" {
				_ = filepath.WalkDir(checkout, func(p string, d fs.DirEntry, err error) error {
					if err == nil && (strings.HasSuffix(p, ".age") || d.Name() == "index.yaml" || d.Name() == ".wso2sync") {
						t.Errorf("the pass wrote %s inside the checkout", p)
					}
					return nil
				})
			}

			unrelated()
			waitFor(t, "an idle daemon", 20*time.Second, func() bool { return d.Status().Running == nil })
			time.Sleep(300 * time.Millisecond) // past the folder's debounce
			waitFor(t, "an idle daemon", 20*time.Second, func() bool { return d.Status().Running == nil })
			n := len(d.Status().History)
			stats := s.Stats()
			d.Trigger("check")
			lp = passAfter(t, d, n, "the pass after the unrelated change")
			after := s.Stats()
			if lp.Result != ResultSuccess || lp.Plan.Changes() != 0 || len(lp.Drift) != 0 || len(lp.Applied) != 0 {
				t.Fatalf("pass after an unrelated change: result %s, plan %+v, drift %v, applied %v, errors %v",
					lp.Result, lp.Plan, lp.Drift, lp.Applied, lp.Errors)
			}
			if w := estateWrites(stats, after); len(w) != 0 {
				t.Errorf("the pass wrote on the servers: %v", w)
			}
			if kind == "git" && !strings.HasPrefix(lp.Revision.Message, "docs only") {
				t.Errorf("the pass ran at %q, not at the new commit", lp.Revision.Message)
			}
			got := sealedFiles(t, outputs)
			for p, v := range before {
				if got[p] != v {
					t.Errorf("%s was rewritten (or removed)", p)
				}
			}
			if len(got) != len(before) {
				t.Errorf("sealed outputs: %d files, before %d", len(got), len(before))
			}
		})
	}
}
