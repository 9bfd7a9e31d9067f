package is

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const users = "/scim2/Users"

func newUserBody(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{schemaUser},
		"userName": name, "password": "S3cret!pass",
		"name":           map[string]any{"givenName": "Alice", "familyName": "Doe"},
		"emails":         []any{map[string]any{"value": "alice@example.com", "primary": true}},
		schemaEnterprise: map[string]any{"employeeNumber": "42"},
	}
}

func TestSCIMUserCreateAndPrefixes(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", users, newUserBody("PRIMARY/alice"), admin)
	e.want(r, 201)
	u := r.json(t)
	if u["userName"] != "alice" {
		t.Errorf("PRIMARY/ not stripped: %v", u["userName"])
	}
	if _, ok := u["password"]; ok || strings.Contains(string(r.body), "S3cret") {
		t.Errorf("password returned: %s", r.body)
	}
	meta := u["meta"].(map[string]any)
	if r.header.Get("Location") != meta["location"] || meta["resourceType"] != "User" || meta["created"] == nil {
		t.Errorf("meta/location: %v %q", meta, r.header.Get("Location"))
	}
	if r.header.Get("Content-Type") != "application/scim+json" {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
	if sc := list(u["schemas"]); len(sc) != 2 || sc[1] != schemaEnterprise {
		t.Errorf("schemas: %v", u["schemas"])
	}
	if nm := u["name"].(map[string]any); nm["givenName"] != "Alice" {
		t.Errorf("name: %v", nm)
	}
	if roles := list(u["roles"]); len(roles) != 1 || roles[0].(map[string]any)["display"] != "everyone" {
		t.Errorf("a new user is only in everyone: %v", u["roles"])
	}

	// Duplicate, with and without the prefix, and case-insensitively.
	for _, n := range []string{"alice", "PRIMARY/alice", "Alice"} {
		d := e.do("POST", users, newUserBody(n), admin)
		e.want(d, 409)
		m := d.json(t)
		if m["scimType"] != "uniqueness" || m["status"] != "409" || m["detail"] != "User with the name: "+strings.TrimPrefix(n, "PRIMARY/")+" already exists in the system." {
			t.Errorf("409 body: %v", m)
		}
		if sc := list(m["schemas"]); len(sc) != 1 || sc[0] != schemaError {
			t.Errorf("error schemas: %v", m["schemas"])
		}
	}

	// Secondary store keeps its prefix; the domain is upper-cased.
	r = e.do("POST", users, newUserBody("secondary/bob"), admin)
	e.want(r, 201)
	if r.json(t)["userName"] != "SECONDARY/bob" {
		t.Errorf("secondary: %s", r.body)
	}
	// Same name in another domain is allowed.
	e.want(e.do("POST", users, newUserBody("SECONDARY/alice"), admin), 201)

	// Plain-string email form accepted.
	b := newUserBody("carol")
	b["emails"] = []string{"carol@example.com"}
	r = e.do("POST", users, b, admin)
	e.want(r, 201)
	if em := list(r.json(t)["emails"]); len(em) != 1 || em[0].(map[string]any)["value"] != "carol@example.com" {
		t.Errorf("emails: %s", r.body)
	}
}

func TestSCIMUserValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		body     any
		scimType string
	}{
		{"weak password", map[string]any{"userName": "dave", "password": "password"}, "invalidValue"},
		{"missing userName", map[string]any{"password": "S3cret!pass"}, "invalidValue"},
		{"bad userName", map[string]any{"userName": "a b", "password": "S3cret!pass"}, "invalidValue"},
		{"malformed", "{not json", "invalidSyntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", users, tc.body, admin)
			e.want(r, 400)
			if m := r.json(t); m["scimType"] != tc.scimType || m["status"] != "400" {
				t.Errorf("body: %v", m)
			}
		})
	}
	r := e.do("GET", users+"/nope", nil, admin)
	e.want(r, 404)
	if m := r.json(t); m["status"] != "404" || !strings.Contains(str(m["detail"]), "nope") {
		t.Errorf("404 body: %v", m)
	}
}

