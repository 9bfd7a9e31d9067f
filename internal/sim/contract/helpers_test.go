package contract

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// env is one validating simulator and the calls a curl user would make.
type env struct {
	t   testing.TB
	s   *sim.Sim
	v   *Validator
	tok string // APIM REST token (all scopes the suite needs)
}

// allScopes is the reconciler's single token request (WSO2-API.md §2.3).
const allScopes = "apim:admin apim:admin_operations apim:tier_view apim:tier_manage apim:subscribe " +
	"apim:app_manage apim:sub_manage apim:api_view apim:subscription_view apim:subscription_block " +
	"apim:ep_certificates_view apim:ep_certificates_manage apim:api_manage apim:client_certificates_view " +
	"apim:client_certificates_manage apim:client_certificates_add apim:client_certificates_update apim:api_create"

func newEnv(t testing.TB, opts sim.Options) *env {
	t.Helper()
	s, v := Start(t, opts, cov)
	return &env{t: t, s: s, v: v}
}

// token registers a DCR client (as the toolkit's setup-km does) and gets a
// password-grant token, once.
func (e *env) token() string {
	e.t.Helper()
	if e.tok == "" {
		id, secret := e.dcr("wso2sync-contract")
		e.tok = e.passwordToken(id, secret, allScopes)
	}
	return e.tok
}

func (e *env) dcr(name string) (string, string) {
	e.t.Helper()
	r := e.do("POST", e.s.APIMURL()+"/client-registration/v0.17/register", map[string]any{
		"callbackUrl": "https://localhost/cb", "clientName": name, "owner": "admin",
		"grantType": "client_credentials password refresh_token", "saasApp": true, "tokenType": "JWT",
	}, "Authorization", basic("admin", "admin"))
	r.want(e.t, 200)
	m := r.obj(e.t)
	return str(m["clientId"]), str(m["clientSecret"])
}

func (e *env) passwordToken(id, secret, scope string) string {
	e.t.Helper()
	r := e.do("POST", e.s.APIMURL()+"/oauth2/token", url.Values{"grant_type": {"password"},
		"username": {"admin"}, "password": {"admin"}, "scope": {scope}}, "Authorization", basic(id, secret))
	r.want(e.t, 200)
	return str(r.obj(e.t)["access_token"])
}

// apim calls an APIM REST API with the bearer token.
func (e *env) apim(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.do(method, e.s.APIMURL()+path, body, append([]string{"Authorization", "Bearer " + e.token()}, hdr...)...)
}

// is calls IS with admin Basic auth.
func (e *env) is(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.do(method, e.s.ISURL()+path, body, append([]string{"Authorization", basic("admin", "admin")}, hdr...)...)
}

type resp struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
}

func (r resp) want(t testing.TB, status ...int) resp {
	t.Helper()
	for _, s := range status {
		if r.Status == s {
			return r
		}
	}
	t.Fatalf("%s %s: status %d, want %v: %s", r.Method, r.URL, r.Status, status, r.Body)
	return r
}

func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: not a JSON object: %v: %s", r.Method, r.URL, err, r.Body)
	}
	return m
}

func (r resp) arr(t testing.TB) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("%s %s: not a JSON array: %v: %s", r.Method, r.URL, err, r.Body)
	}
	return a
}

// multipartBody is a multipart/form-data request body.
type multipartBody struct {
	fields map[string]string
	files  map[string]string // field → content
}

func (e *env) do(method, u string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	case multipartBody:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range b.fields {
			_ = mw.WriteField(k, v)
		}
		for k, v := range b.files {
			fw, _ := mw.CreateFormFile(k, k+".pem")
			_, _ = fw.Write([]byte(v))
		}
		_ = mw.Close()
		rd = &buf
		ct = mw.FormDataContentType()
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.s.HTTPClient().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Method: method, URL: u, Status: res.StatusCode, Header: res.Header, Body: b}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(m map[string]any, key string) []map[string]any {
	raw, _ := m[key].([]any)
	var out []map[string]any
	for _, x := range raw {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func find(items []map[string]any, key, val string) map[string]any {
	for _, it := range items {
		if str(it[key]) == val {
			return it
		}
	}
	return nil
}

// verifyJWT checks an RS256 JWT against a JWKS document and returns its
// claims.
func verifyJWT(token string, jwks []byte) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT")
	}
	var hdr struct {
		Alg, Kid string
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return nil, fmt.Errorf("bad JWT header")
	}
	if hdr.Alg != "RS256" {
		return nil, fmt.Errorf("alg %q, want RS256", hdr.Alg)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, N, E string
		}
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid || k.Kty != "RSA" {
			continue
		}
		nb, err1 := base64.RawURLEncoding.DecodeString(k.N)
		eb, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad JWK")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			return nil, fmt.Errorf("signature: %w", err)
		}
		pb, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		if err := json.Unmarshal(pb, &claims); err != nil {
			return nil, err
		}
		return claims, nil
	}
	return nil, fmt.Errorf("no JWK with kid %q", hdr.Kid)
}
