package transport

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// token is one access token with what it was asked for and granted.
type token struct {
	access, refresh string
	requested       map[string]bool
	granted         map[string]bool
	refreshAt       time.Time
	stale           bool // rejected with 401 or Refresh asked for
}

func (t *token) fresh(now time.Time) bool { return !t.stale && now.Before(t.refreshAt) }

func (t *token) covers(need []string) bool {
	for _, s := range need {
		if !t.granted[s] {
			return false
		}
	}
	return true
}

// maxLifetime bounds expires_in (WSO2 sends huge values for "never").
const maxLifetime = 365 * 24 * time.Hour

// newToken computes when to refresh: when less than 10% of the lifetime or
// less than 60s is left, but never later than half-way (short-lived tokens
// would otherwise be refreshed on every call).
func newToken(now time.Time, r tokenResponse, requested []string) *token {
	life := time.Duration(r.ExpiresIn) * time.Second
	if r.ExpiresIn <= 0 {
		life = time.Hour
	}
	if r.ExpiresIn > int64(maxLifetime/time.Second) {
		life = maxLifetime
	}
	skew := max(life/10, 60*time.Second)
	skew = min(skew, life/2)
	t := &token{
		access:    r.AccessToken,
		refresh:   r.RefreshToken,
		requested: setOf(requested),
		refreshAt: now.Add(life - skew),
	}
	if strings.TrimSpace(r.Scope) == "" {
		t.granted = setOf(requested) // the server did not say; assume all
	} else {
		t.granted = setOf(strings.Fields(r.Scope))
	}
	return t
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// tokenCache caches one token for the union of the scopes asked for so
// far and fetches single-flight: concurrent callers share one fetch.
type tokenCache struct {
	now     func() time.Time
	fetch   func(ctx context.Context, cur *token, scopes []string) (*token, error)
	denyErr func(missing []string) error

	mu        sync.Mutex
	cur       *token
	requested map[string]bool
	denied    map[string]bool // requested by the last fetch, not granted
	flight    *flight
}

type flight struct {
	done   chan struct{}
	scopes map[string]bool
	tok    *token
	err    error
}

func (tc *tokenCache) get(ctx context.Context, need []string) (*token, error) {
	for {
		tc.mu.Lock()
		if missing := tc.deniedOf(need); len(missing) > 0 {
			tc.mu.Unlock()
			return nil, tc.denyErr(missing)
		}
		if t := tc.cur; t != nil && t.fresh(tc.now()) && t.covers(need) {
			tc.mu.Unlock()
			return t, nil
		}
		for _, s := range need {
			tc.requested[s] = true
		}
		fl := tc.flight
		if fl == nil {
			fl = tc.startLocked(ctx)
		}
		tc.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-fl.done:
		}
		if fl.err != nil {
			return nil, fl.err
		}
		if fl.tok.covers(need) {
			return fl.tok, nil
		}
		// That fetch started before our scopes were added, or did not
		// grant them: go round (the next fetch asks for the union, or
		// deniedOf reports them).
	}
}

// refresh replaces the current token, unless it is no longer the one that
// was rejected (someone else replaced it already).
func (tc *tokenCache) refresh(ctx context.Context, rejected string) error {
	tc.mu.Lock()
	fl := tc.flight
	if fl == nil {
		if rejected != "" && (tc.cur == nil || tc.cur.access != rejected) {
			tc.mu.Unlock()
			return nil
		}
		if tc.cur != nil {
			tc.cur.stale = true
		}
		fl = tc.startLocked(ctx)
	}
	tc.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-fl.done:
		return fl.err
	}
}