func TestSCIMUserFilters(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"alice", "alan", "bob", "SECONDARY/alice"} {
		e.want(e.do("POST", users, newUserBody(n), admin), 201)
	}
	q := func(filter string, extra ...string) resp {
		v := url.Values{"filter": {filter}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return e.do("GET", users+"?"+v.Encode(), nil, admin)
	}
	names := func(r resp) []string {
		var out []string
		for _, x := range list(r.json(t)["Resources"]) {
			out = append(out, str(x.(map[string]any)["userName"]))
		}
		return out
	}
	tests := []struct {
		filter string
		extra  []string
		want   string
	}{
		{`userName eq "alice"`, nil, "alice,SECONDARY/alice"},
		{`userName eq alice`, []string{"domain", "PRIMARY"}, "alice"},
		{`userName eq "PRIMARY/alice"`, nil, "alice"},
		{`userName eq "SECONDARY/alice"`, nil, "SECONDARY/alice"},
		{`userName sw al`, nil, "alan,alice,SECONDARY/alice"},
		{`userName co "li"`, nil, "alice,SECONDARY/alice"},
		{`userName sw al and userName ew n`, nil, "alan"},
		{`emails eq "alice@example.com" and userName eq bob`, nil, "bob"},
		{`name.givenName eq Alice and userName eq bob`, nil, "bob"},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			r := q(tc.filter, tc.extra...)
			e.want(r, 200)
			if got := strings.Join(names(r), ","); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// No match: 200, totalResults 0, no Resources key.
	r := q(`userName eq nobody`)
	e.want(r, 200)
	m := r.json(t)
	if _, ok := m["Resources"]; ok || m["totalResults"] != float64(0) {
		t.Errorf("empty result: %v", m)
	}
	for _, bad := range []string{`userName xx alice`, `userName eq`, `userName eq "open`, `userName eq a or userName eq b`} {
		r := q(bad)
		e.want(r, 400)
		if r.json(t)["scimType"] != "invalidFilter" {
			t.Errorf("%s: %s", bad, r.body)
		}
	}
	// .search and attributes projection.
	sr := e.do("POST", users+"/.search", map[string]any{"schemas": []string{schemaSearch}, "filter": "userName eq bob",
		"attributes": []string{"userName"}}, admin)
	e.want(sr, 200)
	res := list(sr.json(t)["Resources"])
	if len(res) != 1 {
		t.Fatalf(".search: %s", sr.body)
	}
	one := res[0].(map[string]any)
	if _, ok := one["emails"]; ok || one["userName"] != "bob" || one["id"] == nil {
		t.Errorf("attributes=userName: %v", one)
	}
	ex := e.do("GET", users+"?excludedAttributes=emails,name.givenName&filter=userName+eq+bob", nil, admin)
	e.want(ex, 200)
	u := list(ex.json(t)["Resources"])[0].(map[string]any)
	if _, ok := u["emails"]; ok {
		t.Errorf("excluded emails still present")
	}
	if nm := u["name"].(map[string]any); nm["givenName"] != nil || nm["familyName"] != "Doe" {
		t.Errorf("excluded name.givenName: %v", nm)
	}
}

func TestSCIMPaging(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 250; i++ {
		if _, err := e.s.AddUser(UserSeed{UserName: fmt.Sprintf("user%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(qs string) map[string]any {
		r := e.do("GET", users+"?"+qs, nil, admin)
		e.want(r, 200)
		return r.json(t)
	}
	tests := []struct {
		qs           string
		items, total int
		start        int
		first        string
	}{
		{"", 100, 251, 1, "admin"},          // silent cap of 100
		{"count=500", 100, 251, 1, "admin"}, // capped
		{"count=10", 10, 251, 1, "admin"},
		{"startIndex=2&count=3", 3, 251, 2, "user0000"}, // 1-based
		{"startIndex=0&count=1", 1, 251, 1, "admin"},
		{"startIndex=250&count=10", 2, 251, 250, "user0248"},
		{"startIndex=300", 0, 251, 300, ""},
		{"count=0", 0, 251, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.qs, func(t *testing.T) {
			m := get(tc.qs)
			res := list(m["Resources"])
			if len(res) != tc.items || m["itemsPerPage"] != float64(tc.items) || m["totalResults"] != float64(tc.total) || m["startIndex"] != float64(tc.start) {
				t.Fatalf("items=%d itemsPerPage=%v total=%v start=%v", len(res), m["itemsPerPage"], m["totalResults"], m["startIndex"])
			}
			if tc.first != "" && res[0].(map[string]any)["userName"] != tc.first {
				t.Errorf("first = %v, want %s", res[0].(map[string]any)["userName"], tc.first)
			}
		})
	}
	// Filtered paging: totalResults is the page size (reproduced quirk).
	m := get("filter=" + url.QueryEscape("userName sw user01") + "&count=30")
	if len(list(m["Resources"])) != 30 || m["totalResults"] != float64(30) {
		t.Errorf("filtered page: items=%d total=%v", len(list(m["Resources"])), m["totalResults"])
	}
	m = get("filter=" + url.QueryEscape("userName sw user01") + "&count=30&startIndex=91")
	if len(list(m["Resources"])) != 10 {
		t.Errorf("last filtered page: %d items", len(list(m["Resources"])))
	}
	// Small cap option.
	e2 := newEnv(t, func(o *Options) { o.MaxSCIMCount = 5 })
	r := e2.do("GET", users+"?count=50", nil, admin)
	if n := len(list(r.json(t)["Resources"])); n != 1 { // only admin exists
		t.Errorf("got %d", n)
	}
}

func TestSCIMUserUpdate(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", users, newUserBody("alice"), admin)
	e.want(r, 201)
	id := str(r.json(t)["id"])
	path := users + "/" + id

	patch := func(ops ...map[string]any) resp {
		return e.do("PATCH", path, map[string]any{"schemas": []string{schemaPatch}, "Operations": ops}, admin)
	}
	r = patch(map[string]any{"op": "replace", "path": "name.givenName", "value": "Al"},
		map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "al@work.example", "type": "work"}}},
		map[string]any{"op": "replace", "path": schemaEnterprise + ":employeeNumber", "value": "43"})
	e.want(r, 200)
	u := r.json(t)
	if u["name"].(map[string]any)["givenName"] != "Al" || u["name"].(map[string]any)["familyName"] != "Doe" {
		t.Errorf("name patch: %v", u["name"])
	}
	if len(list(u["emails"])) != 2 || u[schemaEnterprise].(map[string]any)["employeeNumber"] != "43" {
		t.Errorf("emails/enterprise patch: %s", r.body)
	}
	r = patch(map[string]any{"op": "remove", "path": `emails[value eq "alice@example.com"]`})
	e.want(r, 200)
	if em := list(r.json(t)["emails"]); len(em) != 1 || em[0].(map[string]any)["value"] != "al@work.example" {
		t.Errorf("remove email: %v", em)
	}
	// No-path replace with a password change; then the new password works.
	r = patch(map[string]any{"op": "replace", "value": map[string]any{"password": "N3w!passw0rd", "nickName": "ally"}})
	e.want(r, 200)
	if r.json(t)["nickName"] != "ally" || strings.Contains(string(r.body), "N3w!") {
		t.Errorf("no-path patch: %s", r.body)
	}
	e.want(e.do("GET", users+"?count=1", nil, basic("alice", "N3w!passw0rd")), 403) // authenticated, no rights
	e.want(e.do("GET", users+"?count=1", nil, basic("alice", "S3cret!pass")), 401)
	// Roles are read-only on users.
	r = patch(map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "x"}}})
	e.want(r, 400)
	// Bad patch schema.
	e.want(e.do("PATCH", path, map[string]any{"Operations": []any{map[string]any{"op": "add"}}}, admin), 400)

	// PUT replaces everything; omitted password is kept; userName immutable.
	r = e.do("PUT", path, map[string]any{"schemas": []string{schemaUser}, "userName": "alice", "name": map[string]any{"familyName": "Roe"}}, admin)
	e.want(r, 200)
	u = r.json(t)
	if _, ok := u["emails"]; ok || u["name"].(map[string]any)["familyName"] != "Roe" || u["nickName"] != nil {
		t.Errorf("PUT did not replace: %s", r.body)
	}
	e.want(e.do("GET", users+"/"+id, nil, basic("alice", "N3w!passw0rd")), 403)
	e.want(e.do("PUT", path, map[string]any{"userName": "other"}, admin), 400)
	e.want(e.do("PUT", users+"/missing", map[string]any{"userName": "x"}, admin), 404)

	e.want(e.do("DELETE", path, nil, admin), 204)
	e.want(e.do("GET", path, nil, admin), 404)
	e.want(e.do("DELETE", path, nil, admin), 404)
	// The name is free again.
	e.want(e.do("POST", users, newUserBody("alice"), admin), 201)
}

