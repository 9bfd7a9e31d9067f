// Package simcore holds the few types the simulated WSO2 servers share:
// the in-process link from the APIM simulator to the IS simulator (the
// cross-server effects of an IS 7 key manager), the clock, and the knobs
// that fault injection turns inside handlers (workflow mode, search lag).
//
// It has no HTTP handlers of its own; internal/sim/apim and internal/sim/is
// serve the two REST surfaces and internal/sim composes them.
package simcore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Errors a ClientRegistry returns. The IS simulator maps them to the wire
// statuses IS really uses (DCR: not-found → 401, conflict → 400); the APIM
// simulator maps them to what APIM answers when its key manager call fails.
var (
	ErrNotFound     = errors.New("oauth client not found")
	ErrConflict     = errors.New("oauth client already exists")
	ErrInvalid      = errors.New("invalid oauth client metadata")
	ErrUnauthorized = errors.New("key manager credentials rejected")
)

// Credentials are what an IS 7 key manager connector authenticates to IS
// with (the KeyManager's Username/Password connector configuration).
type Credentials struct {
	Username string
	Password string
}

// OAuthClient is an OAuth application registered in IS through DCR v1.1, as
// the IS 7 key manager connector creates it on APIM generate-keys.
type OAuthClient struct {
	ClientID     string
	ClientSecret string
	// ClientName is <owner>_<appUUID>_<KEYTYPE> when APIM's connector made it.
	ClientName   string
	GrantTypes   []string
	RedirectURIs []string
	// ApplicationDisplayName is ext_application_display_name: the APIM
	// application's name.
	ApplicationDisplayName string
	Owner                  string
	TokenType              string // ext_... token type: "JWT" or "Default"
	// ExtParams carries the other ext_* members (token lifetimes, PKCE,
	// public client) as IS echoes them.
	ExtParams map[string]any
	CreatedAt time.Time
}

// ClientRegistry is the IS side of an IS 7 key manager as the APIM
// simulator sees it. The real connector calls IS DCR v1.1 over HTTP with the
// KeyManager's Basic credentials; in-process we call the IS store directly,
// with the same credential check, so that cross-server effects (client
// created on generate-keys, removed on application delete, required to exist
// for map-keys, usable at IS /oauth2/token) hold.
type ClientRegistry interface {
	// RegisterClient creates a client. A ClientID/ClientSecret set in c are
	// used as given (ext_param_client_id / ext_param_client_secret).
	RegisterClient(ctx context.Context, creds Credentials, c OAuthClient) (OAuthClient, error)
	GetClient(ctx context.Context, creds Credentials, clientID string) (OAuthClient, error)
	UpdateClient(ctx context.Context, creds Credentials, c OAuthClient) (OAuthClient, error)
	DeleteClient(ctx context.Context, creds Credentials, clientID string) error
}

// Clock lets tests move time forward to expire tokens without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock tests advance by hand.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock starts at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Knobs are the behaviours fault injection switches inside handlers (as
// opposed to latency, 5xx, 429 and resets, which a middleware injects in
// front of them). Safe for concurrent use.
type Knobs struct {
	mu        sync.RWMutex
	workflow  bool
	searchLag time.Duration
	caps      PageCaps
}

// PageCaps are silent caps on the page size of each list family: a
// request asking for more gets at most this many items, as a real server
// configured with a smaller maximum would answer. 0 means the family's
// default (see each field), which is what the real servers do out of the
// box.
type PageCaps struct {
	// APIM caps every paginated APIM list (limit/offset): applications,
	// subscriptions, APIs, tiers, endpoint and client certificates.
	// Default: no cap (APIM declares no maximum, WSO2-API.md §3).
	APIM int `json:"apim,omitempty"`
	// SCIM caps SCIM2 Users, Groups and Roles pages (count). Default: the
	// IS Options.MaxSCIMCount (100, the user store's MaxUserNameListLength).
	SCIM int `json:"scim,omitempty"`
	// ISApplications caps IS /api/server/v1/applications pages (limit).
	// Default: 100, IdentityUtil.getMaximumItemPerPage()'s default
	// (IdentityCoreConstants.DEFAULT_MAXIMUM_ITEMS_PRE_PAGE in
	// wso2/carbon-identity-framework), which
	// ServerApplicationManagementService.validateAndGetLimit applies
	// silently (wso2/identity-api-server).
	ISApplications int `json:"isApplications,omitempty"`
}

// DefaultISApplicationsCap is the real IS's default maximum page of
// /applications (see PageCaps.ISApplications).
const DefaultISApplicationsCap = 100

// SetPageCaps replaces the page caps.
func (k *Knobs) SetPageCaps(c PageCaps) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.caps = c
}

// PageCaps are the current page caps (zero values: defaults).
func (k *Knobs) PageCaps() PageCaps {
	if k == nil {
		return PageCaps{}
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.caps
}

// CapPage applies cap to a requested page size: cap > 0 and smaller
// than limit wins.
func CapPage(limit, cap int) int {
	if cap > 0 && limit > cap {
		return cap
	}
	return limit
}

// SetWorkflow turns approval-workflow mode on or off (WSO2-API.md §5.3).
func (k *Knobs) SetWorkflow(on bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.workflow = on
}

// Workflow reports whether approval workflows are "configured".
func (k *Knobs) Workflow() bool {
	if k == nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.workflow
}

// SetSearchLag makes APIs created from now on stay out of API lists and
// searches for d (APIM's search index is updated asynchronously, so a new
// API is readable by id at once but found by a search only later;
// WSO2-API.md §5.1). Applications are listed from the database and have
// no lag.
func (k *Knobs) SetSearchLag(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.searchLag = d
}

// SearchLag is the current search-index lag.
func (k *Knobs) SearchLag() time.Duration {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.searchLag
}

// halfFailKey carries a requested half-failure in a request's context.
type halfFailKey struct{}

// HalfFailure is a request's ticket to fail half-way: a handler with a
// documented half-failure (generate-keys: the IS client is created, the
// mapping is not stored, 500; WSO2-API.md §5.4) calls Take at that point
// and, when it reports true, answers the failure. Handlers without one
// never call it, and the request is served normally.
type HalfFailure struct {
	mu    sync.Mutex
	taken bool
}

// Take reports whether the request should fail here, and records that it did.
func (h *HalfFailure) Take() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taken = true
	return true
}

// Taken reports whether a handler used the half-failure.
func (h *HalfFailure) Taken() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.taken
}

// WithHalfFailure asks the handler serving ctx's request to fail half-way.
func WithHalfFailure(ctx context.Context, h *HalfFailure) context.Context {
	return context.WithValue(ctx, halfFailKey{}, h)
}

// HalfFailureOf returns the request's half-failure ticket (nil: none asked).
func HalfFailureOf(ctx context.Context) *HalfFailure {
	h, _ := ctx.Value(halfFailKey{}).(*HalfFailure)
	return h
}