// startLocked starts a fetch for all scopes requested so far. The fetch
// does not die with the context of the caller who happened to start it:
// others may be waiting for it. It is bounded by the client's timeouts.
func (tc *tokenCache) startLocked(ctx context.Context) *flight {
	fl := &flight{done: make(chan struct{}), scopes: maps.Clone(tc.requested)}
	tc.flight = fl
	cur := tc.cur
	scopes := slices.Sorted(maps.Keys(fl.scopes))
	go func() {
		tok, err := tc.fetch(context.WithoutCancel(ctx), cur, scopes)
		tc.mu.Lock()
		if err == nil {
			tc.cur = tok
			tc.denied = map[string]bool{}
			for s := range fl.scopes {
				if !tok.granted[s] {
					tc.denied[s] = true
				}
			}
		}
		fl.tok, fl.err = tok, err
		tc.flight = nil
		tc.mu.Unlock()
		close(fl.done)
	}()
	return fl
}

func (tc *tokenCache) deniedOf(need []string) []string {
	var missing []string
	for _, s := range need {
		if tc.denied[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		if s != "" {
			m[s] = true
		}
	}
	return m
}

func subset(ss []string, of map[string]bool) bool {
	for _, s := range ss {
		if !of[s] {
			return false
		}
	}
	return true
}

// Default endpoints and DCR registration values.
const (
	DefaultRegisterPath   = "/client-registration/v0.17/register"
	DefaultTokenPath      = "/oauth2/token"
	DefaultDCRClientName  = "wso2sync"
	DefaultDCRCallbackURL = "https://localhost/wso2sync"
)

// APIMTokenConfig configures an APIMTokenSource.
type APIMTokenConfig struct {
	// Username and Password are the admin credentials (resolved by the
	// caller from the environment's secret references).
	Username, Password SecretFunc
	// InitialScopes are requested with the first token, so that the typed
	// clients get one token for everything they do (WSO2-API.md §2.3).
	InitialScopes []string
	ClientName    string // DCR clientName, default "wso2sync"
	CallbackURL   string // DCR callbackUrl, default "https://localhost/wso2sync"
	RegisterPath  string // default "/client-registration/v0.17/register"
	TokenPath     string // default "/oauth2/token"
	// CredentialsHint overrides DefaultCredentialsHint.
	CredentialsHint string
	// Now is the clock deciding when to refresh. Default time.Now.
	Now func() time.Time
}

// APIMTokenSource authorizes APIM REST calls with bearer tokens: it
// registers a DCR v0.17 client with the admin credentials, then gets tokens
// with the password grant for the union of the scopes asked for so far,
// refreshes them before they expire and after a 401, and fails early when
// the server does not grant a needed scope. Safe for concurrent use.
type APIMTokenSource struct {
	http  *Client
	cfg   APIMTokenConfig
	cache tokenCache

	regMu  sync.Mutex
	client *dcrClient
}

type dcrClient struct{ id, secret string }

// NewAPIMTokenSource returns a token source that makes its own calls
// (registration, tokens) through c, which should be unauthenticated; they
// count as Auth calls.
func NewAPIMTokenSource(c *Client, cfg APIMTokenConfig) *APIMTokenSource {
	cfg.ClientName = cmpOr(cfg.ClientName, DefaultDCRClientName)
	cfg.CallbackURL = cmpOr(cfg.CallbackURL, DefaultDCRCallbackURL)
	cfg.RegisterPath = cmpOr(cfg.RegisterPath, DefaultRegisterPath)
	cfg.TokenPath = cmpOr(cfg.TokenPath, DefaultTokenPath)
	cfg.CredentialsHint = cmpOr(cfg.CredentialsHint, DefaultCredentialsHint)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &APIMTokenSource{http: c, cfg: cfg}
	s.cache = tokenCache{
		now:       cfg.Now,
		fetch:     s.fetch,
		denyErr:   func(missing []string) error { return scopeDenied(cfg.TokenPath, missing) },
		requested: setOf(cfg.InitialScopes),
	}
	return s
}

// Authorize sets a bearer token that holds scopes.
func (s *APIMTokenSource) Authorize(ctx context.Context, req *http.Request, scopes []string) error {
	t, err := s.cache.get(ctx, scopes)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.access)
	return nil
}

// Refresh replaces the current token.
func (s *APIMTokenSource) Refresh(ctx context.Context) error { return s.cache.refresh(ctx, "") }

