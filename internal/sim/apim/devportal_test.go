package apim

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

func TestApplicationCRUD(t *testing.T) {
	e := newEnv(t)
	r := e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin, map[string]any{
		"name": "MyApp", "throttlingPolicy": "10PerMin", "description": "d", "tokenType": "OAUTH",
		"attributes": map[string]string{"team": "a"}}), 201)
	app := r.json(t)
	id := app["applicationId"].(string)
	if app["tokenType"] != "JWT" || app["status"] != "APPROVED" || app["owner"] != "admin" ||
		r.header.Get("Location") != DevportalBase+"/applications/"+id {
		t.Fatalf("created: %v %v", app, r.header)
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   float64
	}{
		{"duplicate case-insensitive", map[string]any{"name": "myapp", "throttlingPolicy": "Unlimited"}, 409, codeAppExists},
		{"unknown tier", map[string]any{"name": "B", "throttlingPolicy": "Nope"}, 400, 400},
		{"blank name", map[string]any{"name": " B", "throttlingPolicy": "Unlimited"}, 400, 400},
		{"missing tier", map[string]any{"name": "C"}, 400, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin, tc.body), tc.status)
			if r.code(t) != tc.code {
				t.Fatalf("code: %s", r.body)
			}
		})
	}
	// PUT is full replacement: attributes omitted → empty.
	upd := e.mustStatus(e.do("PUT", DevportalBase+"/applications/"+id, e.admin, map[string]any{
		"name": "MyApp2", "throttlingPolicy": "Unlimited", "description": "new"}), 200).json(t)
	if upd["name"] != "MyApp2" || len(upd["attributes"].(map[string]any)) != 0 || upd["description"] != "new" {
		t.Fatalf("update: %v", upd)
	}
	// Rename to an existing name → 409.
	e.mustStatus(e.do("PUT", DevportalBase+"/applications/"+id, e.admin, map[string]any{
		"name": "defaultapplication", "throttlingPolicy": "Unlimited"}), 409)
	// Unknown id → 404 900307.
	r = e.mustStatus(e.do("GET", DevportalBase+"/applications/nope", e.admin, nil), 404)
	if r.code(t) != codeAppNotFound {
		t.Fatalf("404: %s", r.body)
	}
	e.mustStatus(e.do("DELETE", DevportalBase+"/applications/"+id, e.admin, nil), 200)
	e.mustStatus(e.do("GET", DevportalBase+"/applications/"+id, e.admin, nil), 404)
}

func TestApplicationPagingAndQuery(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.createApp(e.admin, fmt.Sprintf("app-%02d", i))
	}
	// 31 with DefaultApplication; sorted by name: app-00..app-29, DefaultApplication.
	m := e.mustStatus(e.do("GET", DevportalBase+"/applications?limit=10&offset=10", e.admin, nil), 200).json(t)
	pg := m["pagination"].(map[string]any)
	items := list(t, m)
	if m["count"].(float64) != 10 || pg["total"].(float64) != 31 || pg["offset"].(float64) != 10 || pg["limit"].(float64) != 10 ||
		pg["next"] != "/applications?limit=10&offset=20&groupId=" || pg["previous"] != "/applications?limit=10&offset=0&groupId=" {
		t.Fatalf("page: %v", m)
	}
	if items[0]["name"] != "app-10" || items[9]["name"] != "app-19" {
		t.Fatalf("order: %v .. %v", items[0]["name"], items[9]["name"])
	}
	if _, ok := items[0]["tokenType"]; ok {
		t.Fatalf("ApplicationInfo carries tokenType: %v", items[0])
	}
	last := e.mustStatus(e.do("GET", DevportalBase+"/applications?limit=10&offset=30", e.admin, nil), 200).json(t)
	if last["count"].(float64) != 1 || last["pagination"].(map[string]any)["next"] != "" {
		t.Fatalf("last page: %v", last)
	}
	desc := e.mustStatus(e.do("GET", DevportalBase+"/applications?limit=1&sortOrder=desc", e.admin, nil), 200).json(t)
	if list(t, desc)[0]["name"] != DefaultApplicationName {
		t.Fatalf("desc: %v", desc)
	}
	// Beyond the end: count 0, empty pagination, no list.
	beyond := e.mustStatus(e.do("GET", DevportalBase+"/applications?offset=100", e.admin, nil), 200).json(t)
	if _, has := beyond["list"]; has || beyond["count"].(float64) != 0 || len(beyond["pagination"].(map[string]any)) != 0 {
		t.Fatalf("beyond end: %v", beyond)
	}
	// Query is a case-insensitive substring match.
	q := e.mustStatus(e.do("GET", DevportalBase+"/applications?query="+url.QueryEscape("APP-1"), e.admin, nil), 200).json(t)
	if q["count"].(float64) != 10 || q["pagination"].(map[string]any)["total"].(float64) != 10 {
		t.Fatalf("query: %v", q["count"])
	}
	e.mustStatus(e.do("GET", DevportalBase+"/applications?sortBy=bogus", e.admin, nil), 400)
}

