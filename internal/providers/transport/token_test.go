package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPIM implements DCR v0.17, the token endpoint (password, refresh_token
// and client_credentials grants) and one protected resource.
type fakeAPIM struct {
	t           *testing.T
	user, pass  string
	grantable   map[string]bool // nil: every scope
	expiresIn   int
	tokenDelay  time.Duration
	failRefresh atomic.Bool

	dcrHits, tokenHits, apiHits atomic.Int64

	mu        sync.Mutex
	dcrBody   map[string]any
	grants    []url.Values
	n         int
	valid     map[string]string // access token → scope
	refreshes map[string]string // refresh token → scope
}

const (
	fakeClientID     = "fOCi4vNJ59PpHucC2CAYfYuADdMa"
	fakeClientSecret = "a4FwHlq0iCIKVs2MPIIDnepZnYMa"
)

func newFakeAPIM(t *testing.T) (*fakeAPIM, string) {
	f := &fakeAPIM{t: t, user: "admin", pass: "admin", expiresIn: 3600, valid: map[string]string{}, refreshes: map[string]string{}}
	srv := newHandlerServer(t, f.serve)
	return f, srv.URL
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPIM) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/client-registration/v0.17/register":
		f.dcrHits.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
			writeJSON(w, 401, map[string]any{"code": 401, "message": "Unauthorized", "description": "Unauthenticated request", "moreInfo": "", "error": []any{}})
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.dcrBody = body
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"clientId": fakeClientID, "clientSecret": fakeClientSecret, "clientName": body["clientName"], "isSaasApplication": true})
	case "/oauth2/token":
		f.tokenHits.Add(1)
		time.Sleep(f.tokenDelay)
		if id, sec, ok := r.BasicAuth(); !ok || id != fakeClientID || sec != fakeClientSecret {
			writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "Client Authentication failed."})
			return
		}
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.grants = append(f.grants, r.PostForm)
		var scope string
		switch r.PostForm.Get("grant_type") {
		case "password":
			if r.PostForm.Get("username") != f.user || r.PostForm.Get("password") != f.pass {
				writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "Authentication failed for " + r.PostForm.Get("username")})
				return
			}
			scope = f.filter(r.PostForm.Get("scope"))
		case "client_credentials":
			scope = f.filter(r.PostForm.Get("scope"))
		case "refresh_token":
			s, ok := f.refreshes[r.PostForm.Get("refresh_token")]
			if !ok || f.failRefresh.Load() {
				writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "Persisted access token data not found"})
				return
			}
			scope = s
		default:
			writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type"})
			return
		}
		f.n++
		at, rt := fmt.Sprintf("at-%d", f.n), fmt.Sprintf("rt-%d", f.n)
		f.valid[at] = scope
		f.refreshes[rt] = scope
		writeJSON(w, 200, map[string]any{"access_token": at, "refresh_token": rt, "scope": scope, "token_type": "Bearer", "expires_in": f.expiresIn})
	default:
		f.apiHits.Add(1)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		scope, ok := f.valid[tok]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 401, map[string]any{"code": 900902, "message": "Invalid Credentials"})
			return
		}
		writeJSON(w, 200, map[string]any{"token": tok, "scope": scope})
	}
}

func (f *fakeAPIM) filter(scope string) string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if f.grantable == nil || f.grantable[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "default"
	}
	return strings.Join(out, " ")
}

func (f *fakeAPIM) revokeAll() {
	f.mu.Lock()
	f.valid = map[string]string{}
	f.mu.Unlock()
}

func (f *fakeAPIM) grant(i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants[i]
}

type apimSetup struct {
	base *Client
	api  *Client
	ts   *APIMTokenSource
	clk  *clock
}

func newAPIMSetup(t *testing.T, baseURL string, cfg APIMTokenConfig) apimSetup {
	base := newClient(t, fastOptions(baseURL))
	clk := newClock()
	if cfg.Username == nil {
		cfg.Username, cfg.Password = StaticSecret("admin"), StaticSecret("admin")
	}
	cfg.Now = clk.Now
	ts := NewAPIMTokenSource(base, cfg)
	return apimSetup{base: base, api: base.WithAuth(ts), ts: ts, clk: clk}
}

type protected struct{ Token, Scope string }

