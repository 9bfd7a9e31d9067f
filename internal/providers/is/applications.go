package is

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/secrets"
)

// AppsBase is the base path of the IS applications API.
const AppsBase = "/api/server/v1/applications"

// appsPageSize is the limit asked for: IS's default maximum page
// (MaximumItemsPerPage, 100); a smaller configured maximum is applied
// silently and the reads go on by offset until totalResults.
const appsPageSize = 100

// Applications reaches the IS application (service provider) behind an
// OAuth client (WSO2-API.md §3.12). Every DCR client, and so every key an
// IS 7 key manager generates, is one IS application.
type Applications interface {
	// FindByClientID returns the id of the application whose OAuth client
	// is clientID, "" when IS has none.
	FindByClientID(ctx context.Context, clientID string) (string, error)
	// RegenerateSecret gives the application's OAuth client a new secret
	// (POST …/inbound-protocols/oidc/regenerate-secret) and returns it.
	// The old secret stops working at once. Not retried: a repeated call
	// would rotate twice. The secret is never put in errors.
	RegenerateSecret(ctx context.Context, appID string) (secrets.Value, error)
}

type applications struct{ cl *Client }

type wireAppItem struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ClientID string `json:"clientId"`
}

func (a *applications) FindByClientID(ctx context.Context, clientID string) (string, error) {
	candidates, err := a.list(ctx, "clientId eq "+clientID, "IS application of OAuth client "+clientID)
	if err != nil {
		return "", err
	}
	// eq may be case-insensitive on the server; the client id is not.
	for _, it := range candidates {
		if it.ClientID == clientID {
			return it.ID, nil
		}
	}
	if len(candidates) == 1 && candidates[0].ClientID == "" {
		return candidates[0].ID, nil // a server that omits clientId from list items
	}
	return "", nil
}

func (a *applications) RegenerateSecret(ctx context.Context, appID string) (secrets.Value, error) {
	resp, err := a.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: AppsBase + "/{applicationId}/inbound-protocols/oidc/regenerate-secret",
		PathParams: map[string]string{"applicationId": appID}, Sensitive: true,
		Identity: "IS application " + appID,
	})
	if err != nil {
		return secrets.Value{}, err
	}
	var out struct {
		ClientSecret string `json:"clientSecret"`
	}
	if json.Unmarshal(resp.Body, &out) != nil {
		// No decoder detail: it could quote the body, which holds the secret.
		return secrets.Value{}, fmt.Errorf("POST %s/{applicationId}/inbound-protocols/oidc/regenerate-secret (IS application %s): "+
			"the %d response is not an OpenIDConnectConfiguration", AppsBase, appID, resp.Status)
	}
	return secrets.NewValue(out.ClientSecret), nil
}

// list pages through GET /applications?filter= by offset until an empty
// page or totalResults (which IS counts with the filter applied); IS caps
// limit silently at its MaximumItemsPerPage.
func (a *applications) list(ctx context.Context, filter, identity string) ([]wireAppItem, error) {
	var out []wireAppItem
	for offset := 0; ; {
		q := url.Values{}
		q.Set("filter", filter)
		q.Set("attributes", "clientId")
		q.Set("offset", strconv.Itoa(offset))
		q.Set("limit", strconv.Itoa(appsPageSize))
		var page struct {
			TotalResults int           `json:"totalResults"`
			Count        int           `json:"count"`
			Applications []wireAppItem `json:"applications"`
		}
		if err := a.cl.c.JSON(ctx, transport.Request{PathTemplate: AppsBase, Query: q, Identity: identity}, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Applications...)
		offset += len(page.Applications)
		if len(page.Applications) == 0 || offset >= page.TotalResults {
			return out, nil
		}
	}
}
