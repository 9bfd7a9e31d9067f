package is

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

const jsonCT = "application/json"

// spNameRE is the default IS service-provider name regex.
var spNameRE = regexp.MustCompile(`^[a-zA-Z0-9\s.+_-]+$`)

// clientIDRE is the default DCR client-id regex for ext_param_client_id.
var clientIDRE = regexp.MustCompile(`^[a-zA-Z0-9_]{15,30}$`)

var knownGrants = []string{
	"authorization_code", "implicit", "password", "client_credentials", "refresh_token",
	"urn:ietf:params:oauth:grant-type:saml2-bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer",
	"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange",
	"iwa:ntlm", "organization_switch",
}

// dcrStringMembers are request string members stored as-is, mapped to the
// member name the response uses (erratum §7.24 for the renamed ones).
var dcrStringMembers = map[string]string{
	"jwks_uri":                        "jwks_uri",
	"url":                             "",
	"backchannel_logout_uri":          "",
	"token_endpoint_auth_method":      "token_endpoint_auth_method",
	"token_endpoint_auth_signing_alg": "token_endpoint_auth_signing_alg",
	"sector_identifier_uri":           "sector_identifier_uri",
	"id_token_signed_response_alg":    "id_token_signed_response_alg",
	"id_token_encrypted_response_alg": "id_token_encrypted_response_alg",
	"id_token_encrypted_response_enc": "id_token_encrypted_response_enc",
	"software_statement":              "software_statement",
	"request_object_signing_alg":      "request_object_signing_alg",
	"tls_client_auth_subject_dn":      "tls_client_auth_subject_dn",
	"subject_type":                    "subject_type",
	"request_object_encryption_alg":   "request_object_encryption_algorithm",
	"request_object_encryption_enc":   "request_object_encryption_method",
	"ext_application_version":         "ext_application_version",
}

// dcrErr is a DCR failure. status 400 carries an OAuth error body; 401/403
// are status-only.
type dcrErr struct {
	status   int
	code     string
	desc     string
	conflict bool
}

func (e *dcrErr) Error() string { return e.desc }

func invalidMeta(conflict bool, format string, a ...any) *dcrErr {
	return &dcrErr{status: 400, code: "invalid_client_metadata", desc: fmt.Sprintf(format, a...), conflict: conflict}
}

func writeDCRError(w http.ResponseWriter, e *dcrErr) {
	if e.status != 400 {
		writeStatus(w, e.status)
		return
	}
	writeJSON(w, 400, jsonCT, map[string]string{"error": e.code, "error_description": e.desc})
}

// ---- flexible member readers (APIM sends numbers/booleans as strings) ----

func memberString(m map[string]any, k string) (string, bool) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	default:
		return fmt.Sprint(x), true
	}
}

func memberInt(m map[string]any, k string) (int64, bool, *dcrErr) {
	v, ok := m[k]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float64:
		return int64(x), true, nil
	case int64:
		return x, true, nil
	case int:
		return int64(x), true, nil
	case string:
		if x == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, false, invalidMeta(false, "Invalid value for %s: %s", k, x)
		}
		return n, true, nil
	}
	return 0, false, invalidMeta(false, "Invalid value for %s", k)
}

func memberBool(m map[string]any, k string) (bool, bool, *dcrErr) {
	v, ok := m[k]
	if !ok || v == nil {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		if x == "" {
			return false, false, nil
		}
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, false, invalidMeta(false, "Invalid value for %s: %s", k, x)
		}
		return b, true, nil
	}
	return false, false, invalidMeta(false, "Invalid value for %s", k)
}

func memberList(m map[string]any, k string) ([]string, *dcrErr) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, invalidMeta(false, "Invalid value for %s", k)
			}
			out = append(out, s)
		}
		return out, nil
	case []string:
		return slices.Clone(x), nil
	case string:
		return []string{x}, nil
	}
	return nil, invalidMeta(false, "Invalid value for %s", k)
}

