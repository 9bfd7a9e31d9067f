package is

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// The applications API subset (is-7.1_applications-v1.yaml, WSO2-API.md
// §3.12): list and get, and the OIDC inbound protocol (get, regenerate
// secret). Every OAuth client is an IS application: DCR register creates
// one (client.AppID is its stable id, client_name its name), DCR delete
// removes it. The system portals (Console, My Account) of a real IS are
// not listed.

const applicationsPath = baseServerAPI + "/applications"

// Error codes of identity-api-server's application management
// (ApplicationManagementConstants).
const (
	appInvalidOffset = "APP-60002"
	appInvalidLimit  = "APP-60003"
	appInvalidFilter = "APP-60004"
	appNotFound      = "APP-60006"
	appNoInbound     = "APP-60502"
	// appDefaultLimit is the spec's default page size (§5.19).
	appDefaultLimit = 30
)

func appNotFoundErr(id string) *apiErr {
	return &apiErr{404, appNotFound, "Application not found.",
		fmt.Sprintf("Application cannot be found for the provided id: %s in the tenantDomain: %s.", id, superTenant)}
}

func appSelf(c *client) string { return tenantPrefix + applicationsPath + "/" + c.AppID }

// applicationListItem is an ApplicationListItem. clientId is included by
// default (the simulator does not require attributes=clientId).
func applicationListItem(c *client) map[string]any {
	m := map[string]any{"id": c.AppID, "name": c.Name, "clientId": c.ClientID, "access": "WRITE",
		"self": appSelf(c), "applicationEnabled": true}
	if c.DisplayName != "" {
		m["description"] = c.DisplayName
	}
	return m
}

// applicationModel is the ApplicationResponseModel subset the simulator
// knows: identity, the OAuth client id and the inbound protocol list.
func applicationModel(c *client) map[string]any {
	m := applicationListItem(c)
	delete(m, "self")
	m["isManagementApp"] = false
	m["isB2BSelfServiceApp"] = false
	m["inboundProtocols"] = []any{map[string]any{"type": "oauth2", "name": "oauth2",
		"self": appSelf(c) + "/inbound-protocols/oidc"}}
	return m
}

// oidcConfig is an OpenIDConnectConfiguration (the members the simulator
// stores). It carries the client secret, as IS does unless hashing is on.
func oidcConfig(c *client) map[string]any {
	callbacks := []string{}
	if c.RedirectURI != "" {
		callbacks = append(callbacks, c.RedirectURI)
	}
	tokType := c.TokenType
	if tokType == "" {
		tokType = "Default"
	}
	return map[string]any{
		"clientId": c.ClientID, "clientSecret": c.Secret, "state": "ACTIVE",
		"grantTypes": slices.Clone(c.GrantTypes), "callbackURLs": callbacks, "allowedOrigins": []string{},
		"publicClient": c.Public,
		"pkce":         map[string]any{"mandatory": c.PKCE, "supportPlainTransformAlgorithm": c.PKCEPlain},
		"accessToken": map[string]any{"type": tokType, "userAccessTokenExpiryInSeconds": c.UserTTL,
			"applicationAccessTokenExpiryInSeconds": c.AppTTL},
		"refreshToken": map[string]any{"expiryInSeconds": c.RefreshTTL},
	}
}

func applicationMatches(c *client, terms []filterTerm) bool {
	for _, t := range terms {
		var have string
		switch strings.ToLower(t.attr) {
		case "name":
			have = c.Name
		case "clientid":
			have = c.ClientID
		case "issuer":
			have = "" // no SAML/WS-Fed issuers in the simulator
		}
		if !matchOp(t.op, have, t.value) {
			return false
		}
	}
	return true
}

