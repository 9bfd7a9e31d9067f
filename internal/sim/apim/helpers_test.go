package apim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// fakeRegistry is an in-test IS: a client store with a credential check.
type fakeRegistry struct {
	mu      sync.Mutex
	clients map[string]simcore.OAuthClient
	seq     int
	failErr error // returned by the next call when set
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{clients: map[string]simcore.OAuthClient{}}
}

func (f *fakeRegistry) check(creds simcore.Credentials) error {
	if f.failErr != nil {
		err := f.failErr
		f.failErr = nil
		return err
	}
	if creds.Username != "admin" || creds.Password != "admin" {
		return simcore.ErrUnauthorized
	}
	return nil
}

func (f *fakeRegistry) RegisterClient(_ context.Context, creds simcore.Credentials, c simcore.OAuthClient) (simcore.OAuthClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(creds); err != nil {
		return simcore.OAuthClient{}, err
	}
	for _, x := range f.clients {
		if x.ClientName == c.ClientName {
			return simcore.OAuthClient{}, simcore.ErrConflict
		}
	}
	f.seq++
	if c.ClientID == "" {
		c.ClientID = "is-client-" + string(rune('a'+f.seq))
	}
	if c.ClientSecret == "" {
		c.ClientSecret = "is-secret-" + string(rune('a'+f.seq))
	}
	f.clients[c.ClientID] = c
	return c, nil
}

func (f *fakeRegistry) GetClient(_ context.Context, creds simcore.Credentials, id string) (simcore.OAuthClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(creds); err != nil {
		return simcore.OAuthClient{}, err
	}
	c, ok := f.clients[id]
	if !ok {
		return simcore.OAuthClient{}, simcore.ErrNotFound
	}
	return c, nil
}

func (f *fakeRegistry) UpdateClient(_ context.Context, creds simcore.Credentials, c simcore.OAuthClient) (simcore.OAuthClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(creds); err != nil {
		return simcore.OAuthClient{}, err
	}
	if _, ok := f.clients[c.ClientID]; !ok {
		return simcore.OAuthClient{}, simcore.ErrNotFound
	}
	f.clients[c.ClientID] = c
	return c, nil
}

func (f *fakeRegistry) DeleteClient(_ context.Context, creds simcore.Credentials, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(creds); err != nil {
		return err
	}
	if _, ok := f.clients[id]; !ok {
		return simcore.ErrNotFound
	}
	delete(f.clients, id)
	return nil
}

func (f *fakeRegistry) get(id string) (simcore.OAuthClient, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clients[id]
	return c, ok
}

func (f *fakeRegistry) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

var errBoom = errors.New("boom")

type env struct {
	t     *testing.T
	s     *Server
	ts    *httptest.Server
	clock *simcore.ManualClock
	reg   *fakeRegistry
	knobs *simcore.Knobs
	admin string // admin token with every scope
}

func newEnv(t *testing.T) *env { return newEnvWith(t, true) }

func newEnvWith(t *testing.T, withRegistry bool) *env {
	t.Helper()
	e := &env{t: t, clock: simcore.NewManualClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
		reg: newFakeRegistry(), knobs: &simcore.Knobs{}}
	opts := Options{Clock: e.clock, Knobs: e.knobs}
	if withRegistry {
		opts.Registry = e.reg
	}
	e.s = New(opts)
	e.ts = httptest.NewServer(e.s.Handler())
	t.Cleanup(e.ts.Close)
	e.admin = e.token("admin", "admin", AllScopes...)
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
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r resp) code(t *testing.T) float64 {
	t.Helper()
	c, _ := r.json(t)["code"].(float64)
	return c
}

func (e *env) raw(method, path string, hdr map[string]string, body io.Reader) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// do sends JSON with a bearer token ("" → no Authorization header).
func (e *env) do(method, path, tok string, body any) resp {
	e.t.Helper()
	hdr := map[string]string{}
	if tok != "" {
		hdr["Authorization"] = "Bearer " + tok
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
		hdr["Content-Type"] = "application/json"
	}
	return e.raw(method, path, hdr, rd)
}

func (e *env) dcr(user, pass, name string) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"clientName": name, "owner": user,
		"grantType": "client_credentials password refresh_token", "saasApp": true, "callbackUrl": "https://localhost/cb"})
	r := e.raw("POST", DCRBase+"/register", map[string]string{"Authorization": BasicAuthHeader(user, pass),
		"Content-Type": "application/json"}, bytes.NewReader(b))
	if r.status != 200 {
		e.t.Fatalf("DCR: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) tokenResp(user, pass string, scopes ...string) map[string]any {
	e.t.Helper()
	cl := e.dcr(user, pass, "rest_"+user)
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}, "scope": {strings.Join(scopes, " ")}}
	r := e.raw("POST", "/oauth2/token", map[string]string{
		"Authorization": BasicAuthHeader(cl["clientId"].(string), cl["clientSecret"].(string)),
		"Content-Type":  "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()))
	if r.status != 200 {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) token(user, pass string, scopes ...string) string {
	e.t.Helper()
	return e.tokenResp(user, pass, scopes...)["access_token"].(string)
}

func (e *env) mustStatus(r resp, want int) resp {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// is7KM is a valid WSO2-IS-7 key manager body.
func is7KM(name string) map[string]any {
	return map[string]any{
		"name": name, "type": "WSO2-IS-7", "enabled": true,
		"enableOAuthAppCreation": true, "enableMapOAuthConsumerApps": true, "enableTokenGeneration": true,
		"availableGrantTypes": []string{"client_credentials", "password", "refresh_token", "authorization_code"},
		"tokenEndpoint":       "https://wso2is:9443/oauth2/token",
		"additionalProperties": map[string]any{
			"Username": "admin", "Password": "admin",
			"api_resource_management_endpoint": "https://wso2is:9443/api/server/v1/api-resources",
			"is7_roles_endpoint":               "https://wso2is:9443/scim2/v2/Roles",
			"enable_roles_creation":            false,
		},
	}
}

func (e *env) createKM(body map[string]any) string {
	e.t.Helper()
	r := e.mustStatus(e.do("POST", AdminBase+"/key-managers", e.admin, body), 201)
	return r.json(e.t)["id"].(string)
}

func (e *env) createApp(tok, name string) string {
	e.t.Helper()
	r := e.mustStatus(e.do("POST", DevportalBase+"/applications", tok,
		map[string]any{"name": name, "throttlingPolicy": "Unlimited", "description": "d"}), 201)
	return r.json(e.t)["applicationId"].(string)
}

func list(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, _ := m["list"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		out = append(out, x.(map[string]any))
	}
	return out
}

func mustReq(t *testing.T, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}
