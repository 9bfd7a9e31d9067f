package contract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// isKMBody is the seed 000 WSO2IS key manager (WSO2-API.md §3.1 example),
// with the issuer the IS simulator writes.
func isKMBody(issuer string) map[string]any {
	return map[string]any{
		"name": "WSO2IS", "displayName": "WSO2 Identity Server 7.1", "type": "WSO2-IS-7", "enabled": true,
		"description":                "IS 7.1 as key manager",
		"wellKnownEndpoint":          "https://wso2is:9443/oauth2/token/.well-known/openid-configuration",
		"issuer":                     issuer,
		"clientRegistrationEndpoint": "https://wso2is:9443/api/identity/oauth2/dcr/v1.1/register",
		"introspectionEndpoint":      "https://wso2is:9443/oauth2/introspect",
		"tokenEndpoint":              "https://wso2is:9443/oauth2/token",
		"displayTokenEndpoint":       "https://localhost:9444/oauth2/token",
		"revokeEndpoint":             "https://wso2is:9443/oauth2/revoke",
		"displayRevokeEndpoint":      "https://localhost:9444/oauth2/revoke",
		"userInfoEndpoint":           "https://wso2is:9443/scim2/Me",
		"authorizeEndpoint":          "https://localhost:9444/oauth2/authorize",
		"scopeManagementEndpoint":    "https://wso2is:9443/api/identity/oauth2/v1.0/scopes",
		"certificates":               map[string]any{"type": "JWKS", "value": "https://wso2is:9443/oauth2/jwks"},
		"availableGrantTypes": []string{"client_credentials", "password", "refresh_token", "authorization_code",
			"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"},
		"enableTokenGeneration": true, "enableOAuthAppCreation": true, "enableMapOAuthConsumerApps": true,
		"enableSelfValidationJWT": true, "tokenType": "DIRECT", "consumerKeyClaim": "azp", "scopesClaim": "scope",
		"permissions": map[string]any{"permissionType": "PUBLIC", "roles": []string{}},
		"additionalProperties": map[string]any{"Username": "admin", "Password": "admin",
			"api_resource_management_endpoint": "https://wso2is:9443/api/server/v1/api-resources",
			"is7_roles_endpoint":               "https://wso2is:9443/scim2/v2/Roles", "enable_roles_creation": false},
	}
}

// TestToolkitFlows replays seed 000's wso2-toolkit.sh (WSO2-API.md §1.3)
// with plain HTTP calls, checking each status and field the seed shows;
// every exchange is validated against the official specs.
func TestToolkitFlows(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := "http"
		if tlsOn {
			name = "https"
		}
		t.Run(name, func(t *testing.T) { toolkitFlows(t, tlsOn) })
	}
}

