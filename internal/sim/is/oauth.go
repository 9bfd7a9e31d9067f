package is

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

var b64 = base64.RawURLEncoding

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSO2 Identity Server"`)
	}
	writeJSON(w, status, jsonCT, map[string]string{"error": code, "error_description": desc})
}

// clientCredentials reads client authentication (Basic or form).
func clientCredentials(r *http.Request) (id, secret string, ok bool) {
	if id, secret, ok = r.BasicAuth(); ok {
		return id, secret, true
	}
	id = r.PostForm.Get("client_id")
	secret = r.PostForm.Get("client_secret")
	return id, secret, id != ""
}

// authClientLocked authenticates the OAuth client or writes 401.
func (s *Server) authClientLocked(w http.ResponseWriter, r *http.Request) *client {
	id, secret, ok := clientCredentials(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client Authentication failed.")
		return nil
	}
	c := s.st.clients[id]
	if c == nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "A valid OAuth client could not be found for client_id: "+id)
		return nil
	}
	if secret != c.Secret && !(c.Public && secret == "") {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client credentials are invalid.")
		return nil
	}
	return c
}

// grantScopesLocked decides the granted scopes (package doc).
func (s *Server) grantScopesLocked(c *client, u *user, requested []string) []string {
	st := s.st
	holder := u
	if holder == nil {
		holder = st.userByKey[userKey(splitDomain(normaliseLogin(c.Owner)))]
	}
	var held map[string]bool
	var admin bool
	if holder != nil {
		held, admin = st.userScopesLocked(holder)
	}
	var out []string
	for _, sc := range requested {
		if slices.Contains(out, sc) {
			continue
		}
		internal := strings.HasPrefix(sc, "internal_")
		if !internal && st.scopeOwner(sc) == nil {
			out = append(out, sc) // unregistered scope: passes through
			continue
		}
		if c.AllowedScopes != nil && !slices.Contains(c.AllowedScopes, sc) {
			continue
		}
		if c.AllowedScopes != nil && u == nil {
			out = append(out, sc)
			continue
		}
		if held[sc] || (admin && internal) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		out = []string{"default"}
	}
	return out
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.authClientLocked(w, r)
	if c == nil {
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing grant_type parameter value")
		return
	}
	if !slices.Contains([]string{"client_credentials", "password", "refresh_token"}, grant) {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type value")
		return
	}
	if !slices.Contains(c.GrantTypes, grant) {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "The authenticated client is not authorized to use this authorization grant type")
		return
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	st := s.st
	var u *user
	var scopes []string
	var oldRefresh *refreshEntry
	switch grant {
	case "client_credentials":
		scopes = s.grantScopesLocked(c, nil, requested)
	case "password":
		name := r.PostForm.Get("username")
		u = st.checkUserLocked(name, r.PostForm.Get("password"))
		if u == nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Authentication failed for "+name)
			return
		}
		scopes = s.grantScopesLocked(c, u, requested)
	case "refresh_token":
		rt := st.refresh[r.PostForm.Get("refresh_token")]
		if rt == nil || rt.ClientID != c.ClientID || rt.Revoked {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Persisted access token data not found")
			return
		}
		if !s.now().Before(rt.Expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Refresh token is expired.")
			return
		}
		if rt.UserID != "" {
			u = st.users[rt.UserID]
			if u == nil {
				oauthError(w, http.StatusBadRequest, "invalid_grant", "Persisted access token data not found")
				return
			}
		}
		scopes = rt.Scopes
		if len(requested) > 0 {
			var sub []string
			for _, sc := range requested {
				if slices.Contains(rt.Scopes, sc) {
					sub = append(sub, sc)
				}
			}
			if len(sub) > 0 {
				scopes = sub
			}
		}
		oldRefresh = rt
	}
	ttl := time.Duration(c.AppTTL) * time.Second
	if u != nil {
		ttl = time.Duration(c.UserTTL) * time.Second
	}
	if ttl <= 0 {
		ttl = s.opts.TokenTTL
	}
	t := s.issueLocked(c, u, scopes, ttl)
	resp := map[string]any{
		"access_token": t.Token,
		"scope":        strings.Join(scopes, " "),
		"token_type":   "Bearer",
		"expires_in":   int64(ttl.Seconds()),
	}
	if u != nil && slices.Contains(c.GrantTypes, "refresh_token") {
		if oldRefresh != nil {
			// IS renews the refresh token on the refresh grant and revokes
			// the old pair.
			oldRefresh.Revoked = true
			if old := st.tokens[oldRefresh.Access]; old != nil {
				old.Revoked = true
			}
		}
		rt := &refreshEntry{Token: randomString(36), ClientID: c.ClientID, UserID: u.ID, Username: u.wireName(),
			Scopes: scopes, Expires: s.now().Add(time.Duration(c.RefreshTTL) * time.Second), Access: t.Token}
		st.refresh[rt.Token] = rt
		t.Refresh = rt.Token
		resp["refresh_token"] = rt.Token
	}
	if u != nil && slices.Contains(scopes, "openid") {
		resp["id_token"] = s.signJWT("JWT", map[string]any{
			"iss": s.IssuerURL(), "sub": u.ID, "aud": c.ClientID, "azp": c.ClientID,
			"iat": s.now().Unix(), "exp": s.now().Add(time.Duration(c.IDTokenTTL) * time.Second).Unix(),
			"amr": []string{"password"}, "username": u.wireName(), "jti": newUUID(),
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, jsonCT, resp)
}

// issueLocked creates an access token: a signed JWT, or an opaque token
// when the client's token type is "Default".
func (s *Server) issueLocked(c *client, u *user, scopes []string, ttl time.Duration) *tokenEntry {
	now := s.now()
	t := &tokenEntry{JTI: newUUID(), ClientID: c.ClientID, Scopes: slices.Clone(scopes), Issued: now, Expires: now.Add(ttl)}
	sub, aut := c.ClientID, "APPLICATION"
	if u != nil {
		t.UserID, t.Username = u.ID, u.wireName()
		sub, aut = u.ID, "APPLICATION_USER"
	}
	if strings.EqualFold(c.TokenType, "Default") {
		t.Token = newUUID()
	} else {
		t.Token = s.signJWT("at+jwt", map[string]any{
			"sub": sub, "aut": aut, "iss": s.IssuerURL(), "client_id": c.ClientID, "aud": c.ClientID,
			"azp": c.ClientID, "nbf": now.Unix(), "iat": now.Unix(), "exp": t.Expires.Unix(),
			"scope": strings.Join(scopes, " "), "jti": t.JTI,
			"org_id": superOrgID, "org_name": "Super", "org_handle": superTenant,
		})
	}
	s.st.tokens[t.Token] = t
	return t
}

func (s *Server) signJWT(typ string, claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": typ, "kid": s.kid, "x5t": s.x5t})
	body, _ := json.Marshal(claims)
	signing := b64.EncodeToString(hdr) + "." + b64.EncodeToString(body)
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		return signing + "."
	}
	return signing + "." + b64.EncodeToString(sig)
}

