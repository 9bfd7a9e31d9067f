package apim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

type keyGenRequest struct {
	KeyType                 string         `json:"keyType"`
	KeyManager              string         `json:"keyManager"`
	GrantTypesToBeSupported []string       `json:"grantTypesToBeSupported"`
	CallbackURL             string         `json:"callbackUrl"`
	Scopes                  []string       `json:"scopes"`
	ValidityTime            any            `json:"validityTime"`
	AdditionalProperties    map[string]any `json:"additionalProperties"`
}

type keyMapRequest struct {
	ConsumerKey    string `json:"consumerKey"`
	ConsumerSecret string `json:"consumerSecret"`
	KeyManager     string `json:"keyManager"`
	KeyType        string `json:"keyType"`
}

type keyUpdateRequest struct {
	SupportedGrantTypes  []string       `json:"supportedGrantTypes"`
	CallbackURL          string         `json:"callbackUrl"`
	AdditionalProperties map[string]any `json:"additionalProperties"`
}

type tokenGenRequest struct {
	ConsumerSecret string   `json:"consumerSecret"`
	ValidityPeriod int64    `json:"validityPeriod"`
	Scopes         []string `json:"scopes"`
	RevokeToken    string   `json:"revokeToken"`
	GrantType      string   `json:"grantType"`
}

func validKeyType(w http.ResponseWriter, kt string) bool {
	if kt != "PRODUCTION" && kt != "SANDBOX" {
		apimError(w, http.StatusBadRequest, codeInvalidKeyType, "Bad Request",
			"Invalid keyType. KeyType should be either PRODUCTION or SANDBOX")
		return false
	}
	return true
}

func needsCallback(grants []string) bool {
	return slices.Contains(grants, "authorization_code") || slices.Contains(grants, "implicit")
}

// resolveKM finds the key manager of a DevPortal request (name, then UUID;
// default Resident Key Manager) and checks it is enabled.
func (s *Server) resolveKM(w http.ResponseWriter, ref string) *KeyManager {
	if ref == "" {
		ref = ResidentKeyManagerName
	}
	km := s.st.kmByNameOrID(ref)
	if km == nil {
		apimError(w, http.StatusBadRequest, codeKMNotRegistered, "Key Manager not Registered",
			fmt.Sprintf("Key Manager %s couldn't found.", ref))
		return nil
	}
	if !km.Enabled {
		apimError(w, http.StatusBadRequest, codeKMNotEnabled, "Key Manager is not enabled in the system",
			fmt.Sprintf("Key Manager %s is not enabled in the system", km.Name))
		return nil
	}
	return km
}

// is7Props keeps the string-valued application settings the IS7 connector
// honours (numbers/booleans are silently dropped, §3.1 / §5.13).
func is7Props(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if sv, ok := v.(string); ok {
			out[k] = sv
		}
	}
	return out
}

// echoProps is how the connector echoes the settings back: "true"/"false"
// as booleans and numeric strings as numbers.
func echoProps(in map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if sv, ok := v.(string); ok {
			if b, err := strconv.ParseBool(sv); err == nil && (sv == "true" || sv == "false") {
				out[k] = b
				continue
			}
			if n, err := strconv.ParseInt(sv, 10, 64); err == nil {
				out[k] = n
				continue
			}
		}
		out[k] = v
	}
	return out
}

func (s *Server) keyView(k *KeyMapping) ApplicationKey {
	name := k.KeyManagerID
	km := s.st.kms[k.KeyManagerID]
	if km != nil {
		name = km.Name
	}
	props := cloneMap(k.AdditionalProperties)
	if km != nil && isExternalKM(km) {
		props = echoProps(props)
	}
	return ApplicationKey{KeyMappingID: k.KeyMappingID, KeyManager: name, ConsumerKey: k.ConsumerKey,
		ConsumerSecret: k.ConsumerSecret, SupportedGrantTypes: cloneStrings(k.SupportedGrantTypes),
		CallbackURL: k.CallbackURL, KeyState: k.KeyState, KeyType: k.KeyType, Mode: k.Mode,
		AdditionalProperties: props}
}