func TestSCIMGroups(t *testing.T) {
	e := newEnv(t)
	uid, _ := e.s.AddUser(UserSeed{UserName: "alice"})
	r := e.do("POST", "/scim2/Groups", map[string]any{"schemas": []string{schemaGroup}, "displayName": "ledger-team",
		"members": []any{map[string]any{"value": uid}}}, admin)
	e.want(r, 201)
	gid := str(r.json(t)["id"])
	e.want(e.do("POST", "/scim2/Groups", map[string]any{"displayName": "PRIMARY/ledger-team"}, admin), 409)
	u := e.do("GET", users+"/"+uid, nil, admin).json(t)
	if gs := list(u["groups"]); len(gs) != 1 || gs[0].(map[string]any)["display"] != "ledger-team" {
		t.Errorf("user groups: %v", u["groups"])
	}
	r = e.do("PATCH", "/scim2/Groups/"+gid, map[string]any{"schemas": []string{schemaPatch},
		"Operations": []any{map[string]any{"op": "remove", "path": "members[value eq " + uid + "]"}}}, admin)
	e.want(r, 200)
	if _, ok := r.json(t)["members"]; ok {
		t.Errorf("member not removed: %s", r.body)
	}
	lr := e.do("GET", "/scim2/Groups?filter="+url.QueryEscape("displayName eq ledger-team"), nil, admin)
	if len(list(lr.json(t)["Resources"])) != 1 {
		t.Errorf("group filter: %s", lr.body)
	}
	e.want(e.do("DELETE", "/scim2/Groups/"+gid, nil, admin), 204)
	e.want(e.do("GET", "/scim2/Groups/"+gid, nil, admin), 404)
}