func (s apimSetup) call(t *testing.T, scopes ...string) protected {
	t.Helper()
	var out protected
	if err := s.api.JSON(context.Background(), Request{PathTemplate: "/api/am/devportal/v3/applications", Scopes: scopes}, &out); err != nil {
		t.Fatalf("call %v: %v", scopes, err)
	}
	return out
}

func TestAPIMTokenSourceRegistersAndLogsIn(t *testing.T) {
	f, u := newFakeAPIM(t)
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe", "apim:app_manage"}})
	got := s.call(t, "apim:app_manage")
	if got.Token != "at-1" {
		t.Fatalf("token %q", got.Token)
	}
	want := map[string]any{"callbackUrl": "https://localhost/wso2sync", "clientName": "wso2sync", "owner": "admin",
		"grantType": "client_credentials password refresh_token", "saasApp": true}
	if fmt.Sprint(f.dcrBody) != fmt.Sprint(want) {
		t.Errorf("DCR body %v", f.dcrBody)
	}
	g := f.grant(0)
	if g.Get("grant_type") != "password" || g.Get("username") != "admin" || g.Get("password") != "admin" ||
		g.Get("scope") != "apim:app_manage apim:subscribe" {
		t.Errorf("grant %v", g)
	}
	// More calls with covered scopes reuse the token.
	s.call(t, "apim:subscribe")
	s.call(t)
	if f.dcrHits.Load() != 1 || f.tokenHits.Load() != 1 || f.apiHits.Load() != 3 {
		t.Errorf("hits dcr %d token %d api %d", f.dcrHits.Load(), f.tokenHits.Load(), f.apiHits.Load())
	}
	if c := s.base.Counter().Snapshot(); c.Auth != 2 || c.Reads != 3 || c.Writes != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestAPIMTokenSourceScopeUnion(t *testing.T) {
	f, u := newFakeAPIM(t)
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe"}})
	s.call(t, "apim:subscribe")
	got := s.call(t, "apim:admin")
	if got.Token != "at-2" || f.grant(1).Get("scope") != "apim:admin apim:subscribe" {
		t.Fatalf("second token %q for %q", got.Token, f.grant(1).Get("scope"))
	}
	s.call(t, "apim:subscribe")
	s.call(t, "apim:admin", "apim:subscribe")
	if f.tokenHits.Load() != 2 {
		t.Fatalf("token hits %d, want 2", f.tokenHits.Load())
	}
}

func TestAPIMTokenSourceSingleFlight(t *testing.T) {
	f, u := newFakeAPIM(t)
	f.tokenDelay = 30 * time.Millisecond
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe"}})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { s.call(t, "apim:subscribe") })
	}
	wg.Wait()
	if f.dcrHits.Load() != 1 || f.tokenHits.Load() != 1 {
		t.Fatalf("dcr %d token %d, want 1 and 1", f.dcrHits.Load(), f.tokenHits.Load())
	}

	// Callers needing new scopes at the same time share as few fetches as
	// possible: the one in flight, and one more for the union of the rest.
	scopes := []string{"apim:admin", "apim:tier_view", "apim:api_view", "apim:sub_manage", "apim:app_manage"}
	for i := range 50 {
		wg.Go(func() { s.call(t, scopes[i%len(scopes)]) })
	}
	wg.Wait()
	if n := f.tokenHits.Load(); n < 2 || n > 3 {
		t.Fatalf("token hits %d, want 2 or 3", n)
	}
	last := strings.Fields(f.grant(int(f.tokenHits.Load()) - 1).Get("scope"))
	for _, sc := range append(scopes, "apim:subscribe") {
		if !slices.Contains(last, sc) {
			t.Fatalf("last token lacks %s: %v", sc, last)
		}
	}
}

func TestAPIMTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	f, u := newFakeAPIM(t)
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe"}})
	s.call(t, "apim:subscribe")
	s.clk.Advance(3000 * time.Second) // 600s left of 3600: more than 10%
	if got := s.call(t, "apim:subscribe"); got.Token != "at-1" || f.tokenHits.Load() != 1 {
		t.Fatalf("refreshed too early: %q, %d", got.Token, f.tokenHits.Load())
	}
	s.clk.Advance(300 * time.Second) // 300s left: less than 10%
	if got := s.call(t, "apim:subscribe"); got.Token != "at-2" {
		t.Fatalf("not refreshed: %q", got.Token)
	}
	if g := f.grant(1); g.Get("grant_type") != "refresh_token" || g.Get("refresh_token") != "rt-1" || g.Get("password") != "" {
		t.Fatalf("refresh grant %v", g)
	}
	// When the refresh token is refused, log in again.
	f.failRefresh.Store(true)
	s.clk.Advance(3500 * time.Second)
	if got := s.call(t, "apim:subscribe"); got.Token != "at-3" {
		t.Fatalf("no new token: %q", got.Token)
	}
	if g := f.grant(3); g.Get("grant_type") != "password" || f.grant(2).Get("grant_type") != "refresh_token" {
		t.Fatalf("grants %v then %v", f.grant(2), g)
	}
	if f.dcrHits.Load() != 1 {
		t.Fatalf("registered %d times", f.dcrHits.Load())
	}
}