// TokenInfo describes an active token (for in-process validation, e.g. by
// the APIM gateway simulator).
type TokenInfo struct {
	ClientID string
	Username string // "" for client_credentials
	Scopes   []string
	Expires  time.Time
}

// LookupToken reports whether token is an active access token of this
// server, and its details.
func (s *Server) LookupToken(token string) (TokenInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tokens[token]
	if t == nil || t.Revoked || !s.now().Before(t.Expires) {
		return TokenInfo{}, false
	}
	return TokenInfo{ClientID: t.ClientID, Username: t.Username, Scopes: slices.Clone(t.Scopes), Expires: t.Expires}, true
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	p := s.authenticate(r)
	if p == nil || p.token != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSO2 Identity Server"`)
		writeStatus(w, http.StatusUnauthorized)
		return
	}
	if !p.has("internal_application_mgt_view") {
		writeStatus(w, http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid input. Token is required.")
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	if t := s.st.tokens[tok]; t != nil && !t.Revoked && now.Before(t.Expires) {
		resp := map[string]any{
			"active": true, "scope": strings.Join(t.Scopes, " "), "client_id": t.ClientID, "token_type": "Bearer",
			"exp": t.Expires.Unix(), "iat": t.Issued.Unix(), "nbf": t.Issued.Unix(), "iss": s.IssuerURL(), "jti": t.JTI,
		}
		if t.UserID != "" {
			resp["username"] = t.Username + "@" + superTenant
			resp["sub"] = t.UserID
			resp["aut"] = "APPLICATION_USER"
		} else {
			resp["sub"] = t.ClientID
			resp["aut"] = "APPLICATION"
			if c := s.st.clients[t.ClientID]; c != nil {
				resp["username"] = c.Owner + "@" + superTenant
			}
		}
		writeJSON(w, http.StatusOK, jsonCT, resp)
		return
	}
	if rt := s.st.refresh[tok]; rt != nil && !rt.Revoked && now.Before(rt.Expires) {
		writeJSON(w, http.StatusOK, jsonCT, map[string]any{
			"active": true, "scope": strings.Join(rt.Scopes, " "), "client_id": rt.ClientID,
			"token_type": "Refresh", "exp": rt.Expires.Unix(), "username": rt.Username + "@" + superTenant,
		})
		return
	}
	writeJSON(w, http.StatusOK, jsonCT, map[string]any{"active": false})
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.authClientLocked(w, r)
	if c == nil {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid revocation request. Token is required.")
		return
	}
	if t := s.st.tokens[tok]; t != nil && t.ClientID == c.ClientID {
		t.Revoked = true
		if rt := s.st.refresh[t.Refresh]; rt != nil {
			rt.Revoked = true
		}
	}
	if rt := s.st.refresh[tok]; rt != nil && rt.ClientID == c.ClientID {
		rt.Revoked = true
		if t := s.st.tokens[rt.Access]; t != nil {
			t.Revoked = true
		}
	}
	// RFC 7009: unknown tokens are not an error.
	w.WriteHeader(http.StatusOK)
}

// JWKS returns the JSON Web Key Set IS serves at /oauth2/jwks.
func (s *Server) JWKS() []byte {
	pub := &s.key.PublicKey
	key := map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": b64.EncodeToString(pub.N.Bytes()),
		"e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	if s.x5c != "" {
		key["x5c"] = []string{s.x5c}
		key["x5t"] = s.x5t
	}
	b, _ := json.Marshal(map[string]any{"keys": []any{key}})
	return b
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", jsonCT)
	_, _ = w.Write(s.JWKS())
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL()
	writeJSON(w, http.StatusOK, jsonCT, map[string]any{
		"issuer":                                s.IssuerURL(),
		"authorization_endpoint":                base + "/oauth2/authorize",
		"token_endpoint":                        base + "/oauth2/token",
		"jwks_uri":                              base + "/oauth2/jwks",
		"introspection_endpoint":                base + "/oauth2/introspect",
		"revocation_endpoint":                   base + "/oauth2/revoke",
		"registration_endpoint":                 base + baseDCR + "/register",
		"userinfo_endpoint":                     base + "/oauth2/userinfo",
		"end_session_endpoint":                  base + "/oidc/logout",
		"grant_types_supported":                 []string{"refresh_token", "password", "client_credentials", "authorization_code", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"},
		"response_types_supported":              []string{"code", "token", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "email", "profile", "address", "phone", "openid"},
		"subject_types_supported":               []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256", "PS256", "none"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth"},
		"claims_supported":                      []string{"sub", "email", "given_name", "family_name", "username"},
	})
}

