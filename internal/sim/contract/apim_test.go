package contract

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim"
)

const (
	admin = "/api/am/admin/v4"
	dp    = "/api/am/devportal/v3"
	pub   = "/api/am/publisher/v4"
)

// withKM is an env with the WSO2IS key manager set up and the default seed.
func withKM(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t, sim.Options{Seed: sim.DefaultEstate()})
	km := e.apim("POST", admin+"/key-managers", isKMBody(e.s.Issuer())).want(t, 201).obj(t)
	return e, str(km["id"])
}

func TestAPIMKeyManagers(t *testing.T) {
	e, kmID := withKM(t)
	e.apim("GET", admin+"/key-managers", nil).want(t, 200)
	e.apim("GET", admin+"/key-managers/"+kmID, nil).want(t, 200)
	e.apim("GET", admin+"/key-managers/00000000-0000-0000-0000-000000000000", nil).want(t, 404)

	// Validation: a WSO2-IS-7 KM without the connector endpoints → 400.
	bad := isKMBody(e.s.Issuer())
	bad["name"] = "Broken"
	bad["additionalProperties"] = map[string]any{"Username": "admin", "Password": "admin"}
	e.apim("POST", admin+"/key-managers", bad).want(t, 400)

	body := isKMBody(e.s.Issuer())
	body["description"] = "changed"
	e.apim("PUT", admin+"/key-managers/"+kmID, body).want(t, 200)
	e.apim("PUT", admin+"/key-managers/00000000-0000-0000-0000-000000000000", body).want(t, 404)
	delete(body, "name")
	e.apim("PUT", admin+"/key-managers/"+kmID, body).want(t, 400)

	e.apim("POST", admin+"/key-managers/discover", multipartBody{fields: map[string]string{
		"url": "https://localhost:9444/oauth2/token/.well-known/openid-configuration", "type": "WSO2-IS-7"}}).want(t, 200)
	e.apim("GET", admin+"/settings", nil).want(t, 200)
	e.do("GET", e.s.APIMURL()+admin+"/settings", nil).want(t, 401)
	e.apim("GET", dp+"/key-managers", nil).want(t, 200)

	second := isKMBody(e.s.Issuer())
	second["name"] = "Second"
	id2 := str(e.apim("POST", admin+"/key-managers", second).want(t, 201).obj(t)["id"])
	e.apim("DELETE", admin+"/key-managers/"+id2, nil).want(t, 200)
	e.apim("DELETE", admin+"/key-managers/"+id2, nil).want(t, 404)
}

func TestAPIMThrottlingPolicies(t *testing.T) {
	e := newEnv(t, sim.Options{})
	appTier := map[string]any{"policyName": "5PerMin", "displayName": "5 per minute", "description": "five",
		"defaultLimit": map[string]any{"type": "REQUESTCOUNTLIMIT",
			"requestCount": map[string]any{"timeUnit": "min", "unitTime": 1, "requestCount": 5}}}
	a := e.apim("POST", admin+"/throttling/policies/application", appTier).want(t, 201).obj(t)
	aid := str(a["policyId"])
	e.apim("POST", admin+"/throttling/policies/application", map[string]any{"policyName": "NoLimit"}).want(t, 400)
	e.apim("GET", admin+"/throttling/policies/application", nil).want(t, 200)
	e.apim("GET", admin+"/throttling/policies/application/"+aid, nil).want(t, 200)
	e.apim("GET", admin+"/throttling/policies/application/nope", nil).want(t, 404)
	appTier["description"] = "five a minute"
	e.apim("PUT", admin+"/throttling/policies/application/"+aid, appTier).want(t, 200)
	e.apim("PUT", admin+"/throttling/policies/application/nope", appTier).want(t, 404)
	e.apim("PUT", admin+"/throttling/policies/application/"+aid, map[string]any{"policyName": "5PerMin"}).want(t, 400)

	subTier := map[string]any{"policyName": "Platinum", "displayName": "Platinum", "description": "lots",
		"defaultLimit": map[string]any{"type": "REQUESTCOUNTLIMIT",
			"requestCount": map[string]any{"timeUnit": "min", "unitTime": 1, "requestCount": 10000}},
		"billingPlan": "FREE", "stopOnQuotaReach": true}
	s := e.apim("POST", admin+"/throttling/policies/subscription", subTier).want(t, 201).obj(t)
	sid := str(s["policyId"])
	e.apim("POST", admin+"/throttling/policies/subscription", map[string]any{"policyName": "NoLimit"}).want(t, 400)
	e.apim("GET", admin+"/throttling/policies/subscription", nil).want(t, 200)
	e.apim("GET", admin+"/throttling/policies/subscription/"+sid, nil).want(t, 200)
	e.apim("GET", admin+"/throttling/policies/subscription/nope", nil).want(t, 404)
	subTier["description"] = "even more"
	e.apim("PUT", admin+"/throttling/policies/subscription/"+sid, subTier).want(t, 200)
	e.apim("PUT", admin+"/throttling/policies/subscription/nope", subTier).want(t, 404)
	e.apim("PUT", admin+"/throttling/policies/subscription/"+sid, map[string]any{"policyName": "Platinum"}).want(t, 400)

	e.apim("GET", admin+"/throttling/policies/search?query="+url.QueryEscape("type:application"), nil).want(t, 200)
	e.apim("GET", admin+"/throttling/policies/search", nil).want(t, 200)

	e.apim("GET", dp+"/throttling-policies/application", nil).want(t, 200)
	e.apim("GET", dp+"/throttling-policies/subscription?limit=2", nil).want(t, 200)
	e.apim("GET", dp+"/throttling-policies/application/Unlimited", nil).want(t, 200)
	e.apim("GET", dp+"/throttling-policies/application/Nope", nil).want(t, 404)

	e.apim("DELETE", admin+"/throttling/policies/application/"+aid, nil).want(t, 200)
	e.apim("DELETE", admin+"/throttling/policies/application/"+aid, nil).want(t, 404)
	e.apim("DELETE", admin+"/throttling/policies/subscription/"+sid, nil).want(t, 200)
	e.apim("DELETE", admin+"/throttling/policies/subscription/"+sid, nil).want(t, 404)
}

