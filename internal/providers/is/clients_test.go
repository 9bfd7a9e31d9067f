package is

import (
	"context"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// TestRegisterChecksWhetherAFailedRegistrationLanded: IS creates the
// client, then the answer is lost (a 500 after the write). The register
// call looks the client up before trying again, as every other create
// does, finds it and returns it: no error, no second client. The request
// always carries redirect_uris (empty without a callback).
func TestRegisterChecksWhetherAFailedRegistrationLanded(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  ClientRegistration
	}{
		{"fixed client id", ClientRegistration{ClientName: "ledger-batch", GrantTypes: []string{"client_credentials"},
			ClientID: "ledger_batch_client_01", ClientSecret: "ledger-batch-secret-0001"}},
		{"server-chosen client id", ClientRegistration{ClientName: "wallet-batch", GrantTypes: []string{"client_credentials"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := pagedClient(t, simcore.PageCaps{}, 100)
			if err := s.Faults().SetSpec("route=is POST /api/identity/oauth2/dcr/v1.1/register:after5xx=1"); err != nil {
				t.Fatal(err)
			}
			got, err := c.Clients.Register(context.Background(), tc.reg)
			if err != nil {
				t.Fatalf("Register after a lost answer: %v", err)
			}
			var ids []string
			for _, cl := range s.Dump().IS.Clients {
				if cl.ClientName == tc.reg.ClientName {
					ids = append(ids, cl.ClientID)
				}
			}
			if len(ids) != 1 || got == nil || got.ClientID != ids[0] {
				t.Fatalf("IS holds clients %v named %s; Register returned %+v", ids, tc.reg.ClientName, got)
			}
			if n := s.Stats().IS.Routes["POST /api/identity/oauth2/dcr/v1.1/register"]; n != 1 {
				t.Fatalf("%d registrations sent, want 1 (the retry was replaced by a lookup)", n)
			}
		})
	}
}
