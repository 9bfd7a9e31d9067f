package contract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

const (
	scim    = "/scim2"
	isDCR   = "/api/identity/oauth2/dcr/v1.1/register"
	apiRes  = "/api/server/v1/api-resources"
	apps    = "/api/server/v1/applications"
	unknown = "00000000-0000-0000-0000-000000000000"
)

var (
	scimUser  = []string{"urn:ietf:params:scim:schemas:core:2.0:User"}
	scimGroup = []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}
	scimRole  = []string{"urn:ietf:params:scim:schemas:extension:2.0:Role"}
	patchOp   = []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}
	searchReq = []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}
)

func TestISUsers(t *testing.T) {
	e := newEnv(t, sim.Options{})
	alice := map[string]any{"schemas": scimUser, "userName": "alice", "password": "S3cret!pass",
		"name":   map[string]any{"givenName": "Alice", "familyName": "Doe"},
		"emails": []any{map[string]any{"value": "alice@example.com", "primary": true}}}
	u := e.is("POST", scim+"/Users", alice).want(t, 201).obj(t)
	id := str(u["id"])
	if id == "" || u["userName"] != "alice" || u["password"] != nil {
		t.Fatalf("created user %v", u)
	}
	e.is("POST", scim+"/Users", alice).want(t, 409)
	e.is("POST", scim+"/Users", map[string]any{"schemas": scimUser, "userName": "weak", "password": "x"}).want(t, 400)

	e.is("GET", scim+"/Users?filter="+url.QueryEscape("userName eq alice")+"&startIndex=1&count=10", nil).want(t, 200)
	empty := e.is("GET", scim+"/Users?filter="+url.QueryEscape("userName eq nobody"), nil).want(t, 200).obj(t)
	if empty["totalResults"] != float64(0) {
		t.Fatalf("empty search %v", empty)
	}
	e.is("GET", scim+"/Users?filter="+url.QueryEscape("userName xx alice"), nil).want(t, 400)
	e.do("GET", e.s.ISURL()+scim+"/Users", nil).want(t, 401)
	e.is("POST", scim+"/Users/.search", map[string]any{"schemas": searchReq, "filter": "userName sw ali",
		"startIndex": 1, "count": 5}).want(t, 200)
	e.is("POST", scim+"/Users/.search", map[string]any{"schemas": searchReq, "filter": "nonsense ("}).want(t, 400)

	e.is("GET", scim+"/Users/"+id, nil).want(t, 200)
	e.is("GET", scim+"/Users/"+unknown, nil).want(t, 404)
	put := map[string]any{"schemas": scimUser, "userName": "alice",
		"name": map[string]any{"givenName": "Alicia", "familyName": "Doe"}}
	if got := e.is("PUT", scim+"/Users/"+id, put).want(t, 200).obj(t); got["name"].(map[string]any)["givenName"] != "Alicia" {
		t.Fatalf("PUT user %v", got)
	}
	e.is("PUT", scim+"/Users/"+unknown, put).want(t, 404)
	patch := map[string]any{"schemas": patchOp, "Operations": []any{
		map[string]any{"op": "replace", "path": "name.givenName", "value": "Al"}}}
	e.is("PATCH", scim+"/Users/"+id, patch).want(t, 200)
	e.is("PATCH", scim+"/Users/"+unknown, patch).want(t, 404)

	// /Me for the user herself.
	me := e.do("GET", e.s.ISURL()+scim+"/Me", nil, "Authorization", basic("alice", "S3cret!pass")).want(t, 200).obj(t)
	if me["userName"] != "alice" {
		t.Fatalf("/Me %v", me)
	}
	e.do("GET", e.s.ISURL()+scim+"/Me", nil).want(t, 401)

	e.is("DELETE", scim+"/Users/"+id, nil).want(t, 204)
	e.is("DELETE", scim+"/Users/"+id, nil).want(t, 404)
}

