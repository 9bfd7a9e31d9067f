package main

import (
	"fmt"
	"strings"
	"time"
)

// Limits are the page limits the floor is computed with: the simulator's.
type Limits struct {
	// APIMPage is the largest APIM list page (limit); 0 = unbounded. APIM
	// declares no maximum and the simulator enforces none (WSO2-API.md
	// §3, §5.19), so one call reads any paginated APIM list.
	APIMPage int
	// SCIMPage is IS's silent SCIM cap (sim.Options.MaxSCIMCount, 100).
	SCIMPage int
}

// Counts describe the estate a floor is computed for.
type Counts struct {
	// Desired objects.
	KeyManagers int // declared key managers (WSO2IS)
	Apps        int // declared applications
	Keys        int // declared keys (one per application here)
	// SubsPerApp and SubsPerAPI are the subscriptions of each declared
	// application and of each API (for the paging of the two ways to list
	// them); len(SubsPerAPI) is the number of APIs.
	SubsPerApp []int
	SubsPerAPI []int
	Users      int
	Roles      int
	// Live totals that a list has to page through (built-ins included:
	// DefaultApplication, the admin user, the system roles).
	LiveApps, LiveUsers, LiveRoles int
}

// Subscriptions is the total of SubsPerApp.
func (c Counts) Subscriptions() int {
	n := 0
	for _, s := range c.SubsPerApp {
		n += s
	}
	return n
}

// Term is one kind's share of a floor.
type Term struct {
	Kind    string `json:"kind"`
	Calls   int64  `json:"calls"`
	Formula string `json:"formula"`
	// Server is the server the calls go to: "apim" or "is".
	Server string `json:"server"`
}

// Servers of a Term.
const (
	ServerAPIM = "apim"
	ServerIS   = "is"
)

// Floor is the minimum number of calls of a scenario, by kind.
type Floor []Term

// Total is the sum of the terms.
func (f Floor) Total() int64 {
	var n int64
	for _, t := range f {
		n += t.Calls
	}
	return n
}

func (f Floor) String() string {
	var b strings.Builder
	for _, t := range f {
		fmt.Fprintf(&b, "%s=%d ", t.Kind, t.Calls)
	}
	return strings.TrimSpace(b.String())
}

// pages is the number of calls that read n items with pages of p (p ≤ 0:
// unbounded). Reading an empty list still takes one call.
func pages(n, p int) int64 {
	if p <= 0 || n <= p {
		return 1
	}
	return int64((n + p - 1) / p)
}

// AuthCalls are the calls that authenticate a run: APIM DCR v0.17
// registration and one password-grant token (IS uses Basic: none).
const AuthCalls = 2

// ReadFloor is the minimum number of calls that read the live state of the
// declared kinds well enough to diff it:
//
//   - auth: DCR + token (2);
//   - key managers: 1 list + 1 GET per declared KM (the list item lacks the
//     configuration, §3.1);
//   - applications: pages(live apps, APIM page) (the list item carries every
//     field the bench declares);
//   - keys: 1 GET /applications/{id}/oauth-keys per declared application
//     that exists (not paginated; no bulk endpoint, §3.4);
//   - subscriptions: the API requires applicationId or apiId (§3.5), so
//     min(Σ_apps pages(subs of app), pages(APIs) + Σ_APIs pages(subs of API))
//     — per API needs the API ids first (1 GET /apis page);
//   - users: pages(live users, SCIM cap); roles: pages(live roles, SCIM cap).
//
// Kinds the desired state does not declare (tiers, certificates) need no
// read. existingApps is how many declared applications exist live (0 on an
// empty estate: nothing to read per application).
func ReadFloor(c Counts, l Limits, existingApps bool) Floor {
	f := Floor{{Kind: "auth", Calls: AuthCalls, Formula: "DCR + token", Server: ServerAPIM}}
	if c.KeyManagers > 0 {
		f = append(f, Term{"keymanagers", 1 + int64(c.KeyManagers), "1 list + 1 GET per declared KM", ServerAPIM})
	}
	if c.Apps > 0 {
		f = append(f, Term{"applications", pages(c.LiveApps, l.APIMPage), "ceil(live apps / APIM page)", ServerAPIM})
	}
	if existingApps && c.Keys > 0 {
		f = append(f, Term{"keys", int64(c.Apps), "1 GET oauth-keys per application", ServerAPIM})
	}
	if existingApps && len(c.SubsPerApp) > 0 {
		var perApp, perAPI int64
		for _, n := range c.SubsPerApp {
			perApp += pages(n, l.APIMPage)
		}
		perAPI = pages(len(c.SubsPerAPI), l.APIMPage)
		for _, n := range c.SubsPerAPI {
			perAPI += pages(n, l.APIMPage)
		}
		t := Term{"subscriptions", perApp, "Σ_apps ceil(subs/page) (per application)", ServerAPIM}
		if perAPI < perApp {
			t = Term{"subscriptions", perAPI, "ceil(APIs/page) + Σ_APIs ceil(subs/page) (per API)", ServerAPIM}
		}
		f = append(f, t)
	}
	if c.Users > 0 || c.Roles > 0 {
		f = append(f, Term{"users", pages(c.LiveUsers, l.SCIMPage), "ceil(live users / SCIM cap)", ServerIS})
	}
	if c.Roles > 0 {
		f = append(f, Term{"roles", pages(c.LiveRoles, l.SCIMPage), "ceil(live roles / SCIM cap)", ServerIS})
	}
	return f
}

