package apim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const maskedSecret = "*****"

// Connector types the simulator accepts (the ones a stock 4.5 pack ships).
var knownKMTypes = map[string]bool{
	"default": true, "WSO2-IS": true, "WSO2-IS-7": true, "Keycloak": true, "Okta": true, "Auth0": true,
	"PingFederate": true, "AzureAD": true, "ForgeRock": true,
}

// Connector configuration keys per type (admin GET /settings); masked keys
// are returned as "*****".
var kmConnectorConfig = map[string][]KeyManagerConfiguration{
	"WSO2-IS-7": {
		{Name: "Username", Label: "Username", Type: "input", Required: true, Tooltip: "Username of admin user"},
		{Name: "Password", Label: "Password", Type: "input", Required: true, Mask: true, Tooltip: "Password of Admin user"},
		{Name: "api_resource_management_endpoint", Label: "WSO2 Identity Server 7 API Resource Management Endpoint", Type: "input", Required: true, Tooltip: "E.g., https://localhost:9443/api/server/v1/api-resources"},
		{Name: "is7_roles_endpoint", Label: "WSO2 Identity Server 7 Roles Endpoint", Type: "input", Required: true, Tooltip: "E.g., https://localhost:9443/scim2/v2/Roles"},
		{Name: "enable_roles_creation", Label: "Create roles in WSO2 Identity Server 7", Type: "checkbox", Tooltip: "Create roles in WSO2 Identity Server 7, corresponding to the roles used in WSO2 API Manager."},
	},
	"WSO2-IS": {
		{Name: "Username", Label: "Username", Type: "input", Required: true, Tooltip: "Username of admin user"},
		{Name: "Password", Label: "Password", Type: "input", Required: true, Mask: true, Tooltip: "Password of Admin user"},
	},
	"default": {},
}

// Application configuration a DevPortal user may set on generate-keys
// (KeyManagerInfo.applicationConfiguration).
var kmAppConfig = map[string][]KeyManagerConfiguration{
	"WSO2-IS-7": {
		{Name: "ext_application_token_lifetime", Label: "Application Access Token Expiry Time ", Type: "input", Tooltip: "Type application access token expiry time in seconds "},
		{Name: "ext_user_token_lifetime", Label: "User Access Token Expiry Time ", Type: "input", Tooltip: "Type user access token expiry time in seconds "},
		{Name: "ext_refresh_token_lifetime", Label: "Refresh Token Expiry Time ", Type: "input", Tooltip: "Type refresh token expiry time in seconds "},
		{Name: "ext_id_token_lifetime", Label: "Id Token Expiry Time", Type: "input", Tooltip: "Type ID token expiry time in seconds "},
		{Name: "ext_pkce_mandatory", Label: "Enable PKCE", Type: "checkbox", Tooltip: "Enable PKCE"},
		{Name: "ext_pkce_support_plain", Label: "Support PKCE Plain text", Type: "checkbox", Tooltip: "S256 is recommended, plain text too can be used."},
		{Name: "ext_public_client", Label: "Public client", Type: "checkbox", Tooltip: "Allow authentication without the client secret."},
	},
}

func isMaskedKey(k string) bool { return k == "Password" || k == "client_secret" }

// kmInput decodes a KeyManager request; the pointer fields shadow the
// embedded booleans so that omitted values get the server defaults (§5.12).
type kmInput struct {
	KeyManager
	EnableTokenEncryption   *bool `json:"enableTokenEncryption"`
	EnableTokenHashing      *bool `json:"enableTokenHashing"`
	EnableSelfValidationJWT *bool `json:"enableSelfValidationJWT"`
	Enabled                 *bool `json:"enabled"`
}

func kmErr(status int, code int64, msg, desc string) *apiErr {
	return &apiErr{status: status, Error: Error{Code: code, Message: msg, Description: desc, Error: []ErrorListItem{}}}
}

type apiErr struct {
	status int
	Error
}

func (e *apiErr) write(w http.ResponseWriter) { writeJSON(w, e.status, e.Error) }