func TestISGroupsAndRoles(t *testing.T) {
	e := newEnv(t, sim.Options{})
	uid := str(e.is("POST", scim+"/Users", map[string]any{"schemas": scimUser, "userName": "bob",
		"password": "B0b!password"}).want(t, 201).obj(t)["id"])

	g := e.is("POST", scim+"/Groups", map[string]any{"schemas": scimGroup, "displayName": "ledger-team",
		"members": []any{map[string]any{"value": uid, "display": "bob"}}}).want(t, 201).obj(t)
	gid := str(g["id"])
	e.is("POST", scim+"/Groups", map[string]any{"schemas": scimGroup, "displayName": "ledger-team"}).want(t, 409)
	e.is("GET", scim+"/Groups?filter="+url.QueryEscape("displayName eq ledger-team"), nil).want(t, 200)
	e.do("GET", e.s.ISURL()+scim+"/Groups", nil).want(t, 401)
	e.is("POST", scim+"/Groups/.search", map[string]any{"schemas": searchReq, "filter": "displayName sw ledger"}).want(t, 200)
	e.is("POST", scim+"/Groups/.search", map[string]any{"schemas": searchReq, "filter": "displayName"}).want(t, 400)
	e.is("GET", scim+"/Groups/"+gid, nil).want(t, 200)
	e.is("GET", scim+"/Groups/"+unknown, nil).want(t, 404)
	gput := map[string]any{"schemas": scimGroup, "displayName": "ledger-team", "members": []any{}}
	e.is("PUT", scim+"/Groups/"+gid, gput).want(t, 200)
	e.is("PUT", scim+"/Groups/"+unknown, gput).want(t, 404)
	gpatch := map[string]any{"schemas": patchOp, "Operations": []any{
		map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uid}}}}}
	e.is("PATCH", scim+"/Groups/"+gid, gpatch).want(t, 200)
	e.is("PATCH", scim+"/Groups/"+unknown, gpatch).want(t, 404)

	role := map[string]any{"schemas": scimRole, "displayName": "ledger-reader",
		"users": []any{map[string]any{"value": uid}}, "groups": []any{map[string]any{"value": gid}},
		"permissions": []any{map[string]any{"value": "internal_login"}}}
	r := e.is("POST", scim+"/v2/Roles", role).want(t, 201).obj(t)
	rid := str(r["id"])
	if aud, _ := r["audience"].(map[string]any); aud == nil || aud["type"] != "organization" {
		t.Fatalf("role audience %v", r["audience"])
	}
	e.is("POST", scim+"/v2/Roles", role).want(t, 409)
	e.is("GET", scim+"/v2/Roles?filter="+url.QueryEscape("displayName eq ledger-reader"), nil).want(t, 200)
	e.do("GET", e.s.ISURL()+scim+"/v2/Roles", nil).want(t, 401)
	e.is("POST", scim+"/v2/Roles/.search", map[string]any{"schemas": searchReq, "filter": "displayName eq ledger-reader"}).want(t, 200)
	e.is("POST", scim+"/v2/Roles/.search", map[string]any{"schemas": searchReq, "filter": "displayName zz x"}).want(t, 400)
	e.is("GET", scim+"/v2/Roles/"+rid, nil).want(t, 200)
	e.is("GET", scim+"/v2/Roles/"+unknown, nil).want(t, 404)
	rput := map[string]any{"displayName": "ledger-reader", "users": []any{}, "groups": []any{},
		"permissions": []any{map[string]any{"value": "internal_login"}}}
	e.is("PUT", scim+"/v2/Roles/"+rid, rput).want(t, 200)
	e.is("PUT", scim+"/v2/Roles/"+unknown, rput).want(t, 404)
	rpatch := map[string]any{"schemas": patchOp, "Operations": []any{
		map[string]any{"op": "add", "path": "users", "value": []any{map[string]any{"value": uid}}}}}
	e.is("PATCH", scim+"/v2/Roles/"+rid, rpatch).want(t, 200)
	e.is("PATCH", scim+"/v2/Roles/"+unknown, rpatch).want(t, 404)

	e.is("DELETE", scim+"/v2/Roles/"+rid, nil).want(t, 204)
	e.is("DELETE", scim+"/v2/Roles/"+rid, nil).want(t, 404)
	e.is("DELETE", scim+"/Groups/"+gid, nil).want(t, 204)
	e.is("DELETE", scim+"/Groups/"+gid, nil).want(t, 404)
}

