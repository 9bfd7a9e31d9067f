// Package apim simulates the REST surface of WSO2 API Manager 4.5 that
// wso2sync uses: DCR v0.17 client registration, the /oauth2/token endpoint
// for REST-API tokens, Admin v4 (key managers, application/subscription
// tiers, settings), DevPortal v3 (applications, keys, subscriptions, APIs,
// key managers, tiers) and Publisher v4 (APIs, subscriptions, endpoint and
// client certificates), with the quirks WSO2-API.md documents.
//
// Cross-server effects of a WSO2-IS-7 key manager go through
// simcore.ClientRegistry (the IS simulator). All state is in memory behind
// one RWMutex; registry calls are made while holding it, so a
// ClientRegistry must never call back into this server.
package apim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// Base paths and spec files of the served APIs.
const (
	AdminBase     = "/api/am/admin/v4"
	DevportalBase = "/api/am/devportal/v3"
	PublisherBase = "/api/am/publisher/v4"
	DCRBase       = "/client-registration/v0.17"

	AdminSpec     = "apim-4.5.0_admin-api-v4.yaml"
	DevportalSpec = "apim-4.5.0_devportal-api-v3.yaml"
	PublisherSpec = "apim-4.5.0_publisher-api-v4.yaml"
	DCRSpec       = "apim-4.x_client-registration-v0.17_dcr.yaml"
)

// ResidentKeyManagerName is the name of APIM's built-in key manager.
const ResidentKeyManagerName = "Resident Key Manager"

// Options configure a Server.
type Options struct {
	Clock      simcore.Clock          // nil → SystemClock
	Knobs      *simcore.Knobs         // nil → none
	Registry   simcore.ClientRegistry // the IS simulator; nil → WSO2-IS-7 keys fail with 500
	HTTPClient *http.Client           // used by key-managers/discover; nil → http.DefaultClient
	// AdminUser and AdminPassword are the super admin (default admin/admin).
	AdminUser, AdminPassword string
	// TokenTTL is the validity of REST-API access tokens (default 3600s).
	TokenTTL time.Duration
}

// Server is the APIM simulator.
type Server struct {
	opts   Options
	clock  simcore.Clock
	mu     sync.RWMutex
	st     *store
	mux    *http.ServeMux
	routes []simcore.Route
}

// New returns a Server in the state of a fresh install (see Reset).
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = simcore.SystemClock{}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.AdminUser == "" {
		opts.AdminUser = "admin"
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 3600 * time.Second
	}
	s := &Server{opts: opts, clock: opts.Clock, mux: http.NewServeMux()}
	s.st = s.freshStore()
	s.registerRoutes()
	return s
}

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.mux }

// Mux is the ServeMux behind Handler, so that a middleware can find the
// matched pattern with Mux().Handler(r).
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Routes lists every operation served, with the exact spec path templates.
func (s *Server) Routes() []simcore.Route {
	return append([]simcore.Route(nil), s.routes...)
}

// ExpireTokens makes every issued access token expire now (refresh tokens
// keep working).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now().Add(-time.Second)
	for _, t := range s.st.tokens {
		t.Expiry = now
	}
}

// Reset puts the server back to a fresh install: the admin user, the
// DefaultApplication, the built-in tiers and the Resident Key Manager.
func (s *Server) Reset() {
	st := s.freshStore()
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

// Dump returns a deep copy of the whole state, sorted for stable output.
func (s *Server) Dump() State {
	s.mu.RLock()
	var out State
	st := s.st
	for _, u := range st.users {
		out.Users = append(out.Users, *u)
	}
	for _, c := range st.clients {
		out.Clients = append(out.Clients, *c)
	}
	for _, t := range st.tokens {
		out.Tokens = append(out.Tokens, *t)
	}
	for _, id := range st.kmOrder {
		out.KeyManagers = append(out.KeyManagers, *st.kms[id])
	}
	for _, t := range st.appTiers {
		out.ApplicationPolicies = append(out.ApplicationPolicies, t.ApplicationThrottlePolicy)
	}
	for _, t := range st.subTiers {
		out.SubscriptionPolicies = append(out.SubscriptionPolicies, t.SubscriptionThrottlePolicy)
	}
	for _, a := range st.apiSorted {
		out.APIs = append(out.APIs, a.API)
	}
	for _, a := range st.apps {
		app := a.Application
		app.SubscriptionCount = a.subCount
		out.Applications = append(out.Applications, app)
	}
	for _, sub := range st.subs {
		out.Subscriptions = append(out.Subscriptions, sub.Subscription)
	}
	for _, k := range st.keys {
		out.KeyMappings = append(out.KeyMappings, *k)
	}
	for _, a := range st.epCertOrder {
		out.EndpointCertificates = append(out.EndpointCertificates, *st.epCerts[a])
	}
	for _, k := range st.clCertOrder {
		out.ClientCertificates = append(out.ClientCertificates, *st.clCerts[k])
	}
	s.mu.RUnlock()

	// Deep copy (maps and slices inside the records) through JSON.
	b, err := json.Marshal(out)
	if err == nil {
		var cp State
		if json.Unmarshal(b, &cp) == nil {
			out = cp
		}
	}
	sort.Slice(out.Users, func(i, j int) bool { return out.Users[i].Name < out.Users[j].Name })
	sort.Slice(out.Clients, func(i, j int) bool { return out.Clients[i].ClientID < out.Clients[j].ClientID })
	sort.Slice(out.Tokens, func(i, j int) bool { return out.Tokens[i].AccessToken < out.Tokens[j].AccessToken })
	sort.Slice(out.ApplicationPolicies, func(i, j int) bool {
		return out.ApplicationPolicies[i].PolicyName < out.ApplicationPolicies[j].PolicyName
	})
	sort.Slice(out.SubscriptionPolicies, func(i, j int) bool {
		return out.SubscriptionPolicies[i].PolicyName < out.SubscriptionPolicies[j].PolicyName
	})
	sort.Slice(out.Applications, func(i, j int) bool {
		a, b := out.Applications[i], out.Applications[j]
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		return a.Name < b.Name
	})
	sort.Slice(out.Subscriptions, func(i, j int) bool {
		return out.Subscriptions[i].SubscriptionID < out.Subscriptions[j].SubscriptionID
	})
	sort.Slice(out.KeyMappings, func(i, j int) bool {
		return out.KeyMappings[i].KeyMappingID < out.KeyMappings[j].KeyMappingID
	})
	return out
}

// ---- helpers ----

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newKey returns a WSO2-looking 28-character client id/secret.
func newKey() string {
	var b [28]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) now() time.Time { return s.clock.Now() }

func (s *Server) workflow() bool { return s.opts.Knobs.Workflow() }

func (s *Server) searchLag() time.Duration { return s.opts.Knobs.SearchLag() }

func cloneStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return append([]string{}, v...)
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