// validateKM validates a create (existing == nil) or update request and
// returns the record to store. The caller holds the write lock.
func (s *Server) validateKM(in *kmInput, existing *KeyManager) (*KeyManager, *apiErr) {
	km := in.KeyManager
	km.Name = strings.TrimSpace(km.Name)
	if km.Name == "" {
		return nil, kmErr(400, 901404, "Key Manager name cannot be empty", "Key Manager name cannot be empty")
	}
	if len(km.Name) > 100 || len(km.DisplayName) > 100 || len(km.Description) > 256 {
		return nil, kmErr(400, 400, "Bad Request", "Key Manager name/displayName/description too long")
	}
	if km.Type == "" {
		return nil, kmErr(400, 400, "Bad Request", "Key Manager type cannot be empty")
	}
	if !knownKMTypes[km.Type] {
		return nil, kmErr(400, codeKMTypeInvalid, "Key Manager Type not configured",
			fmt.Sprintf("Key Manager Type %s not configured", km.Type))
	}
	if existing != nil && existing.Type == "default" && km.Type != "default" {
		return nil, kmErr(400, 400, "Bad Request", "Type of the Resident Key Manager cannot be changed")
	}
	if existing != nil && existing.Name == ResidentKeyManagerName && km.Name != ResidentKeyManagerName {
		return nil, kmErr(400, 400, "Bad Request", "Resident Key Manager cannot be renamed")
	}
	if other := s.st.kmByName(km.Name); other != nil && (existing == nil || other.ID != existing.ID) {
		return nil, kmErr(409, codeKMExists, "Key Manager Already Exists",
			fmt.Sprintf("Key Manager by name '%s' already exists", km.Name))
	}
	// Additional properties: "*****" keeps the stored secret.
	props := map[string]any{}
	for k, v := range km.AdditionalProperties {
		if isMaskedKey(k) && v == maskedSecret && existing != nil {
			if old, ok := existing.AdditionalProperties[k]; ok {
				v = old
			}
		}
		props[k] = v
	}
	km.AdditionalProperties = props
	for _, cfg := range kmConnectorConfig[km.Type] {
		if !cfg.Required {
			continue
		}
		if v, ok := props[cfg.Name]; !ok || v == nil || v == "" {
			return nil, kmErr(400, codeKMConfigMissing, "Required Key Manager configuration missing",
				"Missing required configuration: "+cfg.Name)
		}
	}
	// Server-filled defaults.
	km.EnableTokenEncryption = in.EnableTokenEncryption != nil && *in.EnableTokenEncryption
	km.EnableTokenHashing = in.EnableTokenHashing != nil && *in.EnableTokenHashing
	km.EnableSelfValidationJWT = in.EnableSelfValidationJWT == nil || *in.EnableSelfValidationJWT
	km.Enabled = in.Enabled == nil || *in.Enabled
	if km.TokenType == "" {
		km.TokenType = "DIRECT"
	}
	switch km.TokenType {
	case "DIRECT", "EXCHANGED", "BOTH":
	default:
		return nil, kmErr(400, 400, "Bad Request", "Invalid tokenType "+km.TokenType)
	}
	if km.Permissions.PermissionType == "" {
		km.Permissions.PermissionType = "PUBLIC"
	}
	km.Permissions.Roles = cloneStrings(km.Permissions.Roles)
	if km.ConsumerKeyClaim == "" && (km.Type == "WSO2-IS-7" || km.Type == "default" || km.Type == "WSO2-IS") {
		km.ConsumerKeyClaim = "azp"
	}
	if km.ScopesClaim == "" && (km.Type == "WSO2-IS-7" || km.Type == "default" || km.Type == "WSO2-IS") {
		km.ScopesClaim = "scope"
	}
	km.AvailableGrantTypes = cloneStrings(km.AvailableGrantTypes)
	if km.ClaimMapping == nil {
		km.ClaimMapping = []ClaimMappingEntry{}
	}
	if km.TokenValidation == nil {
		km.TokenValidation = []TokenValidation{}
	}
	km.AllowedOrganizations = cloneStrings(km.AllowedOrganizations)
	if km.Certificates != nil && km.Certificates.Type == "" && km.Certificates.Value == "" {
		km.Certificates = nil
	}
	if existing != nil {
		km.ID = existing.ID
	} else {
		km.ID = newUUID()
	}
	return &km, nil
}

// maskedKM is the GET view of a key manager: secrets replaced by "*****".
func maskedKM(km *KeyManager) KeyManager {
	out := *km
	out.AdditionalProperties = map[string]any{}
	for k, v := range km.AdditionalProperties {
		if isMaskedKey(k) {
			v = maskedSecret
		}
		out.AdditionalProperties[k] = v
	}
	return out
}

// kmUsed reports whether a key manager is "already used by an API or an
// Application" (WSO2-API.md §5.22, api-manager#4608): an application has
// keys of it, or an API names it among its key managers ("all" names
// none in particular).
func (s *Server) kmUsed(id string) bool {
	for _, k := range s.st.keys {
		if k.KeyManagerID == id {
			return true
		}
	}
	km := s.st.kms[id]
	if km == nil {
		return false
	}
	for _, a := range s.st.apis {
		if slices.Contains(a.KeyManagers, km.Name) {
			return true
		}
	}
	return false
}

