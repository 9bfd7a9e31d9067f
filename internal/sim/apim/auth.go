package apim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// AllScopes are the APIM REST scopes (the union of the 4.5 admin, devportal
// and publisher specs). The admin role holds all of them.
var AllScopes = []string{
	"apim:admin", "apim:admin_alert_manage", "apim:admin_operations", "apim:admin_settings",
	"apim:api_create", "apim:api_definition_view", "apim:api_delete", "apim:api_generate_key",
	"apim:api_import_export", "apim:api_key", "apim:api_list_view", "apim:api_manage",
	"apim:api_mediation_policy_manage", "apim:api_product_import_export", "apim:api_publish",
	"apim:api_view", "apim:api_workflow_approve", "apim:api_workflow_view", "apim:app_import_export",
	"apim:app_manage", "apim:app_owner_change", "apim:bl_manage", "apim:bl_view", "apim:bot_data",
	"apim:client_certificates_add", "apim:client_certificates_manage", "apim:client_certificates_update",
	"apim:client_certificates_view", "apim:comment_manage", "apim:comment_view", "apim:comment_write",
	"apim:common_operation_policy_manage", "apim:common_operation_policy_view", "apim:document_create",
	"apim:document_manage", "apim:environment_manage", "apim:environment_read", "apim:ep_certificates_add",
	"apim:ep_certificates_manage", "apim:ep_certificates_update", "apim:ep_certificates_view",
	"apim:gateway_policy_manage", "apim:gateway_policy_view", "apim:label_manage", "apim:label_read",
	"apim:llm_provider_manage", "apim:mediation_policy_create", "apim:mediation_policy_manage",
	"apim:mediation_policy_view", "apim:monetization_usage_publish", "apim:organization_manage",
	"apim:organization_read", "apim:policies_import_export", "apim:pub_alert_manage",
	"apim:publisher_organization_read", "apim:publisher_settings", "apim:scope_manage",
	"apim:shared_scope_manage", "apim:store_settings", "apim:sub_alert_manage", "apim:sub_manage",
	"apim:subscribe", "apim:subscription_block", "apim:subscription_manage", "apim:subscription_view",
	"apim:tenant_theme_manage", "apim:threat_protection_policy_create", "apim:threat_protection_policy_manage",
	"apim:tier_manage", "apim:tier_view",
}

// Roles a user may hold (AddUser) and the APIM scopes each grants.
const (
	RoleAdmin      = "admin"
	RoleSubscriber = "Internal/subscriber"
	RolePublisher  = "Internal/publisher"
	RoleCreator    = "Internal/creator"
)

var roleScopes = map[string][]string{
	RoleSubscriber: {"apim:subscribe", "apim:app_manage", "apim:sub_manage", "apim:api_key",
		"apim:store_settings", "apim:sub_alert_manage"},
	RolePublisher: {"apim:api_view", "apim:api_list_view", "apim:api_publish", "apim:subscription_view",
		"apim:subscription_block", "apim:subscription_manage", "apim:ep_certificates_view",
		"apim:client_certificates_view", "apim:tier_view"},
	RoleCreator: {"apim:api_view", "apim:api_list_view", "apim:api_create", "apim:api_manage",
		"apim:ep_certificates_view", "apim:ep_certificates_add", "apim:ep_certificates_update",
		"apim:ep_certificates_manage", "apim:client_certificates_view", "apim:client_certificates_add",
		"apim:client_certificates_update", "apim:client_certificates_manage", "apim:tier_view"},
}

func (s *Server) userMayHold(u *User, scope string) bool {
	if !strings.HasPrefix(scope, "apim:") {
		return true // unbound scopes (openid, default, …) are granted to anyone
	}
	for _, r := range u.Roles {
		if r == RoleAdmin {
			return true
		}
		if slices.Contains(roleScopes[r], scope) {
			return true
		}
	}
	return false
}

// ---- route registration and bearer checks ----

type authMode int

const (
	authNone     authMode = iota // handler authenticates itself (DCR, token)
	authRequired                 // Bearer token with one of the scopes
	authOptional                 // anonymous allowed; a token, if sent, must be valid
)

// caller is who called a REST operation.
type caller struct {
	user   string // "" when anonymous
	scopes []string
	admin  bool
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller)

func (s *Server) add(method, base, path, spec string, mode authMode, scopes []string, h handlerFunc) {
	rt := simcore.Route{Method: method, BasePath: base, Path: path, Spec: spec}
	s.routes = append(s.routes, rt)
	s.mux.HandleFunc(rt.Pattern(), consumes(rt, func(w http.ResponseWriter, r *http.Request) {
		c := &caller{}
		if mode != authNone {
			var ok bool
			c, ok = s.authenticate(w, r, mode, scopes)
			if !ok {
				return
			}
		}
		h(w, r, c)
	}))
}