// RefreshRejected replaces the token rejected carried, unless it was
// replaced already.
func (s *APIMTokenSource) RefreshRejected(ctx context.Context, rejected *http.Request) error {
	return s.cache.refresh(ctx, bearerOf(rejected))
}

// Hint is the hint given with 401 errors.
func (s *APIMTokenSource) Hint() string { return s.cfg.CredentialsHint }

func (s *APIMTokenSource) fetch(ctx context.Context, cur *token, scopes []string) (*token, error) {
	client, err := s.register(ctx, false)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.refresh != "" && subset(scopes, cur.requested) {
		tok, err := s.grant(ctx, client, url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {cur.refresh},
		}, scopes)
		if err == nil || ctx.Err() != nil {
			return tok, err
		}
		// The refresh token expired or was revoked: log in again.
	}
	user, pass, err := BasicAuth{Username: s.cfg.Username, Password: s.cfg.Password}.resolve(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type": {"password"},
		"username":   {user},
		"password":   {pass},
		"scope":      {strings.Join(scopes, " ")},
	}
	tok, err := s.grant(ctx, client, form, scopes)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "invalid_client" {
		// The registered client is gone (deleted in the console): register
		// again, once.
		if client, err = s.register(ctx, true); err != nil {
			return nil, err
		}
		tok, err = s.grant(ctx, client, form, scopes)
	}
	return tok, withCredentialsHint(err, s.cfg.CredentialsHint)
}

// register returns the DCR client, registering it on first use. DCR v0.17
// returns the existing client for an existing clientName, so this is safe
// to repeat.
func (s *APIMTokenSource) register(ctx context.Context, again bool) (*dcrClient, error) {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	if s.client != nil && !again {
		return s.client, nil
	}
	user, pass, err := BasicAuth{Username: s.cfg.Username, Password: s.cfg.Password}.resolve(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	req := Request{
		Method:       http.MethodPost,
		PathTemplate: s.cfg.RegisterPath,
		Header:       http.Header{"Authorization": {basicHeader(user, pass)}},
		Body: map[string]any{
			"callbackUrl": s.cfg.CallbackURL,
			"clientName":  s.cfg.ClientName,
			"owner":       user,
			"grantType":   "client_credentials password refresh_token",
			"saasApp":     true,
		},
		Idempotent: true,
		Sensitive:  true,
		Identity:   "DCR client " + s.cfg.ClientName,
		authCall:   true,
	}
	if err := s.http.JSON(ctx, req, &out); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			switch ae.Kind {
			case KindUnauthorized:
				ae.Hint = s.cfg.CredentialsHint
			case KindForbidden:
				ae.Hint = fmt.Sprintf("the DCR client %q belongs to another user: use that user's credentials or another client name", s.cfg.ClientName)
			}
		}
		return nil, err
	}
	if out.ClientID == "" || out.ClientSecret == "" {
		return nil, fmt.Errorf("POST %s: the response holds no clientId/clientSecret", s.cfg.RegisterPath)
	}
	s.client = &dcrClient{id: out.ClientID, secret: out.ClientSecret}
	return s.client, nil
}

func (s *APIMTokenSource) grant(ctx context.Context, c *dcrClient, form url.Values, scopes []string) (*token, error) {
	return requestToken(ctx, s.http, s.cfg.TokenPath, basicHeader(c.id, c.secret), form, scopes, s.cfg.Now)
}

// requestToken posts a token request and parses the answer.
func requestToken(ctx context.Context, c *Client, path, authz string, form url.Values, scopes []string, now func() time.Time) (*token, error) {
	var out tokenResponse
	err := c.JSON(ctx, Request{
		Method:       http.MethodPost,
		PathTemplate: path,
		Header:       http.Header{"Authorization": {authz}},
		Form:         form,
		Idempotent:   true, // a second token does no harm
		Sensitive:    true,
		Identity:     form.Get("grant_type") + " grant",
		authCall:     true,
	}, &out)
	if err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, fmt.Errorf("POST %s: the response holds no access_token", path)
	}
	return newToken(now(), out, scopes), nil
}

