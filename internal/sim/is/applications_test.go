package is

import (
	"fmt"
	"net/url"
	"testing"
)

const apps = "/api/server/v1/applications"

func TestApplicationsListAndFilter(t *testing.T) {
	e := newEnv(t)
	for i := range 35 {
		e.register(map[string]any{"client_name": fmt.Sprintf("app-%02d", i), "grant_types": []string{"client_credentials"},
			"ext_param_client_id": fmt.Sprintf("client_id_number_%02d", i)})
	}
	r := e.do("GET", apps, nil, admin)
	e.want(r, 200)
	m := r.json(t)
	if m["totalResults"] != float64(35) || m["count"] != float64(30) || m["startIndex"] != float64(1) || len(list(m["applications"])) != 30 {
		t.Fatalf("default page: total %v count %v start %v", m["totalResults"], m["count"], m["startIndex"])
	}
	if l := list(m["links"]); len(l) != 1 || str(l[0].(map[string]any)["rel"]) != "next" {
		t.Fatalf("links %v", m["links"])
	}
	r = e.do("GET", apps+"?offset=30&limit=30", nil, admin)
	e.want(r, 200)
	if m := r.json(t); m["count"] != float64(5) || m["startIndex"] != float64(31) {
		t.Fatalf("second page %v", m)
	}

	r = e.do("GET", apps+"?filter="+url.QueryEscape("clientId eq client_id_number_07"), nil, admin)
	e.want(r, 200)
	items := list(r.json(t)["applications"])
	if len(items) != 1 {
		t.Fatalf("clientId eq: %v", items)
	}
	it := items[0].(map[string]any)
	if it["name"] != "app-07" || it["clientId"] != "client_id_number_07" || str(it["id"]) == "" {
		t.Fatalf("item %v", it)
	}
	if id, _ := e.s.ClientApplicationID("client_id_number_07"); id != it["id"] {
		t.Fatalf("app id %v, want the client's %s", it["id"], id)
	}
	r = e.do("GET", apps+"?filter="+url.QueryEscape("name sw app-1"), nil, admin)
	e.want(r, 200)
	if m := r.json(t); m["totalResults"] != float64(10) {
		t.Fatalf("name sw: %v", m["totalResults"])
	}
	r = e.do("GET", apps+"?filter="+url.QueryEscape("name co p-3"), nil, admin)
	e.want(r, 200)
	if m := r.json(t); m["totalResults"] != float64(5) {
		t.Fatalf("name co: %v", m["totalResults"])
	}
	for _, bad := range []string{"owner eq admin", "name ne x", "name"} {
		r = e.do("GET", apps+"?filter="+url.QueryEscape(bad), nil, admin)
		e.want(r, 400)
		if r.json(t)["code"] != appInvalidFilter {
			t.Fatalf("%q: %s", bad, r.body)
		}
	}
	e.want(e.do("GET", apps+"?limit=0", nil, admin), 400)
	e.want(e.do("GET", apps, nil, nil), 401)

	id := str(it["id"])
	r = e.do("GET", apps+"/"+id, nil, admin)
	e.want(r, 200)
	if g := r.json(t); g["name"] != "app-07" || g["clientId"] != "client_id_number_07" {
		t.Fatalf("get %v", g)
	}
	r = e.do("GET", apps+"/nope", nil, admin)
	e.want(r, 404)
	if g := r.json(t); g["code"] != appNotFound || str(g["traceId"]) == "" {
		t.Fatalf("404 body %s", r.body)
	}
}

func TestApplicationRegenerateSecret(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "rotating", "grant_types": []string{"client_credentials"},
		"ext_param_client_id": "rotating_client_0001", "ext_param_client_secret": "the-old-secret"})
	appID, _ := e.s.ClientApplicationID(str(c["client_id"]))
	_, tok := e.ccToken("rotating_client_0001", "the-old-secret", "")
	if tok == nil {
		t.Fatal("no token with the old secret")
	}

	// A user without the application scopes may not rotate.
	if _, err := e.s.AddUser(UserSeed{UserName: "plain", Password: "Plain!pass1"}); err != nil {
		t.Fatal(err)
	}
	e.want(e.do("POST", apps+"/"+appID+"/inbound-protocols/oidc/regenerate-secret", nil, basic("plain", "Plain!pass1")), 403)

	r := e.do("POST", apps+"/"+appID+"/inbound-protocols/oidc/regenerate-secret", nil, admin)
	e.want(r, 200)
	cfg := r.json(t)
	newSecret := str(cfg["clientSecret"])
	if cfg["clientId"] != "rotating_client_0001" || newSecret == "" || newSecret == "the-old-secret" {
		t.Fatalf("regenerate answer %v", cfg)
	}
	if r, _ := e.ccToken("rotating_client_0001", "the-old-secret", ""); r.status != 401 {
		t.Fatalf("old secret: status %d, want 401", r.status)
	}
	if _, tok := e.ccToken("rotating_client_0001", newSecret, ""); tok == nil {
		t.Fatal("new secret does not work")
	}
	// DCR and the OIDC inbound show the new secret.
	if g := e.do("GET", dcr+"/rotating_client_0001", nil, admin).json(t); g["client_secret"] != newSecret {
		t.Fatal("DCR GET still shows the old secret")
	}
	if g := e.do("GET", apps+"/"+appID+"/inbound-protocols/oidc", nil, admin).json(t); g["clientSecret"] != newSecret {
		t.Fatal("OIDC inbound does not show the new secret")
	}
	e.want(e.do("POST", apps+"/nope/inbound-protocols/oidc/regenerate-secret", nil, admin), 404)
}
