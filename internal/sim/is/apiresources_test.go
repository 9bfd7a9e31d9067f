package is

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const apiRes = "/api/server/v1/api-resources"

func TestAPIResourcesCRUD(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"name": "Ledger API", "identifier": "https://ledger.example/api", "description": "d",
		"scopes": []any{map[string]any{"name": "ledger:read", "displayName": "Read"}, map[string]any{"name": "ledger:write"}}}
	r := e.do("POST", apiRes, body, admin)
	e.want(r, 201)
	m := r.json(t)
	id := str(m["id"])
	if r.header.Get("Location") != e.srv.URL+apiRes+"/"+id || m["type"] != "BUSINESS" || m["requiresAuthorization"] != true {
		t.Errorf("create: %v %q", m, r.header.Get("Location"))
	}
	sc := list(m["scopes"])
	if len(sc) != 2 || sc[1].(map[string]any)["displayName"] != "ledger:write" || sc[0].(map[string]any)["id"] == nil {
		t.Errorf("scopes: %v", sc)
	}
	d := e.do("POST", apiRes, body, admin)
	e.want(d, 409)
	if d.json(t)["code"] != "API-RESOURCE-60003" {
		t.Errorf("409: %s", d.body)
	}
	dupScope := map[string]any{"name": "Other", "identifier": "other", "scopes": []any{map[string]any{"name": "ledger:read"}}}
	e.want(e.do("POST", apiRes, dupScope, admin), 409)
	e.want(e.do("POST", apiRes, map[string]any{"name": "x", "identifier": "y", "scopes": []any{map[string]any{"name": "internal_x"}}}, admin), 400)
	e.want(e.do("POST", apiRes, map[string]any{"identifier": "y"}, admin), 400)

	f := e.do("GET", apiRes+"?filter="+url.QueryEscape("identifier eq https://ledger.example/api"), nil, admin)
	e.want(f, 200)
	fm := f.json(t)
	if items := list(fm["apiResources"]); len(items) != 1 || items[0].(map[string]any)["id"] != id || fm["totalResults"] != float64(1) {
		t.Errorf("filter: %s", f.body)
	}
	if _, ok := fm["APIResources"]; ok {
		t.Errorf("wire name must be apiResources")
	}
	e.want(e.do("GET", apiRes+"?filter="+url.QueryEscape("bogus eq x"), nil, admin), 400)

	// PATCH: addedScopes and name work; removedScopes is not implemented.
	e.want(e.do("PATCH", apiRes+"/"+id, map[string]any{"name": "Ledger", "addedScopes": []any{map[string]any{"name": "ledger:admin"}}}, admin), 204)
	e.want(e.do("PATCH", apiRes+"/"+id, map[string]any{"removedScopes": []string{"ledger:read"}}, admin), 501)
	g := e.do("GET", apiRes+"/"+id, nil, admin)
	e.want(g, 200)
	gm := g.json(t)
	if gm["name"] != "Ledger" || len(list(gm["scopes"])) != 3 || str(gm["self"]) == "" {
		t.Errorf("after patch: %s", g.body)
	}
	// A role may use the scope; deleting the scope removes the permission.
	r = e.do("POST", rolesPath, roleBody("ledger-admin", map[string]any{"permissions": []any{map[string]any{"value": "ledger:admin"}}}), admin)
	e.want(r, 201)
	rid := str(r.json(t)["id"])
	e.want(e.do("DELETE", apiRes+"/"+id+"/scopes/ledger:admin", nil, admin), 204)
	if p := e.do("GET", rolesPath+"/"+rid, nil, admin).json(t)["permissions"]; p != nil {
		t.Errorf("permission survived scope deletion: %v", p)
	}
	e.want(e.do("PUT", apiRes+"/"+id+"/scopes", []any{map[string]any{"name": "ledger:read"}}, admin), 204)
	sr := e.do("GET", apiRes+"/"+id+"/scopes", nil, admin)
	e.want(sr, 200)
	if !strings.Contains(string(sr.body), "ledger:read") || strings.Contains(string(sr.body), "ledger:write") {
		t.Errorf("PUT scopes: %s", sr.body)
	}

	// System resources are read-only.
	sys := e.do("GET", apiRes+"?filter="+url.QueryEscape("identifier eq /scim2/Users"), nil, admin).json(t)
	sysID := str(list(sys["apiResources"])[0].(map[string]any)["id"])
	e.want(e.do("PATCH", apiRes+"/"+sysID, map[string]any{"name": "x"}, admin), 403)
	e.want(e.do("DELETE", apiRes+"/"+sysID, nil, admin), 403)

	e.want(e.do("DELETE", apiRes+"/"+id, nil, admin), 204)
	nf := e.do("GET", apiRes+"/"+id, nil, admin)
	e.want(nf, 404)
	if nf.json(t)["code"] != "API-RESOURCE-60002" {
		t.Errorf("404: %s", nf.body)
	}
	e.want(e.do("DELETE", apiRes+"/"+id, nil, admin), 204)
}