// NoopFloor is the floor of a plan of an estate that already equals the
// desired state: the read floor, no write.
func NoopFloor(c Counts, l Limits) Floor { return ReadFloor(c, l, true) }

// ApplyEmptyFloor is the floor of applying c to an estate that holds none
// of it (live: the built-ins only): the read floor of the empty estate,
// 1 GET /apis page for the API ids subscriptions need, and one write per
// object — the KM, each application (POST), each key (generate-keys, which
// registers the IS client server-side), each subscription (POST), each
// user (POST) and each role (POST carrying its members, once the users
// exist). The bulk POST /subscriptions/multiple could create many
// subscriptions in one call; the floor counts one write per object as
// issue 10 does.
func ApplyEmptyFloor(c Counts, l Limits, live Counts) Floor {
	rc := c
	rc.LiveApps, rc.LiveUsers, rc.LiveRoles = live.LiveApps, live.LiveUsers, live.LiveRoles
	f := ReadFloor(rc, l, false)
	for i := range f {
		if f[i].Kind == "keymanagers" {
			f[i] = Term{"keymanagers", 1, "1 list (the KM is new)", ServerAPIM}
		}
	}
	subs := c.Subscriptions()
	if subs > 0 {
		f = append(f, Term{"apis", pages(len(c.SubsPerAPI), l.APIMPage), "ceil(APIs / APIM page) for the API ids", ServerAPIM})
	}
	f = append(f, Term{"writes", int64(c.KeyManagers + c.Apps + c.Keys + subs), "1 per object: KMs + apps + keys + subscriptions", ServerAPIM})
	if n := c.Users + c.Roles; n > 0 {
		f = append(f, Term{"writes-is", int64(n), "1 per object: users + roles", ServerIS})
	}
	return f
}

// ChangeFloor is the floor of applying a change set to an estate that
// otherwise equals the desired state: the no-op read floor plus one write
// per changed object (each an update: PUT application, PUT subscription,
// PATCH or PUT user).
func ChangeFloor(c Counts, l Limits) Floor {
	f := NoopFloor(c, l)
	f = append(f, Term{"writes", int64(ChangedCount(c.Apps) + ChangedCount(c.Subscriptions())), "1 per changed application and subscription", ServerAPIM})
	if c.Users > 0 {
		f = append(f, Term{"writes-is", int64(ChangedCount(c.Users)), "1 per changed user", ServerIS})
	}
	return f
}

// Server is the floor's calls to one server.
func (f Floor) Server(server string) int64 {
	var n int64
	for _, t := range f {
		if t.Server == server {
			n += t.Calls
		}
	}
	return n
}

// Sequential are the calls of a scenario that cannot overlap, each
// waiting for the one before: authentication (DCR, then the token), then
// one round of the lists the other reads depend on (the applications
// list for the keys, GET /apis for the subscriptions, the KM list for the
// KM's GET, the first SCIM page), and, when the scenario writes,
// writeDepth rounds of writes (an object before the writes that refer to
// it: an application before its key and subscriptions, the users before
// their role's membership PATCH).
func Sequential(writeDepth int) int64 { return AuthCalls + 1 + int64(writeDepth) }

// FloorTime is the time the floor's calls take at the least, every call
// costing latency and each server serving cap calls at once (issue 17):
//
//	floor time = max over servers (F_s × latency ÷ cap) + Sequential × latency
//
// with F_s the floor calls that go to server s: the two servers work in
// parallel, each at most cap calls at a time, and the sequential calls
// add their latency on top (they are also in F_s: counting them twice
// costs the floor at most Sequential ÷ cap latencies, a few ms).
func FloorTime(f Floor, writeDepth int, latency time.Duration, cap int) time.Duration {
	var par time.Duration
	for _, s := range []string{ServerAPIM, ServerIS} {
		if d := time.Duration(f.Server(s)) * latency / time.Duration(max(1, cap)); d > par {
			par = d
		}
	}
	return par + time.Duration(Sequential(writeDepth))*latency
}