// multipartRoutes take multipart/form-data (@Consumes on discover and the
// certificate uploads).
var multipartRoutes = map[string]bool{
	"POST " + AdminBase + "/key-managers/discover":                       true,
	"POST " + PublisherBase + "/endpoint-certificates":                   true,
	"PUT " + PublisherBase + "/endpoint-certificates/{alias}":            true,
	"POST " + PublisherBase + "/apis/{apiId}/client-certificates":        true,
	"PUT " + PublisherBase + "/apis/{apiId}/client-certificates/{alias}": true,
}

// consumes refuses, with 415, a body of a media type the operation does
// not consume: JSON for the bodies of BodyFields and DCR, multipart for the
// uploads (simcore.Consumes).
func consumes(rt simcore.Route, h http.HandlerFunc) http.HandlerFunc {
	p := rt.Pattern()
	switch {
	case multipartRoutes[p]:
		return simcore.Consumes(h, "multipart/form-data")
	case BodyFields[p] != nil, rt.BasePath == DCRBase:
		return simcore.Consumes(h, "application/json")
	}
	return h
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, mode authMode, scopes []string) (*caller, bool) {
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		if mode == authOptional {
			return &caller{}, true
		}
		apimError(w, http.StatusUnauthorized, codeMissingCredentials, "Missing Credentials",
			"Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN'")
		return nil, false
	}
	tok, found := strings.CutPrefix(hdr, "Bearer ")
	if !found {
		tok, found = strings.CutPrefix(hdr, "bearer ")
	}
	tok = strings.TrimSpace(tok)
	s.mu.RLock()
	t := s.st.tokens[tok]
	var c *caller
	if found && t != nil && s.now().Before(t.Expiry) {
		c = &caller{user: t.User, scopes: t.Scopes}
		if u := s.st.users[t.User]; u != nil {
			c.admin = slices.Contains(u.Roles, RoleAdmin)
		}
	}
	s.mu.RUnlock()
	if c == nil {
		apimError(w, http.StatusUnauthorized, codeMissingCredentials, "Invalid Credentials",
			"Access failure for API: "+r.URL.Path+", version: v. Make sure your have given the correct access token")
		return nil, false
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, func(sc string) bool { return slices.Contains(c.scopes, sc) }) {
		apimError(w, http.StatusForbidden, codeScopeMismatch,
			"The access token does not allow you to access the requested resource",
			"User is NOT authorized to access the Resource: "+r.URL.Path+". Scope validation failed.")
		return nil, false
	}
	return c, true
}

// basicUser checks HTTP Basic credentials against the user store.
func (s *Server) basicUser(r *http.Request) (string, bool) {
	u, p, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	usr := s.st.users[u]
	return u, usr != nil && usr.Password == p
}

// ---- DCR v0.17 ----

type dcrRequest struct {
	CallbackURL string `json:"callbackUrl"`
	ClientName  string `json:"clientName"`
	Owner       string `json:"owner"`
	GrantType   string `json:"grantType"`
	SaasApp     any    `json:"saasApp"`
	TokenType   string `json:"tokenType"`
}

// dcrResult is the real DCR v0.17 response.
//
// erratum: the spec names the callback `callbackUrl` and types
// isSaasApplication as a string; the server sends `callBackURL` and a JSON
// boolean, and `tokenType` as null (WSO2-API.md §2.1, §7.8).
type dcrResult struct {
	ClientID          string  `json:"clientId"`
	ClientName        string  `json:"clientName"`
	CallBackURL       string  `json:"callBackURL"`
	ClientSecret      string  `json:"clientSecret"`
	IsSaasApplication bool    `json:"isSaasApplication"`
	AppOwner          string  `json:"appOwner"`
	JSONString        string  `json:"jsonString"`
	JSONAppAttribute  string  `json:"jsonAppAttribute"`
	TokenType         *string `json:"tokenType"`
}

func (s *Server) handleDCR(w http.ResponseWriter, r *http.Request, _ *caller) {
	user, ok := s.basicUser(r)
	if !ok {
		apimError(w, http.StatusUnauthorized, 401, "Unauthorized", "The user is not authorized")
		return
	}
	var req dcrRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		badRequest(w, "Invalid request body: "+err.Error())
		return
	}
	if strings.TrimSpace(req.ClientName) == "" {
		badRequest(w, "Client name cannot be empty")
		return
	}
	if req.Owner == "" {
		req.Owner = user
	}
	if req.Owner != user && user != s.opts.AdminUser {
		badRequest(w, fmt.Sprintf("Logged in user '%s' and application owner '%s' should be same.", user, req.Owner))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.st.dcr[req.ClientName]; c != nil {
		if c.Owner != user && user != s.opts.AdminUser {
			apimError(w, http.StatusForbidden, 403, "Forbidden", "Access is forbidden to the application")
			return
		}
		// Existing client returned unchanged: grantType/callbackUrl ignored.
		writeJSON(w, http.StatusOK, dcrResponse(c))
		return
	}
	grants := strings.Fields(req.GrantType)
	if strings.TrimSpace(req.CallbackURL) == "" {
		grants = slices.DeleteFunc(grants, func(g string) bool { return g == "authorization_code" || g == "implicit" })
	}
	saas := true
	switch v := req.SaasApp.(type) {
	case bool:
		saas = v
	case string:
		saas = v != "false"
	}
	c := &Client{ClientID: newKey(), ClientSecret: newKey(), ClientName: req.ClientName, Owner: req.Owner,
		GrantTypes: grants, CallbackURL: req.CallbackURL, SaaS: saas, TokenType: req.TokenType, DCR: true}
	s.st.dcr[c.ClientName] = c
	s.st.clients[c.ClientID] = c
	writeJSON(w, http.StatusOK, dcrResponse(c)) // 200, never 201
}

