//go:build e2e

package providers_test

import (
	"context"
	"os"
	"testing"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestE2ERead reads the estate of real servers named by
// WSO2SYNC_E2E_APIM_URL and WSO2SYNC_E2E_IS_URL (admin credentials from
// WSO2SYNC_ADMIN_USERNAME/PASSWORD, CA bundle from WSO2SYNC_E2E_CA_BUNDLE,
// or WSO2SYNC_E2E_INSECURE=1). It only reads.
//
//	go test -tags e2e ./internal/providers -run E2E
func TestE2ERead(t *testing.T) {
	apimURL, isURL := os.Getenv("WSO2SYNC_E2E_APIM_URL"), os.Getenv("WSO2SYNC_E2E_IS_URL")
	if apimURL == "" || isURL == "" {
		t.Skip("set WSO2SYNC_E2E_APIM_URL and WSO2SYNC_E2E_IS_URL to run against real WSO2 servers")
	}
	env := testEnv(t.TempDir())
	env.Spec.TLS.CABundle = os.Getenv("WSO2SYNC_E2E_CA_BUNDLE")
	env.Spec.TLS.InsecureSkipVerify = os.Getenv("WSO2SYNC_E2E_INSECURE") == "1"
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