func TestApplicationsPerOwner(t *testing.T) {
	e := newEnv(t)
	if err := e.s.AddUser("bob", "pw", RoleSubscriber); err != nil {
		t.Fatal(err)
	}
	bob := e.token("bob", "pw", "apim:subscribe")
	adminApp := e.createApp(e.admin, "Shared")
	bobApp := e.createApp(bob, "Shared") // same name, other owner: fine
	bl := e.mustStatus(e.do("GET", DevportalBase+"/applications", bob, nil), 200).json(t)
	if bl["count"].(float64) != 1 || list(t, bl)[0]["applicationId"] != bobApp {
		t.Fatalf("bob sees: %v", bl)
	}
	for _, m := range []string{"GET", "DELETE"} {
		r := e.mustStatus(e.do(m, DevportalBase+"/applications/"+adminApp, bob, nil), 403)
		if r.code(t) != 403 {
			t.Fatalf("%s: %s", m, r.body)
		}
	}
	e.mustStatus(e.do("PUT", DevportalBase+"/applications/"+adminApp, bob, map[string]any{"name": "x", "throttlingPolicy": "Unlimited"}), 403)
	e.mustStatus(e.do("GET", DevportalBase+"/applications/"+adminApp+"/oauth-keys", bob, nil), 403)
}

func TestGenerateKeysIS7(t *testing.T) {
	e := newEnv(t)
	e.createKM(is7KM("WSO2IS"))
	app := e.createApp(e.admin, "MyApp")
	gen := func(body map[string]any) resp {
		return e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin, body)
	}
	body := map[string]any{"keyType": "PRODUCTION", "keyManager": "WSO2IS",
		"grantTypesToBeSupported": []string{"client_credentials", "authorization_code"}, "callbackUrl": "https://cb",
		"additionalProperties": map[string]any{"ext_pkce_mandatory": "false", "ext_application_token_lifetime": "3600", "ignored": 5}}
	k := e.mustStatus(gen(body), 200).json(t)
	ck, _ := k["consumerKey"].(string)
	cl, ok := e.reg.get(ck)
	if !ok {
		t.Fatalf("no IS client for %v", k)
	}
	if cl.ClientName != "admin_"+app+"_PRODUCTION" || cl.ApplicationDisplayName != "MyApp" ||
		len(cl.RedirectURIs) != 1 || cl.RedirectURIs[0] != "https://cb" || cl.ExtParams["ext_pkce_mandatory"] != "false" {
		t.Fatalf("IS client: %+v", cl)
	}
	if _, has := cl.ExtParams["ignored"]; has {
		t.Fatalf("non-string ext param passed: %+v", cl.ExtParams)
	}
	if k["consumerSecret"] != cl.ClientSecret || k["keyManager"] != "WSO2IS" || k["keyState"] != "COMPLETED" ||
		k["mode"] != "CREATED" || k["keyMappingId"] == "" || k["token"].(map[string]any)["accessToken"] == "" {
		t.Fatalf("key: %v", k)
	}
	// Echo: strings come back typed.
	ap := k["additionalProperties"].(map[string]any)
	if ap["ext_pkce_mandatory"] != false || ap["ext_application_token_lifetime"].(float64) != 3600 {
		t.Fatalf("echo: %v", ap)
	}
	// Second generate → 409 901409.
	r := e.mustStatus(gen(body), 409)
	if r.code(t) != 901409 {
		t.Fatalf("409: %s", r.body)
	}
	// Same KM, SANDBOX is fine; registry failure → 500 and nothing stored.
	e.reg.failErr = errBoom
	body["keyType"] = "SANDBOX"
	e.mustStatus(gen(body), 500)
	keys := e.mustStatus(e.do("GET", DevportalBase+"/applications/"+app+"/oauth-keys", e.admin, nil), 200).json(t)
	if keys["count"].(float64) != 1 {
		t.Fatalf("keys after failure: %v", keys)
	}
	// Missing callback for authorization_code → 400; bad key type → 400.
	delete(body, "callbackUrl")
	e.mustStatus(gen(body), 400)
	r = e.mustStatus(gen(map[string]any{"keyType": "DEV", "grantTypesToBeSupported": []string{}}), 400)
	if r.code(t) != codeInvalidKeyType {
		t.Fatalf("keyType: %s", r.body)
	}
	// GET reads the secret live from IS.
	mid := k["keyMappingId"].(string)
	cl.ClientSecret = "rotated-in-is"
	e.reg.mu.Lock()
	e.reg.clients[ck] = cl
	e.reg.mu.Unlock()
	one := e.mustStatus(e.do("GET", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid, e.admin, nil), 200).json(t)
	if one["consumerSecret"] != "rotated-in-is" {
		t.Fatalf("live secret: %v", one)
	}
	// PUT propagates to IS.
	e.mustStatus(e.do("PUT", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid, e.admin, map[string]any{
		"supportedGrantTypes": []string{"client_credentials", "password"}, "callbackUrl": "https://cb2"}), 200)
	if cl, _ := e.reg.get(ck); len(cl.GrantTypes) != 2 || cl.GrantTypes[1] != "password" || cl.RedirectURIs[0] != "https://cb2" {
		t.Fatalf("IS not updated: %+v", cl)
	}
	// regenerate-secret quirk: nothing rotates for IS7.
	rg := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid+"/regenerate-secret", e.admin, nil), 200).json(t)
	if _, has := rg["consumerSecret"]; has || rg["consumerKey"] != ck {
		t.Fatalf("regenerate: %v", rg)
	}
	e.mustStatus(e.do("GET", DevportalBase+"/applications/"+app+"/oauth-keys/nope", e.admin, nil), 404)
}

