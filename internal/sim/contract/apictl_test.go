package contract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/apim"
)

// WSO2's own CLI, apictl (wso2/product-apim-tooling, import-export-cli),
// against the simulator served over TLS as `wso2sync sim --tls` serves it.
// apictl is not available as a Go module (the module proxy refuses
// github.com/wso2/product-apim-tooling/import-export-cli), so these tests
// replay its exact requests — paths, query strings, bodies and headers — as
// its source builds them; each step cites the file. Every exchange is
// validated against the official specs like any other client's.

// apictlEnv is what `apictl add env` stores: with only --apim given, every
// endpoint is the APIM URL plus a fixed suffix
// (import-export-cli/utils/constants.go: defaultApiListEndpointSuffix,
// defaultUnifiedSearchEndpointSuffix, defaultAdminApplicationListEndpointSuffix,
// defaultDevPortalApplicationListEndpointSuffix,
// defaultDevPortalThrottlingPoliciesEndpointSuffix,
// defaultClientRegistrationEndpointSuffix, defaultTokenEndPoint;
// utils/envUtils.go: Get…EndpointOfEnv). `add env` itself makes no call.
type apictlEnv struct {
	registration, token, apis, search, adminApps, adminBase, devApps, devPolicies string
}

func apictlAddEnv(apimURL string) apictlEnv {
	b := strings.TrimSuffix(apimURL, "/") + "/"
	return apictlEnv{
		registration: b + "client-registration/v0.17/register",
		token:        b + "oauth2/token",
		apis:         b + "api/am/publisher/v4/apis",
		search:       b + "api/am/publisher/v4/search",
		adminApps:    b + "api/am/admin/v4/applications",
		adminBase:    b + "api/am/admin/v4",
		devApps:      b + "api/am/devportal/v3/applications",
		devPolicies:  b + "api/am/devportal/v3/throttling-policies",
	}
}

// apictlScopes is the scope list of every apictl token
// (utils/tokenManagement.go GetOAuthTokens), '+'-joined in the form body.
const apictlScopes = "apim:app_import_export+apim:api_import_export+apim:api_product_import_export+apim:app_manage+" +
	"apim:sub_manage+apim:api_view+apim:api_delete+apim:app_owner_change+apim:subscribe+apim:api_publish+" +
	"apim:admin+apim:policies_import_export"

// apictlLogin is `apictl login ENV -u admin -p admin` (cmd/login.go runLogin
// → utils.GetClientIDSecret): a DCR v0.17 registration with the CLI's own
// body, including tokenScope, which the server must accept.
func apictlLogin(t *testing.T, e *env, ae apictlEnv) (id, secret string) {
	t.Helper()
	body := `{"clientName": "rest_api_import_export_admin",
		"callbackUrl": "www.google.lk",
		"grantType":"password refresh_token",
		"saasApp": true,
		"owner": "admin",
		"tokenScope": "Production"
	}`
	m := e.do("POST", ae.registration, body, "Content-Type", "application/json",
		"Authorization", basic("admin", "admin")).want(t, 200, 201).obj(t)
	id, secret = str(m["clientId"]), str(m["clientSecret"])
	if id == "" || secret == "" {
		t.Fatalf("apictl login: no client credentials in %v", m)
	}
	return id, secret
}

// apictlToken is what every apictl command does first
// (credentials/credentials.go GetOAuthAccessToken → GetOAuthTokens).
func apictlToken(t *testing.T, e *env, ae apictlEnv, id, secret string) string {
	t.Helper()
	body := "grant_type=password&username=admin&password=" + url.QueryEscape("admin") + "&scope=" + apictlScopes
	m := e.do("POST", ae.token, body, "Content-Type", "application/x-www-form-urlencoded",
		"Authorization", basic(id, secret), "Accept", "application/json").want(t, 200).obj(t)
	tok := str(m["access_token"])
	if tok == "" {
		t.Fatalf("apictl token: %v", m)
	}
	return tok
}

