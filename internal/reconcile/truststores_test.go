package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/trust"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// trustEnv is a copy of the example environments whose dev truststores
// (dev/truststores.yaml, replaced) are files under the copy (one JKS, one
// PKCS#12, sharing a restart action)
// plus a truststore whose entry is fetched from the simulator's IS over
// TLS with a pin. The servers are the simulator over TLS.
func trustEnv(t *testing.T, s *sim.Sim, pin string) string {
	t.Helper()
	envs := t.TempDir()
	if err := os.CopyFS(envs, os.DirFS(filepath.Dir(exampleDir("dev")))); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(envs, "dev")
	overlay := fmt.Sprintf(`apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata: {name: apim-client-truststore}
spec:
  path: stores/apim/client-truststore.jks
  type: JKS
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries:
    - {alias: wso2is, certificate: wso2is}
  restartCommand: [restart, servers]
---
apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata: {name: is-client-truststore}
spec:
  path: stores/is/client-truststore.p12
  type: PKCS12
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries:
    - {alias: wso2am, certificate: wso2am}
  restartCommand: [restart, servers]
---
apiVersion: wso2sync/v1alpha1
kind: Truststore
metadata: {name: live-is}
spec:
  path: stores/live-is.jks
  password: {env: WSO2SYNC_TRUSTSTORE_PASSWORD}
  entries:
    - {alias: wso2is-live, url: %q, sha256: %q}
  restart: {command: [restart, live]}
---
apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: is-backend}
spec:
  usage: endpoint
  endpoint: https://wso2is:9443/
  source: {url: %q, sha256: %q}
`, s.ISURL(), pin, s.ISURL(), pin)
	for name, data := range map[string][]byte{"truststores.yaml": []byte(overlay), "wso2-servers.pem": s.CACertPEM()} {
		if err := os.WriteFile(filepath.Join(dev, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dev
}

type restarts struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *restarts) run(_ context.Context, a *spec.RestartAction) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[trust.DescribeRestart(a)]++
	return nil
}

func (r *restarts) get(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[k]
}

func loadTrust(t *testing.T, s *sim.Sim, dev string, r *restarts) *Pass {
	t.Helper()
	p, err := Load(context.Background(), Options{EnvDir: dev, APIMURL: s.APIMURL(), ISURL: s.ISURL(),
		Trust: TrustOptions{Restart: r.run},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
	if err != nil {
		t.Fatalf("Load: %v (%v)", err, p.Diagnostics)
	}
	return p
}

func truststoreChanges(plan *diff.Plan) map[string]diff.Change {
	out := map[string]diff.Change{}
	for _, c := range plan.Changes {
		if c.Kind == spec.KindTruststore && c.Action != diff.NoOp {
			out[c.Name] = c
		}
	}
	return out
}

func field(c diff.Change, path string) (diff.FieldDiff, bool) {
	for _, f := range c.Fields {
		if f.Path == path {
			return f, true
		}
	}
	return diff.FieldDiff{}, false
}

// TestTruststores: the seed's fix-mtls as declared state. Apply writes the
// truststores and restarts once per action; the next plan is empty; an
// entry removed by hand is planned and re-added (entries wso2sync does not
// own stay), with one more restart; a URL source is fetched over TLS and
// refused when the pin does not match. An endpoint Certificate from the
// same URL is uploaded to APIM and converges too.
func TestTruststores(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, sim.Options{TLS: true})
	certs, err := spec.ParseCertsPEM(s.CACertPEM())
	if err != nil {
		t.Fatal(err)
	}
	pin := spec.CertFingerprint(certs[0])
	dev := trustEnv(t, s, pin)
	r := &restarts{n: map[string]int{}}
	p := loadTrust(t, s, dev, r)

	plan := compute(t, p, nil)
	tc := truststoreChanges(plan)
	if len(tc) != 3 {
		t.Fatalf("want 3 truststore creates, got %d:\n%s", len(tc), render(t, plan))
	}
	apimTS := tc["apim-client-truststore"]
	if f, ok := field(apimTS, "restart"); !ok || !strings.Contains(fmt.Sprint(f.After), "restart servers will run once") {
		t.Errorf("the plan does not say the restart will run:\n%s", render(t, plan))
	}
	if f, ok := field(apimTS, "spec.entries[wso2is].certificate"); !ok || !strings.Contains(fmt.Sprint(f.After), "subject CN=wso2is") ||
		!strings.Contains(fmt.Sprint(f.After), "not after ") || !strings.Contains(fmt.Sprint(f.After), "SANs ") {
		t.Errorf("the plan does not describe the certificate:\n%s", render(t, plan))
	}
	if f, ok := field(tc["live-is"], "spec.entries[wso2is-live].certificate"); !ok || !strings.Contains(fmt.Sprint(f.After), "pinned "+pin) {
		t.Errorf("the plan does not show the URL and pin:\n%s", render(t, plan))
	}

	if !slices.ContainsFunc(plan.Changes, func(c diff.Change) bool {
		return c.Kind == spec.KindCertificate && c.Name == "is-backend" && c.Action == diff.Create
	}) {
		t.Errorf("the endpoint certificate from a URL is not planned:\n%s", render(t, plan))
	}
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("apply: %s", res.Report())
	}
	if r.get("restart servers") != 1 || r.get("restart live") != 1 {
		t.Fatalf("restarts after the first apply: %v (want each action once)", r.n)
	}
	apimPath := filepath.Join(dev, "stores", "apim", "client-truststore.jks")
	st, err := trust.ReadFile(apimPath, "changeit")
	if err != nil || st.Get("wso2is") == nil {
		t.Fatalf("APIM truststore: %v", err)
	}
	if st, err := trust.ReadFile(filepath.Join(dev, "stores", "live-is.jks"), "changeit"); err != nil || st.Get("wso2is-live") == nil ||
		spec.CertFingerprint(st.Get("wso2is-live")) != pin {
		t.Fatalf("the URL entry does not hold the pinned certificate: %v", err)
	}
	if p12, err := trust.ReadFile(filepath.Join(dev, "stores", "is", "client-truststore.p12"), "changeit"); err != nil || p12.Type != trust.TypePKCS12 || p12.Get("wso2am") == nil {
		t.Fatalf("IS truststore (PKCS#12): %v", err)
	}

	// Idempotent: nothing to do, nothing written, no restart.
	plan = compute(t, p, nil)
	if plan.HasChanges() {
		t.Fatalf("second plan has changes:\n%s", render(t, plan))
	}
	info, _ := os.Stat(apimPath)
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	if after, _ := os.Stat(apimPath); !after.ModTime().Equal(info.ModTime()) || r.get("restart servers") != 1 {
		t.Fatalf("the second apply wrote or restarted: %v", r.n)
	}

	// Drift: someone removes wso2is by hand and adds a CA of their own.
	other, _ := spec.ParseCertsPEM(s.CACertPEM())
	st.Delete("wso2is")
	if _, err := st.Set("corporate-ca", other[0], time.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := st.Encode("changeit")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.WriteFile(apimPath, data); err != nil {
		t.Fatal(err)
	}
	plan = compute(t, p, nil)
	tc = truststoreChanges(plan)
	if len(tc) != 1 || tc["apim-client-truststore"].Action != diff.Update || len(plan.Changes) == 0 {
		t.Fatalf("drift: want one truststore update:\n%s", render(t, plan))
	}
	if f, ok := field(tc["apim-client-truststore"], "spec.entries[wso2is]"); !ok || f.Before != nil || f.After == nil {
		t.Fatalf("drift field: %+v", f)
	}
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	if r.get("restart servers") != 2 || r.get("restart live") != 1 {
		t.Fatalf("restarts after the drift fix: %v", r.n)
	}
	st, err = trust.ReadFile(apimPath, "changeit")
	if err != nil || st.Get("wso2is") == nil || st.Get("corporate-ca") == nil {
		t.Fatalf("after the fix: wso2is re-added and corporate-ca kept? %v %v", err, st.Entries())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}

	// Renaming an entry: the new alias is added, and the old one, which
	// wso2sync wrote and no longer declares, is removed.
	overlay := filepath.Join(dev, "truststores.yaml")
	b, _ := os.ReadFile(overlay)
	if err := os.WriteFile(overlay, []byte(strings.Replace(string(b), "alias: wso2is-live,", "alias: is-renamed,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p = loadTrust(t, s, dev, r)
	plan = compute(t, p, nil)
	live := truststoreChanges(plan)["live-is"]
	if f, ok := field(live, "spec.entries[wso2is-live]"); !ok || f.Before == nil || f.After != nil || live.Action != diff.Update {
		t.Fatalf("the owned, undeclared alias is not planned for removal:\n%s", render(t, plan))
	}
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	if st, err := trust.ReadFile(filepath.Join(dev, "stores", "live-is.jks"), "changeit"); err != nil || st.Get("wso2is-live") != nil || st.Get("is-renamed") == nil {
		t.Fatalf("after the rename: %v", err)
	}
	if r.get("restart live") != 2 {
		t.Fatalf("restarts after the rename: %v", r.n)
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged after the rename:\n%s", render(t, plan))
	}

	// A pin that does not match refuses, shows the presented fingerprint,
	// leaves the file as it is and does not restart.
	livePath := filepath.Join(dev, "stores", "live-is.jks")
	if err := os.Remove(livePath); err != nil {
		t.Fatal(err)
	}
	dev2 := trustEnv(t, s, strings.Repeat("ab", 32))
	p2 := loadTrust(t, s, dev2, r)
	plan = compute(t, p2, nil)
	res := p2.Apply(ctx, plan, ApplyOptions{})
	if res.ExitCode() == 0 || !strings.Contains(res.Report(), pin) {
		t.Fatalf("pin mismatch: want a failure that shows %s:\n%s", pin, res.Report())
	}
	if _, err := os.Stat(filepath.Join(dev2, "stores", "live-is.jks")); err == nil {
		t.Fatal("the truststore was written despite the pin mismatch")
	}
	if r.get("restart live") != 2 {
		t.Fatalf("restarted after a refused write: %v", r.n)
	}
}

// TestRestartWhenTheLastStepNeverRan: a truststore was written but the
// other truststore naming the same restart was not attempted; the restart
// still runs once, after the run, and a failing restart is reported.
func TestRestartWhenTheLastStepNeverRan(t *testing.T) {
	ts := func(name string) *spec.Truststore {
		x := &spec.Truststore{Object: spec.Object{Kind: spec.KindTruststore, Metadata: spec.Metadata{Name: name}}}
		x.Spec.RestartCommand = []string{"restart", "apim"}
		return x
	}
	r := &restarts{n: map[string]int{}}
	p := &Pass{State: &spec.State{Truststores: []*spec.Truststore{ts("a"), ts("b")}}, Options: Options{Trust: TrustOptions{Restart: r.run}}}
	key := trust.RestartKey(ts("a").RestartOf())
	p.trust = &trustRun{pending: map[string]int{key: 1}, changed: map[string]bool{key: true}}
	res := &apply.Result{}
	p.trustEnd(context.Background(), res)
	if r.get("restart apim") != 1 || len(res.Failed) != 0 {
		t.Fatalf("restarts %v, failed %v", r.n, res.Failed)
	}
	p.trustEnd(context.Background(), res)
	if r.get("restart apim") != 1 {
		t.Fatalf("restarted twice: %v", r.n)
	}

	p.trust = &trustRun{pending: map[string]int{key: 1}, changed: map[string]bool{key: true}}
	p.Options.Trust.Restart = func(context.Context, *spec.RestartAction) error { return fmt.Errorf("docker is not running") }
	p.trustEnd(context.Background(), res)
	if res.ExitCode() == 0 || !strings.Contains(res.Report(), "docker is not running") {
		t.Fatalf("a failed restart is not reported:\n%s", res.Report())
	}
}