func TestSCIMAuth(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.AddUser(UserSeed{UserName: "viewer", Password: "View-pass1!"}); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", users, nil, nil)
	e.want(r, 401)
	if len(r.body) != 0 {
		t.Errorf("401 body %q", r.body)
	}
	e.want(e.do("GET", users, nil, basic("admin", "bad")), 401)
	e.want(e.do("GET", users, nil, bearer("garbage")), 401)
	r = e.do("GET", users, nil, basic("viewer", "View-pass1!"))
	e.want(r, 403)
	if len(r.body) != 0 {
		t.Errorf("403 body %q", r.body)
	}
	// A role granting internal_user_mgt_list lets the viewer list.
	vid := e.do("GET", users+"?filter=userName+eq+viewer", nil, admin).json(t)
	id := str(list(vid["Resources"])[0].(map[string]any)["id"])
	e.want(e.do("POST", "/scim2/v2/Roles", map[string]any{"schemas": []string{schemaRole}, "displayName": "lister",
		"users": []any{map[string]any{"value": id}}, "permissions": []any{map[string]any{"value": "internal_user_mgt_list"}}}, admin), 201)
	e.want(e.do("GET", users, nil, basic("viewer", "View-pass1!")), 200)
	e.want(e.do("POST", users, newUserBody("x1x"), basic("viewer", "View-pass1!")), 403)
	// admin@carbon.super and the tenant path.
	e.want(e.do("GET", "/t/carbon.super"+users, nil, basic("admin@carbon.super", "admin")), 200)
}