func startApictl(t *testing.T) (*env, apictlEnv, string) {
	t.Helper()
	e := newEnv(t, sim.Options{TLS: true, Seed: sim.DefaultEstate()})
	if !strings.HasPrefix(e.s.APIMURL(), "https://") {
		t.Fatalf("simulator not on TLS: %s", e.s.APIMURL())
	}
	ae := apictlAddEnv(e.s.APIMURL())
	id, secret := apictlLogin(t, e, ae)
	return e, ae, apictlToken(t, e, ae, id, secret)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// TestApictlGetApis is `apictl get apis -e ENV` (impl/getApis.go
// GetAPIList: the Publisher list with ?limit=25, utils.DefaultApisDisplayLimit)
// and `-q name:Forex`.
func TestApictlGetApis(t *testing.T) {
	e, ae, tok := startApictl(t)
	m := e.do("GET", ae.apis+"?limit=25", nil, bearer(tok)...).want(t, 200).obj(t)
	if n := len(list(m, "list")); n != 6 {
		t.Fatalf("get apis: %d APIs, want the 6 seeded", n)
	}
	m = e.do("GET", ae.apis+"?query=name:Forex&limit=25", nil, bearer(tok)...).want(t, 200).obj(t)
	if l := list(m, "list"); len(l) != 1 || str(l[0]["name"]) != "ForexAPI" {
		t.Fatalf("get apis -q name:Forex: %v", l)
	}
}

// TestApictlGetApps is `apictl get apps -e ENV [-o OWNER]`
// (impl/getApps.go GetApplicationList: the Admin list with ?limit=25, and
// the user query parameter added by resty when -o is given).
func TestApictlGetApps(t *testing.T) {
	e, ae, tok := startApictl(t)
	if err := e.s.APIM().AddUser("alice", "alice-pass", "Internal/subscriber"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.APIM().AddApplication("alice", apim.ApplicationSeed{Name: "alice-app", ThrottlingPolicy: "Unlimited"}); err != nil {
		t.Fatal(err)
	}
	all := list(e.do("GET", ae.adminApps+"?limit=25", nil, bearer(tok)...).want(t, 200).obj(t), "list")
	if find(all, "name", "alice-app") == nil || find(all, "name", "DefaultApplication") == nil {
		t.Fatalf("get apps: every tenant application expected, got %v", all)
	}
	mine := list(e.do("GET", ae.adminApps+"?limit=25&user=alice", nil, bearer(tok)...).want(t, 200).obj(t), "list")
	if len(mine) != 1 || str(mine[0]["owner"]) != "alice" || str(mine[0]["applicationId"]) == "" {
		t.Fatalf("get apps -o alice: %v", mine)
	}
	// Paging as the Admin spec declares it.
	pg := e.do("GET", ae.adminApps+"?limit=1&offset=1", nil, bearer(tok)...).want(t, 200).obj(t)
	if len(list(pg, "list")) != 1 || pg["count"] != float64(1) {
		t.Fatalf("limit=1&offset=1: %v", pg)
	}
	e.do("GET", ae.adminApps+"?limit=x", nil, bearer(tok)...).want(t, 400)
	// A token without an admin scope is refused.
	e.do("GET", ae.adminApps, nil, "Authorization", "Bearer "+e.token()).want(t, 200) // apim:admin
}

// TestApictlGetPoliciesRateLimiting is `apictl get policies rate-limiting
// -e ENV [-q type:…]` (impl/getThrottlePolicies.go GetThrottlePolicyList):
// the query string is "query=" + the joined -q values, or the literal
// "null" without -q, which real APIM refuses as "Invalid query format"
// with a generic 500 (ThrottlingApiServiceImpl.throttlingPolicySearch) — the CLI prints
// the body; with -q type:… it lists.
func TestApictlGetPoliciesRateLimiting(t *testing.T) {
	e, ae, tok := startApictl(t)
	r := e.do("GET", ae.adminBase+"/throttling/policies/search?query=null", nil, bearer(tok)...).want(t, 500)
	if r.Header.Get("X-Sim-Cause") != "Invalid query format" {
		t.Fatalf("query=null: %s", r.Body)
	}
	m := e.do("GET", ae.adminBase+"/throttling/policies/search?query=type:sub", nil, bearer(tok)...).want(t, 200).obj(t)
	if find(list(m, "list"), "policyName", "Gold") == nil {
		t.Fatalf("type:sub lists no Gold: %v", m)
	}
}

// TestApictlGetKeys is `apictl get keys -e ENV -n ForexAPI -v 1.0.0`, run
// twice (impl/getKeys.go GetKeys): the first run creates
// default-apictl-app, subscribes, generates Resident-KM keys and gets a
// client_credentials token; the second finds the app, its subscription and
// its keys (the deprecated /keys resource) and gets a token again.
func TestApictlGetKeys(t *testing.T) {
	e, ae, tok := startApictl(t)
	h := bearer(tok)
	search := func() string {
		// getApiOrApiProductByType: name and version quoted; then the same
		// with type:"APIProduct" and type:"MCP" if nothing is found.
		q := url.Values{"query": {`name:"ForexAPI" version:"1.0.0"`}}
		l := list(e.do("GET", ae.search+"?"+q.Encode(), nil, h...).want(t, 200).obj(t), "list")
		if len(l) != 1 {
			t.Fatalf("search: %v", l)
		}
		q = url.Values{"query": {`name:"ForexAPI" version:"1.0.0" type:"APIProduct"`}}
		if n := len(list(e.do("GET", ae.search+"?"+q.Encode(), nil, h...).want(t, 200).obj(t), "list")); n != 0 {
			t.Fatalf("an API product search found %d", n)
		}
		return str(l[0]["id"])
	}
	run := func(first bool) {
		apiID := search()
		api := e.do("GET", ae.apis+"/"+apiID, nil, h...).want(t, 200).obj(t) // getApiOrProduct
		tiers, _ := api["policies"].([]any)
		if len(tiers) == 0 {
			t.Fatalf("API has no subscription tiers: %v", api)
		}
		appTier := str(list(e.do("GET", ae.devPolicies+"/application", nil, h...).want(t, 200).obj(t), "list")[0]["name"])
		found := list(e.do("GET", ae.devApps+"?query=default-apictl-app", nil, h...).want(t, 200).obj(t), "list")
		var appID string
		if first {
			if len(found) != 0 {
				t.Fatalf("default-apictl-app exists before the first run: %v", found)
			}
			// createApplication: utils.AppCreateRequest with the config's token type.
			app := e.do("POST", ae.devApps, `{"name":"default-apictl-app","throttlingPolicy":"`+appTier+
				`","description":"Default application for apictl testing purposes","tokenType":"JWT"}`,
				append(h, "Content-Type", "application/json")...).want(t, 201).obj(t)
			appID = str(app["applicationId"])
		} else {
			if len(found) != 1 {
				t.Fatalf("second run: default-apictl-app not found: %v", found)
			}
			appID = str(found[0]["applicationId"])
		}
		// subscribe → subscribeApiOrProduct: search again, list by apiId,
		// subscribe unless this app already is.
		apiID = search()
		subs := list(e.do("GET", strings.Replace(ae.devApps, "applications", "subscriptions", 1)+"?apiId="+apiID, nil, h...).
			want(t, 200).obj(t), "list")
		if find(subs, "applicationId", appID) == nil {
			if !first {
				t.Fatal("second run: the subscription is gone")
			}
			e.do("POST", strings.Replace(ae.devApps, "applications", "subscriptions", 1),
				`{"apiId":"`+apiID+`","applicationId":"`+appID+`","throttlingPolicy":"`+str(tiers[0])+`"}`,
				append(h, "Content-Type", "application/json")...).want(t, 201)
		}
		e.do("GET", ae.devApps+"/"+appID, nil, h...).want(t, 200) // getScopes / getApplicationDetails
		var ck, cs string
		if first {
			// generateApplicationKeys: utils.KeygenRequest — validityTime is a JSON number.
			k := e.do("POST", ae.devApps+"/"+appID+"/generate-keys",
				`{"keyType":"PRODUCTION","grantTypesToBeSupported":["refresh_token","password","client_credentials"],"validityTime":3600}`,
				append(h, "Content-Type", "application/json")...).want(t, 200).obj(t)
			ck, cs = str(k["consumerKey"]), str(k["consumerSecret"])
		} else {
			keys := e.do("GET", ae.devApps+"/"+appID+"/keys", nil, h...).want(t, 200).obj(t)
			l := list(keys, "list")
			if len(l) != 1 {
				t.Fatalf("second run: keys %v", keys)
			}
			ck, cs = str(l[0]["consumerKey"]), str(l[0]["consumerSecret"])
		}
		// getNewToken: client_credentials with the subscribed scopes (none).
		m := e.do("POST", ae.token, "grant_type=client_credentials&scope=", "Authorization", basic(ck, cs),
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json").want(t, 200).obj(t)
		if str(m["access_token"]) == "" {
			t.Fatalf("no application token: %v", m)
		}
	}
	run(true)
	run(false)
	e.do("GET", ae.devApps+"/00000000-0000-0000-0000-000000000000/keys", nil, h...).want(t, 404)
}

// TestApictlDeleteApp is `apictl delete app -e ENV -n NAME -o OWNER`
// (impl/deleteApp.go DeleteApplication → apps.go GetAppId): the Admin list
// with ?user=OWNER&name=NAME appended raw, then DELETE on the Admin
// resource — any owner's application, as an administrator.
func TestApictlDeleteApp(t *testing.T) {
	e, ae, tok := startApictl(t)
	if err := e.s.APIM().AddUser("bob", "bob-pass", "Internal/subscriber"); err != nil {
		t.Fatal(err)
	}
	appID, err := e.s.APIM().AddApplication("bob", apim.ApplicationSeed{Name: "bob-app", ThrottlingPolicy: "Unlimited"})
	if err != nil {
		t.Fatal(err)
	}
	l := list(e.do("GET", ae.adminApps+"?user=bob&name=bob-app", nil, bearer(tok)...).want(t, 200).obj(t), "list")
	if len(l) != 1 || str(l[0]["applicationId"]) != appID {
		t.Fatalf("GetAppId: %v", l)
	}
	e.do("DELETE", ae.adminApps+"/"+appID, nil, bearer(tok)...).want(t, 200)
	e.do("DELETE", ae.adminApps+"/"+appID, nil, bearer(tok)...).want(t, 404)
	for _, a := range e.s.Dump().APIM.Applications {
		if a.ApplicationID == appID {
			t.Fatal("the application is still in the server's state")
		}
	}
	if l := list(e.do("GET", ae.adminApps+"?user=bob&name=bob-app", nil, bearer(tok)...).want(t, 200).obj(t), "list"); len(l) != 0 {
		t.Fatalf("still listed: %v", l)
	}
}

// TestAdminChangeOwner: POST /applications/{id}/change-owner?owner= moves
// an application to another user in place: same id, keys and
// subscriptions; unknown ids 404, a missing owner 400, an owner APIM does
// not know 500 (ApiMgtDAO.updateApplicationOwner).
func TestAdminChangeOwner(t *testing.T) {
	e, ae, tok := startApictl(t)
	if err := e.s.APIM().AddUser("carol", "carol-pass", "Internal/subscriber"); err != nil {
		t.Fatal(err)
	}
	app := e.apim("POST", dp+"/applications", map[string]any{"name": "handover", "throttlingPolicy": "Unlimited"}).
		want(t, 201).obj(t)
	id := str(app["applicationId"])
	e.apim("POST", dp+"/applications/"+id+"/generate-keys", map[string]any{"keyType": "PRODUCTION",
		"grantTypesToBeSupported": []string{"client_credentials"}}).want(t, 200)
	e.do("POST", ae.adminApps+"/"+id+"/change-owner?owner=carol", nil, bearer(tok)...).want(t, 200)
	e.do("POST", ae.adminApps+"/"+id+"/change-owner", nil, bearer(tok)...).want(t, 400)
	e.do("POST", ae.adminApps+"/00000000-0000-0000-0000-000000000000/change-owner?owner=carol", nil, bearer(tok)...).want(t, 404)
	e.do("POST", ae.adminApps+"/"+id+"/change-owner?owner=nobody", nil, bearer(tok)...).want(t, 500)
	got := list(e.do("GET", ae.adminApps+"?user=carol", nil, bearer(tok)...).want(t, 200).obj(t), "list")
	if len(got) != 1 || got[0]["applicationId"] != id || got[0]["name"] != "handover" {
		t.Fatalf("after change-owner, carol's applications: %v", got)
	}
	var keys int
	st := e.s.Dump().APIM
	for _, a := range st.Applications {
		if a.ApplicationID == id && a.Owner != "carol" {
			t.Fatalf("server state: owner %q", a.Owner)
		}
	}
	for _, k := range st.KeyMappings {
		if k.ApplicationID == id {
			keys++
		}
	}
	if keys != 1 {
		t.Fatalf("keys after change-owner: %d, want 1 (kept)", keys)
	}
	// The old owner no longer has it.
	e.apim("GET", dp+"/applications/"+id, nil).want(t, 403)
}
