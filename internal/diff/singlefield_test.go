package diff

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestSingleFieldChanges changes one settable field at a time on the
// server side of a freshly applied dev estate and expects a plan with
// exactly one change, to the right object, naming exactly that field.
// Each row is the only test that a change of its field alone is seen (a
// differ that ignored, say, the callback URL would still plan every
// other change).
func TestSingleFieldChanges(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "environments", "dev")
	for _, tc := range []struct {
		name   string
		kind   spec.Kind
		object string // the Change's name
		path   string // the FieldDiff's path (prefix)
		action Action
		drift  func(live *spec.State)
		skip   string // a known bug, with the issue item that fixes it
	}{
		{name: "application description", kind: spec.KindApplication, object: "forex-client", path: "spec.description",
			action: Update, drift: func(l *spec.State) { l.Application("forex-client").Spec.Description = "other" }},
		{name: "application throttling policy", kind: spec.KindApplication, object: "forex-client", path: "spec.throttlingPolicy",
			action: Update, drift: func(l *spec.State) { l.Application("forex-client").Spec.ThrottlingPolicy = "10PerMin" }},
		{name: "application attribute", kind: spec.KindApplication, object: "payment-client", path: "spec.attributes.costCentre",
			action: Update, drift: func(l *spec.State) { l.Application("payment-client").Spec.Attributes["costCentre"] = "0815" }},
		{name: "key callback URL", kind: KindApplicationKey, object: "profile-client", path: "spec.keys[PRODUCTION/WSO2IS].callbackUrl",
			action: Update, drift: func(l *spec.State) {
				l.Application("profile-client").Spec.Keys[0].CallbackURL = "http://localhost:9090/other"
			}},
		{name: "key grant types", kind: KindApplicationKey, object: "forex-client", path: "spec.keys[PRODUCTION/WSO2IS].grantTypes",
			action: Update, drift: func(l *spec.State) {
				l.Application("forex-client").Spec.Keys[0].GrantTypes = []string{"client_credentials", "password"}
			}},
		{name: "key additional property", kind: KindApplicationKey, object: "payment-client",
			path:   "spec.keys[PRODUCTION/WSO2IS].additionalProperties.ext_application_token_lifetime",
			action: Update, drift: func(l *spec.State) {
				l.Application("payment-client").Spec.Keys[0].AdditionalProperties["ext_application_token_lifetime"] = "1800"
			}},
		{name: "key validity period", kind: KindApplicationKey, object: "ledger-client", path: "spec.keys[SANDBOX/WSO2IS].validityPeriod",
			action: Update, drift: func(l *spec.State) {
				// The server holding every declared validity but one.
				for _, a := range l.Applications {
					for i := range a.Spec.Keys {
						a.Spec.Keys[i].ValidityPeriod = 3600
					}
				}
				l.Application("ledger-client").Spec.Keys[1].ValidityPeriod = 1200 // declared 600
			}},
		{name: "subscription tier", kind: spec.KindSubscription, object: "ledger-client--ledger", path: "spec.throttlingPolicy",
			action: Update, drift: func(l *spec.State) {
				for _, s := range l.Subscriptions {
					if s.Spec.Application == "ledger-client" && s.Spec.API.Name == "LedgerAPI" {
						s.Spec.ThrottlingPolicy = "Silver"
					}
				}
			}},
		{name: "tier description", kind: spec.KindThrottlingPolicy, object: "ServiceToService", path: "spec.description",
			action: Update, drift: func(l *spec.State) {
				livePolicy(l, "ServiceToService").Spec.Description = "other"
			}},
		{name: "tier request count", kind: spec.KindThrottlingPolicy, object: "ServiceToService", path: "spec.defaultLimit.requestCount.requestCount",
			action: Update, drift: func(l *spec.State) {
				livePolicy(l, "ServiceToService").Spec.DefaultLimit.RequestCount.RequestCount = 7
			}},
		{name: "tier burst limit", kind: spec.KindThrottlingPolicy, object: "ServiceToService", path: "spec.burstLimit.rateLimitCount",
			action: Update, drift: func(l *spec.State) {
				livePolicy(l, "ServiceToService").Spec.BurstLimit.RateLimitCount = 5
			}},
		{name: "subscription tier stop on quota", kind: spec.KindThrottlingPolicy, object: "Platinum", path: "spec.stopOnQuotaReach",
			action: Update, drift: func(l *spec.State) {
				f := false
				livePolicy(l, "Platinum").Spec.StopOnQuotaReach = &f
			}},
		{name: "key manager description", kind: spec.KindKeyManager, object: "WSO2IS", path: "spec.description",
			action: Update, drift: func(l *spec.State) { l.KeyManager("WSO2IS").Spec.Description = "other" }},
		{name: "key manager enabled", kind: spec.KindKeyManager, object: spec.ResidentKeyManager, path: "spec.enabled",
			action: Update, drift: func(l *spec.State) { l.KeyManager(spec.ResidentKeyManager).Spec.Enabled = true }},
		{name: "user given name", kind: spec.KindUser, object: "alice", path: "spec.name.givenName",
			action: Update, drift: func(l *spec.State) { liveUser(l, "alice").Spec.Name.GivenName = "Alicia" }},
		{name: "user email", kind: spec.KindUser, object: "bob", path: "spec.emails",
			action: Update, drift: func(l *spec.State) { liveUser(l, "bob").Spec.Emails[0].Value = "robert@example.com" }},
		{name: "user roles", kind: spec.KindUser, object: "bob", path: "spec.roles",
			action: Update, drift: func(l *spec.State) {
				u := liveUser(l, "bob")
				u.Spec.Roles = append(u.Spec.Roles, "payments-operator")
			}},
		{name: "role permissions", kind: spec.KindRole, object: "payments-operator", path: "spec.permissions",
			action: Update, drift: func(l *spec.State) {
				for _, r := range l.Roles {
					if r.Spec.DisplayName == "payments-operator" {
						r.Spec.Permissions = []string{"internal_login"}
					}
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			desired := load(t, dir)
			live := serverForm(t, desired)
			tc.drift(live)
			p := Compute(desired, live, Options{Prune: PruneOwned, Owned: ownAll})
			var changed []Change
			for _, c := range p.Changes {
				if c.Action != NoOp {
					changed = append(changed, c)
				}
			}
			if len(changed) != 1 {
				t.Fatalf("%d changes, want 1:\n%s", len(changed), describe(p))
			}
			c := changed[0]
			if c.Kind != tc.kind || !strings.HasPrefix(c.Name, tc.object) || c.Action != tc.action {
				t.Fatalf("change %s %s %s, want %s %s %s", c.Kind, c.Name, c.Action, tc.kind, tc.object, tc.action)
			}
			if len(c.Fields) != 1 || !strings.HasPrefix(c.Fields[0].Path, tc.path) {
				var paths []string
				for _, f := range c.Fields {
					paths = append(paths, f.Path)
				}
				t.Fatalf("fields %v, want exactly %s", paths, tc.path)
			}
		})
	}
}

