package apim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/wso2specs"
)

func TestAuthBearer(t *testing.T) {
	e := newEnv(t)
	subTok := e.token("admin", "admin", "apim:subscribe")
	cases := []struct {
		name   string
		method string
		path   string
		tok    string
		status int
		code   float64
	}{
		{"missing token", "GET", DevportalBase + "/applications", "", 401, 900902},
		{"unknown token", "GET", DevportalBase + "/applications", "nope", 401, 900902},
		{"scope missing", "GET", AdminBase + "/key-managers", subTok, 403, 900910},
		{"scope ok", "GET", DevportalBase + "/applications", subTok, 200, 0},
		{"anonymous devportal apis", "GET", DevportalBase + "/apis?limit=1", "", 200, 0},
		{"anonymous tiers", "GET", DevportalBase + "/throttling-policies/application", "", 200, 0},
		{"invalid token on anonymous op", "GET", DevportalBase + "/apis", "bad", 401, 900902},
		{"publisher needs token", "GET", PublisherBase + "/apis", "", 401, 900902},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.tok, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != 0 {
				m := r.json(t)
				if m["code"].(float64) != tc.code || m["message"] == "" || m["moreInfo"] == nil || m["error"] == nil {
					t.Fatalf("error body %s", r.body)
				}
			}
		})
	}
}