func TestGenerateKeysRefusals(t *testing.T) {
	e := newEnv(t)
	noCreate := is7KM("NoCreate")
	noCreate["enableOAuthAppCreation"] = false
	noCreate["enableMapOAuthConsumerApps"] = false
	e.createKM(noCreate)
	disabled := is7KM("Off")
	disabled["enabled"] = false
	e.createKM(disabled)
	app := e.createApp(e.admin, "A")
	cases := []struct {
		km     string
		path   string
		status int
		code   float64
	}{
		{"NoCreate", "generate-keys", 400, codeKMNoOAuthApps},
		{"Off", "generate-keys", 400, codeKMNotEnabled},
		{"Missing", "generate-keys", 400, codeKMNotRegistered},
		{"NoCreate", "map-keys", 400, codeKMNoOAuthApps},
	}
	for _, tc := range cases {
		t.Run(tc.km+"/"+tc.path, func(t *testing.T) {
			body := map[string]any{"keyType": "PRODUCTION", "keyManager": tc.km}
			if tc.path == "map-keys" {
				body["consumerKey"] = "ck"
			} else {
				body["grantTypesToBeSupported"] = []string{"client_credentials"}
			}
			r := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/"+tc.path, e.admin, body), tc.status)
			if r.code(t) != tc.code {
				t.Fatalf("code: %s", r.body)
			}
		})
	}
	// No registry configured → 500 for WSO2-IS-7; AddKeyManager validates.
	e2 := newEnvWith(t, false)
	if _, err := e2.s.AddKeyManager(KeyManager{Name: "IS", Type: "WSO2-IS-7"}); err == nil {
		t.Fatal("AddKeyManager accepted a KM without connector config")
	}
	if _, err := e2.s.AddKeyManager(KeyManager{Name: "IS", Type: "WSO2-IS-7", EnableOAuthAppCreation: true, Enabled: true,
		AdditionalProperties: map[string]any{"Username": "admin", "Password": "admin",
			"api_resource_management_endpoint": "x", "is7_roles_endpoint": "y"}}); err != nil {
		t.Fatal(err)
	}
	app2 := e2.createApp(e2.admin, "A")
	e2.mustStatus(e2.do("POST", DevportalBase+"/applications/"+app2+"/generate-keys", e2.admin, map[string]any{
		"keyType": "PRODUCTION", "keyManager": "IS", "grantTypesToBeSupported": []string{"client_credentials"}}), 500)
}