// collapseRedirects stores redirect URIs as IS does (§3.11/§5.10).
func collapseRedirects(uris []string) string {
	var nonEmpty []string
	for _, u := range uris {
		if u != "" {
			nonEmpty = append(nonEmpty, u)
		}
	}
	switch len(nonEmpty) {
	case 0:
		return ""
	case 1:
		return nonEmpty[0]
	}
	esc := make([]string, len(nonEmpty))
	for i, u := range nonEmpty {
		esc[i] = strings.ReplaceAll(u, "?", `\?`)
	}
	return "regexp=(" + strings.Join(esc, "|") + ")"
}

func validRedirect(u string) bool {
	if strings.HasPrefix(u, "regexp=") {
		return true // IS's own stored form for several callbacks
	}
	p, err := url.Parse(u)
	return err == nil && p.Scheme != "" && (p.Host != "" || p.Opaque != "")
}

func needsRedirect(grants []string) bool {
	return slices.Contains(grants, "authorization_code") || slices.Contains(grants, "implicit")
}

func (s *Server) validateGrantsAndRedirects(grants, redirects []string) *dcrErr {
	for _, g := range grants {
		if !slices.Contains(knownGrants, g) {
			return invalidMeta(false, "Invalid grant type: %s", g)
		}
	}
	var nonEmpty []string
	for _, u := range redirects {
		if u != "" {
			nonEmpty = append(nonEmpty, u)
		}
	}
	if needsRedirect(grants) && len(nonEmpty) == 0 {
		return &dcrErr{status: 400, code: "invalid_redirect_uri",
			desc: "Redirect URI is mandatory for the authorization_code and implicit grant types."}
	}
	for _, u := range nonEmpty {
		if !validRedirect(u) {
			return &dcrErr{status: 400, code: "invalid_redirect_uri", desc: "Invalid redirect URI: " + u}
		}
	}
	return nil
}

// registerLocked creates a client from a DCR registration body. caller is
// the authenticated user (default owner). Caller holds s.mu.
func (s *Server) registerLocked(caller string, m map[string]any) (*client, *dcrErr) {
	st := s.st
	name, _ := memberString(m, "client_name")
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalidMeta(false, "Required parameter client_name is missing.")
	}
	if !spNameRE.MatchString(name) {
		return nil, invalidMeta(false, "Client Name is not adhering to the regex: %s", spNameRE.String())
	}
	if st.clientName[strings.ToLower(name)] != nil {
		// erratum §7.23: a name conflict is 400, not the spec's 409.
		return nil, invalidMeta(true, "Application with the name %s already exist in the system", name)
	}
	c := &client{AppID: newUUID(), Name: name, Owner: caller, TokenType: "JWT",
		AppTTL: int64(s.opts.TokenTTL.Seconds()), UserTTL: int64(s.opts.TokenTTL.Seconds()),
		RefreshTTL: 86400, IDTokenTTL: 3600, Audience: "organization", Strings: map[string]string{},
		Created: s.now()}
	if id, ok := memberString(m, "ext_param_client_id"); ok && id != "" {
		if !clientIDRE.MatchString(id) {
			return nil, invalidMeta(false, "Provided client id is not adhering to the provided regex %s", clientIDRE.String())
		}
		if st.clients[id] != nil {
			return nil, invalidMeta(true, "Client id %s already exist in the system", id)
		}
		c.ClientID = id
	} else {
		for c.ClientID == "" || st.clients[c.ClientID] != nil {
			c.ClientID = randomString(28)
		}
	}
	if sec, ok := memberString(m, "ext_param_client_secret"); ok && sec != "" {
		c.Secret = sec
	} else {
		c.Secret = randomString(32)
	}
	grants, e := memberList(m, "grant_types")
	if e != nil {
		return nil, e
	}
	redirects, e := memberList(m, "redirect_uris")
	if e != nil {
		return nil, e
	}
	if e := s.validateGrantsAndRedirects(grants, redirects); e != nil {
		return nil, e
	}
	c.GrantTypes = grants
	if c.GrantTypes == nil {
		c.GrantTypes = []string{}
	}
	c.RedirectURI = collapseRedirects(redirects)
	if e := s.applyClientMembers(c, m, false); e != nil {
		return nil, e
	}
	st.insertClient(c)
	return c, nil
}