func TestISDCR(t *testing.T) {
	e := newEnv(t, sim.Options{})
	reg := map[string]any{"client_name": "ledger-batch", "grant_types": []string{"client_credentials", "password"},
		"redirect_uris": []string{}, "ext_param_client_id": "ledger_batch_client_01",
		"ext_param_client_secret": "ledger-batch-secret", "ext_application_display_name": "Ledger batch",
		"token_type_extension": "JWT", "ext_application_token_lifetime": 3600, "ext_pkce_mandatory": false}
	c := e.is("POST", isDCR, reg).want(t, 201).obj(t)
	if c["client_id"] != "ledger_batch_client_01" || c["client_secret"] != "ledger-batch-secret" {
		t.Fatalf("registered %v", c)
	}
	dup := e.is("POST", isDCR, reg).want(t, 400).obj(t)
	if dup["error"] != "invalid_client_metadata" {
		t.Fatalf("duplicate: %v", dup)
	}
	e.is("GET", isDCR+"?client_name=ledger-batch", nil).want(t, 200)
	e.is("GET", isDCR+"?client_name=nobody", nil).want(t, 401)
	e.is("GET", isDCR+"/ledger_batch_client_01", nil).want(t, 200)
	e.is("GET", isDCR+"/no_such_client_0001", nil).want(t, 401)
	upd := map[string]any{"client_name": "ledger-batch", "grant_types": []string{"client_credentials"},
		"redirect_uris": []string{"https://a.example/cb", "https://b.example/cb"}}
	got := e.is("PUT", isDCR+"/ledger_batch_client_01", upd).want(t, 200).obj(t)
	if ru, _ := got["redirect_uris"].([]any); len(ru) != 1 || !strings.HasPrefix(str(ru[0]), "regexp=(") {
		t.Fatalf("two redirect URIs should collapse into one regexp=: %v", got["redirect_uris"])
	}
	e.is("PUT", isDCR+"/no_such_client_0001", upd).want(t, 401)
	e.is("DELETE", isDCR+"/ledger_batch_client_01", nil).want(t, 204)
	e.is("DELETE", isDCR+"/ledger_batch_client_01", nil).want(t, 401)
}

