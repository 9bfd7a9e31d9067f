package main

import (
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// Size is one estate size of issue 10. Every application has one
// PRODUCTION key on the IS key manager (WSO2IS); user i is a member of
// role i mod Roles.
type Size struct {
	Name          string
	Apps          int
	Subscriptions int
	Users         int
	APIs          int
	// Roles is not fixed by the issue: one role per 10 users, at most 100.
	Roles int
}

// Sizes are S, M, L and XL as issue 10 defines them.
var Sizes = []Size{
	{Name: "S", Apps: 50, Subscriptions: 200, Users: 50, APIs: 10, Roles: 5},
	{Name: "M", Apps: 500, Subscriptions: 2000, Users: 500, APIs: 50, Roles: 50},
	{Name: "L", Apps: 5000, Subscriptions: 20000, Users: 5000, APIs: 200, Roles: 100},
	{Name: "XL", Apps: 20000, Subscriptions: 80000, Users: 20000, APIs: 500, Roles: 100},
}

// EstateSize is the simulator's description of the size.
func (s Size) EstateSize() sim.EstateSize {
	return sim.EstateSize{APIs: s.APIs, Apps: s.Apps, Subscriptions: s.Subscriptions, Users: s.Users, Roles: s.Roles}
}

// ParseSizes reads BENCH_SIZES ("S,M"); empty means S,M.
func ParseSizes(v string) ([]Size, error) {
	if strings.TrimSpace(v) == "" {
		v = "S,M"
	}
	var out []Size
	for _, n := range strings.Split(v, ",") {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		found := false
		for _, s := range Sizes {
			if s.Name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown size %q (want S, M, L or XL)", n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("BENCH_SIZES names no size")
	}
	return out, nil
}
