package is

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

type env struct {
	t     *testing.T
	s     *Server
	srv   *httptest.Server
	clock *simcore.ManualClock
}

type authFn func(*http.Request)

func basic(u, p string) authFn { return func(r *http.Request) { r.SetBasicAuth(u, p) } }

func bearer(tok string) authFn {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

var admin = basic("admin", "admin")

func newEnv(t *testing.T, mod ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, clock: simcore.NewManualClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))}
	opts := Options{Clock: e.clock}
	for _, m := range mod {
		m(&opts)
	}
	var base string
	opts.Issuer = func() string { return base }
	e.s = New(opts)
	e.srv = httptest.NewServer(e.s.Handler())
	base = e.srv.URL
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %q", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path string, body any, auth authFn) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	default:
		bs, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(bs)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != nil {
		auth(req)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) want(r resp, status int) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// register creates a DCR client and returns the response object.
func (e *env) register(body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/identity/oauth2/dcr/v1.1/register", body, admin)
	e.want(r, 201)
	return r.json(e.t)
}

// ccToken gets a client_credentials token.
func (e *env) ccToken(id, secret, scope string) (resp, map[string]any) {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := e.do("POST", "/oauth2/token", form, basic(id, secret))
	if r.status != 200 {
		return r, nil
	}
	return r, r.json(e.t)
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }
