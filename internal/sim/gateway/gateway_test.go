package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// estate is a simulator with the WSO2IS key manager, one application whose
// PRODUCTION key is an IS client, subscribed to ForexAPI on a tier, and its
// gateway listening.
type estate struct {
	s            *sim.Sim
	clock        *simcore.ManualClock
	appID, forex string
	ck, cs       string
}

func newEstate(t *testing.T, subTier, appTier string) *estate {
	t.Helper()
	clock := simcore.NewManualClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s := sim.Start(t, sim.Options{Seed: sim.DefaultEstate(), Clock: clock})
	if err := s.ListenGateway("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	e := &estate{s: s, clock: clock}
	if _, err := s.APIM().AddKeyManager(apim.KeyManager{Name: "WSO2IS", Type: "WSO2-IS-7", Enabled: true,
		Issuer: s.Issuer(), ConsumerKeyClaim: "azp", ScopesClaim: "scope", EnableSelfValidationJWT: true,
		Certificates:        &apim.KMCertificates{Type: "JWKS", Value: "https://wso2is:9443/oauth2/jwks"},
		AvailableGrantTypes: []string{"client_credentials"},
		AdditionalProperties: map[string]any{"Username": "admin", "Password": "admin",
			"api_resource_management_endpoint": "https://wso2is:9443/api/server/v1/api-resources",
			"is7_roles_endpoint":               "https://wso2is:9443/scim2/v2/Roles"}}); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.appID, err = s.APIM().AddApplication("admin", apim.ApplicationSeed{Name: "forex-client", ThrottlingPolicy: appTier}); err != nil {
		t.Fatal(err)
	}
	c, err := s.IS().AddClient(is.ClientSeed{OAuthClient: simcore.OAuthClient{ClientName: "admin_forex_PRODUCTION",
		GrantTypes: []string{"client_credentials"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ck, e.cs = c.ClientID, c.ClientSecret
	if _, err := s.APIM().AddKeyMapping(e.appID, apim.KeySeed{KeyManager: "WSO2IS", KeyType: "PRODUCTION",
		ConsumerKey: e.ck, ConsumerSecret: e.cs, GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range s.APIM().GatewayAPIs() {
		if a.Name == "ForexAPI" {
			e.forex = a.ID
		}
	}
	if _, err := s.APIM().AddSubscription(e.appID, e.forex, subTier); err != nil {
		t.Fatal(err)
	}
	return e
}

// token gets a client_credentials token at IS, as the toolkit's get-token.
func (e *estate) token(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", e.s.ISURL()+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.ck, e.cs)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token: %s %v", resp.Status, err)
	}
	return out.AccessToken
}

// call calls the gateway and returns the status and the fault code.
func (e *estate) call(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.s.GatewayURL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var f struct{ Code string }
	_ = json.Unmarshal(b, &f)
	return resp.StatusCode, f.Code
}

func TestGatewayAnswers(t *testing.T) {
	e := newEstate(t, "Gold", "Unlimited")
	tok := e.token(t)
	cases := []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"subscribed", "/forex/1.0.0/health", tok, 200, ""},
		{"unknown context", "/nothing/1.0.0/health", tok, 404, "404"},
		{"version missing", "/forex/health", tok, 404, "404"},
		{"no token", "/forex/1.0.0/health", "", 401, "900902"},
		{"garbage token", "/forex/1.0.0/health", "abc.def.ghi", 401, "900901"},
		{"forged signature", "/forex/1.0.0/health", tok[:strings.LastIndex(tok, ".")+1] + "AAAA", 401, "900901"},
		{"not subscribed", "/ledger/1.0.0/health", tok, 403, "900908"},
	}
	for _, c := range cases {
		status, code := e.call(t, c.path, c.token)
		if status != c.status || (c.code != "" && code != c.code) {
			t.Errorf("%s: got %d %s, want %d %s", c.name, status, code, c.status, c.code)
		}
	}

	// An expired token is refused as invalid credentials.
	e.clock.Advance(2 * time.Hour)
	if status, code := e.call(t, "/forex/1.0.0/health", tok); status != 401 || code != "900901" {
		t.Errorf("expired token: %d %s", status, code)
	}
}

// TestGatewayIssuerMustMatchKeyManager: a token whose iss no enabled key
// manager declares is refused (WSO2-API.md §5.25).
func TestGatewayIssuerMustMatchKeyManager(t *testing.T) {
	e := newEstate(t, "Gold", "Unlimited")
	tok := e.token(t)
	if status, _ := e.call(t, "/forex/1.0.0/x", tok); status != 200 {
		t.Fatalf("baseline: %d", status)
	}
	e2 := newEstate(t, "Gold", "Unlimited")
	// A token of another IS (another signing key and issuer) is refused.
	if status, code := e2.call(t, "/forex/1.0.0/x", tok); status != 401 || code != "900901" {
		t.Fatalf("foreign token: %d %s", status, code)
	}
}

// TestGatewayThrottlesBySubscriptionTier: Bronze allows 1000 requests a
// minute; the next one is 429 900804 until the window passes.
func TestGatewayThrottlesBySubscriptionTier(t *testing.T) {
	e := newEstate(t, "Bronze", "Unlimited")
	tok := e.token(t)
	var limit *apim.RequestCountLimit
	for _, a := range []string{e.forex} {
		limit = e.s.APIM().GatewayAccessFor(e.ck, "", a).SubLimit
	}
	if limit == nil || limit.RequestCount <= 0 || limit.RequestCount > 5000 {
		t.Fatalf("Bronze limit %+v", limit)
	}
	for i := int64(0); i < limit.RequestCount; i++ {
		if status, code := e.call(t, "/forex/1.0.0/x", tok); status != 200 {
			t.Fatalf("call %d: %d %s", i+1, status, code)
		}
	}
	if status, code := e.call(t, "/forex/1.0.0/x", tok); status != 429 || code != "900804" {
		t.Fatalf("over the limit: %d %s", status, code)
	}
	e.clock.Advance(time.Duration(max(limit.UnitTime, 1)) * time.Minute)
	tok = e.token(t)
	if status, code := e.call(t, "/forex/1.0.0/x", tok); status != 200 {
		t.Fatalf("next window: %d %s", status, code)
	}
}