func TestTokenExpiryAndRefresh(t *testing.T) {
	e := newEnv(t)
	tr := e.tokenResp("admin", "admin", "apim:subscribe", "apim:admin")
	tok := tr["access_token"].(string)
	if tr["expires_in"].(float64) != 3600 || tr["token_type"] != "Bearer" || tr["scope"] != "apim:subscribe apim:admin" {
		t.Fatalf("token response %v", tr)
	}
	e.mustStatus(e.do("GET", DevportalBase+"/applications", tok, nil), 200)
	e.clock.Advance(3601 * time.Second)
	r := e.mustStatus(e.do("GET", DevportalBase+"/applications", tok, nil), 401)
	if r.code(t) != 900902 {
		t.Fatalf("code %v", r.code(t))
	}
	// Refresh works once.
	cl := e.dcr("admin", "admin", "rest_admin")
	refresh := func() resp {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr["refresh_token"].(string)}}
		return e.raw("POST", "/oauth2/token", map[string]string{
			"Authorization": BasicAuthHeader(cl["clientId"].(string), cl["clientSecret"].(string)),
			"Content-Type":  "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()))
	}
	r = e.mustStatus(refresh(), 200)
	newTok := r.json(t)["access_token"].(string)
	e.mustStatus(e.do("GET", DevportalBase+"/applications", newTok, nil), 200)
	r = e.mustStatus(refresh(), 400)
	if r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("second refresh: %s", r.body)
	}
	// ExpireTokens expires everything now.
	e.s.ExpireTokens()
	e.mustStatus(e.do("GET", DevportalBase+"/applications", newTok, nil), 401)
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	cl := e.dcr("admin", "admin", "rest_admin")
	basic := BasicAuthHeader(cl["clientId"].(string), cl["clientSecret"].(string))
	cases := []struct {
		name   string
		auth   string
		form   url.Values
		status int
		err    string
	}{
		{"bad client", BasicAuthHeader("x", "y"), url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
		{"wrong secret", BasicAuthHeader(cl["clientId"].(string), "no"), url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client"},
		{"bad password", basic, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"x"}}, 400, "invalid_grant"},
		{"unsupported grant", basic, url.Values{"grant_type": {"implicit"}}, 400, "unsupported_grant_type"},
		{"bad refresh", basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.raw("POST", "/oauth2/token", map[string]string{"Authorization": tc.auth,
				"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(tc.form.Encode()))
			if r.status != tc.status || r.json(t)["error"] != tc.err {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
	// client_credentials acts as the DCR owner, no refresh token.
	r := e.raw("POST", "/oauth2/token", map[string]string{"Authorization": basic,
		"Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader("grant_type=client_credentials&scope=apim:subscribe"))
	m := e.mustStatus(r, 200).json(t)
	if _, ok := m["refresh_token"]; ok || m["scope"] != "apim:subscribe" {
		t.Fatalf("client_credentials: %v", m)
	}
}

func TestScopesDroppedForSubscriber(t *testing.T) {
	e := newEnv(t)
	if err := e.s.AddUser("bob", "pw", RoleSubscriber); err != nil {
		t.Fatal(err)
	}
	tr := e.tokenResp("bob", "pw", "apim:subscribe", "apim:admin", "openid")
	if tr["scope"] != "apim:subscribe openid" {
		t.Fatalf("scope %q", tr["scope"])
	}
	r := e.mustStatus(e.do("GET", AdminBase+"/key-managers", tr["access_token"].(string), nil), 403)
	if r.code(t) != 900910 {
		t.Fatalf("code %v", r.code(t))
	}
}

func TestDCR(t *testing.T) {
	e := newEnv(t)
	if err := e.s.AddUser("bob", "pw"); err != nil {
		t.Fatal(err)
	}
	post := func(user, pass string, body map[string]any) resp {
		b, _ := json.Marshal(body)
		return e.raw("POST", DCRBase+"/register", map[string]string{"Authorization": BasicAuthHeader(user, pass),
			"Content-Type": "application/json"}, bytes.NewReader(b))
	}
	first := e.mustStatus(post("admin", "admin", map[string]any{"clientName": "wso2sync", "owner": "admin",
		"grantType": "client_credentials password refresh_token", "saasApp": true, "callbackUrl": ""}), 200).json(t)
	if first["clientId"] == "" || first["isSaasApplication"] != true || first["appOwner"] != "admin" ||
		first["jsonAppAttribute"] != "{}" || first["tokenType"] != nil {
		t.Fatalf("first: %v", first)
	}
	var js map[string]string
	_ = json.Unmarshal([]byte(first["jsonString"].(string)), &js)
	if js["grant_types"] != "client_credentials password refresh_token" {
		t.Fatalf("jsonString %v", js)
	}
	// Same clientName: the existing client, unchanged (grant types ignored).
	again := e.mustStatus(post("admin", "admin", map[string]any{"clientName": "wso2sync", "owner": "admin",
		"grantType": "client_credentials", "callbackUrl": "https://x"}), 200).json(t)
	if again["clientId"] != first["clientId"] || again["clientSecret"] != first["clientSecret"] || again["jsonString"] != first["jsonString"] {
		t.Fatalf("not idempotent: %v vs %v", again, first)
	}
	// Blank callback strips authorization_code.
	ac := e.mustStatus(post("admin", "admin", map[string]any{"clientName": "ac", "owner": "admin",
		"grantType": "authorization_code client_credentials"}), 200).json(t)
	if strings.Contains(ac["jsonString"].(string), "authorization_code") {
		t.Fatalf("authorization_code kept: %v", ac)
	}
	// Owner must be the caller.
	r := e.mustStatus(post("bob", "pw", map[string]any{"clientName": "x", "owner": "admin"}), 400)
	if !strings.Contains(r.json(t)["description"].(string), "Logged in user 'bob' and application owner 'admin' should be same.") {
		t.Fatalf("400 body %s", r.body)
	}
	// Another owner's client → 403.
	r = e.mustStatus(post("bob", "pw", map[string]any{"clientName": "wso2sync", "owner": "bob"}), 403)
	if r.json(t)["description"] != "Access is forbidden to the application" {
		t.Fatalf("403 body %s", r.body)
	}
	e.mustStatus(post("admin", "wrong", map[string]any{"clientName": "y", "owner": "admin"}), 401)
}

func TestRoutesMatchSpecs(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	specs := map[string]string{}
	specDir, err := wso2specs.Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range e.s.Routes() {
		if seen[rt.Pattern()] {
			t.Fatalf("duplicate route %s", rt.Pattern())
		}
		seen[rt.Pattern()] = true
		if rt.Spec == "" {
			continue
		}
		if _, ok := specs[rt.Spec]; !ok {
			b, err := os.ReadFile(filepath.Join(specDir, rt.Spec))
			if err != nil {
				t.Fatal(err)
			}
			specs[rt.Spec] = string(b)
		}
		if !strings.Contains(specs[rt.Spec], "\n  "+rt.Path+":\n") {
			t.Errorf("%s %s not in %s", rt.Method, rt.Path, rt.Spec)
		}
		if h, pat := e.s.Mux().Handler(mustReq(t, rt.Method, rt.BasePath+strings.NewReplacer("{", "", "}", "").Replace(rt.Path))); h == nil || pat != rt.Pattern() {
			t.Errorf("mux pattern %q for %s", pat, rt.Pattern())
		}
	}
	if len(seen) < 55 {
		t.Fatalf("only %d routes", len(seen))
	}
}
