package is

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

func simcoreClient(name string) simcore.OAuthClient {
	return simcore.OAuthClient{ClientName: name, GrantTypes: []string{"client_credentials"}}
}

// verifyJWT checks an RS256 JWT against the server's /oauth2/jwks and
// returns its claims.
func verifyJWT(t *testing.T, e *env, tok string) map[string]any {
	t.Helper()
	r := e.do("GET", "/oauth2/jwks", nil, nil)
	e.want(r, 200)
	var jwks struct {
		Keys []struct{ Kid, N, E, Kty string } `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %s", r.body)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	var hdr map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &hdr)
	if hdr["kid"] != jwks.Keys[0].Kid || hdr["alg"] != "RS256" {
		t.Fatalf("header %v does not match jwks kid %s", hdr, jwks.Keys[0].Kid)
	}
	nb, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	eb, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
	var claims map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestClientCredentialsJWT(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "cc-app", "grant_types": []string{"client_credentials"}})
	id, sec := str(c["client_id"]), str(c["client_secret"])
	r, tok := e.ccToken(id, sec, "default")
	e.want(r, 200)
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(3600) || tok["scope"] != "default" {
		t.Errorf("token response: %v", tok)
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Errorf("client_credentials must not get a refresh token")
	}
	claims := verifyJWT(t, e, str(tok["access_token"]))
	if claims["iss"] != e.srv.URL+"/oauth2/token" || claims["iss"] != e.s.IssuerURL() {
		t.Errorf("iss = %v", claims["iss"])
	}
	if claims["azp"] != id || claims["client_id"] != id || claims["scope"] != "default" {
		t.Errorf("claims: %v", claims)
	}
	if exp := int64(claims["exp"].(float64)); exp != e.clock.Now().Add(time.Hour).Unix() {
		t.Errorf("exp = %d", exp)
	}
	// Form client authentication works too.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}}
	e.want(e.do("POST", "/oauth2/token", form, nil), 200)

	// No scope → default.
	_, tok2 := e.ccToken(id, sec, "")
	if tok2["scope"] != "default" {
		t.Errorf("no scope → %v", tok2["scope"])
	}
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "cc-only", "grant_types": []string{"client_credentials"}})
	id, sec := str(c["client_id"]), str(c["client_secret"])
	tests := []struct {
		name   string
		form   url.Values
		auth   authFn
		status int
		code   string
	}{
		{"bad secret", url.Values{"grant_type": {"client_credentials"}}, basic(id, "wrong"), 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, basic("nobody_client_xx", "x"), 401, "invalid_client"},
		{"no client auth", url.Values{"grant_type": {"client_credentials"}}, nil, 401, "invalid_client"},
		{"grant not allowed", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"}}, basic(id, sec), 400, "unauthorized_client"},
		{"unsupported grant", url.Values{"grant_type": {"magic"}}, basic(id, sec), 400, "unsupported_grant_type"},
		{"missing grant", url.Values{}, basic(id, sec), 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/oauth2/token", tc.form, tc.auth)
			e.want(r, tc.status)
			if m := r.json(t); m["error"] != tc.code || str(m["error_description"]) == "" {
				t.Errorf("body %v", m)
			}
		})
	}
}

func TestTokenExpiryIntrospectRevoke(t *testing.T) {
	e := newEnv(t)
	c := e.register(map[string]any{"client_name": "exp-app", "grant_types": []string{"client_credentials"}})
	id, sec := str(c["client_id"]), str(c["client_secret"])
	_, tok := e.ccToken(id, sec, "internal_user_mgt_list")
	at := str(tok["access_token"])
	if tok["scope"] != "internal_user_mgt_list" {
		t.Fatalf("admin-owned client should get the internal scope: %v", tok["scope"])
	}
	e.want(e.do("GET", "/scim2/Users", nil, bearer(at)), 200)

	intro := func(token string) map[string]any {
		r := e.do("POST", "/oauth2/introspect", url.Values{"token": {token}}, admin)
		e.want(r, 200)
		return r.json(t)
	}
	if m := intro(at); m["active"] != true || m["client_id"] != id || m["scope"] != "internal_user_mgt_list" {
		t.Errorf("introspect active: %v", m)
	}
	e.want(e.do("POST", "/oauth2/introspect", url.Values{"token": {at}}, nil), 401)

	e.clock.Advance(3601 * time.Second)
	e.want(e.do("GET", "/scim2/Users", nil, bearer(at)), 401)
	if m := intro(at); m["active"] != false || len(m) != 1 {
		t.Errorf("introspect expired: %v", m)
	}

	// ExpireTokens.
	_, tok = e.ccToken(id, sec, "internal_user_mgt_list")
	at = str(tok["access_token"])
	e.want(e.do("GET", "/scim2/Users", nil, bearer(at)), 200)
	e.s.ExpireTokens()
	e.want(e.do("GET", "/scim2/Users", nil, bearer(at)), 401)

	// Revoke.
	_, tok = e.ccToken(id, sec, "internal_user_mgt_list")
	at = str(tok["access_token"])
	e.want(e.do("POST", "/oauth2/revoke", url.Values{"token": {at}}, basic(id, "bad")), 401)
	e.want(e.do("POST", "/oauth2/revoke", url.Values{"token": {at}}, basic(id, sec)), 200)
	if m := intro(at); m["active"] != false {
		t.Errorf("revoked token still active")
	}
	e.want(e.do("POST", "/oauth2/revoke", url.Values{"token": {"unknown"}}, basic(id, sec)), 200)
}

func TestInternalScopeGranting(t *testing.T) {
	e := newEnv(t)
	// AllowedScopes restrict what the app gets; dropped scopes → 403.
	cl, err := e.s.AddClient(ClientSeed{AllowedScopes: []string{"internal_user_mgt_view"}})
	if err == nil {
		t.Fatalf("AddClient without a name must fail, got %+v", cl)
	}
	restricted, err := e.s.AddClient(ClientSeed{OAuthClient: simcoreClient("restricted-app"), AllowedScopes: []string{"internal_user_mgt_view"}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := e.ccToken(restricted.ClientID, restricted.ClientSecret, "internal_user_mgt_view internal_user_mgt_list")
	if tok["scope"] != "internal_user_mgt_view" {
		t.Errorf("restricted scopes: %v", tok["scope"])
	}
	e.want(e.do("GET", "/scim2/Users", nil, bearer(str(tok["access_token"]))), 403)

	// A client owned by a user without rights gets no internal scopes.
	if _, err := e.s.AddUser(UserSeed{UserName: "dev", Password: "Dev-pass1!"}); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", dcr, map[string]any{"client_name": "dev-app", "grant_types": []string{"client_credentials"},
		"ext_application_owner": "dev"}, admin)
	e.want(r, 201)
	m := r.json(t)
	_, tok = e.ccToken(str(m["client_id"]), str(m["client_secret"]), "internal_user_mgt_list custom_unregistered")
	if tok["scope"] != "custom_unregistered" {
		t.Errorf("non-admin owner: %v", tok["scope"])
	}
	if err := e.s.AuthorizeClientScopes(str(m["client_id"]), []string{"internal_user_mgt_list"}); err != nil {
		t.Fatal(err)
	}
	_, tok = e.ccToken(str(m["client_id"]), str(m["client_secret"]), "internal_user_mgt_list")
	if tok["scope"] != "internal_user_mgt_list" {
		t.Errorf("after AuthorizeClientScopes: %v", tok["scope"])
	}
}

func TestPasswordAndRefreshGrant(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.AddUser(UserSeed{UserName: "alice", Password: "Alice-pw1!", GivenName: "Alice", Emails: []string{"alice@example.com"}}); err != nil {
		t.Fatal(err)
	}
	c := e.register(map[string]any{"client_name": "web", "grant_types": []string{"password", "refresh_token"}})
	id, sec := str(c["client_id"]), str(c["client_secret"])
	bad := e.do("POST", "/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}}, basic(id, sec))
	e.want(bad, 400)
	if bad.json(t)["error"] != "invalid_grant" {
		t.Errorf("bad password: %s", bad.body)
	}
	r := e.do("POST", "/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"Alice-pw1!"},
		"scope": {"openid internal_user_mgt_list internal_login"}}, basic(id, sec))
	e.want(r, 200)
	tok := r.json(t)
	if tok["scope"] != "openid internal_login" {
		t.Errorf("user without rights got %v", tok["scope"])
	}
	if str(tok["id_token"]) == "" || str(tok["refresh_token"]) == "" {
		t.Fatalf("missing id_token/refresh_token: %v", tok)
	}
	claims := verifyJWT(t, e, str(tok["access_token"]))
	if claims["aut"] != "APPLICATION_USER" {
		t.Errorf("aut = %v", claims["aut"])
	}
	me := e.do("GET", "/scim2/Me", nil, bearer(str(tok["access_token"])))
	e.want(me, 200)
	if me.json(t)["userName"] != "alice" {
		t.Errorf("Me: %s", me.body)
	}
	ui := e.do("GET", "/oauth2/userinfo", nil, bearer(str(tok["access_token"])))
	e.want(ui, 200)
	if ui.json(t)["email"] != "alice@example.com" {
		t.Errorf("userinfo: %s", ui.body)
	}

	rr := e.do("POST", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}}, basic(id, sec))
	e.want(rr, 200)
	rtok := rr.json(t)
	if rtok["refresh_token"] == tok["refresh_token"] || rtok["access_token"] == tok["access_token"] {
		t.Errorf("refresh did not renew the pair")
	}
	// Old refresh token is revoked; old access token too.
	e.want(e.do("POST", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}}, basic(id, sec)), 400)
	e.want(e.do("GET", "/scim2/Me", nil, bearer(str(tok["access_token"]))), 401)
}

func TestDiscoveryJWKSAndCert(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/oauth2/token/.well-known/openid-configuration", nil, nil)
	e.want(r, 200)
	m := r.json(t)
	if m["issuer"] != e.srv.URL+"/oauth2/token" || m["jwks_uri"] != e.srv.URL+"/oauth2/jwks" ||
		m["registration_endpoint"] != e.srv.URL+dcr || m["introspection_endpoint"] != e.srv.URL+"/oauth2/introspect" {
		t.Errorf("discovery: %v", m)
	}
	cert := e.do("GET", "/api/server/v1/keystores/certs/public", nil, nil)
	e.want(cert, 200)
	blk, _ := pem.Decode(cert.body)
	if blk == nil {
		t.Fatalf("not PEM: %q", cert.body)
	}
	x, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !x.PublicKey.(*rsa.PublicKey).Equal(&e.s.key.PublicKey) {
		t.Errorf("server certificate is not for the signing key")
	}
	enc := e.do("GET", "/t/carbon.super/api/server/v1/keystores/certs/public?encode-cert=true", nil, nil)
	e.want(enc, 200)
	if dec, err := base64.StdEncoding.DecodeString(string(enc.body)); err != nil || string(dec) != string(cert.body) {
		t.Errorf("encode-cert=true is not base64 of the PEM")
	}
}
