package verify

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// keyManager is what a key check needs of a key manager, with its
// endpoints as reachable from where wso2sync runs.
type keyManager struct {
	name, token, jwks, pem, introspect, issuer, consumerKeyClaim, scopesClaim string
}

// isTypes are the key manager types backed by WSO2 Identity Server.
var isTypes = []string{"WSO2-IS-7", "WSO2-IS", "WSO2IS", "WSO2-IS7"}

// keyManager resolves a key manager's endpoints; the second result is why
// it cannot be used. The endpoints of an IS-backed key manager are the
// ones APIM uses from inside its network (https://wso2is:9443/…,
// WSO2-API.md §1.1), so they are reached through the environment's IS URL
// (spec.is.url or --is-url), keeping their paths; the Resident Key
// Manager's are APIM's own /oauth2 endpoints.
func (r *run) keyManager(name string) (keyManager, string) {
	env := r.st.Environment
	if name == spec.ResidentKeyManager {
		base := strings.TrimRight(env.Spec.APIM.URL, "/")
		km := keyManager{name: name, token: base + "/oauth2/token", jwks: base + "/oauth2/jwks",
			introspect: base + "/oauth2/introspect", consumerKeyClaim: "azp", scopesClaim: "scope"}
		if d := r.st.KeyManager(name); d != nil {
			km.issuer = d.Spec.Issuer
		}
		return km, ""
	}
	d := r.st.KeyManager(name)
	if d == nil {
		return keyManager{}, "key manager " + name + " is not declared in the manifests"
	}
	s := d.Spec
	km := keyManager{name: name, issuer: s.Issuer, consumerKeyClaim: cmpOr(s.ConsumerKeyClaim, "azp"),
		scopesClaim: cmpOr(s.ScopesClaim, "scope"), token: cmpOr(s.DisplayTokenEndpoint, s.TokenEndpoint),
		introspect: s.IntrospectionEndpoint}
	if c := s.Certificates; c != nil {
		switch strings.ToUpper(c.Type) {
		case "JWKS":
			km.jwks = c.Value
		case "PEM":
			km.pem = c.Value
		}
	}
	if slices.Contains(isTypes, s.Type) {
		base := env.Spec.IS.URL
		km.token, km.jwks, km.introspect = rebase(km.token, base), rebase(km.jwks, base), rebase(km.introspect, base)
		if km.token == "" {
			km.token = strings.TrimRight(base, "/") + "/oauth2/token"
		}
	}
	if km.token == "" {
		return km, "key manager " + name + " declares no token endpoint"
	}
	return km, ""
}

// rebase puts u's path (and query) on base's scheme and host.
func rebase(u, base string) string {
	if u == "" || base == "" {
		return u
	}
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	pb, err := url.Parse(base)
	if err != nil || pb.Host == "" {
		return u
	}
	pu.Scheme, pu.Host = pb.Scheme, pb.Host
	if p := strings.TrimRight(pb.Path, "/"); p != "" {
		pu.Path = p + pu.Path
	}
	return pu.String()
}

// keys checks every declared application key.
func (r *run) keys(ctx context.Context) []Check {
	type job struct {
		a *spec.Application
		k spec.ApplicationKey
	}
	var jobs []job
	for _, a := range r.st.Applications {
		for _, k := range a.Spec.Keys {
			jobs = append(jobs, job{a, k})
		}
	}
	out := make([]Check, len(jobs))
	r.each(len(jobs), func(i int) {
		start := time.Now()
		out[i] = r.key(ctx, jobs[i].a, jobs[i].k)
		out[i].Duration = time.Since(start)
	})
	return out
}