func (s *Server) handleKMList(w http.ResponseWriter, _ *http.Request, _ *caller) {
	s.mu.RLock()
	list := make([]KeyManagerInfo, 0, len(s.st.kmOrder))
	for _, id := range s.st.kmOrder {
		km := s.st.kms[id]
		list = append(list, KeyManagerInfo{ID: km.ID, Name: km.Name, Type: km.Type, Description: km.Description,
			Enabled: km.Enabled, TokenType: km.TokenType})
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

func kmNotFound(w http.ResponseWriter, id string) {
	notFound(w, codeKMNotFound, "Key Manager not Found", fmt.Sprintf("Key Manager not found with id '%s'", id))
}

func (s *Server) handleKMGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("keyManagerId")
	s.mu.RLock()
	km := s.st.kms[id]
	var out KeyManager
	if km != nil {
		out = maskedKM(km)
	}
	s.mu.RUnlock()
	if km == nil {
		kmNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeKM(w http.ResponseWriter, r *http.Request) (*kmInput, bool) {
	var in kmInput
	if !decodeBody(w, r, &in) {
		return nil, false
	}
	return &in, true
}

func (s *Server) handleKMCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	in, ok := decodeKM(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	km, e := s.validateKM(in, nil)
	var out KeyManager
	if e == nil {
		s.st.kms[km.ID] = km
		s.st.kmOrder = append(s.st.kmOrder, km.ID)
		out = maskedKM(km)
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	w.Header().Set("Location", AdminBase+"/key-managers/"+out.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleKMUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("keyManagerId")
	in, ok := decodeKM(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	existing := s.st.kms[id]
	if existing == nil {
		s.mu.Unlock()
		kmNotFound(w, id)
		return
	}
	km, e := s.validateKM(in, existing)
	var out KeyManager
	if e == nil {
		s.st.kms[id] = km
		out = maskedKM(km)
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleKMDelete refuses to delete the Resident Key Manager and key
// managers used by application keys. The server throws the same
// APIManagementException for both ("Resident Key Manager couldn't delete",
// "Key Manager is already used by an API or an Application."); 4.5 answers
// it as a generic 500 (WSO2-API.md §4, §5.22). Newer builds map it to 412
// code 902015; the simulator follows 4.5.
func (s *Server) handleKMDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("keyManagerId")
	s.mu.Lock()
	defer s.mu.Unlock()
	km := s.st.kms[id]
	if km == nil {
		kmNotFound(w, id)
		return
	}
	if km.Type == "default" && km.Name == ResidentKeyManagerName {
		internalError(w, ResidentKeyManagerName+" couldn't delete")
		return
	}
	if s.kmUsed(id) {
		internalError(w, "Key Manager is already used by an API or an Application.")
		return
	}
	delete(s.st.kms, id)
	for i, x := range s.st.kmOrder {
		if x == id {
			s.st.kmOrder = append(s.st.kmOrder[:i:i], s.st.kmOrder[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusOK)
}

// handleKMDiscover fetches a well-known document and pre-fills a KeyManager.
// Quirk (§3.1): the user-info endpoint is the OIDC /oauth2/userinfo, not
// the /scim2/Me the IS7 connector wants.
func (s *Server) handleKMDiscover(w http.ResponseWriter, r *http.Request, _ *caller) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		if err := r.ParseForm(); err != nil {
			badRequest(w, "Invalid multipart request")
			return
		}
	}
	wk := r.FormValue("url")
	typ := r.FormValue("type")
	invalid := func() { writeJSON(w, http.StatusOK, map[string]any{"valid": false}) }
	u, err := url.Parse(wk)
	if wk == "" || err != nil || u.Host == "" {
		invalid()
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, wk, nil)
	if err != nil {
		invalid()
		return
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		invalid()
		return
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var doc struct {
		Issuer                string   `json:"issuer"`
		TokenEndpoint         string   `json:"token_endpoint"`
		RevocationEndpoint    string   `json:"revocation_endpoint"`
		IntrospectionEndpoint string   `json:"introspection_endpoint"`
		UserinfoEndpoint      string   `json:"userinfo_endpoint"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		JWKSURI               string   `json:"jwks_uri"`
		RegistrationEndpoint  string   `json:"registration_endpoint"`
		GrantTypesSupported   []string `json:"grant_types_supported"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc.Issuer == "" {
		invalid()
		return
	}
	userInfo := doc.UserinfoEndpoint
	if userInfo == "" {
		userInfo = u.Scheme + "://" + u.Host + "/oauth2/userinfo"
	}
	km := KeyManager{Type: typ, WellKnownEndpoint: wk, Issuer: doc.Issuer, TokenEndpoint: doc.TokenEndpoint,
		DisplayTokenEndpoint: doc.TokenEndpoint, RevokeEndpoint: doc.RevocationEndpoint,
		DisplayRevokeEndpoint: doc.RevocationEndpoint, IntrospectionEndpoint: doc.IntrospectionEndpoint,
		UserInfoEndpoint: userInfo, AuthorizeEndpoint: doc.AuthorizationEndpoint,
		ClientRegistrationEndpoint: doc.RegistrationEndpoint,
		AvailableGrantTypes:        cloneStrings(doc.GrantTypesSupported), ClaimMapping: []ClaimMappingEntry{},
		TokenValidation: []TokenValidation{}, AdditionalProperties: map[string]any{},
		Permissions: KMPermissions{PermissionType: "PUBLIC", Roles: []string{}}, TokenType: "DIRECT",
		EnableSelfValidationJWT: true, AllowedOrganizations: []string{}}
	if doc.JWKSURI != "" {
		km.Certificates = &KMCertificates{Type: "JWKS", Value: doc.JWKSURI}
	}
	if typ == "WSO2-IS-7" || typ == "WSO2-IS" {
		km.ConsumerKeyClaim, km.ScopesClaim = "azp", "scope"
	}
	// erratum: KeyManagerWellKnownResponse.value is a KeyManager, whose
	// schema requires `name`; a discovered configuration has no name (or id)
	// yet, so the server leaves them unset. The simulator omits both rather
	// than invent a name (an empty one would also break minLength).
	var value map[string]any
	b, _ := json.Marshal(km)
	_ = json.Unmarshal(b, &value)
	delete(value, "name")
	delete(value, "id")
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "value": value})
}

func (s *Server) handleAdminSettings(w http.ResponseWriter, _ *http.Request, _ *caller) {
	type kmType struct {
		Type                    string                    `json:"type"`
		DisplayName             string                    `json:"displayName"`
		DefaultConsumerKeyClaim string                    `json:"defaultConsumerKeyClaim"`
		DefaultScopesClaim      string                    `json:"defaultScopesClaim"`
		Configurations          []KeyManagerConfiguration `json:"configurations"`
	}
	cfg := []kmType{
		{Type: "default", DisplayName: "Resident Key Manager", DefaultConsumerKeyClaim: "azp", DefaultScopesClaim: "scope", Configurations: kmConnectorConfig["default"]},
		{Type: "WSO2-IS", DisplayName: "WSO2 Identity Server", DefaultConsumerKeyClaim: "azp", DefaultScopesClaim: "scope", Configurations: kmConnectorConfig["WSO2-IS"]},
		{Type: "WSO2-IS-7", DisplayName: "WSO2 Identity Server 7", DefaultConsumerKeyClaim: "azp", DefaultScopesClaim: "scope", Configurations: kmConnectorConfig["WSO2-IS-7"]},
	}
	for i := range cfg {
		for j := range cfg[i].Configurations {
			if cfg[i].Configurations[j].Values == nil {
				cfg[i].Configurations[j].Values = []any{}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"scopes": AllScopes, "gatewayTypes": []string{"Regular", "APK", "AWS"},
		"keyManagerConfiguration": cfg, "analyticsEnabled": false,
	})
}

// handleDevportalKMs lists the enabled key managers as DevPortal shows them
// (a disabled KM, e.g. the Resident KM after disable-resident-km, is hidden).
func (s *Server) handleDevportalKMs(w http.ResponseWriter, _ *http.Request, _ *caller) {
	s.mu.RLock()
	list := []DevportalKeyManagerInfo{}
	for _, id := range s.st.kmOrder {
		km := s.st.kms[id]
		if !km.Enabled {
			continue
		}
		props := map[string]any{}
		for k, v := range km.AdditionalProperties {
			if !isMaskedKey(k) && k != "Username" {
				props[k] = v
			}
		}
		appCfg := append([]KeyManagerConfiguration{}, kmAppConfig[km.Type]...)
		for i := range appCfg {
			appCfg[i].Values = []any{}
		}
		list = append(list, DevportalKeyManagerInfo{ID: km.ID, Name: km.Name, Type: km.Type,
			DisplayName: km.DisplayName, Description: km.Description, Enabled: km.Enabled,
			AvailableGrantTypes: cloneStrings(km.AvailableGrantTypes), TokenEndpoint: km.DisplayTokenEndpoint,
			RevokeEndpoint: km.DisplayRevokeEndpoint, UserInfoEndpoint: km.UserInfoEndpoint,
			EnableTokenGeneration: km.EnableTokenGeneration, EnableTokenEncryption: km.EnableTokenEncryption,
			EnableTokenHashing: km.EnableTokenHashing, EnableOAuthAppCreation: km.EnableOAuthAppCreation,
			EnableMapOAuthConsumerApps: km.EnableMapOAuthConsumerApps, ApplicationConfiguration: appCfg,
			Alias: km.Alias, AdditionalProperties: props, TokenType: km.TokenType})
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}
