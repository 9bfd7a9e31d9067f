package audit_test

import (
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/audit"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestExamplesAudit applies every example environment to a fresh
// simulator and audits the result with independent eyes: every declared
// object is there with its declared fields, and nothing else (the seed's
// unmanaged objects) changed.
func TestExamplesAudit(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			setEnv(t)
			s := sim.Start(t, sim.Options{Seed: sim.DefaultEstate()})
			baseline := s.Dump()
			p := loadPass(t, s, copyExamples(t, env), t.TempDir())
			enforce(t, p, t.TempDir())
			if v := audit.Check(p.State, s.Dump(), audit.Options{Baseline: &baseline}); len(v) > 0 {
				t.Fatalf("after applying %s, the servers differ from the manifests:\n  %s", env, strings.Join(v, "\n  "))
			}
		})
	}
}

// TestAuditSeesDrift: the audit reports what it should on a state that
// differs from the manifests in one place at a time (a changed key
// callback, a missing subscription, a role member too many, a touched
// unmanaged application, an owned object left behind).
func TestAuditSeesDrift(t *testing.T) {
	setEnv(t)
	s := sim.Start(t, sim.Options{Seed: unmanagedSeed()})
	baseline := s.Dump()
	p := loadPass(t, s, copyExamples(t, "dev"), t.TempDir())
	enforce(t, p, t.TempDir())
	good := s.Dump()
	if v := audit.Check(p.State, good, audit.Options{Baseline: &baseline}); len(v) > 0 {
		t.Fatalf("clean apply: %v", v)
	}
	for _, tc := range []struct {
		name    string
		breakIt func(st *sim.State) audit.Options
		want    string
	}{
		{"callback URL", func(st *sim.State) audit.Options {
			for i := range st.APIM.KeyMappings {
				if st.APIM.KeyMappings[i].CallbackURL != "" {
					st.APIM.KeyMappings[i].CallbackURL = "https://elsewhere.example.com/cb"
					break
				}
			}
			return audit.Options{}
		}, "callbackUrl is"},
		{"missing subscription", func(st *sim.State) audit.Options {
			// A declared one: the seed's unmanaged subscriptions are not
			// the audit's business, whatever order the dump lists them in.
			forex := ""
			for _, a := range st.APIM.Applications {
				if a.Name == "forex-client" {
					forex = a.ApplicationID
				}
			}
			for i, sub := range st.APIM.Subscriptions {
				if sub.ApplicationID == forex {
					st.APIM.Subscriptions = append(st.APIM.Subscriptions[:i:i], st.APIM.Subscriptions[i+1:]...)
					break
				}
			}
			return audit.Options{}
		}, "missing on the server"},
		{"application tier description", func(st *sim.State) audit.Options {
			for i := range st.APIM.ApplicationPolicies {
				if st.APIM.ApplicationPolicies[i].PolicyName == "ServiceToService" {
					st.APIM.ApplicationPolicies[i].Description = "drifted"
				}
			}
			return audit.Options{}
		}, "ThrottlingPolicy application/ServiceToService: description is"},
		{"subscription tier description", func(st *sim.State) audit.Options {
			for i := range st.APIM.SubscriptionPolicies {
				if st.APIM.SubscriptionPolicies[i].PolicyName == "Platinum" {
					st.APIM.SubscriptionPolicies[i].Description = "drifted"
				}
			}
			return audit.Options{}
		}, "ThrottlingPolicy subscription/Platinum: description is"},
		{"description", func(st *sim.State) audit.Options {
			for i := range st.APIM.Applications {
				if st.APIM.Applications[i].Name == "forex-client" {
					st.APIM.Applications[i].Description = "drifted"
				}
			}
			return audit.Options{}
		}, "description is"},
		{"unmanaged application touched", func(st *sim.State) audit.Options {
			for i := range st.APIM.Applications {
				if st.APIM.Applications[i].Name == "ops-tool" {
					st.APIM.Applications[i].ThrottlingPolicy = "10PerMin"
				}
			}
			return audit.Options{Baseline: &baseline}
		}, "ops-tool: not managed by wso2sync, but changed"},
		{"owned object left behind", func(st *sim.State) audit.Options {
			return audit.Options{Gone: map[spec.Kind][]string{spec.KindUser: {"ops-user"}}}
		}, "User ops-user: owned and no longer declared"},
		{"role member too many", func(st *sim.State) audit.Options {
			var bob, auditor int = -1, -1
			for i, u := range st.IS.Users {
				if u.UserName == "bob" {
					bob = i
				}
			}
			for i, r := range st.IS.Roles {
				if r.DisplayName == "payments-operator" {
					auditor = i
				}
			}
			st.IS.Roles[auditor].UserIDs = append(st.IS.Roles[auditor].UserIDs, st.IS.Users[bob].ID)
			return audit.Options{}
		}, "members (declared users)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.Dump() // a fresh deep copy
			o := tc.breakIt(&st)
			v := audit.Check(p.State, st, o)
			if !strings.Contains(strings.Join(v, "\n"), tc.want) {
				t.Errorf("violations %q, want one containing %q", v, tc.want)
			}
		})
	}
}