func TestAPIMApplicationsAndKeys(t *testing.T) {
	e, _ := withKM(t)
	const none = "00000000-0000-0000-0000-000000000000"
	e.apim("GET", dp+"/applications", nil).want(t, 200)
	e.apim("GET", dp+"/applications?query=Default&limit=1&offset=0&sortBy=name&sortOrder=asc", nil).want(t, 200)
	e.apim("GET", dp+"/applications?sortBy=colour", nil).want(t, 400)

	app := map[string]any{"name": "payments-web", "throttlingPolicy": "10PerMin", "description": "web",
		"tokenType": "JWT", "attributes": map[string]string{}, "groups": []string{}}
	id := str(e.apim("POST", dp+"/applications", app).want(t, 201).obj(t)["applicationId"])
	e.apim("POST", dp+"/applications", app).want(t, 409)
	e.apim("POST", dp+"/applications", map[string]any{"name": "x", "throttlingPolicy": "NoSuchTier"}).want(t, 400)
	e.apim("GET", dp+"/applications/"+id, nil).want(t, 200)
	e.apim("GET", dp+"/applications/"+none, nil).want(t, 404)
	app["description"] = "web front end"
	e.apim("PUT", dp+"/applications/"+id, app).want(t, 200)
	e.apim("PUT", dp+"/applications/"+none, app).want(t, 404)
	e.apim("PUT", dp+"/applications/"+id, map[string]any{"name": "payments-web", "throttlingPolicy": "Nope"}).want(t, 400)

	// Keys against the IS key manager.
	gen := map[string]any{"keyType": "PRODUCTION", "keyManager": "WSO2IS",
		"grantTypesToBeSupported": []string{"client_credentials", "refresh_token"},
		"callbackUrl":             "", "scopes": []string{"default"}, "validityTime": "3600",
		"additionalProperties": map[string]any{"ext_application_token_lifetime": "3600"}}
	k := e.apim("POST", dp+"/applications/"+id+"/generate-keys", gen).want(t, 200).obj(t)
	kmID := str(k["keyMappingId"])
	e.apim("POST", dp+"/applications/"+id+"/generate-keys", gen).want(t, 409)
	e.apim("POST", dp+"/applications/"+none+"/generate-keys", gen).want(t, 404)
	e.apim("POST", dp+"/applications/"+id+"/generate-keys", map[string]any{"keyType": "SANDBOX", "keyManager": "WSO2IS",
		"grantTypesToBeSupported": []string{"authorization_code"}}).want(t, 400) // code grant needs a callback

	e.apim("GET", dp+"/applications/"+id+"/oauth-keys", nil).want(t, 200)
	e.apim("GET", dp+"/applications/"+none+"/oauth-keys", nil).want(t, 404)
	e.apim("GET", dp+"/applications/"+id+"/oauth-keys/"+kmID, nil).want(t, 200)
	e.apim("GET", dp+"/applications/"+id+"/oauth-keys/"+none, nil).want(t, 404)
	upd := map[string]any{"supportedGrantTypes": []string{"client_credentials", "password"},
		"callbackUrl": "https://example.com/cb", "keyType": "PRODUCTION", "keyManager": "WSO2IS",
		// As APIM's UI and wso2sync send them: strings (§5.13), which the
		// connector passes on to IS as they are.
		"additionalProperties": map[string]any{"ext_application_token_lifetime": "1800"}}
	e.apim("PUT", dp+"/applications/"+id+"/oauth-keys/"+kmID, upd).want(t, 200)
	e.apim("PUT", dp+"/applications/"+id+"/oauth-keys/"+none, upd).want(t, 404)
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+kmID+"/generate-token",
		map[string]any{"validityPeriod": 3600, "scopes": []string{"default"}}).want(t, 200)
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+none+"/generate-token",
		map[string]any{"validityPeriod": 3600}).want(t, 404)
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+kmID+"/regenerate-secret", nil).want(t, 200, 400, 500)
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+none+"/regenerate-secret", nil).want(t, 404)

	// Resident-KM keys can regenerate their secret.
	rid := str(e.apim("POST", dp+"/applications", map[string]any{"name": "resident-app",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)["applicationId"])
	rk := e.apim("POST", dp+"/applications/"+rid+"/generate-keys", map[string]any{"keyType": "PRODUCTION",
		"grantTypesToBeSupported": []string{"client_credentials"}}).want(t, 200).obj(t)
	e.apim("POST", dp+"/applications/"+rid+"/oauth-keys/"+str(rk["keyMappingId"])+"/regenerate-secret", nil).want(t, 200)

	// map-keys: attach a client registered in IS out of band.
	e.is("POST", "/api/identity/oauth2/dcr/v1.1/register", map[string]any{"client_name": "ledger-batch",
		"grant_types": []string{"client_credentials"}, "ext_param_client_id": "ledger_batch_client_01",
		"ext_param_client_secret": "ledger-batch-secret-0001"}).want(t, 201)
	mapBody := map[string]any{"consumerKey": "ledger_batch_client_01", "consumerSecret": "ledger-batch-secret-0001",
		"keyType": "SANDBOX", "keyManager": "WSO2IS"}
	mk := e.apim("POST", dp+"/applications/"+id+"/map-keys", mapBody).want(t, 200).obj(t)
	if mk["mode"] != "MAPPED" {
		t.Fatalf("map-keys mode %v", mk["mode"])
	}
	e.apim("POST", dp+"/applications/"+none+"/map-keys", mapBody).want(t, 404)
	mapBody["keyType"] = "PRODUCTION"
	e.apim("POST", dp+"/applications/"+rid+"/map-keys", mapBody).want(t, 409) // mapped already
	e.apim("POST", dp+"/applications/"+rid+"/map-keys", map[string]any{"keyType": "SANDBOX", "keyManager": "WSO2IS"}).want(t, 400)

	// clean-up removes a key mapping.
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+str(mk["keyMappingId"])+"/clean-up", nil).want(t, 200)
	e.apim("POST", dp+"/applications/"+id+"/oauth-keys/"+none+"/clean-up", nil).want(t, 404)

	e.apim("DELETE", dp+"/applications/"+id, nil).want(t, 200)
	e.apim("DELETE", dp+"/applications/"+id, nil).want(t, 404)
}