func liveUser(l *spec.State, name string) *spec.User {
	for _, u := range l.Users {
		if strings.EqualFold(strings.TrimPrefix(u.Spec.UserName, "PRIMARY/"), name) {
			return u
		}
	}
	panic("no live user " + name)
}

// livePolicy finds a tier by name (the live level is upper-cased).
func livePolicy(l *spec.State, name string) *spec.ThrottlingPolicy {
	for _, p := range l.ThrottlingPolicies {
		if p.Metadata.Name == name {
			return p
		}
	}
	panic("no live tier " + name)
}

// TestZeroBurstLimitHasNoUnit: "rateLimitCount: 0" with a time unit (how a
// manifest says "no burst limit") matches the server, which keeps no unit
// without a count; before, the plan showed "rateLimitTimeUnit: (none) →
// sec" for ever.
func TestZeroBurstLimitHasNoUnit(t *testing.T) {
	d := tier("NoBurst", spec.LevelSubscription, 10, "min")
	d.Spec.RateLimitCount, d.Spec.RateLimitTimeUnit = 0, "sec"
	// As loaded: both fields written in the manifest.
	d.Positions = map[string]spec.Position{"spec.rateLimitCount": {}, "spec.rateLimitTimeUnit": {}}
	l := tier("NoBurst", spec.LevelSubscription, 10, "min")
	p := Compute(state(d), state(l), Options{})
	if p.HasChanges() {
		t.Fatalf("plan:\n%s", describe(p))
	}
	l.Spec.RateLimitCount, l.Spec.RateLimitTimeUnit = 5, "sec"
	if p := Compute(state(d), state(l), Options{}); !p.HasChanges() {
		t.Fatal("a burst limit of 5/sec on the server against 0 declared is not planned")
	}
}
