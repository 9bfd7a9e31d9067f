//go:build e2e

package providers_test

import (
	"os"
	"testing"
)

// TestE2ERead reads the estate of real servers named by
// WSO2SYNC_E2E_APIM_URL and WSO2SYNC_E2E_IS_URL (admin credentials from
// WSO2SYNC_ADMIN_USERNAME/PASSWORD, CA bundle from WSO2SYNC_E2E_CA_BUNDLE,
// or WSO2SYNC_E2E_INSECURE=1). It only reads. make e2e runs it against
// deploy/compose; TestE2EReadSim runs the same check on the simulator.
//
//	go test -tags e2e ./internal/providers -run E2E
func TestE2ERead(t *testing.T) {
	apimURL, isURL := os.Getenv("WSO2SYNC_E2E_APIM_URL"), os.Getenv("WSO2SYNC_E2E_IS_URL")
	if apimURL == "" || isURL == "" {
		t.Skip("set WSO2SYNC_E2E_APIM_URL and WSO2SYNC_E2E_IS_URL to run against real WSO2 servers")
	}
	e2eRead(t, apimURL, isURL, os.Getenv("WSO2SYNC_E2E_CA_BUNDLE"), os.Getenv("WSO2SYNC_E2E_INSECURE") == "1")
}