func TestAPIMSubscriptionsAndAPIs(t *testing.T) {
	e, _ := withKM(t)
	const none = "00000000-0000-0000-0000-000000000000"
	apis := e.apim("GET", dp+"/apis?limit=10", nil).want(t, 200).obj(t)
	all := list(apis, "list")
	if len(all) != 6 {
		t.Fatalf("devportal lists %d APIs, want 6", len(all))
	}
	forex, wallet, ledger := str(find(all, "name", "ForexAPI")["id"]), str(find(all, "name", "WalletAPI")["id"]),
		str(find(all, "name", "LedgerAPI")["id"])
	e.apim("GET", dp+"/apis/"+forex, nil).want(t, 200)
	e.apim("GET", dp+"/apis/"+none, nil).want(t, 404)
	e.apim("GET", pub+"/apis?query=name:Forex", nil).want(t, 200)
	e.apim("GET", pub+"/apis/"+forex, nil).want(t, 200)
	e.apim("GET", pub+"/apis/"+none, nil).want(t, 404)

	appID := str(e.apim("POST", dp+"/applications", map[string]any{"name": "subs-app",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)["applicationId"])
	sub := e.apim("POST", dp+"/subscriptions", map[string]any{"applicationId": appID, "apiId": forex,
		"throttlingPolicy": "Gold"}).want(t, 201).obj(t)
	sid := str(sub["subscriptionId"])
	e.apim("POST", dp+"/subscriptions", map[string]any{"applicationId": appID, "apiId": none,
		"throttlingPolicy": "Gold"}).want(t, 404)
	e.apim("POST", dp+"/subscriptions", map[string]any{"applicationId": appID, "apiId": wallet,
		"throttlingPolicy": "NoSuchTier"}).want(t, 400, 403)
	multi := e.apim("POST", dp+"/subscriptions/multiple", []map[string]any{
		{"applicationId": appID, "apiId": wallet, "throttlingPolicy": "Silver"},
		{"applicationId": appID, "apiId": ledger, "throttlingPolicy": "Bronze"}}).want(t, 200).arr(t)
	if len(multi) != 2 {
		t.Fatalf("multiple: %v", multi)
	}
	e.apim("POST", dp+"/subscriptions/multiple", []map[string]any{{"applicationId": appID}}).want(t, 400)

	e.apim("GET", dp+"/subscriptions?applicationId="+appID, nil).want(t, 200)
	e.apim("GET", dp+"/subscriptions?apiId="+forex+"&limit=1&offset=0", nil).want(t, 200)
	e.apim("GET", dp+"/subscriptions", nil).want(t, 400)
	e.apim("GET", dp+"/subscriptions/"+sid, nil).want(t, 200)
	e.apim("GET", dp+"/subscriptions/"+none, nil).want(t, 404)
	upd := map[string]any{"applicationId": appID, "apiId": forex, "throttlingPolicy": "Gold",
		"requestedThrottlingPolicy": "Silver", "status": "UNBLOCKED"}
	if got := e.apim("PUT", dp+"/subscriptions/"+sid, upd).want(t, 200).obj(t); got["throttlingPolicy"] != "Silver" {
		t.Fatalf("tier change: %v", got)
	}
	e.apim("PUT", dp+"/subscriptions/"+none, upd).want(t, 404)
	upd["requestedThrottlingPolicy"] = "NoSuchTier"
	e.apim("PUT", dp+"/subscriptions/"+sid, upd).want(t, 400, 403)

	e.apim("GET", pub+"/subscriptions", nil).want(t, 200)
	e.apim("GET", pub+"/subscriptions?apiId="+forex, nil).want(t, 200)

	e.apim("DELETE", dp+"/subscriptions/"+sid, nil).want(t, 200)
	e.apim("DELETE", dp+"/subscriptions/"+sid, nil).want(t, 404)
}

// testCertPEM is a fresh self-signed certificate.
func testCertPEM(t testing.TB, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestAPIMCertificates(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: sim.DefaultEstate()})
	cert := testCertPEM(t, "ledger-service")
	ep := pub + "/endpoint-certificates"
	e.apim("POST", ep, multipartBody{fields: map[string]string{"alias": "ledger", "endpoint": "https://ledger-service:8002"},
		files: map[string]string{"certificate": cert}}).want(t, 200)
	e.apim("POST", ep, multipartBody{fields: map[string]string{"alias": "broken", "endpoint": "https://x"},
		files: map[string]string{"certificate": "not a certificate"}}).want(t, 400)
	e.apim("GET", ep, nil).want(t, 200)
	e.do("GET", e.s.APIMURL()+ep, nil).want(t, 401)
	e.apim("GET", ep+"?alias=ledger", nil).want(t, 200)
	e.apim("GET", ep+"/ledger", nil).want(t, 200)
	e.apim("GET", ep+"/nope", nil).want(t, 404)
	e.apim("GET", ep+"/ledger/content", nil).want(t, 200)
	e.apim("GET", ep+"/nope/content", nil).want(t, 404)
	e.apim("PUT", ep+"/ledger", multipartBody{files: map[string]string{"certificate": testCertPEM(t, "ledger-2")}}).want(t, 200)
	e.apim("PUT", ep+"/nope", multipartBody{files: map[string]string{"certificate": cert}}).want(t, 404)
	e.apim("DELETE", ep+"/ledger", nil).want(t, 200)
	e.apim("DELETE", ep+"/ledger", nil).want(t, 404)

	apis := list(e.apim("GET", pub+"/apis", nil).want(t, 200).obj(t), "list")
	apiID := str(find(apis, "name", "PaymentAPI")["id"])
	cc := pub + "/apis/" + apiID + "/client-certificates"
	// No client certificate in the tenant: even an unknown API lists empty
	// (ApisApiCommonImpl.getAPIClientCertificates never looks it up).
	unknown := pub + "/apis/00000000-0000-0000-0000-000000000000/client-certificates"
	if m := e.apim("GET", unknown, nil).want(t, 200).obj(t); m["count"] != float64(0) {
		t.Fatalf("unknown API, empty tenant: %v", m)
	}
	e.apim("GET", cc+"?limit=x", nil).want(t, 400)
	e.apim("POST", cc, multipartBody{fields: map[string]string{"alias": "partner", "tier": "Gold"},
		files: map[string]string{"certificate": testCertPEM(t, "partner")}}).want(t, 200)
	e.apim("POST", cc, multipartBody{fields: map[string]string{"alias": "partner2", "tier": "NoSuchTier"},
		files: map[string]string{"certificate": testCertPEM(t, "partner2")}}).want(t, 400)
	e.apim("GET", cc, nil).want(t, 200)
	// Once the tenant has one, an unknown API fails in getAPIbyUUID: 500.
	if m := e.apim("GET", unknown, nil).want(t, 500).obj(t); m["code"] != float64(900967) {
		t.Fatalf("unknown API: %v", m)
	}
	e.apim("GET", cc+"/partner", nil).want(t, 200)
	e.apim("GET", cc+"/nope", nil).want(t, 404)
	e.apim("GET", cc+"/partner/content", nil).want(t, 200)
	e.apim("GET", cc+"/nope/content", nil).want(t, 404)
	e.apim("PUT", cc+"/partner", multipartBody{fields: map[string]string{"tier": "Silver"}}).want(t, 200)
	e.apim("PUT", cc+"/nope", multipartBody{fields: map[string]string{"tier": "Silver"}}).want(t, 404)
	e.apim("DELETE", cc+"/partner", nil).want(t, 200)
	e.apim("DELETE", cc+"/partner", nil).want(t, 404)
}