func TestISOAuth(t *testing.T) {
	e := newEnv(t, sim.Options{})
	e.is("POST", isDCR, map[string]any{"client_name": "cli", "grant_types": []string{"client_credentials",
		"password", "refresh_token"}, "ext_param_client_id": "cli_client_id_0001", "ext_param_client_secret": "cli-secret",
		"redirect_uris": []string{}}).want(t, 201)
	cb := basic("cli_client_id_0001", "cli-secret")
	tokURL := e.s.ISURL() + "/oauth2/token"

	cc := e.do("POST", tokURL, url.Values{"grant_type": {"client_credentials"}}, "Authorization", cb).want(t, 200).obj(t)
	pw := e.do("POST", tokURL, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"},
		"scope": {"openid"}}, "Authorization", cb).want(t, 200).obj(t)
	if str(pw["refresh_token"]) == "" {
		t.Fatalf("password grant without refresh token: %v", pw)
	}
	rt := e.do("POST", tokURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(pw["refresh_token"])}},
		"Authorization", cb).want(t, 200).obj(t)
	e.do("POST", tokURL, url.Values{"grant_type": {"client_credentials"}}, "Authorization", basic("cli_client_id_0001", "bad")).want(t, 401)
	e.do("POST", tokURL, url.Values{"grant_type": {"magic"}}, "Authorization", cb).want(t, 400)

	jwks := e.do("GET", e.s.ISURL()+"/oauth2/jwks", nil).want(t, 200)
	for _, tk := range []map[string]any{cc, pw, rt} {
		if _, err := verifyJWT(str(tk["access_token"]), jwks.Body); err != nil {
			t.Fatalf("token does not verify: %v", err)
		}
	}
	wk := e.do("GET", e.s.ISURL()+"/oauth2/token/.well-known/openid-configuration", nil).want(t, 200).obj(t)
	if wk["issuer"] != e.s.Issuer() || wk["jwks_uri"] == nil {
		t.Fatalf("discovery %v", wk)
	}

	intro := e.s.ISURL() + "/oauth2/introspect"
	in := e.do("POST", intro, url.Values{"token": {str(cc["access_token"])}}, "Authorization", basic("admin", "admin")).want(t, 200).obj(t)
	if in["active"] != true || in["client_id"] != "cli_client_id_0001" {
		t.Fatalf("introspect %v", in)
	}
	e.do("POST", intro, url.Values{"token": {"x"}}).want(t, 401)

	// The refresh grant replaced the password grant's access token.
	e.do("GET", e.s.ISURL()+"/oauth2/userinfo", nil, "Authorization", "Bearer "+str(rt["access_token"])).want(t, 200)
	e.do("GET", e.s.ISURL()+"/oauth2/userinfo", nil, "Authorization", "Bearer nope").want(t, 401)

	e.do("POST", e.s.ISURL()+"/oauth2/revoke", url.Values{"token": {str(cc["access_token"])}}, "Authorization", cb).want(t, 200)
	e.do("POST", e.s.ISURL()+"/oauth2/revoke", url.Values{"token": {"x"}}, "Authorization", basic("cli_client_id_0001", "bad")).want(t, 401)
	in = e.do("POST", intro, url.Values{"token": {str(cc["access_token"])}}, "Authorization", basic("admin", "admin")).want(t, 200).obj(t)
	if in["active"] != false {
		t.Fatalf("revoked token still active: %v", in)
	}

	// Token expiry: the IS rejects expired bearer tokens, fresh ones work.
	e.s.ExpireTokens()
	e.do("GET", e.s.ISURL()+"/oauth2/userinfo", nil, "Authorization", "Bearer "+str(rt["access_token"])).want(t, 401)
	pw2 := e.do("POST", tokURL, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"},
		"scope": {"openid"}},
		"Authorization", cb).want(t, 200).obj(t)
	e.do("GET", e.s.ISURL()+"/oauth2/userinfo", nil, "Authorization", "Bearer "+str(pw2["access_token"])).want(t, 200)
}

func TestISAPIResourcesAndKeystore(t *testing.T) {
	e := newEnv(t, sim.Options{})
	body := map[string]any{"name": "Ledger API", "identifier": "https://ledger.example/api",
		"description": "ledger", "requiresAuthorization": true,
		"scopes": []any{map[string]any{"name": "ledger:read", "displayName": "Read ledger"},
			map[string]any{"name": "ledger:write", "displayName": "Write ledger"}}}
	r := e.is("POST", apiRes, body).want(t, 201)
	if r.Header.Get("Location") == "" {
		t.Fatal("POST /api-resources without Location")
	}
	id := str(r.obj(t)["id"])
	e.is("POST", apiRes, body).want(t, 409)
	e.is("POST", apiRes, map[string]any{"identifier": "x"}).want(t, 400)
	e.is("GET", apiRes, nil).want(t, 200)
	e.is("GET", apiRes+"?filter="+url.QueryEscape("identifier eq https://ledger.example/api")+"&limit=5", nil).want(t, 200)
	e.do("GET", e.s.ISURL()+apiRes, nil).want(t, 401)
	e.is("GET", apiRes+"/"+id, nil).want(t, 200)
	e.is("GET", apiRes+"/"+unknown, nil).want(t, 404)
	patch := map[string]any{"name": "Ledger API v2", "addedScopes": []any{map[string]any{"name": "ledger:admin",
		"displayName": "Administer ledger"}}}
	e.is("PATCH", apiRes+"/"+id, patch).want(t, 204)
	e.is("PATCH", apiRes+"/"+unknown, patch).want(t, 404)
	e.is("GET", apiRes+"/"+id+"/scopes", nil).want(t, 200)
	e.is("GET", apiRes+"/"+unknown+"/scopes", nil).want(t, 404)
	scopes := []any{map[string]any{"name": "ledger:read", "displayName": "Read"},
		map[string]any{"name": "ledger:write", "displayName": "Write"}}
	e.is("PUT", apiRes+"/"+id+"/scopes", scopes).want(t, 204)
	e.is("PUT", apiRes+"/"+unknown+"/scopes", scopes).want(t, 404)
	e.is("DELETE", apiRes+"/"+id+"/scopes/ledger:write", nil).want(t, 204)
	// The simulator answers 204 for an unknown API resource here (see the
	// report: real IS is believed to answer 404); the declared error case
	// is the valve's 401.
	e.is("DELETE", apiRes+"/"+unknown+"/scopes/ledger:read", nil).want(t, 204, 404)
	e.do("DELETE", e.s.ISURL()+apiRes+"/"+id+"/scopes/ledger:read", nil).want(t, 401)
	e.do("DELETE", e.s.ISURL()+apiRes+"/"+id, nil).want(t, 401)
	e.is("DELETE", apiRes+"/"+id, nil).want(t, 204)
	e.is("DELETE", apiRes+"/"+id, nil).want(t, 204, 404) // the simulator is idempotent here
	e.is("GET", apiRes+"/"+id, nil).want(t, 404)

	cert := e.do("GET", e.s.ISURL()+"/api/server/v1/keystores/certs/public", nil).want(t, 200)
	if !strings.Contains(string(cert.Body), "BEGIN CERTIFICATE") {
		t.Fatalf("public certificate: %s", cert.Body)
	}
	// Tenant-qualified paths are the same operations.
	e.do("GET", e.s.ISURL()+"/t/carbon.super/api/server/v1/keystores/certs/public", nil).want(t, 200)
}

