package is

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const rolesPath = "/scim2/v2/Roles"

func roleBody(name string, extra map[string]any) map[string]any {
	m := map[string]any{"schemas": []string{schemaRole}, "displayName": name}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func userRoleNames(t *testing.T, e *env, uid string) []string {
	t.Helper()
	r := e.do("GET", users+"/"+uid, nil, admin)
	e.want(r, 200)
	var out []string
	for _, x := range list(r.json(t)["roles"]) {
		out = append(out, str(x.(map[string]any)["display"]))
	}
	return out
}

func TestRolesV2(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.AddAPIResource(APIResourceSeed{Name: "Ledger", Identifier: "https://ledger.example/api",
		Scopes: []APIResourceScopeSeed{{Name: "ledger:read", DisplayName: "Read ledger"}}}); err != nil {
		t.Fatal(err)
	}
	alice, _ := e.s.AddUser(UserSeed{UserName: "alice"})
	bob, _ := e.s.AddUser(UserSeed{UserName: "bob"})

	r := e.do("POST", rolesPath, roleBody("ledger-reader", map[string]any{
		"users":       []any{map[string]any{"value": alice}},
		"permissions": []any{map[string]any{"value": "ledger:read"}, map[string]any{"value": "internal_login"}},
	}), admin)
	e.want(r, 201)
	role := r.json(t)
	rid := str(role["id"])
	aud := role["audience"].(map[string]any)
	if aud["type"] != "organization" || aud["value"] != superOrgID || aud["display"] != "carbon.super" {
		t.Errorf("default audience: %v", aud)
	}
	if r.header.Get("Location") == "" || role["meta"].(map[string]any)["resourceType"] != "Role" {
		t.Errorf("location/meta: %v", role["meta"])
	}
	perms := list(role["permissions"])
	if len(perms) != 2 || perms[0].(map[string]any)["display"] != "Read ledger" {
		t.Errorf("permissions: %v", perms)
	}
	if got := strings.Join(userRoleNames(t, e, alice), ","); got != "everyone,ledger-reader" {
		t.Errorf("alice roles: %s", got)
	}

	// Duplicate in the same audience → 409; in another audience → fine.
	d := e.do("POST", rolesPath, roleBody("Ledger-Reader", nil), admin)
	e.want(d, 409)
	if m := d.json(t); m["status"] != "409" || !strings.Contains(str(m["detail"]), "already exists") {
		t.Errorf("409: %v", m)
	}
	app := e.register(map[string]any{"client_name": "ledger-ui", "grant_types": []string{"client_credentials"}, "ext_allowed_audience": "application"})
	appID, _ := e.s.ClientApplicationID(str(app["client_id"]))
	r = e.do("POST", rolesPath, roleBody("ledger-reader", map[string]any{"audience": map[string]any{"type": "application", "value": appID}}), admin)
	e.want(r, 201)
	appRole := r.json(t)
	if a := appRole["audience"].(map[string]any); a["type"] != "application" || a["display"] != "ledger-ui" {
		t.Errorf("app audience: %v", a)
	}
	e.want(e.do("POST", rolesPath, roleBody("ledger-reader", map[string]any{"audience": map[string]any{"type": "application", "value": appID}}), admin), 409)
	orgApp := e.register(map[string]any{"client_name": "org-aud", "grant_types": []string{"client_credentials"}})
	orgAppID, _ := e.s.ClientApplicationID(str(orgApp["client_id"]))
	e.want(e.do("POST", rolesPath, roleBody("x", map[string]any{"audience": map[string]any{"type": "application", "value": orgAppID}}), admin), 400)
	e.want(e.do("POST", rolesPath, roleBody("x", map[string]any{"audience": map[string]any{"type": "application", "value": "missing"}}), admin), 400)
	e.want(e.do("POST", rolesPath, roleBody("bad-perm", map[string]any{"permissions": []any{map[string]any{"value": "nope:scope"}}}), admin), 400)
	e.want(e.do("POST", rolesPath, roleBody("bad-user", map[string]any{"users": []any{map[string]any{"value": "nope"}}}), admin), 400)

	// List with filter: both audiences match by name; match audience client-side.
	lr := e.do("GET", rolesPath+"?filter="+url.QueryEscape("displayName eq ledger-reader"), nil, admin)
	e.want(lr, 200)
	lm := lr.json(t)
	if lm["totalResults"] != float64(2) || len(list(lm["Resources"])) != 2 {
		t.Errorf("filter: %s", lr.body)
	}
	if _, ok := list(lm["Resources"])[0].(map[string]any)["permissions"]; ok {
		t.Errorf("list items should not carry permissions by default")
	}
	sr := e.do("POST", rolesPath+"/.search", map[string]any{"schemas": []string{schemaSearch}, "filter": "displayName eq ledger-reader and audience.type eq application"}, admin)
	e.want(sr, 200)
	if res := list(sr.json(t)["Resources"]); len(res) != 1 || res[0].(map[string]any)["id"] != appRole["id"] {
		t.Errorf(".search: %s", sr.body)
	}
	e.want(e.do("GET", rolesPath+"?filter="+url.QueryEscape("foo eq x"), nil, admin), 400)

	// PATCH membership.
	patch := func(ops ...map[string]any) resp {
		return e.do("PATCH", rolesPath+"/"+rid, map[string]any{"schemas": []string{schemaPatch}, "Operations": ops}, admin)
	}
	r = patch(map[string]any{"op": "add", "path": "users", "value": []any{map[string]any{"value": bob}}},
		map[string]any{"op": "remove", "path": "users[value eq " + alice + "]"})
	e.want(r, 200)
	if us := list(r.json(t)["users"]); len(us) != 1 || us[0].(map[string]any)["display"] != "bob" {
		t.Errorf("users after patch: %s", r.body)
	}
	if got := strings.Join(userRoleNames(t, e, alice), ","); got != "everyone" {
		t.Errorf("alice roles after removal: %s", got)
	}
	if got := strings.Join(userRoleNames(t, e, bob), ","); got != "everyone,ledger-reader" {
		t.Errorf("bob roles: %s", got)
	}
	r = patch(map[string]any{"op": "replace", "path": "permissions", "value": []any{map[string]any{"value": "internal_login"}}})
	e.want(r, 200)
	if ps := list(r.json(t)["permissions"]); len(ps) != 1 {
		t.Errorf("permissions replace: %v", ps)
	}
	e.want(patch(map[string]any{"op": "add", "path": "users", "value": []any{map[string]any{"value": "ghost"}}}), 400)
	e.want(patch(map[string]any{"op": "replace", "path": "displayName", "value": "ledger-reader"}), 200)

	// PUT replaces users and permissions.
	r = e.do("PUT", rolesPath+"/"+rid, map[string]any{"displayName": "ledger-reader2", "users": []any{map[string]any{"value": alice}}}, admin)
	e.want(r, 200)
	pm := r.json(t)
	if pm["displayName"] != "ledger-reader2" || len(list(pm["users"])) != 1 || pm["permissions"] != nil {
		t.Errorf("PUT: %s", r.body)
	}

	// System roles cannot be deleted; others can, and membership goes.
	lr = e.do("GET", rolesPath+"?filter="+url.QueryEscape("displayName eq admin"), nil, admin)
	adminRole := list(lr.json(t)["Resources"])[0].(map[string]any)
	e.want(e.do("DELETE", rolesPath+"/"+str(adminRole["id"]), nil, admin), 400)
	e.want(e.do("DELETE", rolesPath+"/"+rid, nil, admin), 204)
	e.want(e.do("GET", rolesPath+"/"+rid, nil, admin), 404)
	if got := strings.Join(userRoleNames(t, e, alice), ","); got != "everyone" {
		t.Errorf("alice roles after delete: %s", got)
	}
	// Deleting the application removes its application roles.
	e.want(e.do("DELETE", dcr+"/"+str(app["client_id"]), nil, admin), 204)
	e.want(e.do("GET", rolesPath+"/"+str(appRole["id"]), nil, admin), 404)
}

func TestRolesSeedAndPaging(t *testing.T) {
	e := newEnv(t)
	uid, _ := e.s.AddUser(UserSeed{UserName: "svc"})
	for i := 0; i < 12; i++ {
		if _, err := e.s.AddRole(RoleSeed{DisplayName: fmt.Sprintf("role-%02d", i), UserIDs: []string{uid}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.AddRole(RoleSeed{DisplayName: "role-00"}); err == nil {
		t.Errorf("duplicate AddRole accepted")
	}
	r := e.do("GET", rolesPath+"?startIndex=3&count=5", nil, admin)
	m := r.json(t)
	// admin, everyone, role-00..role-11 = 14 roles.
	if m["totalResults"] != float64(14) || len(list(m["Resources"])) != 5 ||
		list(m["Resources"])[0].(map[string]any)["displayName"] != "role-00" {
		t.Errorf("paging: %s", r.body)
	}
	if n := len(userRoleNames(t, e, uid)); n != 13 {
		t.Errorf("seeded memberships: %d", n)
	}
}