func TestAPIResourcesCursorPaging(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 25; i++ {
		if _, err := e.s.AddAPIResource(APIResourceSeed{Name: fmt.Sprintf("biz-%02d", i), Identifier: fmt.Sprintf("biz-%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	filter := url.QueryEscape("identifier sw biz-")
	page := func(qs string) (names []string, links map[string]string, total float64) {
		r := e.do("GET", apiRes+"?"+qs, nil, admin)
		e.want(r, 200)
		m := r.json(t)
		for _, x := range list(m["apiResources"]) {
			names = append(names, str(x.(map[string]any)["name"]))
		}
		links = map[string]string{}
		for _, l := range list(m["links"]) {
			lm := l.(map[string]any)
			links[str(lm["rel"])] = str(lm["href"])
		}
		total, _ = m["totalResults"].(float64)
		return
	}
	query := func(href string) string {
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		return u.RawQuery
	}
	names, links, total := page("limit=10&filter=" + filter)
	if len(names) != 10 || names[0] != "biz-00" || total != 25 || links["previous"] != "" || links["next"] == "" {
		t.Fatalf("page 1: %v %v %v", names, links, total)
	}
	names, links, _ = page(query(links["next"]))
	if len(names) != 10 || names[0] != "biz-10" || links["previous"] == "" || links["next"] == "" {
		t.Fatalf("page 2: %v %v", names, links)
	}
	prevLink := links["previous"]
	names, links, _ = page(query(links["next"]))
	if len(names) != 5 || names[0] != "biz-20" || links["next"] != "" {
		t.Fatalf("page 3: %v %v", names, links)
	}
	names, _, _ = page(query(prevLink))
	if len(names) != 10 || names[0] != "biz-00" {
		t.Fatalf("previous of page 2: %v", names)
	}
	// Default limit is 10 (system resources come first).
	names, _, total = page("")
	if len(names) != 10 || total != 25+float64(len(systemAPIs)) {
		t.Errorf("default page: %d items, total %v", len(names), total)
	}
	for _, bad := range []string{"limit=0", "limit=x", "before=MQ==&after=MQ==", "after=bm90LWEtbnVtYmVy", "attributes=foo"} {
		r := e.do("GET", apiRes+"?"+bad, nil, admin)
		if r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	// An unauthorised bearer token is refused.
	c := e.register(map[string]any{"client_name": "viewer", "grant_types": []string{"client_credentials"}})
	_, tok := e.ccToken(str(c["client_id"]), str(c["client_secret"]), "internal_user_mgt_list")
	e.want(e.do("GET", apiRes, nil, bearer(str(tok["access_token"]))), 403)
	_, tok = e.ccToken(str(c["client_id"]), str(c["client_secret"]), "internal_api_resource_view")
	e.want(e.do("GET", apiRes, nil, bearer(str(tok["access_token"]))), 200)
}