func (s *Server) handleListApplications(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_application_mgt_view") == nil {
		return
	}
	q := r.URL.Query()
	limit, offset := appDefaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeAPIError(w, &apiErr{400, appInvalidLimit, "Invalid limit value.", "Limit should be a positive integer."})
			return
		}
		// Silently capped, as validateAndGetLimit does (simcore.PageCaps).
		limit = simcore.CapPage(n, cmp.Or(s.opts.Knobs.PageCaps().ISApplications, simcore.DefaultISApplicationsCap))
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAPIError(w, &apiErr{400, appInvalidOffset, "Invalid offset value.", "Offset should be a non-negative integer."})
			return
		}
		offset = n
	}
	var terms []filterTerm
	if f := strings.TrimSpace(q.Get("filter")); f != "" {
		var err error
		terms, err = parseFilter(f)
		if err != nil {
			writeAPIError(w, &apiErr{400, appInvalidFilter, "Invalid filter query format.",
				"Filter needs to be in the format <attribute>+<operation>+<value>. Eg: name+eq+john"})
			return
		}
		for _, t := range terms {
			switch strings.ToLower(t.attr) {
			case "name", "clientid", "issuer":
			default:
				writeAPIError(w, &apiErr{400, appInvalidFilter, "Filtering using the attempted attribute is not supported.",
					fmt.Sprintf("Filtering cannot be done with the '%s' attribute. Filtering is only supported with 'name', 'clientId', and 'issuer' attributes.", t.attr)})
				return
			}
			if t.op == "ne" {
				writeAPIError(w, &apiErr{400, appInvalidFilter, "Attempted filtering operation is invalid.",
					fmt.Sprintf("Attempted filtering operation '%s' is invalid. Please use one of the supported filtering operations such as 'eq', 'co', 'sw', 'ew', 'and', 'or'.", t.op)})
				return
			}
		}
	}
	s.mu.RLock()
	var all []*client
	for _, c := range s.st.clients {
		if applicationMatches(c, terms) {
			all = append(all, c)
		}
	}
	slices.SortFunc(all, func(a, b *client) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Name, b.Name))
	})
	items := []map[string]any{}
	for i := offset; i < len(all) && len(items) < limit; i++ {
		items = append(items, applicationListItem(all[i]))
	}
	s.mu.RUnlock()

	link := func(rel string, off int) map[string]string {
		v := url.Values{}
		v.Set("offset", strconv.Itoa(off))
		v.Set("limit", strconv.Itoa(limit))
		if f := q.Get("filter"); f != "" {
			v.Set("filter", f)
		}
		return map[string]string{"rel": rel, "href": applicationsPath + "?" + v.Encode()}
	}
	links := []map[string]string{}
	if offset+len(items) < len(all) {
		links = append(links, link("next", offset+limit))
	}
	if offset > 0 {
		links = append(links, link("previous", max(0, offset-limit)))
	}
	resp := map[string]any{"totalResults": len(all), "startIndex": offset + 1, "count": len(items),
		"applications": items, "links": links}
	writeJSON(w, http.StatusOK, jsonCT, resp)
}

// appLocked is the application of the path, or writes 404. Caller holds
// s.mu.
func (s *Server) appLocked(w http.ResponseWriter, r *http.Request) *client {
	id := r.PathValue("applicationId")
	c := s.st.clientApp[id]
	if c == nil {
		writeAPIError(w, appNotFoundErr(id))
	}
	return c
}

func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_application_mgt_view") == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.appLocked(w, r); c != nil {
		writeJSON(w, http.StatusOK, jsonCT, applicationModel(c))
	}
}

func (s *Server) handleGetOIDCInbound(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_application_mgt_view") == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.appLocked(w, r); c != nil {
		writeJSON(w, http.StatusOK, jsonCT, oidcConfig(c))
	}
}

// handleRegenerateOIDCSecret gives the OAuth client behind an application
// a new secret: the old one stops working at /oauth2/token at once and the
// tokens issued to the client are revoked (IS revokes the app, renews the
// secret and re-activates it). APIM's GET …/oauth-keys shows the new
// secret, since it reads IS-7 key manager secrets live.
//
// Scope: the spec and the JAX-RS annotation say internal_application_mgt_create;
// the simulator also accepts internal_application_mgt_update (WSO2-API.md
// §2.4 lists the applications scopes without pinning this operation).
func (s *Server) handleRegenerateOIDCSecret(w http.ResponseWriter, r *http.Request) {
	p := s.authenticate(r)
	if p == nil {
		s.guard(w, r, "") // writes the 401
		return
	}
	if !p.has("internal_application_mgt_create") && !p.has("internal_application_mgt_update") {
		writeStatus(w, http.StatusForbidden)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.appLocked(w, r)
	if c == nil {
		return
	}
	if c.Public {
		writeAPIError(w, &apiErr{400, appNoInbound, "Inbound protocol not configured.",
			"A public client has no client secret to regenerate: " + c.AppID})
		return
	}
	old := c.Secret
	for c.Secret == old {
		c.Secret = randomString(32)
	}
	for k, t := range s.st.tokens {
		if t.ClientID == c.ClientID {
			delete(s.st.tokens, k)
		}
	}
	for k, t := range s.st.refresh {
		if t.ClientID == c.ClientID {
			delete(s.st.refresh, k)
		}
	}
	writeJSON(w, http.StatusOK, jsonCT, oidcConfig(c))
}
