package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestE2EScriptOnSim runs scripts/e2e.sh, the steps `make e2e` runs against
// the real WSO2 containers (plan, apply, plan converged, export that
// validates), against the simulator over TLS with its certificate as the
// CA bundle: the kit differs from this only by its servers. The e2e-tagged
// Go tests of step 1 have their simulator twins (TestE2EReadSim), so the
// script skips them here (E2E_GO_TESTS=0). The simulator's own state is
// then checked directly, not through wso2sync.
func TestE2EScriptOnSim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole example estate through the CLI (-short)")
	}
	s := sim.Start(t, sim.Options{TLS: true, Seed: sim.DefaultEstate()})
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "sim-ca.pem")
	if err := os.WriteFile(ca, s.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `# scripts/e2e.sh against the simulator (see e2e_script_test.go).
env E2E_GO_TESTS=0
exec bash -c 'BIN=$(command -v wso2sync) exec "$REPO/scripts/e2e.sh"'
stdout '==> wso2sync plan --env environments/dev'
stdout '^Plan: 34 to create, 1 to update'
stdout '^Apply complete: 35 applied, 0 failed, 0 not attempted\.'
stdout '^No changes\. The live estate matches the manifests\.$'
stdout '^valid: environment "dev", \d+ objects'
stdout '^e2e: passed against '
simcheck
`
	if err := os.WriteFile(filepath.Join(dir, "e2e_sim.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := scriptParams(t, dir)
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		env.Setenv("REPO", repo)
		env.Setenv("E2E_APIM_URL", s.APIMURL())
		env.Setenv("E2E_IS_URL", s.ISURL())
		env.Setenv("E2E_CA_BUNDLE", ca)
		return nil
	}
	// simcheck reads the simulator's records: the six applications and
	// the WSO2IS key manager exist, the Resident Key Manager is disabled,
	// and the two example users are in IS.
	p.Cmds["simcheck"] = func(ts *testscript.TestScript, neg bool, args []string) {
		st := s.Dump()
		var apps []string
		for _, a := range st.APIM.Applications {
			apps = append(apps, a.Name)
		}
		for _, want := range []string{"forex-client", "ledger-client", "payment-client", "profile-client", "rule-engine-client", "wallet-client"} {
			if !slices.Contains(apps, want) {
				ts.Fatalf("application %s missing in the simulator: %v", want, apps)
			}
		}
		kms := map[string]bool{}
		for _, km := range st.APIM.KeyManagers {
			kms[km.Name] = km.Enabled
		}
		if enabled, ok := kms["WSO2IS"]; !ok || !enabled {
			ts.Fatalf("key manager WSO2IS missing or disabled: %v", kms)
		}
		if kms["Resident Key Manager"] {
			ts.Fatalf("the Resident Key Manager is still enabled")
		}
		var users []string
		for _, u := range st.IS.Users {
			users = append(users, u.UserName)
		}
		for _, want := range []string{"alice", "bob"} {
			if !slices.Contains(users, want) {
				ts.Fatalf("IS user %s missing: %v", want, users)
			}
		}
	}
	testscript.Run(t, p)
}