// TestAPIMAuthErrors: missing/expired tokens answer 401, missing scopes 403.
func TestAPIMAuthErrors(t *testing.T) {
	e := newEnv(t, sim.Options{})
	e.do("GET", e.s.APIMURL()+dp+"/applications", nil).want(t, 401)
	e.do("GET", e.s.APIMURL()+admin+"/key-managers", nil, "Authorization", "Bearer nope").want(t, 401)
	id, secret := e.dcr("narrow")
	narrow := e.passwordToken(id, secret, "apim:subscribe")
	e.do("GET", e.s.APIMURL()+admin+"/key-managers", nil, "Authorization", "Bearer "+narrow).want(t, 403)
	e.do("GET", e.s.APIMURL()+pub+"/subscriptions", nil, "Authorization", "Bearer "+narrow).want(t, 403)
	e.do("GET", e.s.APIMURL()+pub+"/subscriptions", nil).want(t, 401)
	adminOnly := e.passwordToken(id, secret, "apim:admin")
	e.do("GET", e.s.APIMURL()+dp+"/applications", nil, "Authorization", "Bearer "+adminOnly).want(t, 403)
	// DCR with wrong Basic credentials.
	e.do("POST", e.s.APIMURL()+"/client-registration/v0.17/register", map[string]any{"clientName": "x",
		"owner": "admin", "grantType": "password", "saasApp": true}, "Authorization", basic("admin", "wrong")).want(t, 401)
	// Token endpoint with a bad client.
	e.do("POST", e.s.APIMURL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}},
		"Authorization", basic("nobody", "nothing")).want(t, 401)
	e.s.ExpireTokens()
	e.do("GET", e.s.APIMURL()+dp+"/applications", nil, "Authorization", "Bearer "+narrow).want(t, 401)
}
