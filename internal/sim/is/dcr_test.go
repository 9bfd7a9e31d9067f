package is

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

const dcr = "/api/identity/oauth2/dcr/v1.1/register"

func TestDCRLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "ledger-batch", "grant_types": []string{"client_credentials"},
		"ext_pkce_mandatory": true, "require_signed_request_object": true, "ext_application_display_name": "Ledger"})
	id := str(c["client_id"])
	if id == "" || str(c["client_secret"]) == "" {
		t.Fatalf("missing credentials: %v", c)
	}
	if c["client_secret_expires_at"] != float64(0) {
		t.Errorf("client_secret_expires_at = %v, want 0", c["client_secret_expires_at"])
	}
	if rs := list(c["redirect_uris"]); len(rs) != 1 || rs[0] != "" {
		t.Errorf(`redirect_uris = %v, want [""]`, c["redirect_uris"])
	}
	if c["ext_application_owner"] != "admin" || c["token_type_extension"] != "JWT" {
		t.Errorf("owner/token type: %v %v", c["ext_application_owner"], c["token_type_extension"])
	}

	got := e.do("GET", dcr+"/"+id, nil, admin)
	e.want(got, 200)
	if g := got.json(t); g["client_secret"] != c["client_secret"] || g["client_name"] != "ledger-batch" {
		t.Errorf("GET differs: %v", g)
	}
	byName := e.do("GET", dcr+"?client_name=ledger-batch", nil, admin)
	e.want(byName, 200)
	if byName.json(t)["client_id"] != id {
		t.Errorf("GET by name returned another client")
	}
	e.want(e.do("GET", dcr+"?client_name=nope", nil, admin), 401)

	// PUT: absent strings/lists keep, absent booleans reset, PAR follows
	// require_signed_request_object, secret is not changed.
	up := e.do("PUT", dcr+"/"+id, map[string]any{"grant_types": []string{}, "require_signed_request_object": true,
		"require_pushed_authorization_requests": false, "client_secret": "ignored"}, admin)
	e.want(up, 200)
	u := up.json(t)
	if u["client_name"] != "ledger-batch" || len(list(u["grant_types"])) != 1 || u["ext_application_display_name"] != "Ledger" {
		t.Errorf("PUT did not keep stored values: %v", u)
	}
	if u["ext_pkce_mandatory"] != false {
		t.Errorf("PUT kept omitted boolean ext_pkce_mandatory: %v", u["ext_pkce_mandatory"])
	}
	if u["require_push_authorization_request"] != true {
		t.Errorf("PAR quirk not reproduced: %v", u["require_push_authorization_request"])
	}
	if u["client_secret"] != c["client_secret"] {
		t.Errorf("PUT changed the secret")
	}

	del := e.do("DELETE", dcr+"/"+id, nil, admin)
	e.want(del, 204)
	after := e.do("GET", dcr+"/"+id, nil, admin)
	e.want(after, 401)
	if len(after.body) != 0 {
		t.Errorf("401 for unknown client has a body: %q", after.body)
	}
	e.want(e.do("PUT", dcr+"/"+id, map[string]any{"client_name": "x"}, admin), 401)
	e.want(e.do("DELETE", dcr+"/"+id, nil, admin), 401)
}

func TestDCRValidationQuirks(t *testing.T) {
	e := newEnv(t)
	e.register(map[string]any{"client_name": "dup-app", "grant_types": []string{"client_credentials"}})
	tests := []struct {
		name string
		body map[string]any
		code string
		want string
	}{
		{"duplicate name is 400 not 409", map[string]any{"client_name": "dup-app"}, "invalid_client_metadata", "already exist"},
		{"bad client id regex", map[string]any{"client_name": "a1", "ext_param_client_id": "short-id"}, "invalid_client_metadata", "regex"},
		{"code grant needs redirect", map[string]any{"client_name": "a2", "grant_types": []string{"authorization_code"}}, "invalid_redirect_uri", "mandatory"},
		{"bad redirect", map[string]any{"client_name": "a3", "grant_types": []string{"authorization_code"}, "redirect_uris": []string{"not a uri"}}, "invalid_redirect_uri", "Invalid"},
		{"bad name", map[string]any{"client_name": "bad/name"}, "invalid_client_metadata", "regex"},
		{"unknown grant", map[string]any{"client_name": "a4", "grant_types": []string{"magic"}}, "invalid_client_metadata", "grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", dcr, tc.body, admin)
			e.want(r, 400)
			m := r.json(t)
			if m["error"] != tc.code || !strings.Contains(str(m["error_description"]), tc.want) {
				t.Errorf("got %v", m)
			}
		})
	}
}

func TestDCRExtParamCredentialsAndRedirectCollapse(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "fixed", "grant_types": []string{"authorization_code", "client_credentials"},
		"ext_param_client_id": "ledger_batch_client_01", "ext_param_client_secret": "fixed-secret-value",
		"redirect_uris": []string{"https://a.example/cb", "https://b.example/cb?x=1"}})
	if c["client_id"] != "ledger_batch_client_01" || c["client_secret"] != "fixed-secret-value" {
		t.Fatalf("ext_param credentials not honoured: %v", c)
	}
	want := `regexp=(https://a.example/cb|https://b.example/cb\?x=1)`
	if rs := list(c["redirect_uris"]); len(rs) != 1 || rs[0] != want {
		t.Errorf("redirect_uris = %v, want [%s]", c["redirect_uris"], want)
	}
	r := e.do("POST", dcr, map[string]any{"client_name": "other", "ext_param_client_id": "ledger_batch_client_01"}, admin)
	e.want(r, 400)
	if !strings.Contains(str(r.json(t)["error_description"]), "already exist") {
		t.Errorf("duplicate client id: %s", r.body)
	}
	// The fixed credentials work at the token endpoint.
	if tr, _ := e.ccToken("ledger_batch_client_01", "fixed-secret-value", ""); tr.status != 200 {
		t.Errorf("token with fixed credentials: %d %s", tr.status, tr.body)
	}
}

