package is

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// OAuthClient is an IS OAuth client (DCR v1.1), e.g. one created out of
// band and attached to an APIM application with map-keys. The secret is
// never kept, nor any digest of it.
type OAuthClient struct {
	ClientID     string
	ClientName   string
	GrantTypes   []string
	RedirectURIs []string
	HasSecret    bool // the server returned a secret
}

// ClientRegistration is a DCR v1.1 register request (fixed credentials
// through ext_param_client_id/secret).
type ClientRegistration struct {
	ClientName   string
	GrantTypes   []string
	RedirectURIs []string
	ClientID     string // ext_param_client_id; "" lets IS choose
	ClientSecret string // ext_param_client_secret
}

// Clients manages IS DCR v1.1 clients. Identity: client_id (client names
// change when APIM recreates an application, §5.11).
type Clients interface {
	// Get returns the client, or nil when IS does not know it (IS answers
	// 401 for unknown ids, §5.16).
	Get(ctx context.Context, clientID string) (*OAuthClient, error)
	// GetByName returns the client of that client_name, or nil (IS answers
	// 401 for an unknown name too, §3.11).
	GetByName(ctx context.Context, name string) (*OAuthClient, error)
	Register(ctx context.Context, r ClientRegistration) (*OAuthClient, error)
	// Delete removes the client (and its IS application); unknown → nil.
	Delete(ctx context.Context, clientID string) error
}

type wireClient struct {
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	ClientName   string   `json:"client_name"`
	GrantTypes   []string `json:"grant_types,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	ExtClientID  string   `json:"ext_param_client_id,omitempty"`
	ExtSecret    string   `json:"ext_param_client_secret,omitempty"`
}

type clients struct{ cl *Client }

func toClient(w *wireClient) *OAuthClient {
	c := &OAuthClient{ClientID: w.ClientID, ClientName: w.ClientName, GrantTypes: w.GrantTypes,
		HasSecret: w.ClientSecret != ""}
	for _, u := range w.RedirectURIs {
		if u != "" { // IS echoes [""] for none (§3.11)
			c.RedirectURIs = append(c.RedirectURIs, u)
		}
	}
	return c
}

func (c *clients) Get(ctx context.Context, id string) (*OAuthClient, error) {
	var w wireClient
	err := c.cl.c.JSON(ctx, transport.Request{
		PathTemplate: DCRBase + "/register/{client_id}", PathParams: map[string]string{"client_id": id},
		NotFoundOn401: true, Identity: "OAuth client " + id,
	}, &w)
	if transport.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toClient(&w), nil
}

// registerBody is the DCR v1.1 register request. redirect_uris is always
// sent (empty when the client has no redirect-based grant): the spec lists
// it as required, and IS accepts an empty list (WSO2-API.md §3.11, §7.22).
type registerBody struct {
	ClientName   string   `json:"client_name"`
	GrantTypes   []string `json:"grant_types,omitempty"`
	RedirectURIs []string `json:"redirect_uris"`
	ExtClientID  string   `json:"ext_param_client_id,omitempty"`
	ExtSecret    string   `json:"ext_param_client_secret,omitempty"`
}

func (c *clients) Register(ctx context.Context, r ClientRegistration) (*OAuthClient, error) {
	redirects := r.RedirectURIs
	if redirects == nil {
		redirects = []string{}
	}
	// A registration that failed with a 5xx or a dropped connection may
	// have landed: look the client up (by its id when we chose it, else by
	// name) before trying again, as every other create does.
	lookup := func(ctx context.Context) (*OAuthClient, error) {
		if r.ClientID != "" {
			return c.Get(ctx, r.ClientID)
		}
		return c.getByName(ctx, r.ClientName)
	}
	var w wireClient
	err := c.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: DCRBase + "/register",
		Body: registerBody{ClientName: r.ClientName, GrantTypes: r.GrantTypes, RedirectURIs: redirects,
			ExtClientID: r.ClientID, ExtSecret: r.ClientSecret},
		Identity: "OAuth client " + r.ClientName, Sensitive: true,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			got, err := lookup(ctx)
			return got != nil, err
		},
	}, &w)
	if transport.IsLanded(err) {
		got, gerr := lookup(ctx)
		if gerr == nil && got == nil {
			gerr = err
		}
		return got, gerr
	}
	if err != nil {
		return nil, err
	}
	return toClient(&w), nil
}

// GetByName finds a client by name.
func (c *clients) GetByName(ctx context.Context, name string) (*OAuthClient, error) {
	return c.getByName(ctx, name)
}

// getByName finds a client by name (GET /register?client_name=; IS answers
// 401 when there is none, §5.16).
func (c *clients) getByName(ctx context.Context, name string) (*OAuthClient, error) {
	var w wireClient
	err := c.cl.c.JSON(ctx, transport.Request{
		PathTemplate: DCRBase + "/register", Query: url.Values{"client_name": {name}},
		NotFoundOn401: true, Identity: "OAuth client " + name,
	}, &w)
	if transport.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toClient(&w), nil
}

func (c *clients) Delete(ctx context.Context, id string) error {
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: DCRBase + "/register/{client_id}",
		PathParams: map[string]string{"client_id": id}, NotFoundOn401: true, Identity: "OAuth client " + id,
	})
	if transport.IsNotFound(err) {
		return nil
	}
	return err
}
