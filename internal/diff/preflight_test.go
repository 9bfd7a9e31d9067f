package diff

import (
	"slices"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func TestPreflight(t *testing.T) {
	everything := func(spec.Kind, string) bool { return true }
	withKey := func(km string) func(*spec.ApplicationSpec) {
		return func(s *spec.ApplicationSpec) {
			s.Keys = []spec.ApplicationKey{{KeyType: "PRODUCTION", KeyManager: km, Mode: "generate", GrantTypes: []string{"client_credentials"}}}
		}
	}
	onTier := func(t string) func(*spec.ApplicationSpec) {
		return func(s *spec.ApplicationSpec) { s.ThrottlingPolicy = t }
	}
	cases := []struct {
		name          string
		desired, live *spec.State
		apis          []APIUse
		blocked       string   // "Kind/name" of the blocked change, "" for none
		by            []string // its BlockedBy
	}{
		{name: "an application on the tier blocks its delete",
			desired: state(app("a", onTier("T"))), live: state(tier("T", "application", 5, "min"), app("a", onTier("T"))),
			blocked: "ThrottlingPolicy/T", by: []string{"Application/a"}},
		{name: "an application moved off the tier in the same plan does not",
			desired: state(app("a", onTier("Unlimited"))), live: state(tier("T", "application", 5, "min"), app("a", onTier("T")))},
		{name: "an application deleted in the same plan does not",
			desired: state(app("keep", nil)), live: state(tier("T", "application", 5, "min"), app("keep", nil), app("a", onTier("T")))},
		{name: "an API offering the subscription tier blocks it",
			desired: state(app("a", nil)), live: state(tier("T", "subscription", 5, "min"), app("a", nil)),
			apis: []APIUse{{Name: "ForexAPI", Version: "1.0.0", Tiers: []string{"Gold", "T"}}}, blocked: "ThrottlingPolicy/T", by: []string{"API/ForexAPI 1.0.0"}},
		{name: "a subscription on the tier blocks it",
			desired: state(app("a", nil), sub("s", "a", "ForexAPI", "T")), live: state(tier("T", "subscription", 5, "min"), app("a", nil), sub("s", "a", "ForexAPI", "T")),
			blocked: "ThrottlingPolicy/T", by: []string{"Subscription/s"}},
		{name: "keys of the key manager block its delete",
			desired: state(app("a", withKey("Old"))), live: state(km("Old", nil), app("a", withKey("Old"))),
			blocked: "KeyManager/Old", by: []string{"ApplicationKey/a/PRODUCTION/Old"}},
		{name: "keys deleted with their application do not",
			desired: state(app("keep", nil)), live: state(km("Old", nil), app("keep", nil), app("a", withKey("Old")))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Compute(tc.desired, tc.live, Options{Prune: PruneOwned, Owned: everything})
			Preflight(p, tc.live, tc.apis)
			var got string
			var by []string
			for _, c := range p.Changes {
				if c.Action == Blocked {
					got = string(c.Kind) + "/" + c.Name
					for _, r := range c.BlockedBy {
						by = append(by, string(r.Kind)+"/"+r.Name)
					}
				}
			}
			if got != tc.blocked || !slices.Equal(by, tc.by) {
				t.Fatalf("blocked %q by %v, want %q by %v\n%s", got, by, tc.blocked, tc.by, describe(p))
			}
			if (tc.blocked != "") != (p.Summary.Blocked == 1) {
				t.Errorf("summary %+v", p.Summary)
			}
		})
	}
}
