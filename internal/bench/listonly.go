package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers/apim"
)

// ListOnly is the second baseline (issue 17): a careful sequential script
// that reads what a plan needs with lists only — every list followed page
// by page with the largest page the API allows (APIM declares no maximum:
// apim.PageSize, as wso2sync asks; SCIM: the server's cap, SCIMCap), no
// GET per object, one request at a time. What it cannot avoid is the one
// oauth-keys list per application (the API has no bulk key read) and, for
// the subscriptions, one list per API after listing the APIs (cheaper
// than one per application when there are fewer APIs). Like the naive
// client it computes no diff.
type ListOnly struct {
	Naive // login, get and the call count; its paging is not used
	// APIMPage and SCIMPage are the page sizes asked for.
	APIMPage, SCIMPage int
}

// ListOnlyResult counts what the list-only client read.
type ListOnlyResult struct {
	Calls                               int64
	KeyManagers, Apps, Keys, Subs, APIs int
	Users, Roles                        int
}

// Run reads the estate.
func (l *ListOnly) Run(ctx context.Context) (ListOnlyResult, error) {
	var r ListOnlyResult
	if l.Client == nil {
		l.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if l.APIMPage <= 0 {
		l.APIMPage = apim.PageSize
	}
	if l.SCIMPage <= 0 {
		l.SCIMPage = SCIMCap
	}
	if err := l.login(ctx); err != nil {
		return r, err
	}
	const admin, dev = "/api/am/admin/v4", "/api/am/devportal/v3"
	var kms struct{ List []json.RawMessage }
	if err := l.get(ctx, l.APIMURL+admin+"/key-managers", true, &kms); err != nil {
		return r, err
	}
	r.KeyManagers = len(kms.List)
	var appIDs []string
	err := l.pages(ctx, l.APIMURL+dev+"/applications", func(raw json.RawMessage) error {
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
	r.Apps = len(appIDs)
	var apiIDs []string
	err = l.pages(ctx, l.APIMURL+dev+"/apis", func(raw json.RawMessage) error {
		var it struct{ ID string }
		if err := json.Unmarshal(raw, &it); err != nil {
			return err
		}
		apiIDs = append(apiIDs, it.ID)
		return nil
	})
	if err != nil {
		return r, err
	}
	r.APIs = len(apiIDs)
	for _, id := range apiIDs {
		err := l.pages(ctx, l.APIMURL+dev+"/subscriptions?apiId="+url.QueryEscape(id), func(json.RawMessage) error {
			r.Subs++
			return nil
		})
		if err != nil {
			return r, err
		}
	}
	for _, id := range appIDs {
		var keys struct{ List []json.RawMessage }
		if err := l.get(ctx, l.APIMURL+dev+"/applications/"+id+"/oauth-keys", true, &keys); err != nil {
			return r, err
		}
		r.Keys += len(keys.List)
	}
	for _, kind := range []string{"/scim2/Users", "/scim2/v2/Roles"} {
		n := 0
		for start := 1; ; {
			var page struct {
				Resources []json.RawMessage
			}
			u := fmt.Sprintf("%s%s?startIndex=%d&count=%d", l.ISURL, kind, start, l.SCIMPage)
			if err := l.get(ctx, u, false, &page); err != nil {
				return r, err
			}
			n += len(page.Resources)
			if len(page.Resources) < l.SCIMPage {
				break
			}
			start += len(page.Resources)
		}
		if kind == "/scim2/Users" {
			r.Users = n
		} else {
			r.Roles = n
		}
	}
	r.Calls = l.calls
	return r, nil
}

// pages follows an APIM list with limit=APIMPage.
func (l *ListOnly) pages(ctx context.Context, base string, item func(json.RawMessage) error) error {
	return l.followAPIM(ctx, base, l.APIMPage, item)
}