func (r *run) key(ctx context.Context, a *spec.Application, k spec.ApplicationKey) Check {
	app := a.Metadata.Name
	c := Check{Kind: KindKey, Name: app + "/" + k.KeyType + "/" + k.KeyManager, Source: source(&a.Object)}
	skip := func(why string) Check { c.Status, c.Message = Skipped, why; return c }
	fail := func(msg, hint string) Check { c.Status, c.Message, c.Hint = Failed, msg, hint; return c }

	if !slices.Contains(k.GrantTypes, "client_credentials") {
		return skip(fmt.Sprintf("no grant mints a token without a user or a browser (the key allows %s)", strings.Join(k.GrantTypes, ", ")))
	}
	km, why := r.keyManager(k.KeyManager)
	if why != "" {
		return skip(why)
	}
	// The credentials: the sealed output of a generated key, the declared
	// reference of a mapped one.
	var ck, secret, from string
	if k.Mode == spec.KeyModeMap {
		if k.ClientSecret == nil || k.ClientSecret.IsZero() {
			return skip("the mapped key declares no clientSecret reference")
		}
		s, err := r.p.ResolveSecret(ctx, k.ClientSecret)
		if err != nil {
			return fail("cannot resolve the client secret: "+err.Error(), "set the reference "+k.ClientSecret.String()+" for this run")
		}
		ck, secret, from = k.ClientID, s, "the secret reference "+k.ClientSecret.String()
	} else {
		cred, err := r.p.OpenSealed(app, k.KeyType, k.KeyManager)
		switch {
		case errors.Is(err, reconcile.ErrNoIdentity):
			return skip("no identity to open the sealed credential (pass --identity or set WSO2SYNC_AGE_IDENTITY)")
		case err != nil:
			return fail("cannot open the sealed credential: "+err.Error(),
				"apply in enforce mode with seal recipients seals every generated key; 'wso2sync secrets list' shows what is sealed in "+r.p.SealedDir())
		}
		ck, secret, from = cred.ConsumerKey, cred.ConsumerSecret.Reveal(), "the sealed credential"
	}

	tok, fault := r.mint(ctx, km, url.Values{"grant_type": {"client_credentials"}, "scope": scopeParam(k.Scopes)}, ck, secret)
	if fault != nil {
		c.Code = fault.code
		hint := fault.hint
		if fault.status == http.StatusUnauthorized || fault.code == "invalid_client" {
			hint = fmt.Sprintf("%s does not authenticate consumer key %s at %s: the secret was changed in the key manager outside wso2sync, or the key was regenerated; 'wso2sync plan' shows secret drift and 'wso2sync apply' re-seals the live secret", from, ck, km.name)
			if k.Mode == spec.KeyModeMap {
				hint = fmt.Sprintf("the secret behind %s is not the secret of client %s in the key manager: update the reference or the client", k.ClientSecret.String(), ck)
			}
		}
		return fail(fault.message, hint)
	}
	// A minted token goes to the gateway checks even when its content is
	// wrong: what the gateway answers to it is the proof that matters.
	r.mu.Lock()
	r.tokens[app] = append(r.tokens[app], appToken{key: c.Name, keyType: strings.ToUpper(k.KeyType), token: tok.AccessToken})
	r.mu.Unlock()
	msg, code, hint := r.checkToken(ctx, km, tok, ck, k.Scopes)
	if hint != "" {
		c.Code = code
		return fail(msg, hint)
	}
	c.Status, c.Message = Verified, msg
	return c
}

func scopeParam(scopes []string) []string {
	if len(scopes) == 0 {
		return nil
	}
	return []string{strings.Join(scopes, " ")}
}

// tokenResponse is an RFC 6749 token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	grant       string
	endpoint    string
}

// callFault is a refused or failed call: the server's answer.
type callFault struct {
	status        int
	code, message string
	hint          string
}