func TestISApplications(t *testing.T) {
	e := newEnv(t, sim.Options{})
	e.is("POST", isDCR, map[string]any{"client_name": "ledger-batch", "grant_types": []string{"client_credentials"},
		"redirect_uris": []string{}, "ext_param_client_id": "ledger_batch_client_01",
		"ext_param_client_secret": "ledger-batch-secret"}).want(t, 201)
	tokURL := e.s.ISURL() + "/oauth2/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	e.do("POST", tokURL, cc, "Authorization", basic("ledger_batch_client_01", "ledger-batch-secret")).want(t, 200)

	l := e.is("GET", apps+"?filter="+url.QueryEscape("clientId eq ledger_batch_client_01"), nil).want(t, 200).obj(t)
	items := list(l, "applications")
	if len(items) != 1 || items[0]["name"] != "ledger-batch" || str(items[0]["id"]) == "" {
		t.Fatalf("applications by clientId: %v", l)
	}
	id := str(items[0]["id"])
	e.is("GET", apps+"?limit=5&offset=0", nil).want(t, 200)
	e.is("GET", apps+"?filter="+url.QueryEscape("owner eq admin"), nil).want(t, 400)
	e.do("GET", e.s.ISURL()+apps, nil).want(t, 401)
	e.is("GET", apps+"/"+id, nil).want(t, 200)
	e.is("GET", apps+"/"+unknown, nil).want(t, 404)
	e.is("GET", apps+"/"+id+"/inbound-protocols/oidc", nil).want(t, 200)
	e.is("GET", apps+"/"+unknown+"/inbound-protocols/oidc", nil).want(t, 404)

	cfg := e.is("POST", apps+"/"+id+"/inbound-protocols/oidc/regenerate-secret", nil).want(t, 200).obj(t)
	secret := str(cfg["clientSecret"])
	if secret == "" || secret == "ledger-batch-secret" {
		t.Fatalf("regenerate-secret: %v", cfg)
	}
	e.is("POST", apps+"/"+unknown+"/inbound-protocols/oidc/regenerate-secret", nil).want(t, 404)
	e.do("POST", e.s.ISURL()+apps+"/"+id+"/inbound-protocols/oidc/regenerate-secret", nil).want(t, 401)
	e.do("POST", tokURL, cc, "Authorization", basic("ledger_batch_client_01", "ledger-batch-secret")).want(t, 401)
	e.do("POST", tokURL, cc, "Authorization", basic("ledger_batch_client_01", secret)).want(t, 200)
}