func TestMapKeysAndCascadeDelete(t *testing.T) {
	e := newEnv(t)
	e.createKM(is7KM("WSO2IS"))
	// An out-of-band client in IS.
	oob, _ := e.reg.RegisterClient(t.Context(), simcore.Credentials{Username: "admin", Password: "admin"},
		simcore.OAuthClient{ClientName: "oob", GrantTypes: []string{"client_credentials"}})
	app := e.createApp(e.admin, "Mapped")
	mapKeys := func(ck, secret string) resp {
		return e.do("POST", DevportalBase+"/applications/"+app+"/map-keys", e.admin, map[string]any{
			"consumerKey": ck, "consumerSecret": secret, "keyType": "SANDBOX", "keyManager": "WSO2IS"})
	}
	e.mustStatus(mapKeys("missing", ""), 500)
	e.mustStatus(mapKeys(oob.ClientID, "wrong"), 500)
	m := e.mustStatus(mapKeys(oob.ClientID, oob.ClientSecret), 200).json(t)
	if m["mode"] != "MAPPED" || m["consumerKey"] != oob.ClientID || m["keyType"] != "SANDBOX" {
		t.Fatalf("mapped: %v", m)
	}
	r := e.mustStatus(mapKeys(oob.ClientID, oob.ClientSecret), 409)
	if r.code(t) != 901409 {
		t.Fatalf("dup map: %s", r.body)
	}
	gen := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin, map[string]any{
		"keyType": "PRODUCTION", "keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}}), 200).json(t)
	created := gen["consumerKey"].(string)
	// Subscribe too, then delete the app: subscription, mappings and the
	// CREATED client go; the MAPPED client stays in IS.
	api, _ := e.s.AddAPI(APISeed{Name: "Pizza", Version: "1.0.0", Context: "/pizza"})
	e.mustStatus(e.do("POST", DevportalBase+"/subscriptions", e.admin, map[string]any{
		"applicationId": app, "apiId": api, "throttlingPolicy": "Unlimited"}), 201)
	e.mustStatus(e.do("DELETE", DevportalBase+"/applications/"+app, e.admin, nil), 200)
	if _, ok := e.reg.get(created); ok {
		t.Fatal("CREATED client still in IS")
	}
	if _, ok := e.reg.get(oob.ClientID); !ok {
		t.Fatal("MAPPED client removed from IS")
	}
	st := e.s.Dump()
	if len(st.Subscriptions) != 0 || len(st.KeyMappings) != 0 {
		t.Fatalf("cascade left %d subs, %d keys", len(st.Subscriptions), len(st.KeyMappings))
	}
}

func TestResidentKeysAndTokens(t *testing.T) {
	e := newEnv(t)
	app := e.createApp(e.admin, "R")
	k := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin, map[string]any{
		"keyType": "PRODUCTION", "grantTypesToBeSupported": []string{"client_credentials"}, "scopes": []string{"apim:subscribe"}}), 200).json(t)
	tok := k["token"].(map[string]any)["accessToken"].(string)
	if k["keyManager"] != ResidentKeyManagerName || tok == "" {
		t.Fatalf("resident key: %v", k)
	}
	// The generated token is a real APIM token.
	e.mustStatus(e.do("GET", DevportalBase+"/applications", tok, nil), 200)
	// Client credentials with the generated keys at /oauth2/token.
	r := e.raw("POST", "/oauth2/token", map[string]string{
		"Authorization": BasicAuthHeader(k["consumerKey"].(string), k["consumerSecret"].(string)),
		"Content-Type":  "application/x-www-form-urlencoded"}, strings.NewReader("grant_type=client_credentials"))
	e.mustStatus(r, 200)
	// Regenerate rotates the secret for the resident KM.
	mid := k["keyMappingId"].(string)
	rg := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid+"/regenerate-secret", e.admin, nil), 200).json(t)
	if rg["consumerSecret"] == k["consumerSecret"] || rg["consumerSecret"] == nil {
		t.Fatalf("not rotated: %v", rg)
	}
	gt := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid+"/generate-token", e.admin,
		map[string]any{"validityPeriod": 60, "scopes": []string{"default"}}), 200).json(t)
	if gt["accessToken"] == "" || gt["validityTime"].(float64) != 60 {
		t.Fatalf("generate-token: %v", gt)
	}
	// clean-up removes the mapping; generate works again.
	e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/oauth-keys/"+mid+"/clean-up", e.admin, nil), 200)
	lst := e.mustStatus(e.do("GET", DevportalBase+"/applications/"+app+"/oauth-keys", e.admin, nil), 200).json(t)
	if lst["count"].(float64) != 0 {
		t.Fatalf("after clean-up: %v", lst)
	}
	e.mustStatus(e.do("POST", DevportalBase+"/applications/"+app+"/generate-keys", e.admin, map[string]any{
		"keyType": "PRODUCTION", "grantTypesToBeSupported": []string{"password"}}), 200)
}