// liveKeyView is the GET view: for IS7 keys the secret, grant types and
// callback are fetched from the key manager (IS), so changes made in IS show
// through. Fetch failures fall back to what APIM stored.
func (s *Server) liveKeyView(ctx context.Context, k *KeyMapping) ApplicationKey {
	v := s.keyView(k)
	km := s.st.kms[k.KeyManagerID]
	if km == nil || !isExternalKM(km) || s.opts.Registry == nil || k.ConsumerKey == "" {
		return v
	}
	cl, err := s.opts.Registry.GetClient(ctx, kmCreds(km), k.ConsumerKey)
	if err != nil {
		return v
	}
	v.ConsumerSecret = cl.ClientSecret
	if cl.GrantTypes != nil {
		v.SupportedGrantTypes = cloneStrings(cl.GrantTypes)
	}
	if len(cl.RedirectURIs) > 0 {
		v.CallbackURL = cl.RedirectURIs[0]
	}
	return v
}

func jwtLike(sub string) string {
	enc := base64.RawURLEncoding
	var sig [32]byte
	_, _ = rand.Read(sig[:])
	hdr := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`))
	body := enc.EncodeToString([]byte(`{"sub":"` + sub + `","jti":"` + newUUID() + `"}`))
	return hdr + "." + body + "." + enc.EncodeToString(sig[:])
}

func parseValidity(v any) int64 {
	switch x := v.(type) {
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil && n > 0 {
			return n
		}
	case float64:
		if x > 0 {
			return int64(x)
		}
	}
	return 3600
}

// mintAppToken issues the token generate-keys/generate-token return. For
// the Resident KM it is a real APIM token; for IS7 an opaque JWT-looking
// string (the simulator cannot mint IS tokens through ClientRegistry).
func (s *Server) mintAppToken(km *KeyManager, k *KeyMapping, owner string, scopes []string, validity int64) *ApplicationToken {
	if len(scopes) == 0 {
		scopes = []string{"default"}
	}
	if isExternalKM(km) {
		return &ApplicationToken{AccessToken: jwtLike(k.ConsumerKey), TokenScopes: cloneStrings(scopes), ValidityTime: validity}
	}
	granted := []string{}
	if u := s.st.users[owner]; u != nil {
		for _, sc := range scopes {
			if s.userMayHold(u, sc) {
				granted = append(granted, sc)
			}
		}
	}
	if len(granted) == 0 {
		granted = []string{"default"}
	}
	t := s.issueToken(k.ConsumerKey, owner, granted, time.Duration(validity)*time.Second, false)
	return &ApplicationToken{AccessToken: t.AccessToken, TokenScopes: granted, ValidityTime: validity}
}

// createClient makes the OAuth client of a new key mapping: IS through the
// registry for WSO2-IS-7, APIM's own store otherwise. The caller holds the
// write lock.
func (s *Server) createClient(ctx context.Context, km *KeyManager, app *appRec, k *KeyMapping) error {
	if isExternalKM(km) {
		if s.opts.Registry == nil {
			return fmt.Errorf("no client registry configured for key manager %s", km.Name)
		}
		var redirect []string
		if k.CallbackURL != "" {
			redirect = []string{k.CallbackURL}
		}
		cl, err := s.opts.Registry.RegisterClient(ctx, kmCreds(km), simcore.OAuthClient{
			ClientName:             app.Owner + "_" + app.ApplicationID + "_" + k.KeyType,
			GrantTypes:             cloneStrings(k.SupportedGrantTypes),
			RedirectURIs:           redirect,
			ApplicationDisplayName: app.Name,
			Owner:                  kmCreds(km).Username,
			TokenType:              "JWT",
			ExtParams:              is7Props(k.AdditionalProperties),
		})
		if err != nil {
			return err
		}
		k.ConsumerKey, k.ConsumerSecret = cl.ClientID, cl.ClientSecret
		return nil
	}
	k.ConsumerKey, k.ConsumerSecret = newKey(), newKey()
	s.st.clients[k.ConsumerKey] = &Client{ClientID: k.ConsumerKey, ClientSecret: k.ConsumerSecret,
		ClientName: app.Owner + "_" + app.Name + "_" + k.KeyType, Owner: app.Owner,
		GrantTypes: cloneStrings(k.SupportedGrantTypes), CallbackURL: k.CallbackURL}
	return nil
}

func (s *Server) handleGenerateKeys(w http.ResponseWriter, r *http.Request, c *caller) {
	var req keyGenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.ownedApp(w, c, r.PathValue("applicationId"))
	if app == nil || !validKeyType(w, req.KeyType) {
		return
	}
	if req.GrantTypesToBeSupported == nil {
		badRequest(w, "grantTypesToBeSupported is required")
		return
	}
	km := s.resolveKM(w, req.KeyManager)
	if km == nil {
		return
	}
	if !km.EnableOAuthAppCreation {
		apimError(w, http.StatusBadRequest, codeKMNoOAuthApps, "Key Manager doesn't support generating OAuth applications",
			fmt.Sprintf("Key Manager %s doesn't support generating OAuth applications", km.Name))
		return
	}
	if s.st.keyFor(app.ApplicationID, req.KeyType, km.ID) != nil {
		apimError(w, http.StatusConflict, codeKeyMappingExists, "Key Mappings already exists",
			fmt.Sprintf("Key Mappings already exists for application %s and key type %s in key manager %s",
				app.Name, req.KeyType, km.Name))
		return
	}
	if needsCallback(req.GrantTypesToBeSupported) && strings.TrimSpace(req.CallbackURL) == "" {
		badRequest(w, "Callback URL is required for authorization_code and implicit grant types")
		return
	}
	props := req.AdditionalProperties
	if isExternalKM(km) {
		props = is7Props(props)
	}
	k := &KeyMapping{KeyMappingID: newUUID(), ApplicationID: app.ApplicationID, KeyManagerID: km.ID,
		KeyType: req.KeyType, Mode: "CREATED", KeyState: "COMPLETED",
		SupportedGrantTypes: cloneStrings(req.GrantTypesToBeSupported), CallbackURL: req.CallbackURL,
		AdditionalProperties: cloneMap(props), Scopes: cloneStrings(req.Scopes), ValidityTime: parseValidity(req.ValidityTime)}
	if wf {
		// Key generation workflow: mapping pending, no credentials (§5.3).
		k.KeyState = "CREATED"
		s.st.insertKey(k)
		writeJSON(w, http.StatusOK, s.keyView(k))
		return
	}
	if err := s.createClient(r.Context(), km, app, k); err != nil {
		internalError(w, "Error while generating keys: "+err.Error())
		return
	}
	if simcore.HalfFailureOf(r.Context()).Take() {
		// The documented half-failure (WSO2-API.md §3.4, §5.4): the key
		// manager created the OAuth client, then APIM failed before the
		// mapping was usable; the client is left behind in IS under
		// <owner>_<appUUID>_<KEYTYPE> and the application has no mapping.
		internalError(w, "Error while generating keys: failed after the OAuth client "+k.ConsumerKey+" was created")
		return
	}
	s.st.insertKey(k)
	out := s.keyView(k)
	if km.EnableTokenGeneration && slices.Contains(k.SupportedGrantTypes, "client_credentials") {
		out.Token = s.mintAppToken(km, k, app.Owner, req.Scopes, k.ValidityTime)
	} else {
		out.Token = &ApplicationToken{AccessToken: "", TokenScopes: []string{"N/A"}, ValidityTime: 0}
	}
	writeJSON(w, http.StatusOK, out) // 200, not 201
}

func (s *Server) handleMapKeys(w http.ResponseWriter, r *http.Request, c *caller) {
	var req keyMapRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.ownedApp(w, c, r.PathValue("applicationId"))
	if app == nil || !validKeyType(w, req.KeyType) {
		return
	}
	if req.ConsumerKey == "" {
		badRequest(w, "consumerKey is required")
		return
	}
	km := s.resolveKM(w, req.KeyManager)
	if km == nil {
		return
	}
	if !km.EnableMapOAuthConsumerApps {
		apimError(w, http.StatusBadRequest, codeKMNoOAuthApps, "Key Manager doesn't support mapping OAuth applications",
			fmt.Sprintf("Key Manager %s doesn't support mapping OAuth applications", km.Name))
		return
	}
	if s.st.keyFor(app.ApplicationID, req.KeyType, km.ID) != nil || s.st.keyByCK[req.ConsumerKey] != nil {
		apimError(w, http.StatusConflict, codeKeyMappingExists, "Key Mappings already exists",
			fmt.Sprintf("Key Mappings already exists for application %s or consumer key %s", app.Name, req.ConsumerKey))
		return
	}
	k := &KeyMapping{KeyMappingID: newUUID(), ApplicationID: app.ApplicationID, KeyManagerID: km.ID,
		KeyType: req.KeyType, Mode: "MAPPED", KeyState: "COMPLETED", ConsumerKey: req.ConsumerKey,
		AdditionalProperties: map[string]any{}}
	if isExternalKM(km) {
		if s.opts.Registry == nil {
			internalError(w, "no client registry configured for key manager "+km.Name)
			return
		}
		cl, err := s.opts.Registry.GetClient(r.Context(), kmCreds(km), req.ConsumerKey)
		if err != nil {
			internalError(w, "Error while retrieving OAuth application "+req.ConsumerKey+": "+err.Error())
			return
		}
		if req.ConsumerSecret != "" && req.ConsumerSecret != cl.ClientSecret {
			internalError(w, "The secret key is wrong for the given consumer key "+req.ConsumerKey)
			return
		}
		k.ConsumerSecret = cl.ClientSecret
		k.SupportedGrantTypes = cloneStrings(cl.GrantTypes)
		if len(cl.RedirectURIs) > 0 {
			k.CallbackURL = cl.RedirectURIs[0]
		}
		for key, v := range cl.ExtParams {
			k.AdditionalProperties[key] = v
		}
	} else {
		cl := s.st.clients[req.ConsumerKey]
		if cl == nil || cl.DCR {
			internalError(w, "Error while retrieving OAuth application "+req.ConsumerKey)
			return
		}
		if req.ConsumerSecret != "" && req.ConsumerSecret != cl.ClientSecret {
			internalError(w, "The secret key is wrong for the given consumer key "+req.ConsumerKey)
			return
		}
		k.ConsumerSecret = cl.ClientSecret
		k.SupportedGrantTypes = cloneStrings(cl.GrantTypes)
		k.CallbackURL = cl.CallbackURL
	}
	s.st.insertKey(k)
	writeJSON(w, http.StatusOK, s.keyView(k))
}

// appKey finds a key mapping of an owned application; 404 900331 otherwise.
func (s *Server) appKey(w http.ResponseWriter, r *http.Request, c *caller) (*appRec, *KeyMapping) {
	app := s.ownedApp(w, c, r.PathValue("applicationId"))
	if app == nil {
		return nil, nil
	}
	id := r.PathValue("keyMappingId")
	k := s.st.keys[id]
	if k == nil || k.ApplicationID != app.ApplicationID {
		notFound(w, codeKeyMappingNotFound, "Application Key mapping not found",
			fmt.Sprintf("Application Key mapping with id '%s' not found", id))
		return nil, nil
	}
	return app, k
}

func (s *Server) handleOAuthKeysList(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	app := s.ownedApp(w, c, r.PathValue("applicationId"))
	if app == nil {
		return
	}
	list := []ApplicationKey{}
	for _, k := range s.st.keysByApp[app.ApplicationID] {
		list = append(list, s.liveKeyView(r.Context(), k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list}) // not paginated
}

// handleAppKeysList answers the deprecated GET /applications/{id}/keys:
// the keys of the Resident Key Manager only (applicationsApplicationIdKeysGet
// asks for APIConstants.KeyManager.DEFAULT_KEY_MANAGER). apictl's `get keys`
// reads it to reuse the keys of its default-apictl-app
// (product-apim-tooling import-export-cli/impl/getKeys.go, getApplicationKeys).
func (s *Server) handleAppKeysList(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	app := s.ownedApp(w, c, r.PathValue("applicationId"))
	if app == nil {
		return
	}
	list := []ApplicationKey{}
	for _, k := range s.st.keysByApp[app.ApplicationID] {
		if km := s.st.kms[k.KeyManagerID]; km != nil && km.Name == ResidentKeyManagerName {
			list = append(list, s.liveKeyView(r.Context(), k))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

func (s *Server) handleOAuthKeyGet(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, k := s.appKey(w, r, c)
	if k == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.liveKeyView(r.Context(), k))
}

func (s *Server) handleOAuthKeyUpdate(w http.ResponseWriter, r *http.Request, c *caller) {
	var req keyUpdateRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, k := s.appKey(w, r, c)
	if k == nil {
		return
	}
	if needsCallback(req.SupportedGrantTypes) && strings.TrimSpace(req.CallbackURL) == "" {
		badRequest(w, "Callback URL is required for authorization_code and implicit grant types")
		return
	}
	km := s.st.kms[k.KeyManagerID]
	props := req.AdditionalProperties
	if km != nil && isExternalKM(km) {
		props = is7Props(props)
	}
	if k.ConsumerKey != "" && km != nil {
		if isExternalKM(km) {
			if s.opts.Registry == nil {
				internalError(w, "no client registry configured for key manager "+km.Name)
				return
			}
			cl, err := s.opts.Registry.GetClient(r.Context(), kmCreds(km), k.ConsumerKey)
			if err == nil {
				cl.GrantTypes = cloneStrings(req.SupportedGrantTypes)
				cl.RedirectURIs = nil
				if req.CallbackURL != "" {
					cl.RedirectURIs = []string{req.CallbackURL}
				}
				ext := cloneMap(cl.ExtParams)
				for key, v := range props {
					ext[key] = v
				}
				cl.ExtParams = ext
				_, err = s.opts.Registry.UpdateClient(r.Context(), kmCreds(km), cl)
			}
			if err != nil {
				internalError(w, "Error while updating OAuth application "+k.ConsumerKey+": "+err.Error())
				return
			}
		} else if cl := s.st.clients[k.ConsumerKey]; cl != nil {
			cl.GrantTypes = cloneStrings(req.SupportedGrantTypes)
			cl.CallbackURL = req.CallbackURL
		}
	}
	k.SupportedGrantTypes = cloneStrings(req.SupportedGrantTypes)
	k.CallbackURL = req.CallbackURL
	k.AdditionalProperties = cloneMap(props)
	writeJSON(w, http.StatusOK, s.keyView(k))
}

// handleRegenerateSecret rotates a Resident KM secret. Quirk (§3.4, §5.15):
// the IS7 connector returns null ("not applicable"), so for WSO2-IS-7 keys
// nothing rotates and the answer carries no consumerSecret.
func (s *Server) handleRegenerateSecret(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, k := s.appKey(w, r, c)
	if k == nil {
		return
	}
	if k.ConsumerKey == "" {
		badRequest(w, "Keys are not generated for this key mapping")
		return
	}
	km := s.st.kms[k.KeyManagerID]
	if km != nil && isExternalKM(km) {
		writeJSON(w, http.StatusOK, map[string]any{"consumerKey": k.ConsumerKey})
		return
	}
	k.ConsumerSecret = newKey()
	if cl := s.st.clients[k.ConsumerKey]; cl != nil {
		cl.ClientSecret = k.ConsumerSecret
	}
	writeJSON(w, http.StatusOK, map[string]any{"consumerKey": k.ConsumerKey, "consumerSecret": k.ConsumerSecret})
}

// handleCleanUp removes a key mapping ("clean up keys after failed key
// generation"). The IS client of an IS7 mapping is left behind (§3.4: do not
// rely on it being deleted); a Resident KM client is removed.
func (s *Server) handleCleanUp(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, k := s.appKey(w, r, c)
	if k == nil {
		return
	}
	if km := s.st.kms[k.KeyManagerID]; km != nil && !isExternalKM(km) && k.Mode == "CREATED" && k.ConsumerKey != "" {
		delete(s.st.clients, k.ConsumerKey)
	}
	s.st.removeKey(k)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleGenerateToken(w http.ResponseWriter, r *http.Request, c *caller) {
	var req tokenGenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app, k := s.appKey(w, r, c)
	if k == nil {
		return
	}
	km := s.st.kms[k.KeyManagerID]
	if km == nil || !km.EnableTokenGeneration {
		apimError(w, http.StatusBadRequest, codeKMNoOAuthApps, "Key Manager doesn't support token generation",
			"Key Manager doesn't support token generation")
		return
	}
	if k.ConsumerKey == "" {
		badRequest(w, "Keys are not generated for this key mapping")
		return
	}
	if req.ConsumerSecret != "" && req.ConsumerSecret != k.ConsumerSecret && !isExternalKM(km) {
		badRequest(w, "Invalid consumer secret")
		return
	}
	if req.RevokeToken != "" {
		delete(s.st.tokens, req.RevokeToken)
	}
	validity := req.ValidityPeriod
	if validity <= 0 {
		validity = 3600
	}
	writeJSON(w, http.StatusOK, s.mintAppToken(km, k, app.Owner, req.Scopes, validity))
}