func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.authenticateLocked(r)
	if p == nil || p.token == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Access token validation failed")
		return
	}
	if p.user == nil || !slices.Contains(p.token.Scopes, "openid") {
		oauthError(w, http.StatusForbidden, "insufficient_scope", "Access token does not have the openid scope")
		return
	}
	u := p.user
	resp := map[string]any{"sub": u.ID, "username": u.wireName()}
	if nm, ok := u.Attrs["name"].(map[string]any); ok {
		if v, ok := nm["givenName"]; ok {
			resp["given_name"] = v
		}
		if v, ok := nm["familyName"]; ok {
			resp["family_name"] = v
		}
	}
	if em, ok := u.Attrs["emails"].([]any); ok && len(em) > 0 {
		if m, ok := em[0].(map[string]any); ok {
			resp["email"] = m["value"]
		}
	}
	writeJSON(w, http.StatusOK, jsonCT, resp)
}

// keyIDs computes kid (SHA-256 of the public key) and x5t (SHA-1 of the
// certificate DER, as IS's default x5t).
func (s *Server) keyIDs(certDER []byte) {
	pubDER, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	h := sha256.Sum256(pubDER)
	s.kid = b64.EncodeToString(h[:])
	if certDER != nil {
		h1 := sha1.Sum(certDER)
		s.x5t = b64.EncodeToString(h1[:])
		s.x5c = base64.StdEncoding.EncodeToString(certDER)
	}
}