func TestSubscriptions(t *testing.T) {
	e := newEnv(t)
	pub, _ := e.s.AddAPI(APISeed{Name: "Pizza", Version: "1.0.0", Context: "/pizza", Policies: []string{"Gold", "Unlimited"}})
	draft, _ := e.s.AddAPI(APISeed{Name: "Draft", Version: "1.0.0", Context: "/draft", LifeCycleStatus: "CREATED"})
	app := e.createApp(e.admin, "S")
	sub := func(body map[string]any) resp { return e.do("POST", DevportalBase+"/subscriptions", e.admin, body) }

	r := e.mustStatus(e.do("GET", DevportalBase+"/subscriptions", e.admin, nil), 400)
	if !strings.Contains(r.json(t)["description"].(string), "Either applicationId or apiId") {
		t.Fatalf("400: %s", r.body)
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"unpublished", map[string]any{"applicationId": app, "apiId": draft, "throttlingPolicy": "Unlimited"}, 404},
		{"unknown api", map[string]any{"applicationId": app, "apiId": "nope", "throttlingPolicy": "Unlimited"}, 404},
		{"unknown app", map[string]any{"applicationId": "nope", "apiId": pub, "throttlingPolicy": "Unlimited"}, 404},
		{"unknown tier", map[string]any{"applicationId": app, "apiId": pub, "throttlingPolicy": "Nope"}, 400},
		{"tier not allowed", map[string]any{"applicationId": app, "apiId": pub, "throttlingPolicy": "Bronze"}, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { e.mustStatus(sub(tc.body), tc.status) })
	}
	created := e.mustStatus(sub(map[string]any{"applicationId": app, "apiId": pub, "throttlingPolicy": "Gold"}), 201).json(t)
	sid := created["subscriptionId"].(string)
	if created["status"] != "UNBLOCKED" || created["apiInfo"].(map[string]any)["name"] != "Pizza" ||
		created["applicationInfo"].(map[string]any)["subscriptionCount"].(float64) != 1 {
		t.Fatalf("created: %v", created)
	}
	r = e.mustStatus(sub(map[string]any{"applicationId": app, "apiId": pub, "throttlingPolicy": "Gold"}), 409)
	if r.code(t) != codeSubExists {
		t.Fatalf("dup: %s", r.body)
	}
	byApp := e.mustStatus(e.do("GET", DevportalBase+"/subscriptions?applicationId="+app, e.admin, nil), 200).json(t)
	byAPI := e.mustStatus(e.do("GET", DevportalBase+"/subscriptions?apiId="+pub, e.admin, nil), 200).json(t)
	if byApp["count"].(float64) != 1 || byAPI["count"].(float64) != 1 || list(t, byApp)[0]["subscriptionId"] != sid {
		t.Fatalf("lists: %v %v", byApp, byAPI)
	}
	// Tier change through requestedThrottlingPolicy.
	upd := e.mustStatus(e.do("PUT", DevportalBase+"/subscriptions/"+sid, e.admin, map[string]any{
		"applicationId": app, "apiId": pub, "throttlingPolicy": "Gold", "requestedThrottlingPolicy": "Unlimited"}), 200).json(t)
	if upd["throttlingPolicy"] != "Unlimited" {
		t.Fatalf("update: %v", upd)
	}
	// Publisher view: no apiId, applicationInfo + subscriptionStatus.
	ps := e.mustStatus(e.do("GET", PublisherBase+"/subscriptions?apiId="+pub, e.admin, nil), 200).json(t)
	it := list(t, ps)[0]
	if _, has := it["apiId"]; has || it["subscriptionStatus"] != "UNBLOCKED" || it["applicationInfo"].(map[string]any)["subscriber"] != "admin" {
		t.Fatalf("publisher: %v", ps)
	}
	// Multiple → 200 array.
	other := e.createApp(e.admin, "S2")
	mr := e.mustStatus(e.do("POST", DevportalBase+"/subscriptions/multiple", e.admin, []map[string]any{
		{"applicationId": other, "apiId": pub, "throttlingPolicy": "Unlimited"}}), 200)
	if !strings.HasPrefix(strings.TrimSpace(string(mr.body)), "[") {
		t.Fatalf("multiple: %s", mr.body)
	}
	e.mustStatus(e.do("DELETE", DevportalBase+"/subscriptions/"+sid, e.admin, nil), 200)
	r = e.mustStatus(e.do("GET", DevportalBase+"/subscriptions/"+sid, e.admin, nil), 404)
	if r.code(t) != codeSubNotFound {
		t.Fatalf("404: %s", r.body)
	}
}