// applyClientMembers copies the optional members. On update (PUT) absent
// booleans reset to false (§3.11) and require_signed_request_object is
// copied into the PAR flag (§5.26); absent strings and numbers keep their
// stored values.
func (s *Server) applyClientMembers(c *client, m map[string]any, update bool) *dcrErr {
	if v, ok := memberString(m, "ext_application_display_name"); ok && v != "" {
		c.DisplayName = v
	}
	if v, ok := memberString(m, "ext_application_owner"); ok && v != "" {
		c.Owner = v
	}
	if v, ok := memberString(m, "token_type_extension"); ok && v != "" {
		c.TokenType = v
	} else if v, ok := memberString(m, "ext_token_type"); ok && v != "" {
		c.TokenType = v
	}
	if v, ok := memberString(m, "ext_allowed_audience"); ok && v != "" {
		v = strings.ToLower(v)
		if v != "organization" && v != "application" {
			return invalidMeta(false, "Invalid allowed audience: %s", v)
		}
		c.Audience = v
	}
	for k, dst := range map[string]*int64{"ext_application_token_lifetime": &c.AppTTL, "ext_user_token_lifetime": &c.UserTTL,
		"ext_refresh_token_lifetime": &c.RefreshTTL, "ext_id_token_lifetime": &c.IDTokenTTL} {
		n, ok, e := memberInt(m, k)
		if e != nil {
			return e
		}
		if ok {
			*dst = n
		}
	}
	for k, dst := range map[string]*bool{"ext_pkce_mandatory": &c.PKCE, "ext_pkce_support_plain": &c.PKCEPlain,
		"ext_public_client": &c.Public, "require_signed_request_object": &c.SignedReqObj,
		"require_pushed_authorization_requests": &c.PAR, "tls_client_certificate_bound_access_tokens": &c.TLSBound} {
		b, ok, e := memberBool(m, k)
		if e != nil {
			return e
		}
		if ok {
			*dst = b
		} else if update {
			*dst = false
		}
	}
	if update {
		// Reproduced bug (WSO2-API.md §3.11/§5.26): DCRMUtils copies
		// require_signed_request_object into the PAR flag on update.
		c.PAR = c.SignedReqObj
	}
	for k := range dcrStringMembers {
		if v, ok := memberString(m, k); ok && v != "" {
			c.Strings[k] = v
		}
	}
	return nil
}

// updateLocked applies a DCR PUT body to c.
func (s *Server) updateLocked(c *client, m map[string]any) *dcrErr {
	st := s.st
	upd := *c
	upd.Strings = map[string]string{}
	for k, v := range c.Strings {
		upd.Strings[k] = v
	}
	if name, ok := memberString(m, "client_name"); ok && strings.TrimSpace(name) != "" && name != c.Name {
		name = strings.TrimSpace(name)
		if !spNameRE.MatchString(name) {
			return invalidMeta(false, "Client Name is not adhering to the regex: %s", spNameRE.String())
		}
		if x := st.clientName[strings.ToLower(name)]; x != nil && x != c {
			return invalidMeta(true, "Application with the name %s already exist in the system", name)
		}
		upd.Name = name
	}
	grants, e := memberList(m, "grant_types")
	if e != nil {
		return e
	}
	if len(grants) > 0 {
		upd.GrantTypes = grants
	}
	redirects, e := memberList(m, "redirect_uris")
	if e != nil {
		return e
	}
	effRedirects := redirects
	if collapseRedirects(redirects) == "" && upd.RedirectURI != "" {
		effRedirects = []string{upd.RedirectURI}
	}
	if e := s.validateGrantsAndRedirects(upd.GrantTypes, effRedirects); e != nil {
		return e
	}
	if r := collapseRedirects(redirects); r != "" {
		upd.RedirectURI = r
	}
	if e := s.applyClientMembers(&upd, m, true); e != nil {
		return e
	}
	delete(st.clientName, strings.ToLower(c.Name))
	*c = upd
	st.clientName[strings.ToLower(c.Name)] = c
	return nil
}

