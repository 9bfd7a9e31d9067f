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
