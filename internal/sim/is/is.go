// Package is simulates the WSO2 Identity Server 7.1 REST surface that
// wso2sync and the APIM IS-7 key manager use: SCIM2 users, groups and
// Roles v2, OAuth DCR v1.1, the OAuth2 token/introspect/revoke/JWKS/
// discovery endpoints, api-resources, the applications subset behind DCR
// clients (list, get, OIDC inbound, regenerate-secret) and the public
// keystore certificate.
//
// The wire contract is the IS 7.1 OpenAPI files in
// third_party/wso2-specs (is-7.0-7.1_scim2.yaml, is-7.1-7.2_oauth-dcr-v1.1.yaml,
// is-7.1_api-resources-v1.yaml, is-7.1_applications-v1.yaml,
// is-7.0-7.3_keystores-v1.yaml). Where the
// real server differs from its spec (WSO2-API.md §7) the simulator follows
// the server and says so in an "erratum:" comment.
//
// Every route is served both bare (/scim2/Users) and in tenant form
// (/t/carbon.super/scim2/Users). Other tenants are not served (404).
//
// Behaviour choices worth knowing (see also the package tests):
//
//   - The token issuer (JWT "iss", discovery "issuer") is
//     Options.Issuer() + "/oauth2/token", as IS writes it; see IssuerURL.
//   - Authorization: Basic auth works for every user; a user's effective
//     scopes are the union of the permissions of its roles, every user
//     holds internal_login, and members of the "admin" role hold every
//     internal_* scope. Bearer tokens carry the scopes they were granted.
//     Missing/invalid credentials → 401 with an empty body; a missing
//     scope → 403 with an empty body (the IS authentication valve).
//   - Token scopes: requested internal_* scopes are granted to a
//     client_credentials token when the client's allowed-scopes list
//     (ClientSeed.AllowedScopes / AuthorizeClientScopes) contains them, or,
//     when the client has no such list, when the client's owner holds them
//     (so admin-owned clients get every internal_* scope they ask for).
//     Password-grant tokens get the internal_* scopes the user holds
//     (intersected with the client's list when it has one). Scopes that a
//     business API resource defines follow the same rule; scopes nobody
//     defines (e.g. "default", "openid") pass through unchanged. No
//     requested scope → "default". Scopes that are dropped are dropped
//     silently, as IS does.
//   - The SCIM count cap (Options.MaxSCIMCount) is silent; with a filter
//     and a partial page, totalResults is the page size (WSO2-API.md §3.8,
//     product-is#12717) — clients must page until a short page.
package is

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// Spec file names (in third_party/wso2-specs).
const (
	specSCIM         = "is-7.0-7.1_scim2.yaml"
	specDCR          = "is-7.1-7.2_oauth-dcr-v1.1.yaml"
	specAPIResources = "is-7.1_api-resources-v1.yaml"
	specKeystores    = "is-7.0-7.3_keystores-v1.yaml"
	specApplications = "is-7.1_applications-v1.yaml"
)

// Base paths.
const (
	baseSCIM      = "/scim2"
	baseDCR       = "/api/identity/oauth2/dcr/v1.1"
	baseServerAPI = "/api/server/v1"
	tenantPrefix  = "/t/carbon.super"
	superTenant   = "carbon.super"
	// superOrgID is the organization id IS 7 gives the carbon.super root
	// organization; it is the audience value of organization roles.
	superOrgID = "10084a8d-113f-4211-a0d5-efe36b082211"
)

// Options configure a simulated IS.
type Options struct {
	// Clock drives token expiry and meta timestamps; nil → SystemClock.
	Clock simcore.Clock
	// AdminUser and AdminPassword are the super admin; default admin/admin.
	AdminUser, AdminPassword string
	// Issuer returns the server's base URL (known only after listen); the
	// token issuer is Issuer()+"/oauth2/token". Default
	// "https://localhost:9444".
	Issuer func() string
	// TokenTTL is the access-token lifetime; default 3600s.
	TokenTTL time.Duration
	// MaxSCIMCount is the server's silent cap on SCIM count (default 100,
	// WSO2-API.md §5.19).
	MaxSCIMCount int
	// Knobs, if set, carry page caps changed at run time
	// (PageCaps.SCIM overrides MaxSCIMCount; PageCaps.ISApplications the
	// /applications maximum).
	Knobs *simcore.Knobs
	// PublicCertPEM is served at /api/server/v1/keystores/certs/public; nil
	// → a self-signed certificate generated at New.
	PublicCertPEM []byte
	// SkipPasswordPolicy turns off the IS 7 default password policy
	// (8–30 characters with upper case, lower case, digit and special
	// character) on SCIM writes. Seeds (AddUser) never check it.
	SkipPasswordPolicy bool
}

