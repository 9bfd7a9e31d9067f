package apim

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestKeyManagerCRUD(t *testing.T) {
	e := newEnv(t)
	// Missing IS7 connector endpoints → 400 901401.
	for _, missing := range []string{"api_resource_management_endpoint", "is7_roles_endpoint", "Password"} {
		body := is7KM("WSO2IS")
		delete(body["additionalProperties"].(map[string]any), missing)
		r := e.mustStatus(e.do("POST", AdminBase+"/key-managers", e.admin, body), 400)
		if r.code(t) != 901401 || !strings.Contains(r.json(t)["description"].(string), missing) {
			t.Fatalf("missing %s: %s", missing, r.body)
		}
	}
	e.mustStatus(e.do("POST", AdminBase+"/key-managers", e.admin, map[string]any{"name": "X", "type": "Nope"}), 400)

	id := e.createKM(is7KM("WSO2IS"))
	got := e.mustStatus(e.do("GET", AdminBase+"/key-managers/"+id, e.admin, nil), 200).json(t)
	props := got["additionalProperties"].(map[string]any)
	if props["Password"] != "*****" || props["Username"] != "admin" {
		t.Fatalf("password not masked: %v", props)
	}
	// Server-filled defaults (§5.12).
	if got["tokenType"] != "DIRECT" || got["enableSelfValidationJWT"] != true ||
		got["permissions"].(map[string]any)["permissionType"] != "PUBLIC" || got["consumerKeyClaim"] != "azp" {
		t.Fatalf("defaults: %v", got)
	}
	// Duplicate name → 409 901402.
	r := e.mustStatus(e.do("POST", AdminBase+"/key-managers", e.admin, is7KM("WSO2IS")), 409)
	if r.code(t) != 901402 {
		t.Fatalf("dup: %s", r.body)
	}
	// PUT with "*****" keeps the stored password; PUT with a value rotates it.
	got["description"] = "updated"
	e.mustStatus(e.do("PUT", AdminBase+"/key-managers/"+id, e.admin, got), 200)
	if pw := kmByName(e.s.Dump(), "WSO2IS").AdditionalProperties["Password"]; pw != "admin" {
		t.Fatalf("password after masked PUT: %v", pw)
	}
	got["additionalProperties"].(map[string]any)["Password"] = "new"
	upd := e.mustStatus(e.do("PUT", AdminBase+"/key-managers/"+id, e.admin, got), 200).json(t)
	if upd["description"] != "updated" || upd["additionalProperties"].(map[string]any)["Password"] != "*****" {
		t.Fatalf("update: %v", upd)
	}
	if pw := kmByName(e.s.Dump(), "WSO2IS").AdditionalProperties["Password"]; pw != "new" {
		t.Fatalf("password not rotated: %v", pw)
	}
	// List carries KeyManagerInfo only.
	lst := e.mustStatus(e.do("GET", AdminBase+"/key-managers", e.admin, nil), 200).json(t)
	if lst["count"].(float64) != 2 {
		t.Fatalf("list: %v", lst)
	}
	for _, it := range list(t, lst) {
		if _, ok := it["additionalProperties"]; ok {
			t.Fatalf("list item has config: %v", it)
		}
	}
	// Unknown id → 404.
	e.mustStatus(e.do("GET", AdminBase+"/key-managers/nope", e.admin, nil), 404)
	// Delete unused → 200, then 404.
	e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+id, e.admin, nil), 200)
	e.mustStatus(e.do("GET", AdminBase+"/key-managers/"+id, e.admin, nil), 404)
}

func kmByName(st State, name string) KeyManager {
	for _, k := range st.KeyManagers {
		if k.Name == name {
			return k
		}
	}
	return KeyManager{}
}

