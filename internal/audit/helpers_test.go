package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// exampleEnv are the variables the example environments reference, with
// values the simulator accepts.
var exampleEnv = map[string]string{
	"WSO2SYNC_ADMIN_USERNAME":            "admin",
	"WSO2SYNC_ADMIN_PASSWORD":            "admin",
	"WSO2SYNC_USER_ALICE_PASSWORD":       "Alice!pass1",
	"WSO2SYNC_USER_BOB_PASSWORD":         "Bob!pass12",
	"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": "rule-engine-secret-1",
	"WSO2SYNC_TRUSTSTORE_PASSWORD":       "changeit",
}

func exampleDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "environments", name)
}

// copyExamples copies examples/environments to a temp dir and returns the
// copy of env in it: an enforcing pass writes sealed outputs beside the
// manifests, which must not land in the repository.
func copyExamples(t *testing.T, env string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Dir(exampleDir(env)))); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, env)
}

func setEnv(t *testing.T) {
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
}

// loadPass loads the environment in dir against s with fast retries; the
// truststores are re-rooted under trustRoot.
func loadPass(t testing.TB, s *sim.Sim, dir, trustRoot string) *reconcile.Pass {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	// Generated consumer secrets are sealed (to a throw-away identity):
	// apply refuses to generate secrets it cannot seal.
	p, err := reconcile.Load(context.Background(), reconcile.Options{EnvDir: dir, APIMURL: s.APIMURL(), ISURL: s.ISURL(),
		Trust:   reconcile.TrustOptions{Root: trustRoot},
		Secrets: reconcile.SecretOptions{Recipients: []string{id.Recipient().String()}},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
	if err != nil {
		t.Fatalf("Load %s: %v (%v)", dir, err, p.Diagnostics)
	}
	// Each pass has its own HTTP clients: their idle connections go when
	// it is done (thousands of model steps ran out of file descriptors).
	t.Cleanup(p.Close)
	return p
}

// enforce applies the environment (lock, journal, inventory in stateDir)
// and fails the test on any failed step.
func enforce(t testing.TB, p *reconcile.Pass, stateDir string) *reconcile.EnforceResult {
	t.Helper()
	// The model checks convergence, not sealing: its environments name no
	// seal recipient, so generated secrets are not kept (AllowUnsealed).
	res, err := p.Enforce(context.Background(), reconcile.EnforceOptions{StateDir: stateDir, AllowDeletes: 1000, AllowUnsealed: true})
	if err != nil {
		t.Fatalf("enforce: %v", err)
	}
	if r := res.Result; r != nil && r.ExitCode() != 0 {
		t.Fatalf("apply failed:\n%s", r.Report())
	}
	return res
}

func reconcileOptions(stateDir string) reconcile.EnforceOptions {
	return reconcile.EnforceOptions{StateDir: stateDir, AllowDeletes: 1000, AllowUnsealed: true}
}

func renderPlan(p *diff.Plan) string {
	var b bytes.Buffer
	if err := diff.RenderText(&b, p, diff.RenderOptions{}); err != nil {
		return err.Error()
	}
	return b.String()
}
