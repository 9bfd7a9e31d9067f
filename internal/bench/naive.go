package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Naive is the toolkit-script approach to a no-op plan, written with plain
// net/http: one list call per kind with the default page size (APIM's 25:
// no limit parameter; SCIM with count=25), then one GET per object for its
// details, one request at a time. Per application it also lists the keys
// and the subscriptions (the API offers no other way to find them), and
// GETs each subscription. It reads; it computes no diff (the comparison
// is free next to the calls).
type Naive struct {
	APIMURL, ISURL string
	User, Password string
	Client         *http.Client
	// PageSize is the SCIM count (APIM pages use the server default).
	PageSize int

	token string
	calls int64
}

// NaiveResult counts what the naive client read.
type NaiveResult struct {
	Calls                                   int64
	KeyManagers, Policies, Apps, Keys, Subs int
	Users, Roles                            int
}

// Run reads the whole estate and returns the counts.
func (n *Naive) Run(ctx context.Context) (NaiveResult, error) {
	if n.Client == nil {
		n.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if n.PageSize <= 0 {
		n.PageSize = 25
	}
	var r NaiveResult
	if err := n.login(ctx); err != nil {
		return r, err
	}
	const admin, dev = "/api/am/admin/v4", "/api/am/devportal/v3"
	// Key managers: the list is not paginated; GET each for its details.
	var kms struct{ List []struct{ ID string } }
	if err := n.get(ctx, n.APIMURL+admin+"/key-managers", true, &kms); err != nil {
		return r, err
	}
	for _, k := range kms.List {
		if err := n.get(ctx, n.APIMURL+admin+"/key-managers/"+k.ID, true, nil); err != nil {
			return r, err
		}
		r.KeyManagers++
	}
	// Tiers: two unpaginated lists, then each tier.
	for _, level := range []string{"application", "subscription"} {
		var ps struct{ List []struct{ PolicyID string } }
		if err := n.get(ctx, n.APIMURL+admin+"/throttling/policies/"+level, true, &ps); err != nil {
			return r, err
		}
		for _, p := range ps.List {
			if err := n.get(ctx, n.APIMURL+admin+"/throttling/policies/"+level+"/"+p.PolicyID, true, nil); err != nil {
				return r, err
			}
			r.Policies++
		}
	}
	// Applications: default pages of 25, then per application its
	// details, its keys and its subscriptions (paged), and each
	// subscription.
	var appIDs []string
	err := n.apimPages(ctx, n.APIMURL+dev+"/applications", func(raw json.RawMessage) error {
		var it struct{ ApplicationID string }
		if err := json.Unmarshal(raw, &it); err != nil {
			return err
		}
		appIDs = append(appIDs, it.ApplicationID)
		return nil
	})
	if err != nil {
		return r, err
	}
	for _, id := range appIDs {
		if err := n.get(ctx, n.APIMURL+dev+"/applications/"+id, true, nil); err != nil {
			return r, err
		}
		r.Apps++
		var keys struct{ List []json.RawMessage }
		if err := n.get(ctx, n.APIMURL+dev+"/applications/"+id+"/oauth-keys", true, &keys); err != nil {
			return r, err
		}
		r.Keys += len(keys.List)
		var subIDs []string
		err := n.apimPages(ctx, n.APIMURL+dev+"/subscriptions?applicationId="+url.QueryEscape(id), func(raw json.RawMessage) error {
			var it struct{ SubscriptionID string }
			if err := json.Unmarshal(raw, &it); err != nil {
				return err
			}
			subIDs = append(subIDs, it.SubscriptionID)
			return nil
		})
		if err != nil {
			return r, err
		}
		for _, sid := range subIDs {
			if err := n.get(ctx, n.APIMURL+dev+"/subscriptions/"+sid, true, nil); err != nil {
				return r, err
			}
			r.Subs++
		}
	}
	// IS users and roles: SCIM pages of PageSize, then each object.
	for _, kind := range []string{"/scim2/Users", "/scim2/v2/Roles"} {
		var ids []string
		for start := 1; ; {
			var page struct {
				Resources []struct{ ID string }
			}
			u := fmt.Sprintf("%s%s?startIndex=%d&count=%d", n.ISURL, kind, start, n.PageSize)
			if err := n.get(ctx, u, false, &page); err != nil {
				return r, err
			}
			for _, it := range page.Resources {
				ids = append(ids, it.ID)
			}
			if len(page.Resources) < n.PageSize {
				break
			}
			start += len(page.Resources)
		}
		for _, id := range ids {
			if err := n.get(ctx, n.ISURL+kind+"/"+id, false, nil); err != nil {
				return r, err
			}
			if kind == "/scim2/Users" {
				r.Users++
			} else {
				r.Roles++
			}
		}
	}
	r.Calls = n.calls
	return r, nil
}

// apimPages follows an APIM list with the server's default page size
// (no limit parameter), as a script does, calling item for each entry.
func (n *Naive) apimPages(ctx context.Context, base string, item func(json.RawMessage) error) error {
	return n.followAPIM(ctx, base, 0, item)
}

// followAPIM follows an APIM list page by page until it is exhausted,
// asking for limit entries a page (the server's default when limit is 0).
func (n *Naive) followAPIM(ctx context.Context, base string, limit int, item func(json.RawMessage) error) error {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for offset := 0; ; {
		var params []string
		if limit > 0 {
			params = append(params, "limit="+strconv.Itoa(limit))
		}
		if offset > 0 {
			params = append(params, "offset="+strconv.Itoa(offset))
		}
		u := base
		if len(params) > 0 {
			u += sep + strings.Join(params, "&")
		}
		var page struct {
			List       []json.RawMessage
			Pagination struct{ Total int }
		}
		if err := n.get(ctx, u, true, &page); err != nil {
			return err
		}
		for _, raw := range page.List {
			if err := item(raw); err != nil {
				return err
			}
		}
		offset += len(page.List)
		if len(page.List) == 0 || offset >= page.Pagination.Total {
			return nil
		}
	}
}

// login registers a DCR client and gets a password-grant token (APIM); IS
// takes Basic auth.
func (n *Naive) login(ctx context.Context) error {
	body, _ := json.Marshal(map[string]any{"callbackUrl": "https://localhost/naive", "clientName": "naive-script",
		"owner": n.User, "grantType": "client_credentials password refresh_token", "saasApp": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.APIMURL+"/client-registration/v0.17/register", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(n.User, n.Password)
	var dcr struct{ ClientID, ClientSecret string }
	if err := n.do(req, &dcr); err != nil {
		return err
	}
	form := url.Values{"grant_type": {"password"}, "username": {n.User}, "password": {n.Password},
		"scope": {"apim:admin apim:tier_view apim:subscribe apim:app_manage apim:sub_manage"}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, n.APIMURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(dcr.ClientID, dcr.ClientSecret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := n.do(req, &tok); err != nil {
		return err
	}
	if tok.AccessToken == "" {
		return fmt.Errorf("naive: no access token")
	}
	n.token = tok.AccessToken
	return nil
}

func (n *Naive) get(ctx context.Context, u string, apim bool, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if apim {
		req.Header.Set("Authorization", "Bearer "+n.token)
	} else {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(n.User+":"+n.Password)))
	}
	req.Header.Set("Accept", "application/json")
	return n.do(req, out)
}

func (n *Naive) do(req *http.Request, out any) error {
	n.calls++
	resp, err := n.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("naive: %s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, truncate(b, 200))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("naive: %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
