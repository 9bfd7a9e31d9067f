package reconcile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// exampleEnv are the variables the example environments reference, with
// values the simulator accepts (IS's password policy included).
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

// startSim starts a simulator with the default seed and sets exampleEnv.
func startSim(t *testing.T, o sim.Options) *sim.Sim {
	t.Helper()
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	if o.Seed == nil {
		o.Seed = sim.DefaultEstate()
	}
	return sim.Start(t, o)
}

// load loads an example environment against s with fast retries.
func load(t *testing.T, s *sim.Sim, env string) *Pass {
	t.Helper()
	// Re-root the examples' truststores
	// under a temp dir (restart actions then do not run).
	// A copy of the examples: a pass keeps state beside the environment
	// (.wso2sync: the fingerprint key, the sealed index), which must never
	// be written into the source tree (other packages' tests copy it).
	envs := t.TempDir()
	if err := os.CopyFS(envs, os.DirFS(filepath.Dir(exampleDir(env)))); err != nil {
		t.Fatal(err)
	}
	p, err := Load(context.Background(), Options{EnvDir: filepath.Join(envs, env), APIMURL: s.APIMURL(), ISURL: s.ISURL(),
		Trust: TrustOptions{Root: t.TempDir()},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
	if err != nil {
		t.Fatalf("Load %s: %v (%v)", env, err, p.Diagnostics)
	}
	return p
}

func compute(t *testing.T, p *Pass, inv *apply.Inventory) *diff.Plan {
	t.Helper()
	var o = nilOwned
	if inv != nil {
		o = inv.OwnedFunc()
	}
	plan, err := p.Compute(context.Background(), o)
	if err != nil {
		t.Fatalf("Compute: %v (hint: %s)", err, providers.HintOf(err))
	}
	return plan
}

var nilOwned = (&apply.Inventory{}).OwnedFunc()

func render(t *testing.T, plan *diff.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := diff.RenderText(&b, plan, diff.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