// dcrWire renders the DCR application object (7.1 spec names, erratum
// §7.24 for the renamed members).
func dcrWire(c *client) map[string]any {
	m := map[string]any{
		"client_id":                                 c.ClientID,
		"client_secret":                             c.Secret,
		"client_secret_expires_at":                  0,
		"redirect_uris":                             []string{c.RedirectURI},
		"grant_types":                               c.GrantTypes,
		"client_name":                               c.Name,
		"ext_application_owner":                     c.Owner,
		"ext_application_token_lifetime":            c.AppTTL,
		"ext_user_token_lifetime":                   c.UserTTL,
		"ext_refresh_token_lifetime":                c.RefreshTTL,
		"ext_id_token_lifetime":                     c.IDTokenTTL,
		"ext_pkce_mandatory":                        c.PKCE,
		"ext_pkce_support_plain":                    c.PKCEPlain,
		"ext_public_client":                         c.Public,
		"token_type_extension":                      c.TokenType,
		"ext_allowed_audience":                      c.Audience,
		"require_signed_request_object":             c.SignedReqObj,
		"require_push_authorization_request":        c.PAR,
		"tls_client_certificate_bound_access_token": c.TLSBound,
	}
	if c.DisplayName != "" {
		m["ext_application_display_name"] = c.DisplayName
	}
	for k, v := range c.Strings {
		if out := dcrStringMembers[k]; out != "" {
			m[out] = v
		}
	}
	return m
}

// ---- HTTP ----

func readDCRBody(r *http.Request) (map[string]any, *dcrErr) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalidMeta(false, "Unable to read the request body.")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, invalidMeta(false, "Invalid JSON request body.")
	}
	return m, nil
}