func TestWorkflowMode(t *testing.T) {
	e := newEnv(t)
	e.knobs.SetWorkflow(true)
	e.createKM(is7KM("WSO2IS"))
	api, _ := e.s.AddAPI(APISeed{Name: "Pizza", Version: "1.0.0", Context: "/pizza"})
	app := e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin,
		map[string]any{"name": "W", "throttlingPolicy": "Unlimited"}), 201).json(t)
	id := app["applicationId"].(string)
	if app["status"] != "CREATED" {
		t.Fatalf("app status %v", app["status"])
	}
	sub := e.mustStatus(e.do("POST", DevportalBase+"/subscriptions", e.admin,
		map[string]any{"applicationId": id, "apiId": api, "throttlingPolicy": "Unlimited"}), 201).json(t)
	if sub["status"] != "ON_HOLD" {
		t.Fatalf("sub status %v", sub["status"])
	}
	k := e.mustStatus(e.do("POST", DevportalBase+"/applications/"+id+"/generate-keys", e.admin, map[string]any{
		"keyType": "PRODUCTION", "keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}}), 200).json(t)
	if _, has := k["consumerKey"]; has || k["keyState"] != "CREATED" || e.reg.count() != 0 {
		t.Fatalf("pending keys: %v", k)
	}
	d := e.mustStatus(e.do("DELETE", DevportalBase+"/subscriptions/"+sub["subscriptionId"].(string), e.admin, nil), 202).json(t)
	if d["workflowStatus"] != "CREATED" {
		t.Fatalf("202 body: %v", d)
	}
	e.mustStatus(e.do("DELETE", DevportalBase+"/subscriptions/"+sub["subscriptionId"].(string), e.admin, nil), 409)
	p := e.s.Pending()
	if p.Applications != 1 || p.SubscriptionDeletes != 1 || p.KeyGenerations != 1 {
		t.Fatalf("pending: %+v", p)
	}
	n := e.s.ApproveWorkflows(t.Context())
	if n.Applications != 1 || n.SubscriptionDeletes != 1 || n.KeyGenerations != 1 || e.reg.count() != 1 {
		t.Fatalf("approved: %+v (IS clients %d)", n, e.reg.count())
	}
	got := e.mustStatus(e.do("GET", DevportalBase+"/applications/"+id, e.admin, nil), 200).json(t)
	if got["status"] != "APPROVED" {
		t.Fatalf("after approval: %v", got["status"])
	}
	d = e.mustStatus(e.do("DELETE", DevportalBase+"/applications/"+id, e.admin, nil), 202).json(t)
	if d["workflowStatus"] != "CREATED" {
		t.Fatalf("app delete: %v", d)
	}
	e.mustStatus(e.do("GET", DevportalBase+"/applications/"+id, e.admin, nil), 200)
}

// TestSearchLag: the search index lags in time behind API creation; by
// id an API is readable at once; applications are listed at once.
func TestSearchLag(t *testing.T) {
	e := newEnv(t)
	e.knobs.SetSearchLag(5 * time.Second)
	api, _ := e.s.AddAPI(APISeed{Name: "Lagging", Version: "1.0.0", Context: "/lag"})
	app := e.createApp(e.admin, "LagApp")
	has := func(path, key, id string) bool {
		m := e.mustStatus(e.do("GET", path, e.admin, nil), 200).json(t)
		for _, it := range list(t, m) {
			if it[key] == id {
				return true
			}
		}
		return false
	}
	e.mustStatus(e.do("GET", DevportalBase+"/apis/"+api, "", nil), 200)
	if !has(DevportalBase+"/applications", "applicationId", app) {
		t.Fatal("a new application is not listed at once (applications have no index lag)")
	}
	for _, path := range []string{DevportalBase + "/apis", PublisherBase + "/apis", PublisherBase + "/search?query=name:Lagging"} {
		if has(path, "id", api) {
			t.Fatalf("%s lists the API before the index caught up", path)
		}
	}
	e.clock.Advance(4 * time.Second)
	if has(DevportalBase+"/apis", "id", api) {
		t.Fatal("listed before the lag ran out")
	}
	e.clock.Advance(time.Second)
	for _, path := range []string{DevportalBase + "/apis?query=name:lagg", PublisherBase + "/apis", PublisherBase + "/search?query=name:Lagging"} {
		if !has(path, "id", api) {
			t.Fatalf("%s: not listed after the lag", path)
		}
	}
}

func TestAPISearch(t *testing.T) {
	e := newEnv(t)
	for _, a := range []APISeed{
		{Name: "pizza1", Version: "1.0.0", Context: "/p1"},
		{Name: "pizza12", Version: "1.0.0", Context: "/p12"},
		{Name: "Proto", Version: "1.0.0", Context: "/proto", LifeCycleStatus: "PROTOTYPED"},
		{Name: "Hidden", Version: "1.0.0", Context: "/h", LifeCycleStatus: "CREATED"},
	} {
		if _, err := e.s.AddAPI(a); err != nil {
			t.Fatal(err)
		}
	}
	count := func(base, q, tok string) float64 {
		return e.mustStatus(e.do("GET", base+"/apis?query="+url.QueryEscape(q), tok, nil), 200).json(t)["count"].(float64)
	}
	cases := []struct {
		base, q, tok string
		want         float64
	}{
		{DevportalBase, "", "", 2},
		{DevportalBase, "name:pizza1", "", 2},
		{DevportalBase, `name:"pizza1"`, "", 1},
		{DevportalBase, "status:PROTOTYPED", "", 1},
		{DevportalBase, "hidden", "", 0},
		{PublisherBase, "", e.admin, 4},
		{PublisherBase, "status:CREATED", e.admin, 1},
	}
	for _, tc := range cases {
		if got := count(tc.base, tc.q, tc.tok); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.base, tc.q, got, tc.want)
		}
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	api, _ := e.s.AddAPI(APISeed{Name: "C", Version: "1", Context: "/c"})
	var wg sync.WaitGroup
	const workers, per = 8, 15
	errs := make(chan string, workers*per*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				r := e.do("POST", DevportalBase+"/applications", e.admin,
					map[string]any{"name": fmt.Sprintf("c-%d-%d", w, i), "throttlingPolicy": "Unlimited"})
				if r.status != 201 {
					errs <- string(r.body)
					continue
				}
				id := r.json(t)["applicationId"].(string)
				if s := e.do("POST", DevportalBase+"/subscriptions", e.admin,
					map[string]any{"applicationId": id, "apiId": api, "throttlingPolicy": "Unlimited"}); s.status != 201 {
					errs <- string(s.body)
				}
				_ = e.do("GET", DevportalBase+"/applications?limit=5", e.admin, nil)
			}
		}()
	}
	// Racing duplicates: exactly one wins.
	var dupOK sync.Map
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("POST", DevportalBase+"/applications", e.admin, map[string]any{"name": "Same", "throttlingPolicy": "Unlimited"})
			dupOK.Store(i, r.status)
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	wins := 0
	dupOK.Range(func(_, v any) bool {
		if v.(int) == 201 {
			wins++
		}
		return true
	})
	st := e.s.Dump()
	if wins != 1 || len(st.Applications) != workers*per+2 || len(st.Subscriptions) != workers*per {
		t.Fatalf("wins %d apps %d subs %d", wins, len(st.Applications), len(st.Subscriptions))
	}
}
