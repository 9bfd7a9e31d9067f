package is

import (
	"net/http"
	"testing"
)

// TestSCIMMediaTypes: SCIM writes take application/scim+json and
// application/json (IS accepts both, WSO2-API.md §3.8) and refuse other
// media types with 415; the other REST APIs take JSON only.
func TestSCIMMediaTypes(t *testing.T) {
	e := newEnv(t)
	as := func(ct string) authFn {
		return func(r *http.Request) {
			admin(r)
			r.Header.Set("Content-Type", ct)
		}
	}
	user := func(name string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "password": "S3cret!pass"}
	}
	e.want(e.do("POST", "/scim2/Users", user("scim"), as("application/scim+json")), 201)
	e.want(e.do("POST", "/scim2/Users", user("json"), as("application/json")), 201)
	e.want(e.do("POST", "/scim2/Users", user("text"), as("text/plain")), 415)
	e.want(e.do("POST", "/api/identity/oauth2/dcr/v1.1/register", map[string]any{"client_name": "c1",
		"grant_types": []string{"client_credentials"}}, as("application/scim+json")), 415)
	list := e.do("GET", "/scim2/Users?filter=userName+eq+text", nil, admin).json(t)
	if list["totalResults"] != float64(0) {
		t.Fatalf("a refused user was created: %v", list)
	}
}

// TestDCROwnership: a user who may manage DCR clients reads, updates and
// deletes only the clients it owns; another's client answers 403 (status
// only), an unknown one 401 (§7.23); admins manage every client.
func TestDCROwnership(t *testing.T) {
	e := newEnv(t)
	perms := []string{"internal_dcr_create", "internal_dcr_view", "internal_dcr_update", "internal_dcr_delete"}
	var ids []string
	for _, name := range []string{"dev1", "dev2"} {
		id, err := e.s.AddUser(UserSeed{UserName: name, Password: "S3cret!pass"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := e.s.AddRole(RoleSeed{DisplayName: "dcr-managers", Permissions: perms, UserIDs: ids}); err != nil {
		t.Fatal(err)
	}
	dev1, dev2 := basic("dev1", "S3cret!pass"), basic("dev2", "S3cret!pass")
	r := e.do("POST", "/api/identity/oauth2/dcr/v1.1/register", map[string]any{"client_name": "dev1-app",
		"grant_types": []string{"client_credentials"}}, dev1)
	e.want(r, 201)
	id := r.json(t)["client_id"].(string)
	path := "/api/identity/oauth2/dcr/v1.1/register/" + id
	e.want(e.do("GET", path, nil, dev1), 200)
	e.want(e.do("GET", path, nil, dev2), 403)
	e.want(e.do("PUT", path, map[string]any{"client_name": "dev1-app", "grant_types": []string{"password"}}, dev2), 403)
	e.want(e.do("DELETE", path, nil, dev2), 403)
	e.want(e.do("GET", "/api/identity/oauth2/dcr/v1.1/register/no-such-client", nil, dev2), 401)
	e.want(e.do("GET", path, nil, admin), 200)
	e.want(e.do("DELETE", path, nil, dev1), 204)
}