func TestResidentKeyManager(t *testing.T) {
	e := newEnv(t)
	rk := kmByName(e.s.Dump(), ResidentKeyManagerName)
	if rk.Type != "default" || !rk.Enabled {
		t.Fatalf("resident: %+v", rk)
	}
	// Visible in DevPortal while enabled.
	dev := e.mustStatus(e.do("GET", DevportalBase+"/key-managers", e.admin, nil), 200).json(t)
	if dev["count"].(float64) != 1 || list(t, dev)[0]["name"] != ResidentKeyManagerName {
		t.Fatalf("devportal KMs: %s", dev)
	}
	// Disable with a full PUT.
	full := e.mustStatus(e.do("GET", AdminBase+"/key-managers/"+rk.ID, e.admin, nil), 200).json(t)
	full["enabled"] = false
	out := e.mustStatus(e.do("PUT", AdminBase+"/key-managers/"+rk.ID, e.admin, full), 200).json(t)
	if out["enabled"] != false {
		t.Fatalf("not disabled: %v", out)
	}
	dev = e.mustStatus(e.do("GET", DevportalBase+"/key-managers", e.admin, nil), 200).json(t)
	if dev["count"].(float64) != 0 {
		t.Fatalf("disabled KM still in DevPortal: %v", dev)
	}
	// Generate keys against the disabled KM → 400 901406.
	app := e.createApp(e.admin, "A1")
	r := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin,
		map[string]any{"keyType": "PRODUCTION", "grantTypesToBeSupported": []string{"client_credentials"}}), 400)
	if r.code(t) != 901406 {
		t.Fatalf("disabled: %s", r.body)
	}
	// The REST-API token endpoint keeps working.
	e.token("admin", "admin", "apim:subscribe")
	// Not deletable (generic 500).
	r = e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+rk.ID, e.admin, nil), 500)
	if r.code(t) != 500 {
		t.Fatalf("delete resident: %s", r.body)
	}
	// Type cannot change.
	full["type"] = "WSO2-IS-7"
	e.mustStatus(e.do("PUT", AdminBase+"/key-managers/"+rk.ID, e.admin, full), 400)
}

func TestKeyManagerDeleteInUse(t *testing.T) {
	e := newEnv(t)
	id := e.createKM(is7KM("WSO2IS"))
	app := e.createApp(e.admin, "InUse")
	e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin, map[string]any{
		"keyType": "PRODUCTION", "keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}}), 200)
	r := e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+id, e.admin, nil), 500)
	if r.code(t) != 500 || !strings.Contains(r.header.Get("X-Sim-Cause"), "already used") {
		t.Fatalf("in use: %s %v", r.body, r.header)
	}
	// After the app is gone, deletion works.
	e.mustStatus(e.do("DELETE", DevportalBase+"/applications/"+app, e.admin, nil), 200)
	e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+id, e.admin, nil), 200)
}

func TestKeyManagerDiscover(t *testing.T) {
	wk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, 200, map[string]any{
			"issuer": "https://localhost:9444/oauth2/token", "token_endpoint": "https://wso2is:9443/oauth2/token",
			"revocation_endpoint": "https://wso2is:9443/oauth2/revoke", "introspection_endpoint": "https://wso2is:9443/oauth2/introspect",
			"userinfo_endpoint": "https://wso2is:9443/oauth2/userinfo", "authorization_endpoint": "https://wso2is:9443/oauth2/authorize",
			"jwks_uri": "https://wso2is:9443/oauth2/jwks", "grant_types_supported": []string{"client_credentials", "password"},
		})
	}))
	defer wk.Close()
	e := newEnv(t)
	discover := func(u string) map[string]any {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("url", u)
		_ = mw.WriteField("type", "WSO2-IS-7")
		_ = mw.Close()
		r := e.raw("POST", AdminBase+"/key-managers/discover", map[string]string{
			"Authorization": "Bearer " + e.admin, "Content-Type": mw.FormDataContentType()}, &buf)
		return e.mustStatus(r, 200).json(t)
	}
	m := discover(wk.URL + "/oauth2/token/.well-known/openid-configuration")
	if m["valid"] != true {
		t.Fatalf("discover: %v", m)
	}
	v := m["value"].(map[string]any)
	if v["issuer"] != "https://localhost:9444/oauth2/token" || v["userInfoEndpoint"] != "https://wso2is:9443/oauth2/userinfo" ||
		v["certificates"].(map[string]any)["value"] != "https://wso2is:9443/oauth2/jwks" || v["type"] != "WSO2-IS-7" {
		t.Fatalf("value: %v", v)
	}
	if m := discover(wk.URL + "/missing"); m["valid"] != false {
		t.Fatalf("invalid url: %v", m)
	}
}

func TestSettings(t *testing.T) {
	e := newEnv(t)
	m := e.mustStatus(e.do("GET", AdminBase+"/settings", e.admin, nil), 200).json(t)
	found := false
	for _, c := range m["keyManagerConfiguration"].([]any) {
		c := c.(map[string]any)
		if c["type"] == "WSO2-IS-7" {
			found = len(c["configurations"].([]any)) == 5
		}
	}
	if !found {
		t.Fatalf("settings: %v", m)
	}
}

