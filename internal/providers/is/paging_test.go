package is

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/sim"
	simis "github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// pagedClient is an IS client against a simulator whose SCIM and
// /applications pages are capped at cap items, asking for pageSize.
func pagedClient(t *testing.T, caps simcore.PageCaps, pageSize int) (*sim.Sim, *Client) {
	t.Helper()
	s := sim.Start(t, sim.Options{PageCaps: caps})
	base, err := transport.NewClient(transport.Options{BaseURL: s.ISURL(), Server: "is",
		RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	admin := func(context.Context) (string, error) { return "admin", nil }
	return s, New(base.WithAuth(transport.BasicAuth{Username: admin, Password: admin}), Options{PageSize: pageSize})
}

// TestSCIMListsFollowEveryPage reads users and roles, unfiltered and
// filtered, with more objects than one (silently capped) page: under a
// filter the simulator reports the page size as totalResults, as IS does
// (WSO2-API.md §5.18), which must not end the read.
func TestSCIMListsFollowEveryPage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap      int // the server's silent cap
		pageSize int // the count asked for
	}{
		{"server caps below the count asked", 4, 100},
		{"count asked equals the cap", 4, 4},
		{"count asked below the cap", 100, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := pagedClient(t, simcore.PageCaps{SCIM: tc.cap}, tc.pageSize)
			ctx := context.Background()
			const n = 11 // not a multiple of any page size above
			var want []string
			for i := range n {
				name := fmt.Sprintf("pager-%02d", i)
				if _, err := s.IS().AddUser(simis.UserSeed{UserName: name, GivenName: "P", FamilyName: name}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.IS().AddRole(simis.RoleSeed{DisplayName: "pager-role-" + name}); err != nil {
					t.Fatal(err)
				}
				want = append(want, name)
			}
			users, err := c.Users.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				if len(u.Object.Spec.UserName) > 6 && u.Object.Spec.UserName[:6] == "pager-" {
					got = append(got, u.Object.Spec.UserName)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Users.List: %d pager users %v, want all %d", len(got), got, n)
			}

			raw, err := listSCIM(ctx, c, transport.Request{PathTemplate: SCIMBase + "/Users", Header: scimHeader(),
				Query: url.Values{"filter": {"userName sw pager-"}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != n {
				t.Errorf("filtered users: %d, want %d (a filtered list must not stop at totalResults)", len(raw), n)
			}

			roleList, err := c.Roles.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			k := 0
			for _, r := range roleList {
				if len(r.Object.Spec.DisplayName) > 11 && r.Object.Spec.DisplayName[:11] == "pager-role-" {
					k++
				}
			}
			if k != n {
				t.Errorf("Roles.List: %d pager roles, want %d", k, n)
			}
			rr, err := c.Roles.(*roles).list(ctx, url.Values{"filter": {"displayName sw pager-role-"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rr) != n {
				t.Errorf("filtered roles: %d, want %d", len(rr), n)
			}
		})
	}
}

// TestApplicationsListFollowsEveryPage finds IS applications through a
// filter matching more of them than one page holds, with the server's
// /applications maximum (silently applied, as IS's validateAndGetLimit
// does) below the limit asked for.
func TestApplicationsListFollowsEveryPage(t *testing.T) {
	s, c := pagedClient(t, simcore.PageCaps{ISApplications: 4}, 0)
	ctx := context.Background()
	const n = 10
	var ids []string
	for i := range n {
		cl, err := s.IS().AddClient(simis.ClientSeed{OAuthClient: simcore.OAuthClient{
			ClientID: fmt.Sprintf("pagerclient%05d", i), ClientName: fmt.Sprintf("pager_%d", i),
			GrantTypes: []string{"client_credentials"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cl.ClientID)
	}
	apps := c.Applications.(*applications)
	items, err := apps.list(ctx, "clientId sw pagerclient", "pager applications")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.ClientID)
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("applications: %v, want %v", got, ids)
	}
	// The last one is found on the last page of an unfiltered read too.
	id, err := c.Applications.FindByClientID(ctx, ids[n-1])
	if err != nil || id == "" {
		t.Errorf("FindByClientID(%s) = %q, %v", ids[n-1], id, err)
	}
}