func toolkitFlows(t *testing.T, tlsOn bool) {
	e := newEnv(t, sim.Options{TLS: tlsOn, Seed: sim.DefaultEstate()})
	s := e.s

	// health: the token-less probes.
	e.do("GET", s.APIMURL()+"/api/am/devportal/v3/apis?limit=1", nil).want(t, 200)
	e.do("GET", s.ISURL()+"/oauth2/token/.well-known/openid-configuration", nil).want(t, 200)

	// setup-km (a): DCR with Basic admin → 200 (not 201).
	r := e.do("POST", s.APIMURL()+"/client-registration/v0.17/register", map[string]any{
		"callbackUrl": "https://localhost/cb", "clientName": "wso2-toolkit", "owner": "admin",
		"grantType": "client_credentials password refresh_token", "saasApp": true, "tokenType": "JWT",
	}, "Authorization", basic("admin", "admin")).want(t, 200)
	reg := r.obj(t)
	clientID, clientSecret := str(reg["clientId"]), str(reg["clientSecret"])
	if clientID == "" || clientSecret == "" || reg["clientName"] != "wso2-toolkit" {
		t.Fatalf("DCR response %s", r.Body)
	}
	// Registering the same clientName again returns the same client.
	again := e.do("POST", s.APIMURL()+"/client-registration/v0.17/register", map[string]any{
		"callbackUrl": "https://other/cb", "clientName": "wso2-toolkit", "owner": "admin",
		"grantType": "client_credentials", "saasApp": true,
	}, "Authorization", basic("admin", "admin")).want(t, 200).obj(t)
	if again["clientId"] != clientID || again["clientSecret"] != clientSecret {
		t.Fatalf("re-registration gave a new client: %v", again)
	}

	// setup-km (b): password grant with the admin scopes.
	r = e.do("POST", s.APIMURL()+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"},
		"password": {"admin"}, "scope": {"apim:admin apim:admin_operations"}},
		"Authorization", basic(clientID, clientSecret)).want(t, 200)
	tok := r.obj(t)
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(3600) ||
		!strings.Contains(str(tok["scope"]), "apim:admin") || !strings.Contains(str(tok["scope"]), "apim:admin_operations") {
		t.Fatalf("token response %s", r.Body)
	}
	admin := str(tok["access_token"])
	auth := []string{"Authorization", "Bearer " + admin}
	kmURL := s.APIMURL() + "/api/am/admin/v4/key-managers"

	// setup-km (c): list KMs, match on name.
	kms := e.do("GET", kmURL, nil, auth...).want(t, 200).obj(t)
	if find(list(kms, "list"), "name", "WSO2IS") != nil {
		t.Fatal("WSO2IS exists on a fresh server")
	}
	resident := find(list(kms, "list"), "name", "Resident Key Manager")
	if resident == nil || resident["type"] != "default" {
		t.Fatalf("no Resident Key Manager of type default: %v", kms)
	}

	// setup-km (d): discover through the in-network IS URL.
	isWellKnownBefore := s.Stats().IS.Route("GET /oauth2/token/.well-known/openid-configuration")
	r = e.do("POST", kmURL+"/discover", multipartBody{fields: map[string]string{
		"url": "https://wso2is:9443/oauth2/token/.well-known/openid-configuration", "type": "WSO2-IS-7"}},
		auth...).want(t, 200)
	disc := r.obj(t)
	val, _ := disc["value"].(map[string]any)
	if disc["valid"] != true || val == nil || str(val["issuer"]) != s.Issuer() || str(val["tokenEndpoint"]) == "" {
		t.Fatalf("discover: %s", r.Body)
	}
	if n := s.Stats().IS.Route("GET /oauth2/token/.well-known/openid-configuration"); n != isWellKnownBefore+1 {
		t.Fatalf("discover did not reach the IS simulator (%d → %d discovery calls)", isWellKnownBefore, n)
	}

	// setup-km (e): create (201), then GET + PUT (200) as a re-run does.
	r = e.do("POST", kmURL, isKMBody(s.Issuer()), auth...).want(t, 201)
	km := r.obj(t)
	kmID := str(km["id"])
	if kmID == "" || km["name"] != "WSO2IS" || km["type"] != "WSO2-IS-7" {
		t.Fatalf("created KM: %s", r.Body)
	}
	e.do("POST", kmURL, isKMBody(s.Issuer()), auth...).want(t, 409)
	got := e.do("GET", kmURL+"/"+kmID, nil, auth...).want(t, 200).obj(t)
	props, _ := got["additionalProperties"].(map[string]any)
	if props["Password"] != "*****" || props["Username"] != "admin" || got["issuer"] != s.Issuer() {
		t.Fatalf("GET KM: password must be masked, issuer kept: %v", got)
	}
	got["description"] = "updated by setup-km"
	upd := e.do("PUT", kmURL+"/"+kmID, got, auth...).want(t, 200).obj(t)
	if upd["description"] != "updated by setup-km" {
		t.Fatalf("PUT KM: %v", upd)
	}

	// disable-resident-km: GET list, GET the resident KM, PUT enabled=false.
	rk := e.do("GET", kmURL+"/"+str(resident["id"]), nil, auth...).want(t, 200).obj(t)
	rk["enabled"] = false
	if e.do("PUT", kmURL+"/"+str(resident["id"]), rk, auth...).want(t, 200).obj(t)["enabled"] != false {
		t.Fatal("resident KM still enabled after PUT")
	}
	for _, k := range list(e.do("GET", kmURL, nil, auth...).want(t, 200).obj(t), "list") {
		if k["name"] == "Resident Key Manager" && k["enabled"] != false {
			t.Fatalf("list shows resident KM enabled: %v", k)
		}
	}
	// APIM's own /oauth2/token keeps issuing REST tokens.
	sub := e.passwordToken(clientID, clientSecret, "apim:subscribe apim:app_manage apim:sub_manage")
	auth = []string{"Authorization", "Bearer " + sub}
	dp := s.APIMURL() + "/api/am/devportal/v3"
	dkms := e.do("GET", dp+"/key-managers", nil, auth...).want(t, 200).obj(t)
	if find(list(dkms, "list"), "name", "WSO2IS") == nil {
		t.Fatalf("DevPortal does not offer WSO2IS: %v", dkms)
	}

	// create-app MyApp http://localhost:8080/callback
	apps := e.do("GET", dp+"/applications?query=MyApp", nil, auth...).want(t, 200).obj(t)
	if apps["count"] != float64(0) {
		t.Fatalf("MyApp exists already: %v", apps)
	}
	r = e.do("POST", dp+"/applications", map[string]any{"name": "MyApp", "throttlingPolicy": "Unlimited",
		"description": "OAuth2/OIDC application", "tokenType": "JWT"}, auth...).want(t, 201)
	app := r.obj(t)
	appID := str(app["applicationId"])
	if appID == "" || app["name"] != "MyApp" || app["owner"] != "admin" || app["throttlingPolicy"] != "Unlimited" ||
		app["tokenType"] != "JWT" || app["status"] != "APPROVED" {
		t.Fatalf("created app: %s", r.Body)
	}
	grants := []string{"client_credentials", "password", "authorization_code", "refresh_token",
		"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"}
	r = e.do("POST", dp+"/applications/"+appID+"/generate-keys", map[string]any{
		"keyType": "PRODUCTION", "keyManager": "WSO2IS", "grantTypesToBeSupported": grants,
		"callbackUrl": "http://localhost:8080/callback"}, auth...).want(t, 200)
	key := r.obj(t)
	ck, cs := str(key["consumerKey"]), str(key["consumerSecret"])
	if ck == "" || cs == "" || str(key["keyMappingId"]) == "" || key["keyManager"] != "WSO2IS" ||
		key["keyType"] != "PRODUCTION" || key["callbackUrl"] != "http://localhost:8080/callback" {
		t.Fatalf("generate-keys: %s", r.Body)
	}
	// The IS7 connector registered the client in IS under
	// <owner>_<appUUID>_<KEYTYPE>, with the APIM app name as display name.
	dcrURL := s.ISURL() + "/api/identity/oauth2/dcr/v1.1/register/" + ck
	client := e.do("GET", dcrURL, nil, "Authorization", basic("admin", "admin")).want(t, 200).obj(t)
	if client["client_name"] != "admin_"+appID+"_PRODUCTION" || client["client_secret"] != cs ||
		client["ext_application_display_name"] != "MyApp" {
		t.Fatalf("IS client: %v", client)
	}

	// get-token cc <client_id> <client_secret> at IS.
	r = e.do("POST", s.ISURL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"default"}},
		"Authorization", basic(ck, cs)).want(t, 200)
	itok := r.obj(t)
	if itok["token_type"] != "Bearer" || itok["expires_in"] != float64(3600) || itok["scope"] != "default" {
		t.Fatalf("IS token: %s", r.Body)
	}
	jwks := e.do("GET", s.ISURL()+"/oauth2/jwks", nil).want(t, 200)
	claims, err := verifyJWT(str(itok["access_token"]), jwks.Body)
	if err != nil {
		t.Fatalf("IS access token does not verify against /oauth2/jwks: %v", err)
	}
	if claims["iss"] != s.Issuer() || claims["azp"] != ck || claims["iss"] != km["issuer"] {
		t.Fatalf("JWT claims %v (issuer %s, KM issuer %v)", claims, s.Issuer(), km["issuer"])
	}

	// Phase 3: subscribe MyApp to a published API.
	apis := e.do("GET", dp+"/apis?query="+url.QueryEscape(`name:"ForexAPI"`), nil, auth...).want(t, 200).obj(t)
	forex := find(list(apis, "list"), "name", "ForexAPI")
	if forex == nil || forex["lifeCycleStatus"] != "PUBLISHED" {
		t.Fatalf("ForexAPI not found: %v", apis)
	}
	subBody := map[string]any{"applicationId": appID, "apiId": forex["id"], "throttlingPolicy": "Unlimited"}
	r = e.do("POST", dp+"/subscriptions", subBody, auth...).want(t, 201)
	if sb := r.obj(t); sb["status"] != "UNBLOCKED" || str(sb["subscriptionId"]) == "" {
		t.Fatalf("subscription: %s", r.Body)
	}
	e.do("POST", dp+"/subscriptions", subBody, auth...).want(t, 409)
	subs := e.do("GET", dp+"/subscriptions?applicationId="+appID, nil, auth...).want(t, 200).obj(t)
	if subs["count"] != float64(1) {
		t.Fatalf("subscriptions of MyApp: %v", subs)
	}

	// Phase 5: call the API through the gateway with the IS token, as
	// seed 000's "curl -H 'Authorization: Bearer <token>'
	// https://localhost:8243/…" does (the gateway is a separate listener).
	if err := s.ListenGateway("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	gw := s.GatewayURL() + "/forex/1.0.0/rates"
	r = e.do("GET", gw, nil, "Authorization", "Bearer "+str(itok["access_token"])).want(t, 200)
	if echo := r.obj(t); echo["api"] != "ForexAPI" || echo["application"] != "MyApp" || echo["resource"] != "/rates" {
		t.Fatalf("gateway: %s", r.Body)
	}
	if f := e.do("GET", gw, nil).want(t, 401).obj(t); f["code"] != "900902" {
		t.Fatalf("gateway without a token: %v", f)
	}
	if f := e.do("GET", s.GatewayURL()+"/ledger/1.0.0/x", nil, "Authorization", "Bearer "+str(itok["access_token"])).want(t, 403).obj(t); f["code"] != "900908" {
		t.Fatalf("gateway, API not subscribed: %v", f)
	}

	// delete-app <app_id>: 200, and the IS client is gone (DCR 401).
	e.do("DELETE", dp+"/applications/"+appID, nil, auth...).want(t, 200)
	e.do("GET", dp+"/applications/"+appID, nil, auth...).want(t, 404)
	e.do("GET", dcrURL, nil, "Authorization", basic("admin", "admin")).want(t, 401)
	e.do("POST", s.ISURL()+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}},
		"Authorization", basic(ck, cs)).want(t, 400, 401)
	// The token still verifies, but no application holds its consumer key.
	if f := e.do("GET", gw, nil, "Authorization", "Bearer "+str(itok["access_token"])).want(t, 403).obj(t); f["code"] != "900908" {
		t.Fatalf("gateway after delete-app: %v", f)
	}
	for _, sb := range s.Dump().APIM.Subscriptions {
		if sb.ApplicationID == appID {
			t.Fatal("subscription survived the application delete")
		}
	}
	for _, c := range s.Dump().IS.Clients {
		if c.ClientID == ck {
			t.Fatal("IS client survived the application delete")
		}
	}
	if e.v.Checked() < 20 {
		t.Fatalf("only %d exchanges validated", e.v.Checked())
	}
}
