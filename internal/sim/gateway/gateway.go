// Package gateway simulates the WSO2 API Manager 4.5 gateway (port 8243 in
// seed 000) in front of the simulated APIs: every PUBLISHED or DEPRECATED
// API of the APIM simulator serves its context at /<context>/<version>/…
// (or its context when the context holds {version}).
//
// A call passes the gateway's handlers in the real order:
//
//  1. the API is matched by context and version (404 otherwise);
//  2. authentication: a Bearer token; a JWT is validated against the key
//     manager whose issuer equals its "iss" (signature with the key
//     manager's certificates — JWKS URL or PEM —, expiry, the consumer key
//     in the key manager's consumerKeyClaim, which the audience must
//     include); an opaque token is introspected in the IS simulator;
//     failures are 401 with 900901 (invalid) or 900902 (missing);
//  3. the subscription: the consumer key's application must subscribe to
//     the API (403 900908), the subscription must be active (900907
//     blocked, 900909 on hold);
//  4. throttling by the subscription tier (429 900804) and the application
//     tier (429 900803), counted per window on the simulator's clock;
//  5. the backend: none exists in the simulator, so the gateway answers 200
//     with a small JSON echo of what it resolved.
//
// Error bodies are the gateway's JSON faults (WSO2-API.md §4 and the APIM
// 4.5 error-handling page): {"code":"900901","message":"Invalid
// Credentials","description":"…"}.
package gateway

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// ControlPlane is the APIM simulator as the gateway sees it.
type ControlPlane interface {
	GatewayAPIs() []apim.GatewayAPI
	GatewayKeyManagers() []apim.GatewayKeyManager
	GatewayAccessFor(consumerKey, keyManagerID, apiID string) apim.GatewayAccess
}

// Introspector validates opaque tokens (the IS simulator).
type Introspector interface {
	LookupToken(token string) (is.TokenInfo, bool)
}

// Options configure a Gateway.
type Options struct {
	APIM ControlPlane
	// IS introspects opaque tokens; nil refuses them.
	IS Introspector
	// HTTPClient fetches key managers' JWKS (the simulator's client, which
	// reaches wso2is:9443 and the listeners); nil → http.DefaultClient.
	HTTPClient *http.Client
	// Clock decides expiry and throttling windows; nil → the wall clock.
	Clock simcore.Clock
}

// Gateway is an http.Handler serving the deployed APIs.
type Gateway struct {
	o Options

	mu       sync.Mutex
	jwks     map[string]jwksEntry // JWKS URL → keys
	counters map[string]*window   // throttle key → window
}

type jwksEntry struct {
	set     jose.JSONWebKeySet
	fetched time.Time
}

// window counts requests in one throttling window.
type window struct {
	start time.Time
	count int64
}

// jwksTTL bounds how long fetched keys are reused (wall clock).
const jwksTTL = time.Minute

// New returns a gateway over the control plane.
func New(o Options) *Gateway {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Clock == nil {
		o.Clock = simcore.SystemClock{}
	}
	return &Gateway{o: o, jwks: map[string]jwksEntry{}, counters: map[string]*window{}}
}

// Fault codes of the gateway (APISecurityConstants, ThrottleConstants).
const (
	CodeInvalidCredentials = "900901"
	CodeMissingCredentials = "900902"
	CodeAPIBlocked         = "900907"
	CodeResourceForbidden  = "900908"
	CodeSubscriptionOnHold = "900909"
	CodeAppThrottled       = "900803"
	CodeSubThrottled       = "900804"
)