// withCredentialsHint marks the token endpoint's answers to bad credentials
// (invalid_grant for a wrong password, invalid_client for a wrong client)
// as Unauthorized with a hint.
func withCredentialsHint(err error, hint string) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Kind == KindUnauthorized,
		ae.Kind == KindBadRequest && (ae.Code == "invalid_grant" || ae.Code == "invalid_client" || ae.Code == "unauthorized_client"):
		cp := *ae
		cp.Kind = KindUnauthorized
		cp.Hint = hint
		return &cp
	}
	return err
}

func scopeDenied(tokenPath string, missing []string) error {
	return &APIError{
		Kind:         KindForbidden,
		Method:       http.MethodPost,
		PathTemplate: tokenPath,
		Message:      "the token endpoint did not grant the scope(s) " + strings.Join(missing, " "),
		Hint:         "give the user a role that holds these scopes, or leave out the resources that need them",
	}
}

func basicHeader(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// ISClientCredentialsConfig configures ISClientCredentials.
type ISClientCredentialsConfig struct {
	ClientID, ClientSecret SecretFunc
	// Scopes are requested with the first token (internal_* scopes the
	// application is authorized for, WSO2-API.md §2.4).
	Scopes          []string
	TokenPath       string // default "/oauth2/token"
	CredentialsHint string
	Now             func() time.Time
}

// ISClientCredentials authorizes IS calls with a client_credentials token.
// IS silently drops internal_* scopes not authorized for the application;
// a needed scope that was dropped fails the call before it is sent.
type ISClientCredentials struct {
	http  *Client
	cfg   ISClientCredentialsConfig
	cache tokenCache
}

// NewISClientCredentials returns a token source whose token requests go
// through c (unauthenticated).
func NewISClientCredentials(c *Client, cfg ISClientCredentialsConfig) *ISClientCredentials {
	cfg.TokenPath = cmpOr(cfg.TokenPath, DefaultTokenPath)
	cfg.CredentialsHint = cmpOr(cfg.CredentialsHint, "check the IS client id and secret that the environment's credentials references resolve to")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &ISClientCredentials{http: c, cfg: cfg}
	s.cache = tokenCache{
		now:       cfg.Now,
		fetch:     s.fetch,
		denyErr:   func(missing []string) error { return scopeDenied(cfg.TokenPath, missing) },
		requested: setOf(cfg.Scopes),
	}
	return s
}

// Authorize sets a bearer token that holds scopes.
func (s *ISClientCredentials) Authorize(ctx context.Context, req *http.Request, scopes []string) error {
	t, err := s.cache.get(ctx, scopes)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.access)
	return nil
}

// Refresh gets a new token.
func (s *ISClientCredentials) Refresh(ctx context.Context) error { return s.cache.refresh(ctx, "") }

// RefreshRejected gets a new token unless the rejected one was replaced.
func (s *ISClientCredentials) RefreshRejected(ctx context.Context, rejected *http.Request) error {
	return s.cache.refresh(ctx, bearerOf(rejected))
}

// Hint is the hint given with 401 errors.
func (s *ISClientCredentials) Hint() string { return s.cfg.CredentialsHint }

func (s *ISClientCredentials) fetch(ctx context.Context, _ *token, scopes []string) (*token, error) {
	id, secret, err := BasicAuth{Username: s.cfg.ClientID, Password: s.cfg.ClientSecret}.resolve(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := requestToken(ctx, s.http, s.cfg.TokenPath, basicHeader(id, secret), url.Values{
		"grant_type": {"client_credentials"},
		"scope":      {strings.Join(scopes, " ")},
	}, scopes, s.cfg.Now)
	return tok, withCredentialsHint(err, s.cfg.CredentialsHint)
}

var (
	_ RejectionAwareAuthenticator = (*APIMTokenSource)(nil)
	_ RejectionAwareAuthenticator = (*ISClientCredentials)(nil)
	_ Authenticator               = BasicAuth{}
)