func TestDumpHasNoPasswords(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", users, newUserBody("alice"), admin), 201)
	b, err := json.Marshal(e.s.Dump())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "S3cret!pass") || !strings.Contains(string(b), `"userName":"alice"`) {
		t.Errorf("dump: %s", b)
	}
	d := e.s.Dump()
	d.Users[0].Attributes["x"] = "mutated"
	if _, ok := e.s.Dump().Users[0].Attributes["x"]; ok {
		t.Errorf("Dump is not a deep copy")
	}
	e.s.Reset()
	if n := len(e.s.Dump().Users); n != 1 {
		t.Errorf("after Reset: %d users", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "conc", "grant_types": []string{"client_credentials"}})
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("user%02d", i)
			r := e.do("POST", users, newUserBody(name), admin)
			if r.status != 201 {
				errs <- fmt.Sprintf("create %s: %d", name, r.status)
				return
			}
			id := str(r.json(t)["id"])
			if r := e.do("GET", users+"/"+id, nil, admin); r.status != 200 {
				errs <- "get " + name
			}
			if _, tok := e.ccToken(str(c["client_id"]), str(c["client_secret"]), "internal_user_mgt_list"); tok == nil {
				errs <- "token"
			} else if r := e.do("GET", users+"?count=5", nil, bearer(str(tok["access_token"]))); r.status != 200 {
				errs <- "list"
			}
			if r := e.do("POST", dcr, map[string]any{"client_name": "app-" + name}, admin); r.status != 201 {
				errs <- "dcr " + name
			}
			_ = e.s.Dump()
		}(i)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Error(s)
	}
	if n := len(e.s.Dump().Users); n != 21 {
		t.Errorf("users = %d, want 21", n)
	}
}

func TestBulk20kUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk")
	}
	// How long seeding takes is BenchmarkAddUsers20k's business: a
	// wall-clock limit here failed under -race on a loaded machine.
	e := newEnv(t)
	seedUsers(t, e.s, 20000)
	r := e.do("GET", users+"?filter="+url.QueryEscape(`userName eq "u12345"`), nil, admin)
	if res := list(r.json(t)["Resources"]); len(res) != 1 {
		t.Fatalf("lookup: %s", r.body)
	}
	r = e.do("GET", users+"?startIndex=19990&count=100", nil, admin)
	m := r.json(t)
	res := list(m["Resources"])
	if m["totalResults"] != float64(20001) || len(res) != 12 {
		t.Fatalf("last page: total %v items %d", m["totalResults"], len(res))
	}
	// The sorted index put the last-inserted (smallest) names first.
	if got := str(res[len(res)-1].(map[string]any)["userName"]); got != "u20000" {
		t.Errorf("last user on the last page = %q, want u20000", got)
	}
}

// seedUsers adds n users named in descending order: the worst insertion
// order for the sorted index.
func seedUsers(tb testing.TB, s *Server, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.AddUser(UserSeed{UserName: fmt.Sprintf("u%05d", n-i), Password: "x"}); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkAddUsers20k measures seeding 20,000 users (a large IS estate),
// which a quadratic index would make slow.
func BenchmarkAddUsers20k(b *testing.B) {
	for b.Loop() {
		seedUsers(b, New(Options{}), 20000)
	}
}
