// Package is is the typed client of WSO2 Identity Server 7.1 for wso2sync:
// SCIM2 users (users.go), SCIM2 Roles v2 (roles.go), OAuth DCR v1.1
// clients (clients.go) and the applications behind them (applications.go:
// lookup by client id, secret rotation), each behind a small interface
// that takes and returns the manifest types of internal/spec.
//
// Calls go through one transport.Client authorized with Basic admin
// credentials or a client_credentials token holding Scopes (as the
// environment configures).
package is

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// Base paths of the IS APIs.
const (
	SCIMBase = "/scim2"
	DCRBase  = "/api/identity/oauth2/dcr/v1.1"
)

// PageSize is the SCIM count asked for. IS caps it silently (100 per user
// store by default, WSO2-API.md §3.8); reads continue past short pages
// (see listSCIM).
const PageSize = 100

// Scopes are the internal_* scopes a client_credentials token needs for
// every operation of this client (WSO2-API.md §2.4).
var Scopes = []string{
	"internal_user_mgt_list", "internal_user_mgt_view", "internal_user_mgt_create",
	"internal_user_mgt_update", "internal_user_mgt_delete",
	"internal_role_mgt_view", "internal_role_mgt_create", "internal_role_mgt_update", "internal_role_mgt_delete",
	"internal_dcr_view", "internal_dcr_create", "internal_dcr_update", "internal_dcr_delete",
	// applications: find the app behind a client, regenerate its secret
	// (the spec says _create for regenerate-secret; _update is asked too).
	"internal_application_mgt_view", "internal_application_mgt_create", "internal_application_mgt_update",
}

const (
	schemaUser     = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaRole     = "urn:ietf:params:scim:schemas:extension:2.0:Role"
	schemaPatchOp  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimJSON       = "application/scim+json"
	domainPrimary  = "PRIMARY"
	audienceOrg    = "organization"
	audienceApp    = "application"
	everyoneRole   = "everyone"
	everyoneLegacy = "Internal/everyone"
)

// Found is a live object with its server id.
type Found[T any] struct {
	ID     string
	Object T
}

// Options configure a Client.
type Options struct {
	// PageSize overrides PageSize (the server's SCIM cap).
	PageSize int
}

// Client is the IS client. Safe for concurrent use.
type Client struct {
	c    *transport.Client
	opts Options

	Users        Users
	Roles        Roles
	Clients      Clients
	Applications Applications
}

// New returns a client over c, which must carry the IS authenticator.
func New(c *transport.Client, opts Options) *Client {
	if opts.PageSize <= 0 {
		opts.PageSize = PageSize
	}
	cl := &Client{c: c, opts: opts}
	cl.Users = &users{cl}
	cl.Roles = &roles{cl}
	cl.Clients = &clients{cl}
	cl.Applications = &applications{cl}
	return cl
}

// Transport is the underlying HTTP client.
func (c *Client) Transport() *transport.Client { return c.c }

// listSCIM pages through a SCIM list with 1-based startIndex until the
// list is exhausted: an empty page, or a page shorter than one the server
// already gave (IS caps count silently, so a page shorter than the count
// asked is not yet the end). Without a filter totalResults is the real
// total and ends the list too; with a filter IS may report the page size
// there (WSO2-API.md §5.18), so it is never trusted.
func listSCIM(ctx context.Context, c *Client, r transport.Request) ([]json.RawMessage, error) {
	var out []json.RawMessage
	filtered := r.Query.Get("filter") != ""
	start, largest := 1, 0
	for {
		q := url.Values{}
		for k, v := range r.Query {
			q[k] = v
		}
		q.Set("startIndex", strconv.Itoa(start))
		q.Set("count", strconv.Itoa(c.opts.PageSize))
		req := r
		req.Query = q
		var page struct {
			TotalResults int               `json:"totalResults"`
			Resources    []json.RawMessage `json:"Resources"`
		}
		if err := c.c.JSON(ctx, req, &page); err != nil {
			return nil, err
		}
		n := len(page.Resources)
		out = append(out, page.Resources...)
		start += n
		switch {
		case n == 0, n < largest:
			return out, nil
		case !filtered && start-1 >= page.TotalResults:
			return out, nil
		}
		largest = n
	}
}

func scimHeader() map[string][]string {
	return map[string][]string{"Accept": {scimJSON + ", application/json"}}
}
