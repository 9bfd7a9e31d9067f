// Package apim is the typed client of WSO2 API Manager 4.5 (Admin v4,
// DevPortal v3, Publisher v4) for wso2sync: one file per kind, each with a
// small interface whose methods take and return the manifest types of
// internal/spec, so that nothing above this package sees HTTP.
//
// Every call goes through one transport.Client (retries, limiter, counter,
// typed errors) authorized by a transport.APIMTokenSource that asks for
// Scopes once. Wire types are private; the mapping between wire and spec
// values (and the normalisation it implies) is documented next to each
// kind's toSpec/fromSpec.
package apim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// Base paths of the APIM REST APIs.
const (
	AdminBase     = "/api/am/admin/v4"
	DevportalBase = "/api/am/devportal/v3"
	PublisherBase = "/api/am/publisher/v4"
)

// PageSize is the page asked for on paginated APIM lists. APIM declares no
// maximum (WSO2-API.md §5.19, paging item 19) and the DevPortal/Admin
// handlers pass limit straight to the DAO, so one large page reads a list
// in one call. 5,000 reads an estate of 5,000 applications (issue 10's L)
// in one page while bounding one response to a few MiB; larger estates
// page (Options.PageSize / providers.Options.APIMPageSize tune it).
const PageSize = 5000

// Scopes is every scope the APIM client's operations need (WSO2-API.md
// §2.3), requested with the first token so that one token serves the run.
var Scopes = []string{
	"apim:admin", "apim:admin_operations", "apim:tier_view", "apim:tier_manage",
	"apim:subscribe", "apim:app_manage", "apim:sub_manage",
	"apim:api_view", "apim:subscription_view",
	"apim:ep_certificates_view", "apim:ep_certificates_manage",
	"apim:client_certificates_view", "apim:client_certificates_manage", "apim:client_certificates_update",
}

// Per-operation scopes: one accepted scope per operation (the token holds
// them all; these document what each call needs).
var (
	scKM         = []string{"apim:admin"}
	scTierView   = []string{"apim:tier_view"}
	scTierManage = []string{"apim:tier_manage"}
	scApp        = []string{"apim:app_manage"}
	scSub        = []string{"apim:sub_manage"}
	scEPView     = []string{"apim:ep_certificates_view"}
	scEPManage   = []string{"apim:ep_certificates_manage"}
	scCLView     = []string{"apim:client_certificates_view"}
	scCLManage   = []string{"apim:client_certificates_manage"}
	scCLDelete   = []string{"apim:client_certificates_update"} // DELETE omits _manage (§7.11)
)

// Found is a live object with its server id.
type Found[T any] struct {
	ID     string
	Object T
	// SubscriptionCount is the list item's subscriptionCount
	// (applications only; 0 otherwise): providers.Read checks the
	// subscriptions it read per API against it.
	SubscriptionCount int
}

// Options configure a Client.
type Options struct {
	// OnSecret, if set, receives the consumer secret of every key this
	// client generates, maps or reads (the secrets issue seals them). It is
	// the only place a consumer secret leaves this package. Calls are
	// serialised, so the hook need not be safe for concurrent use.
	OnSecret func(app, keyType, keyManager, consumerKey, consumerSecret string)
	// PageSize overrides PageSize.
	PageSize int
}

// Client is the APIM client. Safe for concurrent use.
type Client struct {
	c        *transport.Client
	opts     Options
	secretMu sync.Mutex

	KeyManagers   KeyManagers
	Policies      Policies
	Applications  Applications
	Keys          Keys
	Subscriptions Subscriptions
	APIs          APIs
	Certificates  Certificates
}

// New returns a client over c, which must carry the APIM authenticator
// (transport.Client.WithAuth with an APIMTokenSource).
func New(c *transport.Client, opts Options) *Client {
	if opts.PageSize <= 0 {
		opts.PageSize = PageSize
	}
	cl := &Client{c: c, opts: opts}
	cl.KeyManagers = &keyManagers{cl}
	cl.Policies = &policies{cl}
	cl.Applications = &applications{cl}
	cl.Keys = &keys{cl}
	cl.Subscriptions = &subscriptions{cl}
	cl.APIs = &apis{cl: cl}
	cl.Certificates = &certificates{cl}
	return cl
}

// Transport is the underlying HTTP client.
func (c *Client) Transport() *transport.Client { return c.c }

// pagination is APIM's Pagination object.
type pagination struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
	Total  int `json:"total"`
}

// listAll pages through an APIM list {count, list, pagination} with the
// largest page, stopping at pagination.total (or at a short/empty page
// when the server sends no pagination).
func listAll[T any](ctx context.Context, c *Client, r transport.Request) ([]T, error) {
	return listKey[T](ctx, c, r, "list")
}

// listKey is listAll for lists whose items are under another key
// ("certificates").
func listKey[T any](ctx context.Context, c *Client, r transport.Request, key string) ([]T, error) {
	var out []T
	offset := 0
	for {
		q := url.Values{}
		for k, v := range r.Query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(c.opts.PageSize))
		q.Set("offset", strconv.Itoa(offset))
		req := r
		req.Query = q
		var raw map[string]json.RawMessage
		if err := c.c.JSON(ctx, req, &raw); err != nil {
			return nil, err
		}
		var page struct {
			List       []T
			Pagination *pagination
		}
		if v, ok := raw[key]; ok {
			if err := json.Unmarshal(v, &page.List); err != nil {
				return nil, fmt.Errorf("GET %s: decoding %s: %w", r.PathTemplate, key, err)
			}
		}
		if v, ok := raw["pagination"]; ok {
			_ = json.Unmarshal(v, &page.Pagination) // "pagination": {} past the end
		}
		out = append(out, page.List...)
		offset += len(page.List)
		switch {
		case len(page.List) == 0:
			return out, nil
		case page.Pagination != nil && page.Pagination.Total > 0:
			if offset >= page.Pagination.Total {
				return out, nil
			}
		case len(page.List) < c.opts.PageSize:
			return out, nil
		}
	}
}

// ForEach runs fn for each item with at most limit running at once and
// returns the first error (the others still finish). The transport's
// limiter bounds the HTTP requests; limit only bounds goroutines.
func ForEach[T any](ctx context.Context, items []T, limit int, fn func(context.Context, T) error) error {
	if limit <= 0 {
		limit = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, limit)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, it); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return first
}
