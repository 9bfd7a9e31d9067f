package apim

import (
	"strings"
	"testing"
)

// TestUnknownPropertiesRefused: APIM's Jackson binding refuses a property
// the body schema does not declare (400 "Unrecognized property 'x'")
// instead of dropping it, and nothing is created.
func TestUnknownPropertiesRefused(t *testing.T) {
	e := newEnv(t)
	r := e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin, map[string]any{
		"name": "strict", "throttlingPolicy": "Unlimited", "colour": "blue"}), 400)
	if !strings.Contains(string(r.body), "Unrecognized property 'colour'") {
		t.Fatalf("body: %s", r.body)
	}
	if got := len(e.s.Dump().Applications); got != 1 { // DefaultApplication only
		t.Fatalf("%d applications after a refused create, want 1", got)
	}
	// Every declared property is accepted, read-only ones included.
	e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin, map[string]any{
		"name": "strict", "throttlingPolicy": "Unlimited", "applicationId": "ignored", "owner": "x", "hashEnabled": false}), 201)
	// An array body (subscriptions/multiple) is checked element by element.
	r = e.mustStatus(e.do("POST", DevportalBase+"/subscriptions/multiple", e.admin, []map[string]any{
		{"apiId": "a", "applicationId": "b", "throttlingPolicy": "Gold", "tier": "Gold"}}), 400)
	if !strings.Contains(string(r.body), "Unrecognized property 'tier'") {
		t.Fatalf("array body: %s", r.body)
	}
	// Malformed and empty bodies, as GlobalThrowableMapper words them.
	hdr := map[string]string{"Authorization": "Bearer " + e.admin, "Content-Type": "application/json"}
	if r := e.raw("POST", AdminBase+"/key-managers", hdr, strings.NewReader(`{"name":`)); r.status != 400 ||
		!strings.Contains(string(r.body), "Malformed request body.") {
		t.Fatalf("malformed: %d %s", r.status, r.body)
	}
	if r := e.raw("PUT", DevportalBase+"/applications/x", hdr, strings.NewReader("")); r.status != 400 ||
		!strings.Contains(string(r.body), "Request payload cannot be empty.") {
		t.Fatalf("empty: %d %s", r.status, r.body)
	}
	// A value of the wrong JSON type.
	r = e.mustStatus(e.do("POST", DevportalBase+"/applications", e.admin, map[string]any{
		"name": 7, "throttlingPolicy": "Unlimited"}), 400)
	if !strings.Contains(string(r.body), "disallowed values") {
		t.Fatalf("wrong type: %s", r.body)
	}
}

// TestContentTypeRefused: a body of a media type the operation does not
// consume is refused with 415 before anything happens; bodyless POSTs
// need no Content-Type.
func TestContentTypeRefused(t *testing.T) {
	e := newEnv(t)
	body := `{"name":"plain","throttlingPolicy":"Unlimited"}`
	for _, ct := range []string{"text/plain", "application/xml", ""} {
		hdr := map[string]string{"Authorization": "Bearer " + e.admin}
		if ct != "" {
			hdr["Content-Type"] = ct
		}
		if r := e.raw("POST", DevportalBase+"/applications", hdr, strings.NewReader(body)); r.status != 415 {
			t.Fatalf("Content-Type %q: status %d, want 415", ct, r.status)
		}
	}
	hdr := map[string]string{"Authorization": "Bearer " + e.admin, "Content-Type": "application/json; charset=UTF-8"}
	if r := e.raw("POST", DevportalBase+"/applications", hdr, strings.NewReader(body)); r.status != 201 {
		t.Fatalf("JSON with a charset: %d %s", r.status, r.body)
	}
	// An upload must be multipart.
	hdr["Content-Type"] = "application/json"
	if r := e.raw("POST", PublisherBase+"/endpoint-certificates", hdr, strings.NewReader(`{}`)); r.status != 415 {
		t.Fatalf("JSON upload: %d", r.status)
	}
	if got := len(e.s.Dump().Applications); got != 2 {
		t.Fatalf("%d applications, want 2 (DefaultApplication and the JSON one)", got)
	}
}

// TestKeyManagerUsedByAnAPI: a key manager an API names cannot be deleted
// ("Key Manager is already used by an API or an Application.", a 500);
// one only "all" covers can.
func TestKeyManagerUsedByAnAPI(t *testing.T) {
	e := newEnv(t)
	named := e.createKM(is7KM("Named"))
	free := e.createKM(is7KM("Free"))
	if _, err := e.s.AddAPI(APISeed{Name: "Guarded", Version: "1.0.0", Context: "/guarded", KeyManagers: []string{"Named"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AddAPI(APISeed{Name: "Open", Version: "1.0.0", Context: "/open"}); err != nil {
		t.Fatal(err)
	}
	r := e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+named, e.admin, nil), 500)
	if r.header.Get("X-Sim-Cause") != "Key Manager is already used by an API or an Application." {
		t.Fatalf("cause %q", r.header.Get("X-Sim-Cause"))
	}
	e.mustStatus(e.do("DELETE", AdminBase+"/key-managers/"+free, e.admin, nil), 200)
	names := map[string]bool{}
	for _, km := range e.s.Dump().KeyManagers {
		names[km.Name] = true
	}
	if !names["Named"] || names["Free"] {
		t.Fatalf("key managers after the deletes: %v", names)
	}
}
