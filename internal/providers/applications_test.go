package providers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/providers/is"
	"github.com/wso2sync/wso2sync/internal/providers/providertest"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestISApplicationsRotate finds the IS application behind a DCR client by
// client id and regenerates its secret: the new secret is returned as a
// redacted Value and is the client's live one; unknown ids and apps are
// "not there" and errors, never quoting a secret.
func TestISApplicationsRotate(t *testing.T) {
	ctx := context.Background()
	_, _, p := providertest.Start(t, sim.Options{})
	c, err := p.IS.Clients.Register(ctx, is.ClientRegistration{ClientName: "rotate-me", GrantTypes: []string{"client_credentials"},
		ClientID: "rotate_me_client_0001", ClientSecret: "first-secret-value"})
	must(t, err)
	id, err := p.IS.Applications.FindByClientID(ctx, c.ClientID)
	must(t, err)
	if id == "" {
		t.Fatal("FindByClientID found no application")
	}
	if none, err := p.IS.Applications.FindByClientID(ctx, "no_such_client_0000"); none != "" || err != nil {
		t.Fatalf("unknown client: %q, %v", none, err)
	}
	v, err := p.IS.Applications.RegenerateSecret(ctx, id)
	must(t, err)
	if v.IsZero() || v.Reveal() == "first-secret-value" {
		t.Fatal("no new secret")
	}
	if s := v.String(); strings.Contains(s, v.Reveal()) {
		t.Fatalf("the Value prints its secret: %s", s)
	}
	live, err := p.IS.Clients.Get(ctx, c.ClientID)
	must(t, err)
	if !live.HasSecret {
		t.Fatal("the live client has no secret after the regeneration")
	}
	_, err = p.IS.Applications.RegenerateSecret(ctx, "00000000-0000-0000-0000-000000000000")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown application: %v", err)
	}
}