// Server is a simulated IS 7.1. Safe for concurrent use.
type Server struct {
	opts  Options
	clock simcore.Clock

	mu sync.RWMutex
	st *store

	key     *rsa.PrivateKey
	kid     string
	x5t     string
	x5c     string
	certPEM []byte

	mux    *http.ServeMux
	routes []simcore.Route
}

var _ simcore.ClientRegistry = (*Server)(nil)

// New builds a freshly installed IS: the admin user in the admin role, the
// everyone role and the system API resources.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = simcore.SystemClock{}
	}
	if opts.AdminUser == "" {
		opts.AdminUser = "admin"
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin"
	}
	if opts.Issuer == nil {
		opts.Issuer = func() string { return "https://localhost:9444" }
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 3600 * time.Second
	}
	if opts.MaxSCIMCount <= 0 {
		opts.MaxSCIMCount = 100
	}
	s := &Server{opts: opts, clock: opts.Clock}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("is: generate signing key: %v", err))
	}
	s.key = key
	s.initCert()
	s.st = s.freshStore()
	s.mux = http.NewServeMux()
	s.register()
	return s
}

// Handler serves the simulated IS.
func (s *Server) Handler() http.Handler { return s.mux }

// Mux is the ServeMux the routes are registered on (the composition layer
// may add its own routes).
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Routes lists every operation served, named as the spec names it (bare
// form; each is also served under /t/carbon.super).
func (s *Server) Routes() []simcore.Route {
	out := make([]simcore.Route, len(s.routes))
	copy(out, s.routes)
	return out
}

// Reset returns the server to a fresh install. The signing key and
// certificate are kept, so previously fetched JWKS stay valid.
func (s *Server) Reset() {
	st := s.freshStore()
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

// ExpireTokens makes every access and refresh token issued so far expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.clock.Now().Add(-time.Second)
	for _, t := range s.st.tokens {
		t.Expires = past
	}
	for _, t := range s.st.refresh {
		t.Expires = past
	}
}

// IssuerURL is the "iss" IS writes into its tokens:
// Options.Issuer()+"/oauth2/token".
func (s *Server) IssuerURL() string {
	return strings.TrimRight(s.opts.Issuer(), "/") + "/oauth2/token"
}

func (s *Server) baseURL() string { return strings.TrimRight(s.opts.Issuer(), "/") }

func (s *Server) now() time.Time { return s.clock.Now() }

type routeDef struct {
	simcore.Route
	h http.HandlerFunc
}

func (s *Server) register() {
	defs := []routeDef{}
	add := func(method, base, path, spec string, h http.HandlerFunc) {
		// A body of another media type is refused with 415 (item of the
		// resources' @Consumes): SCIM takes application/scim+json and
		// application/json (WSO2-API.md §3.8), the other REST APIs JSON.
		if spec != "" && (method == "POST" || method == "PUT" || method == "PATCH") {
			if spec == specSCIM {
				h = simcore.Consumes(h, "application/scim+json", "application/json")
			} else {
				h = simcore.Consumes(h, "application/json")
			}
		}
		defs = append(defs, routeDef{simcore.Route{Method: method, BasePath: base, Path: path, Spec: spec}, h})
	}
	listUsers, searchUsers := s.scimListHandlers("internal_user_mgt_list", s.listUsers)
	listGroups, searchGroups := s.scimListHandlers("internal_group_mgt_view", s.listGroups)
	listRoles, searchRoles := s.scimListHandlers("internal_role_mgt_view", s.listRoles)
	// SCIM2 users.
	add("GET", baseSCIM, "/Users", specSCIM, listUsers)
	add("POST", baseSCIM, "/Users", specSCIM, s.handleCreateUser)
	add("POST", baseSCIM, "/Users/.search", specSCIM, searchUsers)
	add("GET", baseSCIM, "/Users/{id}", specSCIM, s.handleGetUser)
	add("PUT", baseSCIM, "/Users/{id}", specSCIM, s.handlePutUser)
	add("PATCH", baseSCIM, "/Users/{id}", specSCIM, s.handlePatchUser)
	add("DELETE", baseSCIM, "/Users/{id}", specSCIM, s.handleDeleteUser)
	add("GET", baseSCIM, "/Me", specSCIM, s.handleMe)
	// SCIM2 groups.
	add("GET", baseSCIM, "/Groups", specSCIM, listGroups)
	add("POST", baseSCIM, "/Groups", specSCIM, s.handleCreateGroup)
	add("POST", baseSCIM, "/Groups/.search", specSCIM, searchGroups)
	add("GET", baseSCIM, "/Groups/{id}", specSCIM, s.handleGetGroup)
	add("PUT", baseSCIM, "/Groups/{id}", specSCIM, s.handlePutGroup)
	add("PATCH", baseSCIM, "/Groups/{id}", specSCIM, s.handlePatchGroup)
	add("DELETE", baseSCIM, "/Groups/{id}", specSCIM, s.handleDeleteGroup)
	// SCIM2 Roles v2.
	add("GET", baseSCIM, "/v2/Roles", specSCIM, listRoles)
	add("POST", baseSCIM, "/v2/Roles", specSCIM, s.handleCreateRole)
	add("POST", baseSCIM, "/v2/Roles/.search", specSCIM, searchRoles)
	add("GET", baseSCIM, "/v2/Roles/{id}", specSCIM, s.handleGetRole)
	add("PUT", baseSCIM, "/v2/Roles/{id}", specSCIM, s.handlePutRole)
	add("PATCH", baseSCIM, "/v2/Roles/{id}", specSCIM, s.handlePatchRole)
	add("DELETE", baseSCIM, "/v2/Roles/{id}", specSCIM, s.handleDeleteRole)
	// DCR v1.1.
	add("POST", baseDCR, "/register", specDCR, s.handleDCRRegister)
	// erratum §7.21: getApplicationByName takes client_name as a query
	// parameter on /register, not a path parameter.
	add("GET", baseDCR, "/register", specDCR, s.handleDCRGetByName)
	add("GET", baseDCR, "/register/{client_id}", specDCR, s.handleDCRGet)
	add("PUT", baseDCR, "/register/{client_id}", specDCR, s.handleDCRUpdate)
	add("DELETE", baseDCR, "/register/{client_id}", specDCR, s.handleDCRDelete)
	// OAuth2 (no official spec).
	add("POST", "", "/oauth2/token", "", s.handleToken)
	add("POST", "", "/oauth2/introspect", "", s.handleIntrospect)
	add("POST", "", "/oauth2/revoke", "", s.handleRevoke)
	add("GET", "", "/oauth2/jwks", "", s.handleJWKS)
	add("GET", "", "/oauth2/token/.well-known/openid-configuration", "", s.handleDiscovery)
	add("GET", "", "/oauth2/userinfo", "", s.handleUserInfo)
	// api-resources.
	add("GET", baseServerAPI, "/api-resources", specAPIResources, s.handleListAPIResources)
	add("POST", baseServerAPI, "/api-resources", specAPIResources, s.handleCreateAPIResource)
	add("GET", baseServerAPI, "/api-resources/{apiResourceId}", specAPIResources, s.handleGetAPIResource)
	add("PATCH", baseServerAPI, "/api-resources/{apiResourceId}", specAPIResources, s.handlePatchAPIResource)
	add("DELETE", baseServerAPI, "/api-resources/{apiResourceId}", specAPIResources, s.handleDeleteAPIResource)
	add("GET", baseServerAPI, "/api-resources/{apiResourceId}/scopes", specAPIResources, s.handleGetAPIResourceScopes)
	add("PUT", baseServerAPI, "/api-resources/{apiResourceId}/scopes", specAPIResources, s.handlePutAPIResourceScopes)
	add("DELETE", baseServerAPI, "/api-resources/{apiResourceId}/scopes/{scopeName}", specAPIResources, s.handleDeleteAPIResourceScope)
	// applications (the subset of §3.12: find the app behind a client,
	// rotate its secret).
	add("GET", baseServerAPI, "/applications", specApplications, s.handleListApplications)
	add("GET", baseServerAPI, "/applications/{applicationId}", specApplications, s.handleGetApplication)
	add("GET", baseServerAPI, "/applications/{applicationId}/inbound-protocols/oidc", specApplications, s.handleGetOIDCInbound)
	add("POST", baseServerAPI, "/applications/{applicationId}/inbound-protocols/oidc/regenerate-secret", specApplications, s.handleRegenerateOIDCSecret)
	// keystores.
	add("GET", baseServerAPI, "/keystores/certs/public", specKeystores, s.handlePublicCert)

	for _, d := range defs {
		s.routes = append(s.routes, d.Route)
		s.mux.HandleFunc(d.Pattern(), d.h)
		s.mux.HandleFunc(d.Method+" "+tenantPrefix+d.BasePath+d.Path, d.h)
	}
}

// ---- small HTTP helpers ----

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeStatus answers with a status and no body (the IS valve's 401/403,
// DCR's 401 for unknown clients).
func writeStatus(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// scimTime formats a meta timestamp the way IS does (ISO-8601, UTC, ms).
func scimTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