func TestShortLivedTokensAreNotRefreshedOnEveryCall(t *testing.T) {
	f, u := newFakeAPIM(t)
	f.expiresIn = 30 // 60s skew would exceed the lifetime
	s := newAPIMSetup(t, u, APIMTokenConfig{})
	s.call(t)
	s.clk.Advance(10 * time.Second)
	s.call(t)
	if f.tokenHits.Load() != 1 {
		t.Fatalf("token hits %d", f.tokenHits.Load())
	}
	s.clk.Advance(6 * time.Second) // past half-life
	s.call(t)
	if f.tokenHits.Load() != 2 {
		t.Fatalf("token hits %d", f.tokenHits.Load())
	}
}

func TestAPIMTokenSourceRefreshesOnceOn401(t *testing.T) {
	f, u := newFakeAPIM(t)
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe"}})
	s.call(t, "apim:subscribe")
	f.revokeAll() // e.g. the server restarted
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if got := s.call(t, "apim:subscribe"); got.Token != "at-2" {
				t.Errorf("token %q", got.Token)
			}
		})
	}
	wg.Wait()
	if f.tokenHits.Load() != 2 {
		t.Fatalf("token hits %d, want 2: one refresh for 20 rejected calls", f.tokenHits.Load())
	}
	if g := f.grant(1); g.Get("grant_type") != "refresh_token" {
		t.Fatalf("grant %v", g)
	}
}

func TestAPIMTokenSourceBadCredentials(t *testing.T) {
	const hint = "check WSO2SYNC_ADMIN_USERNAME/WSO2SYNC_ADMIN_PASSWORD (the environment's credentials references)"
	t.Run("DCR rejects the admin", func(t *testing.T) {
		f, u := newFakeAPIM(t)
		s := newAPIMSetup(t, u, APIMTokenConfig{Username: StaticSecret("admin"), Password: StaticSecret("nope-wrong"), CredentialsHint: hint})
		_, err := s.api.Do(context.Background(), Request{PathTemplate: "/api/am/admin/v4/key-managers", Scopes: []string{"apim:admin"}})
		if !IsUnauthorized(err) || HintOf(err) != hint {
			t.Fatalf("got %v (hint %q)", err, HintOf(err))
		}
		if strings.Contains(err.Error(), "nope-wrong") {
			t.Fatalf("password in error: %v", err)
		}
		if f.dcrHits.Load() != 1 || f.tokenHits.Load() != 0 || f.apiHits.Load() != 0 {
			t.Fatalf("hits dcr %d token %d api %d", f.dcrHits.Load(), f.tokenHits.Load(), f.apiHits.Load())
		}
		if !strings.HasPrefix(err.Error(), "GET /api/am/admin/v4/key-managers: authorizing: POST /client-registration/v0.17/register") {
			t.Fatalf("error: %v", err)
		}
	})
	t.Run("token endpoint says invalid_grant", func(t *testing.T) {
		f, u := newFakeAPIM(t)
		s := newAPIMSetup(t, u, APIMTokenConfig{})
		// The client is registered already; the admin password has changed since.
		f.pass = "changed-since"
		s.ts.client = &dcrClient{id: fakeClientID, secret: fakeClientSecret}
		_, err := s.api.Do(context.Background(), Request{PathTemplate: "/api/x"})
		if !IsUnauthorized(err) || HintOf(err) != DefaultCredentialsHint || !strings.Contains(err.Error(), "[invalid_grant]") {
			t.Fatalf("got %v (hint %q)", err, HintOf(err))
		}
		if f.tokenHits.Load() != 1 || f.apiHits.Load() != 0 {
			t.Fatalf("bad credentials retried: token hits %d api %d", f.tokenHits.Load(), f.apiHits.Load())
		}
	})
	t.Run("registered client vanished", func(t *testing.T) {
		f, u := newFakeAPIM(t)
		s := newAPIMSetup(t, u, APIMTokenConfig{})
		s.ts.client = &dcrClient{id: "deleted", secret: "x"}
		s.call(t)
		if f.dcrHits.Load() != 1 || f.tokenHits.Load() != 2 {
			t.Fatalf("dcr %d token %d: want a re-registration", f.dcrHits.Load(), f.tokenHits.Load())
		}
	})
}