// mint asks the key manager's token endpoint for a token.
func (r *run) mint(ctx context.Context, km keyManager, form url.Values, id, secret string) (*tokenResponse, *callFault) {
	for k, v := range form {
		if len(v) == 0 {
			delete(form, k)
		}
	}
	if err := r.unreachable(km.token); err != nil {
		return nil, &callFault{message: "POST " + km.token + ": " + err.Error() + " (failed earlier in this run)",
			hint: "the token endpoint of " + km.name + " must be reachable from here (for an IS key manager: spec.is.url or --is-url)"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, km.token, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &callFault{message: "bad token endpoint " + km.token, hint: "check the key manager's token endpoint"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := r.client.Do(req)
	if err != nil {
		r.markDown(km.token, errors.New(redactURLError(err)))
		return nil, &callFault{message: "POST " + km.token + ": " + redactURLError(err),
			hint: "the token endpoint of " + km.name + " must be reachable from here (for an IS key manager: spec.is.url or --is-url)"}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		msg := fmt.Sprintf("%s refused the %s grant: %d %s", km.token, form.Get("grant_type"), resp.StatusCode, cmpOr(e.Error, http.StatusText(resp.StatusCode)))
		if e.Description != "" {
			msg += ": " + e.Description
		}
		hint := "check the key's grant types against the client in the key manager; 'wso2sync plan' shows drift"
		return nil, &callFault{status: resp.StatusCode, code: e.Error, message: msg, hint: hint}
	}
	var t tokenResponse
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return nil, &callFault{status: resp.StatusCode, message: km.token + " answered 200 without an access token",
			hint: "is " + km.token + " an OAuth2 token endpoint?"}
	}
	t.grant, t.endpoint = form.Get("grant_type"), km.token
	return &t, nil
}

// redactURLError keeps a transport error's cause without the URL's
// userinfo (none is sent, but be sure).
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// checkToken checks a minted token; hint is "" when it is good (msg then
// says what was proven).
func (r *run) checkToken(ctx context.Context, km keyManager, t *tokenResponse, ck string, want []string) (msg, code, hint string) {
	if strings.Count(t.AccessToken, ".") == 2 {
		return r.checkJWT(ctx, km, t, ck, want)
	}
	return r.introspect(ctx, km, t, ck, want)
}

var jwtAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512}

func (r *run) checkJWT(ctx context.Context, km keyManager, t *tokenResponse, ck string, want []string) (string, string, string) {
	tok, err := jwt.ParseSigned(t.AccessToken, jwtAlgs)
	if err != nil {
		return "the access token looks like a JWT but does not parse: " + err.Error(), "", "check the key manager's token type"
	}
	keys, from, err := r.verificationKeys(ctx, km)
	if err != nil {
		return "cannot read the key manager's certificates: " + err.Error(), "",
			"spec.certificates of key manager " + km.name + " must name its JWKS URL or PEM certificate (the gateway verifies tokens with them)"
	}
	kid, alg := "", ""
	if len(tok.Headers) > 0 {
		kid, alg = tok.Headers[0].KeyID, tok.Headers[0].Algorithm
	}
	var std jwt.Claims
	var claims map[string]any
	ok := false
	for _, k := range keys {
		if kid != "" && k.KeyID != "" && k.KeyID != kid {
			continue
		}
		if tok.Claims(k.Key, &std, &claims) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return fmt.Sprintf("the token's signature (%s, kid %q) does not verify with %s", alg, kid, from), "signature",
			"spec.certificates of key manager " + km.name + " does not hold the key IS signs with: the gateway will refuse every token"
	}
	if km.issuer != "" && std.Issuer != km.issuer {
		return fmt.Sprintf("the token's issuer %q is not the key manager's issuer %q", std.Issuer, km.issuer), "issuer",
			"set spec.issuer of key manager " + km.name + " to the iss IS writes (WSO2-API.md §5.25): the gateway refuses tokens of an unknown issuer"
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: r.now()}, time.Minute); err != nil {
		return "the fresh token is not valid now: " + err.Error(), "expiry", "check the clocks of this machine and the key manager"
	}
	got, _ := claims[km.consumerKeyClaim].(string)
	if got != ck {
		return fmt.Sprintf("the token's %s claim is %q, not the consumer key %s", km.consumerKeyClaim, got, ck), "consumerKey",
			"spec.consumerKeyClaim of key manager " + km.name + " must name the claim that carries the client id (azp for IS 7)"
	}
	scopes := claimScopes(claims[km.scopesClaim])
	if scopes == nil {
		scopes = strings.Fields(t.Scope)
	}
	if missing := missingScopes(want, scopes); len(missing) > 0 {
		return fmt.Sprintf("the token lacks the key's scopes %s (granted: %s)", strings.Join(missing, " "), strings.Join(scopes, " ")), "scope",
			"authorize the client for these scopes in the key manager, or drop them from spec.keys[].scopes"
	}
	exp := ""
	if std.Expiry != nil {
		exp = ", expires in " + std.Expiry.Time().Sub(r.now()).Round(time.Second).String()
	}
	return fmt.Sprintf("%s token from %s: JWT %s verified with %s; iss, %s = %s, scope %q%s",
		t.grant, t.endpoint, alg, from, km.consumerKeyClaim, ck, strings.Join(scopes, " "), exp), "", ""
}

