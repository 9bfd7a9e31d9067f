package apim

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// API is a published API as the DevPortal lists it. APIs are read-only
// for wso2sync: subscriptions and client certificates refer to them by
// name and version.
type API struct {
	ID                 string
	Name               string
	Version            string
	Context            string
	LifeCycleStatus    string
	ThrottlingPolicies []string
}

// APIs is the API catalogue of the DevPortal.
type APIs interface {
	// List pages through every API the DevPortal lists (PUBLISHED ones),
	// once per client: later calls (and Lookup) use the cached result.
	List(ctx context.Context) ([]API, error)
	// Lookup returns the API with that name (case-insensitive, as APIM
	// compares API names) and version, or nil.
	Lookup(ctx context.Context, ref spec.APIRef) (*API, error)
	// Forget drops the cache (after publishing, the search index lags,
	// §5.1).
	Forget()
}

type wireAPI struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Version            string   `json:"version"`
	Context            string   `json:"context"`
	LifeCycleStatus    string   `json:"lifeCycleStatus"`
	ThrottlingPolicies []string `json:"throttlingPolicies"`
}

type apis struct {
	cl *Client

	mu     sync.Mutex
	cached []API
}

func (a *apis) List(ctx context.Context) ([]API, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cached != nil {
		return a.cached, nil
	}
	list, err := listAll[wireAPI](ctx, a.cl, transport.Request{PathTemplate: DevportalBase + "/apis"})
	if err != nil {
		return nil, err
	}
	out := make([]API, 0, len(list))
	for _, w := range list {
		out = append(out, API(w))
	}
	a.cached = out
	return out, nil
}

func (a *apis) Lookup(ctx context.Context, ref spec.APIRef) (*API, error) {
	list, err := a.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if strings.EqualFold(list[i].Name, ref.Name) && list[i].Version == ref.Version {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (a *apis) Forget() {
	a.mu.Lock()
	a.cached = nil
	a.mu.Unlock()
}

// SearchQuery is the DevPortal query for one API by exact name and
// version (quoted values match exactly, §3.6).
func SearchQuery(ref spec.APIRef) url.Values {
	return url.Values{"query": {fmt.Sprintf("name:%q version:%q", ref.Name, ref.Version)}}
}