func TestAPIMTokenSourceFailsEarlyOnDeniedScope(t *testing.T) {
	f, u := newFakeAPIM(t)
	f.grantable = map[string]bool{"apim:subscribe": true}
	s := newAPIMSetup(t, u, APIMTokenConfig{InitialScopes: []string{"apim:subscribe", "apim:admin"}})
	s.call(t, "apim:subscribe")
	for range 2 {
		_, err := s.api.Do(context.Background(), Request{PathTemplate: "/api/am/admin/v4/key-managers", Scopes: []string{"apim:admin"}})
		if !IsForbidden(err) || !strings.Contains(err.Error(), "did not grant the scope(s) apim:admin") || HintOf(err) == "" {
			t.Fatalf("got %v", err)
		}
	}
	if f.tokenHits.Load() != 1 || f.apiHits.Load() != 1 {
		t.Fatalf("token %d api %d: a denied scope is neither re-requested nor sent", f.tokenHits.Load(), f.apiHits.Load())
	}
}

func TestISClientCredentials(t *testing.T) {
	f, u := newFakeAPIM(t)
	base := newClient(t, fastOptions(u))
	clk := newClock()
	ts := NewISClientCredentials(base, ISClientCredentialsConfig{
		ClientID: StaticSecret(fakeClientID), ClientSecret: StaticSecret(fakeClientSecret),
		Scopes: []string{"internal_user_mgt_list", "internal_user_mgt_create"}, Now: clk.Now,
	})
	api := base.WithAuth(ts)
	for range 3 {
		if err := api.JSON(context.Background(), Request{PathTemplate: "/scim2/Users", Scopes: []string{"internal_user_mgt_list"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokenHits.Load() != 1 {
		t.Fatalf("token hits %d", f.tokenHits.Load())
	}
	if g := f.grant(0); g.Get("grant_type") != "client_credentials" || g.Get("scope") != "internal_user_mgt_create internal_user_mgt_list" {
		t.Fatalf("grant %v", g)
	}
	clk.Advance(time.Hour)
	if err := api.JSON(context.Background(), Request{PathTemplate: "/scim2/Users"}, nil); err != nil {
		t.Fatal(err)
	}
	if f.tokenHits.Load() != 2 || f.grant(1).Get("grant_type") != "client_credentials" {
		t.Fatalf("expired token not replaced: hits %d", f.tokenHits.Load())
	}

	bad := base.WithAuth(NewISClientCredentials(base, ISClientCredentialsConfig{ClientID: StaticSecret("x"), ClientSecret: StaticSecret("y")}))
	err := bad.JSON(context.Background(), Request{PathTemplate: "/scim2/Users"}, nil)
	if !IsUnauthorized(err) || !strings.Contains(HintOf(err), "client id and secret") {
		t.Fatalf("got %v (hint %q)", err, HintOf(err))
	}
}

func TestRefreshRejectedIgnoresTokensAlreadyReplaced(t *testing.T) {
	f, u := newFakeAPIM(t)
	s := newAPIMSetup(t, u, APIMTokenConfig{})
	s.call(t)
	rejected := &http.Request{Header: http.Header{"Authorization": {"Bearer at-1"}}}
	ctx := context.Background()
	if err := s.ts.RefreshRejected(ctx, rejected); err != nil {
		t.Fatal(err)
	}
	if f.tokenHits.Load() != 2 {
		t.Fatalf("token hits %d, want 2", f.tokenHits.Load())
	}
	// A late 401 for the old token: at-2 is current, nothing to do.
	if err := s.ts.RefreshRejected(ctx, rejected); err != nil {
		t.Fatal(err)
	}
	if f.tokenHits.Load() != 2 {
		t.Fatalf("late rejection refreshed again: token hits %d", f.tokenHits.Load())
	}
	// Refresh (no rejected token known) always renews.
	if err := s.ts.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.call(t); got.Token != "at-3" {
		t.Fatalf("token %q", got.Token)
	}
}