func TestDCRAuth(t *testing.T) {
	e := newEnv(t)
	_, err := e.s.AddUser(UserSeed{UserName: "bob", Password: "Bob-pass1!"})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"client_name": "x-app"}
	r := e.do("POST", dcr, body, nil)
	e.want(r, 401)
	e.want(e.do("POST", dcr, body, basic("admin", "wrong")), 401)
	r = e.do("POST", dcr, body, basic("bob", "Bob-pass1!"))
	e.want(r, 403)
	if len(r.body) != 0 {
		t.Errorf("403 has a body: %q", r.body)
	}
	// Tenant-qualified path.
	e.want(e.do("POST", "/t/carbon.super"+dcr, body, admin), 201)
	e.want(e.do("GET", "/t/other.com"+dcr+"?client_name=x-app", nil, admin), 404)
}

func TestClientRegistry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	good := simcore.Credentials{Username: "admin", Password: "admin"}
	in := simcore.OAuthClient{ClientName: "admin_0f1e_PRODUCTION", GrantTypes: []string{"client_credentials", "password", "refresh_token"},
		ApplicationDisplayName: "MyApp", TokenType: "JWT",
		RedirectURIs: []string{"https://a/cb", "https://b/cb"},
		ExtParams:    map[string]any{"ext_application_token_lifetime": "1800", "ext_pkce_mandatory": "true", "ext_allowed_audience": "organization"}}

	if _, err := e.s.RegisterClient(ctx, simcore.Credentials{Username: "admin", Password: "nope"}, in); !errors.Is(err, simcore.ErrUnauthorized) {
		t.Fatalf("bad password: %v", err)
	}
	if _, err := e.s.AddUser(UserSeed{UserName: "plain", Password: "Plain-pass1!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RegisterClient(ctx, simcore.Credentials{Username: "plain", Password: "Plain-pass1!"}, in); !errors.Is(err, simcore.ErrUnauthorized) {
		t.Fatalf("non-admin user: %v", err)
	}
	c, err := e.s.RegisterClient(ctx, good, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID == "" || c.ClientSecret == "" || c.Owner != "admin" {
		t.Fatalf("registered: %+v", c)
	}
	if c.ExtParams["ext_application_token_lifetime"] != int64(1800) || c.ExtParams["ext_pkce_mandatory"] != true {
		t.Errorf("string ext params not coerced: %v", c.ExtParams)
	}
	if len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "regexp=(https://a/cb|https://b/cb)" {
		t.Errorf("redirects: %v", c.RedirectURIs)
	}
	if _, err := e.s.RegisterClient(ctx, good, in); !errors.Is(err, simcore.ErrConflict) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := e.s.RegisterClient(ctx, good, simcore.OAuthClient{ClientName: "bad/name"}); !errors.Is(err, simcore.ErrInvalid) {
		t.Errorf("invalid: %v", err)
	}

	// Same store as the REST API.
	r := e.do("GET", dcr+"/"+c.ClientID, nil, admin)
	e.want(r, 200)
	if r.json(t)["ext_application_display_name"] != "MyApp" {
		t.Errorf("REST view: %s", r.body)
	}
	tr, tok := e.ccToken(c.ClientID, c.ClientSecret, "")
	e.want(tr, 200)
	if tok["expires_in"] != float64(1800) {
		t.Errorf("expires_in = %v, want the client's 1800", tok["expires_in"])
	}
	// A REST-created client is visible through the registry.
	rest := e.register(map[string]any{"client_name": "rest-made", "grant_types": []string{"client_credentials"}})
	if g, err := e.s.GetClient(ctx, good, str(rest["client_id"])); err != nil || g.ClientName != "rest-made" {
		t.Errorf("GetClient of REST client: %+v %v", g, err)
	}

	upd := c
	upd.ClientName = ""
	upd.ApplicationDisplayName = "Renamed"
	upd.GrantTypes = nil
	upd.ExtParams = map[string]any{}
	u, err := e.s.UpdateClient(ctx, good, upd)
	if err != nil {
		t.Fatal(err)
	}
	if u.ClientName != in.ClientName || u.ApplicationDisplayName != "Renamed" || len(u.GrantTypes) != 3 {
		t.Errorf("update semantics: %+v", u)
	}
	if u.ExtParams["ext_pkce_mandatory"] != false {
		t.Errorf("absent boolean not reset on update")
	}
	if _, err := e.s.UpdateClient(ctx, good, simcore.OAuthClient{ClientID: "missing"}); !errors.Is(err, simcore.ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
	if err := e.s.DeleteClient(ctx, good, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetClient(ctx, good, c.ClientID); !errors.Is(err, simcore.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if err := e.s.DeleteClient(ctx, good, c.ClientID); !errors.Is(err, simcore.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if r := e.do("POST", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, basic(c.ClientID, c.ClientSecret)); r.status != 401 {
		t.Errorf("token for deleted client: %d", r.status)
	}
}