func (s *Server) handleDCRRegister(w http.ResponseWriter, r *http.Request) {
	p := s.guard(w, r, "internal_dcr_create")
	if p == nil {
		return
	}
	m, e := readDCRBody(r)
	if e != nil {
		writeDCRError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.registerLocked(ownerName(p), m)
	if e != nil {
		writeDCRError(w, e)
		return
	}
	writeJSON(w, http.StatusCreated, jsonCT, dcrWire(c))
}

// mayManageLocked reports whether the caller may read, update or delete
// client c: its owner, or a member of the admin role. Otherwise DCRMService
// (getApplicationById → isUserAuthorized) throws FORBIDDEN_UNAUTHORIZED_USER,
// a status-only 403 (wso2-extensions/identity-inbound-auth-oauth
// components/org.wso2.carbon.identity.oauth.dcr/src/main/java/org/wso2/
// carbon/identity/oauth/dcr/service/DCRMService.java). An unknown client is
// checked first and answers 401 (§7.23).
func (s *Server) mayManageLocked(p *principal, c *client) bool {
	if p.admin {
		return true
	}
	if p.user == nil {
		return true // an application token of the tenant's own client (admin-owned)
	}
	if _, admin := s.st.userScopesLocked(p.user); admin {
		return true
	}
	return strings.EqualFold(c.Owner, p.user.wireName()) || strings.EqualFold(c.Owner, p.user.Name)
}

func ownerName(p *principal) string {
	if p.user != nil {
		return p.user.wireName()
	}
	return "admin"
}

func (s *Server) handleDCRGetByName(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_dcr_view") == nil {
		return
	}
	name := r.URL.Query().Get("client_name")
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.st.clientName[strings.ToLower(strings.TrimSpace(name))]
	if name == "" || c == nil {
		// Quirk (WSO2-API.md §3.11, product-is#16612): not found → 401, empty body.
		writeStatus(w, http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, jsonCT, dcrWire(c))
}

func (s *Server) handleDCRGet(w http.ResponseWriter, r *http.Request) {
	p := s.guard(w, r, "internal_dcr_view")
	if p == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.st.clients[r.PathValue("client_id")]
	if c == nil {
		// erratum §7.23 (product-is#21624): unknown client_id → 401, not 404.
		writeStatus(w, http.StatusUnauthorized)
		return
	}
	if !s.mayManageLocked(p, c) {
		writeStatus(w, http.StatusForbidden)
		return
	}
	writeJSON(w, http.StatusOK, jsonCT, dcrWire(c))
}

func (s *Server) handleDCRUpdate(w http.ResponseWriter, r *http.Request) {
	p := s.guard(w, r, "internal_dcr_update")
	if p == nil {
		return
	}
	m, e := readDCRBody(r)
	if e != nil {
		writeDCRError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.clients[r.PathValue("client_id")]
	if c == nil {
		writeStatus(w, http.StatusUnauthorized) // erratum §7.23
		return
	}
	if !s.mayManageLocked(p, c) {
		writeStatus(w, http.StatusForbidden)
		return
	}
	if e := s.updateLocked(c, m); e != nil {
		writeDCRError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, jsonCT, dcrWire(c))
}

func (s *Server) handleDCRDelete(w http.ResponseWriter, r *http.Request) {
	p := s.guard(w, r, "internal_dcr_delete")
	if p == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.clients[r.PathValue("client_id")]
	if c == nil {
		writeStatus(w, http.StatusUnauthorized) // erratum §7.23
		return
	}
	if !s.mayManageLocked(p, c) {
		writeStatus(w, http.StatusForbidden)
		return
	}
	s.st.removeClient(c)
	w.WriteHeader(http.StatusNoContent)
}

// ---- simcore.ClientRegistry ----

// checkCreds authenticates registry credentials exactly as Basic auth on
// DCR: the user must exist, the password match and the user hold scope.
func (s *Server) checkCredsLocked(creds simcore.Credentials, scope string) (*user, error) {
	u := s.st.checkUserLocked(creds.Username, creds.Password)
	if u == nil {
		return nil, simcore.ErrUnauthorized
	}
	sc, admin := s.st.userScopesLocked(u)
	p := &principal{user: u, admin: admin, scopes: sc}
	if !p.has(scope) {
		return nil, simcore.ErrUnauthorized
	}
	return u, nil
}

func registryErr(e *dcrErr) error {
	if e.conflict {
		return fmt.Errorf("%w: %s", simcore.ErrConflict, e.desc)
	}
	return fmt.Errorf("%w: %s", simcore.ErrInvalid, e.desc)
}

// oauthClientMembers turns an OAuthClient into DCR request members.
func oauthClientMembers(c simcore.OAuthClient, register bool) map[string]any {
	m := map[string]any{}
	for k, v := range c.ExtParams {
		m[k] = v
	}
	if c.ClientName != "" {
		m["client_name"] = c.ClientName
	}
	if c.GrantTypes != nil {
		m["grant_types"] = slices.Clone(c.GrantTypes)
	}
	if c.RedirectURIs != nil {
		m["redirect_uris"] = slices.Clone(c.RedirectURIs)
	}
	if c.ApplicationDisplayName != "" {
		m["ext_application_display_name"] = c.ApplicationDisplayName
	}
	if c.Owner != "" {
		m["ext_application_owner"] = c.Owner
	}
	if c.TokenType != "" {
		m["token_type_extension"] = c.TokenType
	}
	if register {
		if c.ClientID != "" {
			m["ext_param_client_id"] = c.ClientID
		}
		if c.ClientSecret != "" {
			m["ext_param_client_secret"] = c.ClientSecret
		}
	}
	return m
}

func toOAuthClient(c *client) simcore.OAuthClient {
	out := simcore.OAuthClient{
		ClientID:               c.ClientID,
		ClientSecret:           c.Secret,
		ClientName:             c.Name,
		GrantTypes:             slices.Clone(c.GrantTypes),
		ApplicationDisplayName: c.DisplayName,
		Owner:                  c.Owner,
		TokenType:              c.TokenType,
		CreatedAt:              c.Created,
		ExtParams: map[string]any{
			"ext_application_token_lifetime": c.AppTTL,
			"ext_user_token_lifetime":        c.UserTTL,
			"ext_refresh_token_lifetime":     c.RefreshTTL,
			"ext_id_token_lifetime":          c.IDTokenTTL,
			"ext_pkce_mandatory":             c.PKCE,
			"ext_pkce_support_plain":         c.PKCEPlain,
			"ext_public_client":              c.Public,
			"ext_allowed_audience":           c.Audience,
		},
	}
	// As IS echoes it: one element, the stored (possibly regexp=) value.
	if c.RedirectURI != "" {
		out.RedirectURIs = []string{c.RedirectURI}
	}
	return out
}

// RegisterClient implements simcore.ClientRegistry (DCR register).
func (s *Server) RegisterClient(ctx context.Context, creds simcore.Credentials, c simcore.OAuthClient) (simcore.OAuthClient, error) {
	if err := ctx.Err(); err != nil {
		return simcore.OAuthClient{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.checkCredsLocked(creds, "internal_dcr_create")
	if err != nil {
		return simcore.OAuthClient{}, err
	}
	nc, e := s.registerLocked(u.wireName(), oauthClientMembers(c, true))
	if e != nil {
		return simcore.OAuthClient{}, registryErr(e)
	}
	return toOAuthClient(nc), nil
}

// GetClient implements simcore.ClientRegistry (DCR get by client_id).
func (s *Server) GetClient(ctx context.Context, creds simcore.Credentials, clientID string) (simcore.OAuthClient, error) {
	if err := ctx.Err(); err != nil {
		return simcore.OAuthClient{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, err := s.checkCredsLocked(creds, "internal_dcr_view"); err != nil {
		return simcore.OAuthClient{}, err
	}
	c := s.st.clients[clientID]
	if c == nil {
		return simcore.OAuthClient{}, simcore.ErrNotFound
	}
	return toOAuthClient(c), nil
}

// UpdateClient implements simcore.ClientRegistry (DCR PUT semantics:
// empty strings/lists keep stored values, absent booleans reset).
func (s *Server) UpdateClient(ctx context.Context, creds simcore.Credentials, c simcore.OAuthClient) (simcore.OAuthClient, error) {
	if err := ctx.Err(); err != nil {
		return simcore.OAuthClient{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.checkCredsLocked(creds, "internal_dcr_update"); err != nil {
		return simcore.OAuthClient{}, err
	}
	cur := s.st.clients[c.ClientID]
	if cur == nil {
		return simcore.OAuthClient{}, simcore.ErrNotFound
	}
	if e := s.updateLocked(cur, oauthClientMembers(c, false)); e != nil {
		return simcore.OAuthClient{}, registryErr(e)
	}
	return toOAuthClient(cur), nil
}

// DeleteClient implements simcore.ClientRegistry (DCR delete).
func (s *Server) DeleteClient(ctx context.Context, creds simcore.Credentials, clientID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.checkCredsLocked(creds, "internal_dcr_delete"); err != nil {
		return err
	}
	c := s.st.clients[clientID]
	if c == nil {
		return simcore.ErrNotFound
	}
	s.st.removeClient(c)
	return nil
}

// ---- seeding ----

// ClientSeed is an OAuth client inserted without credentials checks.
type ClientSeed struct {
	simcore.OAuthClient
	// AllowedScopes, when non-nil, are the scopes the application is
	// authorized for (see the package doc for how token scopes are decided).
	AllowedScopes []string
}

// AddClient registers a client directly (same validation as DCR register;
// owner defaults to the admin user).
func (s *Server) AddClient(c ClientSeed) (simcore.OAuthClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nc, e := s.registerLocked(s.opts.AdminUser, oauthClientMembers(c.OAuthClient, true))
	if e != nil {
		return simcore.OAuthClient{}, registryErr(e)
	}
	if c.AllowedScopes != nil {
		nc.AllowedScopes = slices.Clone(c.AllowedScopes)
	}
	return toOAuthClient(nc), nil
}

// AuthorizeClientScopes sets the scopes an application is authorized for
// (the simulator's stand-in for applications/{id}/authorized-apis). nil
// removes the list (scopes then follow the owner).
func (s *Server) AuthorizeClientScopes(clientID string, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.clients[clientID]
	if c == nil {
		return simcore.ErrNotFound
	}
	c.AllowedScopes = slices.Clone(scopes)
	return nil
}

// ClientApplicationID is the IS application id behind a client (the
// audience value of application roles).
func (s *Server) ClientApplicationID(clientID string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.st.clients[clientID]
	if c == nil {
		return "", false
	}
	return c.AppID, true
}
