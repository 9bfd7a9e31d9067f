package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// isConnector is APIM's WSO2-IS-7 key manager connector as the real one
// works: every client registration (generate-keys), lookup (map-keys, the
// live key view), update and deletion is an HTTP call to IS's DCR v1.1
// endpoint with the key manager's Basic credentials. So IS's faults,
// latency, concurrency cap, authentication, the contract validator and TLS
// trust apply to the connector's calls exactly as to any client's: when
// APIM's JVM does not trust IS's certificate (WSO2-API.md §5.24) the call
// fails and APIM answers 500.
//
// Options.InProcessConnector asks for the old in-process shortcut by name.
type isConnector struct {
	s *Sim
	// untrusted makes the connector's TLS client trust nothing (the
	// truststore of §5.24 without IS's certificate).
	untrusted atomic.Bool
}

const dcrPath = "/api/identity/oauth2/dcr/v1.1/register"

func (c *isConnector) client() *http.Client {
	if c.untrusted.Load() && c.s.opts.TLS {
		return &http.Client{Timeout: 30 * time.Second, Transport: newAliasTransport(&tls.Config{
			RootCAs: emptyPool(), MinVersion: tls.VersionTLS12})}
	}
	return c.s.client
}

// do sends one DCR call and returns the status and body. A transport
// failure (a reset, a timeout, an untrusted certificate) is an error.
func (c *isConnector) do(ctx context.Context, creds simcore.Credentials, method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.s.ISURL()+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(creds.Username, creds.Password)
	res, err := c.client().Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("key manager connector: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, res.Header, b, nil
}

// statusErr maps a DCR failure to the registry's errors. IS answers 401
// both for rejected credentials (with a WWW-Authenticate challenge) and for
// an unknown client (without one, §7.23).
func statusErr(status int, hdr http.Header, body []byte) error {
	switch status {
	case http.StatusUnauthorized:
		if hdr.Get("WWW-Authenticate") != "" {
			return simcore.ErrUnauthorized
		}
		return simcore.ErrNotFound
	case http.StatusForbidden:
		return simcore.ErrUnauthorized
	case http.StatusBadRequest:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		if strings.Contains(strings.ToLower(e.Description), "already exist") {
			return fmt.Errorf("%w: %s", simcore.ErrConflict, e.Description)
		}
		return fmt.Errorf("%w: %s", simcore.ErrInvalid, e.Description)
	}
	return fmt.Errorf("key manager connector: IS answered %d", status)
}

// members is the DCR request body of an OAuthClient (register adds the
// fixed credentials).
func members(cl simcore.OAuthClient, register bool) map[string]any {
	m := map[string]any{}
	for k, v := range cl.ExtParams {
		m[k] = v
	}
	m["client_name"] = cl.ClientName
	if cl.GrantTypes != nil {
		m["grant_types"] = cl.GrantTypes
	}
	// The connector always sends redirect_uris (empty without a callback).
	m["redirect_uris"] = append([]string{}, cl.RedirectURIs...)
	if cl.ApplicationDisplayName != "" {
		m["ext_application_display_name"] = cl.ApplicationDisplayName
	}
	if cl.Owner != "" {
		m["ext_application_owner"] = cl.Owner
	}
	if cl.TokenType != "" {
		m["token_type_extension"] = cl.TokenType
	}
	if register {
		if cl.ClientID != "" {
			m["ext_param_client_id"] = cl.ClientID
		}
		if cl.ClientSecret != "" {
			m["ext_param_client_secret"] = cl.ClientSecret
		}
	}
	return m
}

// extKeys are the ext_* members IS echoes that the connector keeps.
var extKeys = []string{"ext_application_token_lifetime", "ext_user_token_lifetime", "ext_refresh_token_lifetime",
	"ext_id_token_lifetime", "ext_pkce_mandatory", "ext_pkce_support_plain", "ext_public_client", "ext_allowed_audience"}

func parseClient(b []byte) (simcore.OAuthClient, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return simcore.OAuthClient{}, fmt.Errorf("key manager connector: IS answered a body that is not a DCR client: %w", err)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	strs := func(k string) []string {
		raw, ok := m[k].([]any)
		if !ok {
			return nil
		}
		out := []string{}
		for _, x := range raw {
			if s, _ := x.(string); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	cl := simcore.OAuthClient{ClientID: str("client_id"), ClientSecret: str("client_secret"),
		ClientName: str("client_name"), GrantTypes: strs("grant_types"), RedirectURIs: strs("redirect_uris"),
		ApplicationDisplayName: str("ext_application_display_name"), Owner: str("ext_application_owner"),
		TokenType: str("token_type_extension"), ExtParams: map[string]any{}}
	if len(cl.RedirectURIs) == 0 {
		cl.RedirectURIs = nil
	}
	for _, k := range extKeys {
		if v, ok := m[k]; ok {
			if f, isNum := v.(float64); isNum && f == float64(int64(f)) {
				v = int64(f)
			}
			cl.ExtParams[k] = v
		}
	}
	return cl, nil
}

func (c *isConnector) RegisterClient(ctx context.Context, creds simcore.Credentials, cl simcore.OAuthClient) (simcore.OAuthClient, error) {
	st, hdr, b, err := c.do(ctx, creds, http.MethodPost, dcrPath, members(cl, true))
	if err != nil {
		return simcore.OAuthClient{}, err
	}
	if st != http.StatusCreated {
		return simcore.OAuthClient{}, statusErr(st, hdr, b)
	}
	return parseClient(b)
}

func (c *isConnector) GetClient(ctx context.Context, creds simcore.Credentials, clientID string) (simcore.OAuthClient, error) {
	st, hdr, b, err := c.do(ctx, creds, http.MethodGet, dcrPath+"/"+url.PathEscape(clientID), nil)
	if err != nil {
		return simcore.OAuthClient{}, err
	}
	if st != http.StatusOK {
		return simcore.OAuthClient{}, statusErr(st, hdr, b)
	}
	return parseClient(b)
}

func (c *isConnector) UpdateClient(ctx context.Context, creds simcore.Credentials, cl simcore.OAuthClient) (simcore.OAuthClient, error) {
	st, hdr, b, err := c.do(ctx, creds, http.MethodPut, dcrPath+"/"+url.PathEscape(cl.ClientID), members(cl, false))
	if err != nil {
		return simcore.OAuthClient{}, err
	}
	if st != http.StatusOK {
		return simcore.OAuthClient{}, statusErr(st, hdr, b)
	}
	return parseClient(b)
}

func (c *isConnector) DeleteClient(ctx context.Context, creds simcore.Credentials, clientID string) error {
	st, hdr, b, err := c.do(ctx, creds, http.MethodDelete, dcrPath+"/"+url.PathEscape(clientID), nil)
	if err != nil {
		return err
	}
	if st != http.StatusNoContent && st != http.StatusOK {
		return statusErr(st, hdr, b)
	}
	return nil
}

func emptyPool() *x509.CertPool { return x509.NewCertPool() }

// SetAPIMTrustsIS says whether APIM's JVM truststore holds IS's
// certificate (default true). Without it, with TLS, every key manager
// connector call fails the TLS handshake and APIM answers 500
// (WSO2-API.md §5.24). Reset does not change it.
func (s *Sim) SetAPIMTrustsIS(trust bool) { s.connector.untrusted.Store(!trust) }