func TestTiers(t *testing.T) {
	e := newEnv(t)
	apps := e.mustStatus(e.do("GET", AdminBase+"/throttling/policies/application", e.admin, nil), 200).json(t)
	if apps["count"].(float64) != 4 {
		t.Fatalf("app tiers: %v", apps)
	}
	subs := e.mustStatus(e.do("GET", AdminBase+"/throttling/policies/subscription", e.admin, nil), 200).json(t)
	if subs["count"].(float64) != 9 {
		t.Fatalf("sub tiers: %v", subs)
	}
	body := map[string]any{"policyName": "Gold100", "description": "x", "type": "whatever",
		"defaultLimit": map[string]any{"type": "REQUESTCOUNTLIMIT", "requestCount": map[string]any{"timeUnit": "min", "unitTime": 1, "requestCount": 100}}}
	created := e.mustStatus(e.do("POST", AdminBase+"/throttling/policies/application", e.admin, body), 201).json(t)
	pid, _ := created["policyId"].(string)
	if len(pid) != 36 || created["isDeployed"] != true || created["type"] != "ApplicationThrottlePolicy" {
		t.Fatalf("created: %v", created)
	}
	r := e.mustStatus(e.do("POST", AdminBase+"/throttling/policies/application", e.admin, body), 409)
	if r.code(t) != 409 {
		t.Fatalf("dup: %s", r.body)
	}
	e.mustStatus(e.do("POST", AdminBase+"/throttling/policies/application", e.admin, map[string]any{"policyName": "NoLimit"}), 400)
	// Update.
	body["description"] = "y"
	upd := e.mustStatus(e.do("PUT", AdminBase+"/throttling/policies/application/"+pid, e.admin, body), 200).json(t)
	if upd["description"] != "y" || upd["policyId"] != pid {
		t.Fatalf("update: %v", upd)
	}
	// In use → refused; unused → 200.
	app := e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin,
		map[string]any{"name": "T", "throttlingPolicy": "Gold100"}), 201).json(t)
	e.mustStatus(e.do("DELETE", AdminBase+"/throttling/policies/application/"+pid, e.admin, nil), 500)
	e.mustStatus(e.do("DELETE", DevportalBase+"/applications/"+app["applicationId"].(string), e.admin, nil), 200)
	e.mustStatus(e.do("DELETE", AdminBase+"/throttling/policies/application/"+pid, e.admin, nil), 200)
	e.mustStatus(e.do("GET", AdminBase+"/throttling/policies/application/"+pid, e.admin, nil), 404)
	// Built-ins cannot be deleted.
	for _, it := range list(t, apps) {
		if it["policyName"] == "10PerMin" {
			e.mustStatus(e.do("DELETE", AdminBase+"/throttling/policies/application/"+it["policyId"].(string), e.admin, nil), 400)
		}
	}
	// Subscription tier create + search by type.
	sb := map[string]any{"policyName": "Platinum", "billingPlan": "COMMERCIAL", "stopOnQuotaReach": true,
		"defaultLimit": map[string]any{"type": "REQUESTCOUNTLIMIT", "requestCount": map[string]any{"timeUnit": "min", "unitTime": 1, "requestCount": 9000}}}
	sc := e.mustStatus(e.do("POST", AdminBase+"/throttling/policies/subscription", e.admin, sb), 201).json(t)
	if sc["type"] != "SubscriptionThrottlePolicy" || sc["stopOnQuotaReach"] != true {
		t.Fatalf("sub tier: %v", sc)
	}
	srch := e.mustStatus(e.do("GET", AdminBase+"/throttling/policies/search?query=type:sub", e.admin, nil), 200).json(t)
	if srch["count"].(float64) != 10 {
		t.Fatalf("search: %v", srch["count"])
	}
	for _, it := range list(t, srch) {
		if _, isNum := it["policyId"].(float64); !isNum || it["uuid"] == "" {
			t.Fatalf("search item: %v", it)
		}
	}
	// DevPortal view, paged and anonymous.
	dv := e.mustStatus(e.do("GET", DevportalBase+"/throttling-policies/subscription?limit=3&offset=3", "", nil), 200).json(t)
	pg := dv["pagination"].(map[string]any)
	if dv["count"].(float64) != 3 || pg["total"].(float64) != 10 || pg["previous"] != "/throttling-policies/subscription?limit=3&offset=0" {
		t.Fatalf("devportal tiers: %v", dv)
	}
	e.mustStatus(e.do("GET", DevportalBase+"/throttling-policies/nope", "", nil), 400)
	one := e.mustStatus(e.do("GET", DevportalBase+"/throttling-policies/subscription/Gold", "", nil), 200).json(t)
	if one["requestCount"].(float64) != 5000 || one["tierPlan"] != "FREE" {
		t.Fatalf("Gold: %v", one)
	}
}
