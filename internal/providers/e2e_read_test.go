package providers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// e2eRead is the check of the e2e-tagged TestE2ERead: over TLS with a CA
// bundle (or insecure), authenticate as the admin and read the whole
// estate, which has at least the Resident Key Manager.
func e2eRead(t *testing.T, apimURL, isURL, caBundle string, insecure bool) {
	t.Helper()
	env := testEnv(t.TempDir())
	env.Spec.TLS.CABundle = caBundle
	env.Spec.TLS.InsecureSkipVerify = insecure
	p, err := providers.Open(context.Background(), env, providers.Options{APIMURL: apimURL, ISURL: isURL})
	if err != nil {
		t.Fatal(err)
	}
	live, err := p.Read(context.Background(), providers.ReadOptions{})
	if err != nil {
		t.Fatalf("Read: %v (hint: %s)", err, providers.HintOf(err))
	}
	if live.State.KeyManager(spec.ResidentKeyManager) == nil {
		t.Errorf("no Resident Key Manager")
	}
	t.Logf("read %v objects in %d requests", live.State.Count(), live.Calls.Total())
}

// TestE2EReadSim is TestE2ERead against the simulator over TLS, so what
// make e2e runs on real servers also runs in make test.
func TestE2EReadSim(t *testing.T) {
	t.Setenv("WSO2SYNC_ADMIN_USERNAME", "admin")
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "admin")
	s := sim.Start(t, sim.Options{TLS: true, Seed: sim.DefaultEstate()})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	e2eRead(t, s.APIMURL(), s.ISURL(), ca, false)
}