// jwksResult is a fetched key set, or why it could not be fetched.
type jwksResult struct {
	once sync.Once
	keys []jose.JSONWebKey
	err  error
}

// verificationKeys are the key manager's public keys: its PEM certificate
// or its JWKS (fetched once per run).
func (r *run) verificationKeys(ctx context.Context, km keyManager) ([]jose.JSONWebKey, string, error) {
	if km.pem != "" {
		b, _ := pem.Decode([]byte(km.pem))
		if b == nil {
			return nil, "", errors.New("the PEM certificate does not parse")
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, "", err
		}
		return []jose.JSONWebKey{{Key: cert.PublicKey}}, "the PEM certificate " + cert.Subject.CommonName, nil
	}
	if km.jwks == "" {
		return nil, "", errors.New("no JWKS URL or PEM certificate")
	}
	from := "JWKS " + km.jwks
	r.mu.Lock()
	res := r.jwks[km.jwks]
	if res == nil {
		res = &jwksResult{}
		r.jwks[km.jwks] = res
	}
	r.mu.Unlock()
	res.once.Do(func() { res.keys, res.err = r.fetchJWKS(ctx, km.jwks) })
	return res.keys, from, res.err
}

func (r *run) fetchJWKS(ctx context.Context, u string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %s", u, redactURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("GET %s: not a JWKS", u)
	}
	return set.Keys, nil
}

// introspect checks an opaque token at the key manager's introspection
// endpoint with the IS admin credentials.
func (r *run) introspect(ctx context.Context, km keyManager, t *tokenResponse, ck string, want []string) (string, string, string) {
	if km.introspect == "" {
		return "the token is opaque and key manager " + km.name + " declares no introspection endpoint", "",
			"set spec.introspectionEndpoint of the key manager, or issue JWTs"
	}
	user, pass, err := r.p.ISAdmin(ctx)
	if err != nil {
		return "cannot introspect the opaque token: " + err.Error(), "", "set the environment's IS admin credentials"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, km.introspect, strings.NewReader(url.Values{"token": {t.AccessToken}}.Encode()))
	if err != nil {
		return "bad introspection endpoint " + km.introspect, "", "check the key manager's introspection endpoint"
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	resp, err := r.client.Do(req)
	if err != nil {
		return "POST " + km.introspect + ": " + redactURLError(err), "", "the introspection endpoint must be reachable from here"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("POST %s: %s", km.introspect, resp.Status), strings.TrimSpace(fmt.Sprint(resp.StatusCode)),
			"the IS admin credentials must be allowed to introspect tokens"
	}
	var in struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Exp      int64  `json:"exp"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return km.introspect + " answered something that is not an introspection response", "", "check the key manager's introspection endpoint"
	}
	if !in.Active {
		return "the fresh token is not active at " + km.introspect, "inactive", "the key manager does not recognise its own token: check the introspection endpoint"
	}
	if in.ClientID != ck {
		return fmt.Sprintf("the token belongs to client %q, not to the consumer key %s", in.ClientID, ck), "consumerKey", "the sealed consumer key is stale: re-apply"
	}
	scopes := strings.Fields(in.Scope)
	if missing := missingScopes(want, scopes); len(missing) > 0 {
		return fmt.Sprintf("the token lacks the key's scopes %s (granted: %s)", strings.Join(missing, " "), in.Scope), "scope",
			"authorize the client for these scopes in the key manager, or drop them from spec.keys[].scopes"
	}
	return fmt.Sprintf("%s token from %s: opaque, active at %s; client_id = %s, scope %q", t.grant, t.endpoint, km.introspect, ck, in.Scope), "", ""
}

func claimScopes(v any) []string {
	switch s := v.(type) {
	case string:
		return strings.Fields(s)
	case []any:
		var out []string
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func missingScopes(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

func cmpOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