// Fault is the gateway's JSON error body.
type Fault struct {
	Code           string `json:"code"`
	Message        string `json:"message"`
	Description    string `json:"description"`
	NextAccessTime string `json:"nextAccessTime,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fault(w http.ResponseWriter, status int, f Fault) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `OAuth2 realm="WSO2 API Manager", error="invalid_token", error_description="`+f.Message+`"`)
	}
	writeJSON(w, status, f)
}

func invalid(w http.ResponseWriter, why string) {
	fault(w, http.StatusUnauthorized, Fault{Code: CodeInvalidCredentials, Message: "Invalid Credentials",
		Description: "Invalid Credentials. Make sure you have provided the correct security credentials (" + why + ")"})
}

// caller is who a validated token speaks for.
type caller struct {
	consumerKey  string
	keyManagerID string // "" for an opaque token: any key manager's mapping
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api, resource, ok := g.match(r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "404", "type": "Status report",
			"message": "Not Found", "description": "The requested resource is not available."})
		return
	}
	token, ok := bearer(r)
	if !ok {
		fault(w, http.StatusUnauthorized, Fault{Code: CodeMissingCredentials, Message: "Missing Credentials",
			Description: "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' or 'apikey: API_KEY'"})
		return
	}
	var c caller
	var why string
	if strings.Count(token, ".") == 2 {
		c, why = g.validateJWT(token)
	} else {
		c, why = g.introspect(token)
	}
	if why != "" {
		invalid(w, why)
		return
	}
	acc := g.o.APIM.GatewayAccessFor(c.consumerKey, c.keyManagerID, api.ID)
	forbidden := func(desc string) {
		fault(w, http.StatusForbidden, Fault{Code: CodeResourceForbidden, Message: "Resource forbidden", Description: desc})
	}
	switch {
	case !acc.KeyFound:
		forbidden("User is NOT authorized to access the Resource. API Subscription validation failed. (no application holds consumer key " + c.consumerKey + ")")
		return
	case !acc.Subscribed:
		forbidden(fmt.Sprintf("User is NOT authorized to access the Resource. API Subscription validation failed. (application %s is not subscribed to %s %s)", acc.Application, api.Name, api.Version))
		return
	}
	switch acc.SubscriptionStatus {
	case "UNBLOCKED", "TIER_UPDATE_PENDING":
	case "BLOCKED":
		fault(w, http.StatusForbidden, Fault{Code: CodeAPIBlocked, Message: "The requested API is temporarily blocked",
			Description: "The subscription of " + acc.Application + " to " + api.Name + " is blocked"})
		return
	case "PROD_ONLY_BLOCKED":
		if acc.KeyType == "PRODUCTION" {
			fault(w, http.StatusForbidden, Fault{Code: CodeAPIBlocked, Message: "The requested API is temporarily blocked",
				Description: "The subscription of " + acc.Application + " to " + api.Name + " is blocked for production keys"})
			return
		}
	default:
		fault(w, http.StatusForbidden, Fault{Code: CodeSubscriptionOnHold, Message: "The subscription to the API is inactive",
			Description: "The subscription of " + acc.Application + " to " + api.Name + " is " + acc.SubscriptionStatus})
		return
	}
	if code, next := g.throttle(acc, api); code != "" {
		fault(w, http.StatusTooManyRequests, Fault{Code: code, Message: "Message throttled out",
			Description: "You have exceeded your quota", NextAccessTime: next.UTC().Format("2006-Jan-02 15:04:05-0700 MST")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"api": api.Name, "version": api.Version, "method": r.Method,
		"resource": resource, "application": acc.Application, "keyType": acc.KeyType})
}

// match finds the API whose /context/version prefixes the path, the
// longest first; resource is the rest ("/" when empty).
func (g *Gateway) match(path string) (apim.GatewayAPI, string, bool) {
	var best apim.GatewayAPI
	bestLen := -1
	for _, a := range g.o.APIM.GatewayAPIs() {
		base := BasePath(a.Context, a.Version)
		if (path == base || strings.HasPrefix(path, base+"/")) && len(base) > bestLen {
			best, bestLen = a, len(base)
		}
	}
	if bestLen < 0 {
		return best, "", false
	}
	rest := strings.TrimPrefix(path, BasePath(best.Context, best.Version))
	if rest == "" {
		rest = "/"
	}
	return best, rest, true
}

// BasePath is where an API is served on the gateway: its context with
// {version} replaced, else /<context>/<version> (APIM's invocation URL of
// a version that is not the default one).
func BasePath(context, version string) string {
	c := "/" + strings.Trim(context, "/")
	if strings.Contains(c, "{version}") {
		return strings.ReplaceAll(c, "{version}", version)
	}
	return c + "/" + version
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// validateJWT checks a JWT as a gateway with enableSelfValidationJWT does;
// why is "" when it is valid.
func (g *Gateway) validateJWT(raw string) (caller, string) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256})
	if err != nil {
		return caller{}, "malformed JWT"
	}
	var unverified map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return caller{}, "malformed JWT claims"
	}
	iss, _ := unverified["iss"].(string)
	var km *apim.GatewayKeyManager
	for _, k := range g.o.APIM.GatewayKeyManagers() {
		if k.Enabled && k.Issuer != "" && k.Issuer == iss {
			km = &k
			break
		}
	}
	if km == nil {
		return caller{}, fmt.Sprintf("no enabled key manager has the issuer %q", iss)
	}
	keys, err := g.keys(km)
	if err != nil {
		return caller{}, "the key manager's certificates cannot be read: " + err.Error()
	}
	kid := ""
	if len(tok.Headers) > 0 {
		kid = tok.Headers[0].KeyID
	}
	var std jwt.Claims
	var claims map[string]any
	verified := false
	for _, k := range keys {
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if err := tok.Claims(k.Key, &std, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return caller{}, "the JWT signature does not verify with the key manager's certificates"
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: g.o.Clock.Now()}, 0); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return caller{}, "the access token expired"
		}
		return caller{}, "the JWT is not valid: " + err.Error()
	}
	claim := km.ConsumerKeyClaim
	if claim == "" {
		claim = "azp"
	}
	ck, _ := claims[claim].(string)
	if ck == "" {
		ck, _ = claims["client_id"].(string)
	}
	if ck == "" {
		return caller{}, "the JWT carries no consumer key (claim " + claim + ")"
	}
	if len(std.Audience) > 0 && !slices.Contains([]string(std.Audience), ck) {
		return caller{}, "the JWT's audience does not include its consumer key"
	}
	return caller{consumerKey: ck, keyManagerID: km.ID}, ""
}

// keys returns the key manager's verification keys: its JWKS (fetched,
// cached for jwksTTL) or its PEM certificate.
func (g *Gateway) keys(km *apim.GatewayKeyManager) ([]jose.JSONWebKey, error) {
	switch strings.ToUpper(km.CertificatesType) {
	case "PEM":
		b, _ := pem.Decode([]byte(km.CertificatesValue))
		if b == nil {
			return nil, errors.New("no PEM certificate")
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return []jose.JSONWebKey{{Key: cert.PublicKey}}, nil
	case "JWKS":
	default:
		return nil, fmt.Errorf("certificates type %q", km.CertificatesType)
	}
	u := km.CertificatesValue
	g.mu.Lock()
	e, ok := g.jwks[u]
	g.mu.Unlock()
	if ok && time.Since(e.fetched) < jwksTTL {
		return e.set.Keys, nil
	}
	resp, err := g.o.HTTPClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("GET %s: not a JWKS", u)
	}
	g.mu.Lock()
	g.jwks[u] = jwksEntry{set: set, fetched: time.Now()}
	g.mu.Unlock()
	return set.Keys, nil
}

// introspect validates an opaque token in IS.
func (g *Gateway) introspect(token string) (caller, string) {
	if g.o.IS == nil {
		return caller{}, "opaque tokens cannot be introspected"
	}
	info, ok := g.o.IS.LookupToken(token)
	if !ok {
		return caller{}, "the access token is not active"
	}
	return caller{consumerKey: info.ClientID}, ""
}

// throttle counts the call against the subscription and application tiers;
// it returns the fault code and the next access time when a limit is hit.
func (g *Gateway) throttle(acc apim.GatewayAccess, api apim.GatewayAPI) (string, time.Time) {
	now := g.o.Clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if next, over := g.count("sub|"+acc.ApplicationID+"|"+api.ID, acc.SubLimit, now); over {
		return CodeSubThrottled, next
	}
	if next, over := g.count("app|"+acc.ApplicationID+"|"+acc.KeyType, acc.AppLimit, now); over {
		return CodeAppThrottled, next
	}
	return "", time.Time{}
}

// count adds one request to a window; over reports the limit was already
// reached in it.
func (g *Gateway) count(key string, l *apim.RequestCountLimit, now time.Time) (time.Time, bool) {
	if l == nil || l.RequestCount <= 0 {
		return time.Time{}, false
	}
	span := unit(l.TimeUnit) * time.Duration(max(l.UnitTime, 1))
	w := g.counters[key]
	if w == nil || !now.Before(w.start.Add(span)) {
		w = &window{start: now}
		g.counters[key] = w
	}
	if w.count >= l.RequestCount {
		return w.start.Add(span), true
	}
	w.count++
	return time.Time{}, false
}

func unit(u string) time.Duration {
	switch strings.ToLower(u) {
	case "sec", "second", "seconds", "s":
		return time.Second
	case "hour", "hours", "h":
		return time.Hour
	case "day", "days", "d":
		return 24 * time.Hour
	case "month":
		return 30 * 24 * time.Hour
	case "year":
		return 365 * 24 * time.Hour
	}
	return time.Minute
}