func dcrResponse(c *Client) dcrResult {
	js, _ := json.Marshal(map[string]string{
		"grant_types": strings.Join(c.GrantTypes, " "), "redirect_uris": c.CallbackURL, "client_name": c.ClientName,
	})
	return dcrResult{ClientID: c.ClientID, ClientName: c.ClientName, CallBackURL: c.CallbackURL,
		ClientSecret: c.ClientSecret, IsSaasApplication: c.SaaS, AppOwner: c.Owner,
		JSONString: string(js), JSONAppAttribute: "{}", TokenType: nil}
}

// ---- /oauth2/token ----

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSO2 API Manager"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, _ *caller) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.st.clients[id]
	if id == "" || cl == nil || cl.ClientSecret != secret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "A valid OAuth client could not be found for client_id: "+id)
		return
	}
	grant := r.PostForm.Get("grant_type")
	var user string
	var requested []string
	switch grant {
	case "password":
		u := s.st.users[r.PostForm.Get("username")]
		if u == nil || u.Password != r.PostForm.Get("password") {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Authentication failed for "+r.PostForm.Get("username"))
			return
		}
		user = u.Name
		requested = strings.Fields(r.PostForm.Get("scope"))
	case "client_credentials":
		user = cl.Owner
		requested = strings.Fields(r.PostForm.Get("scope"))
	case "refresh_token":
		old := s.st.refresh[r.PostForm.Get("refresh_token")]
		if old == nil || old.ClientID != cl.ClientID || !now.Before(old.RefreshExpiry) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Persisted access token data not found")
			return
		}
		// Refresh tokens work once: the old pair is revoked.
		delete(s.st.refresh, old.RefreshToken)
		delete(s.st.tokens, old.AccessToken)
		user = old.User
		requested = old.Scopes
		if sc := strings.Fields(r.PostForm.Get("scope")); len(sc) > 0 {
			requested = slices.DeleteFunc(sc, func(x string) bool { return !slices.Contains(old.Scopes, x) })
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing grant_type parameter value")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type value")
		return
	}
	if len(cl.GrantTypes) > 0 && !slices.Contains(cl.GrantTypes, grant) {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "The authenticated client is not authorized to use this authorization grant type")
		return
	}
	u := s.st.users[user]
	var granted []string
	for _, sc := range requested {
		if u != nil && s.userMayHold(u, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		granted = []string{"default"}
	}
	t := s.issueToken(cl.ClientID, user, granted, s.opts.TokenTTL, grant != "client_credentials")
	resp := map[string]any{
		"access_token": t.AccessToken, "scope": strings.Join(t.Scopes, " "),
		"token_type": "Bearer", "expires_in": int64(s.opts.TokenTTL / time.Second),
	}
	if t.RefreshToken != "" {
		resp["refresh_token"] = t.RefreshToken
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// issueToken stores a new access token; the caller holds the write lock.
func (s *Server) issueToken(clientID, user string, scopes []string, ttl time.Duration, withRefresh bool) *Token {
	now := s.now()
	t := &Token{AccessToken: newUUID(), ClientID: clientID, User: user, Scopes: scopes, Expiry: now.Add(ttl)}
	if withRefresh {
		t.RefreshToken = newUUID()
		t.RefreshExpiry = now.Add(24 * time.Hour)
		s.st.refresh[t.RefreshToken] = t
	}
	s.st.tokens[t.AccessToken] = t
	return t
}

// BasicAuthHeader is a helper for tests and callers: "Basic b64(u:p)".
func BasicAuthHeader(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TokenScopes returns the scopes of a live access token (false when the
// token is unknown or expired). The contract validator uses it to check
// each operation's declared security requirement.
func (s *Server) TokenScopes(token string) ([]string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tokens[token]
	if t == nil || !s.now().Before(t.Expiry) {
		return nil, false
	}
	return append([]string(nil), t.Scopes...), true
}
