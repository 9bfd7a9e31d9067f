package diff

import (
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestReplacedDependents: APIM deletes an application's keys and
// subscriptions with it, so replacing an application plans its declared
// keys and subscriptions as creates in the same run (and its undeclared
// ones not at all); a replaced key manager that live keys use is a warning.
func TestReplacedDependents(t *testing.T) {
	withKey := func(km string, f func(*spec.ApplicationKey)) func(*spec.ApplicationSpec) {
		return func(s *spec.ApplicationSpec) {
			k := spec.ApplicationKey{KeyType: "PRODUCTION", KeyManager: km, Mode: "generate", GrantTypes: []string{"client_credentials"}}
			if f != nil {
				f(&k)
			}
			s.Keys = append(s.Keys, k)
		}
	}
	both := func(fs ...func(*spec.ApplicationSpec)) func(*spec.ApplicationSpec) {
		return func(s *spec.ApplicationSpec) {
			for _, f := range fs {
				f(s)
			}
		}
	}
	ownedBy := func(o string) func(*spec.ApplicationSpec) { return func(s *spec.ApplicationSpec) { s.Owner = o } }
	sandbox := func(k *spec.ApplicationKey) { k.KeyType = "SANDBOX" }
	signedIn := app("DefaultApplication", nil) // owned by admin
	const replaced = "application a is replaced"

	type want struct {
		action Action
		reason string // a substring of the change's reason
	}
	cases := []struct {
		name          string
		desired, live *spec.State
		opts          Options
		want          map[string]want // "Kind/name"; others must be NoOp
		warning       string          // a substring of a warning
	}{
		{
			name: "owner change replaces the application and re-creates its keys and subscriptions",
			desired: state(app("a", withKey("WSO2IS", nil)), sub("a--forex", "a", "ForexAPI", "Gold"),
				app("b", withKey("WSO2IS", nil)), sub("b--forex", "b", "ForexAPI", "Gold")),
			live: state(signedIn, app("A", both(ownedBy("alice"), withKey("WSO2IS", nil), withKey("WSO2IS", sandbox))),
				sub("a--forex", "A", "ForexAPI", "Gold"), sub("a--ledger", "a", "LedgerAPI", "Gold"),
				app("b", withKey("WSO2IS", nil)), sub("b--forex", "b", "ForexAPI", "Gold")),
			// Everything is owned: the SANDBOX key and the ledger subscription
			// would be deleted, but they go with the application.
			opts: Options{Prune: PruneOwned, Owned: ownAll},
			want: map[string]want{
				"Application/a":                      {Replace, "owner of an application is read-only"},
				"ApplicationKey/a/PRODUCTION/WSO2IS": {Create, replaced},
				"Subscription/a--forex":              {Create, replaced},
			},
		},
		{
			name:    "a key that would be replaced anyway is created",
			desired: state(app("a", withKey("WSO2IS", nil))),
			live:    state(signedIn, app("a", both(ownedBy("alice"), withKey("OldKM", nil)))),
			want: map[string]want{
				"Application/a":                      {Replace, "owner"},
				"ApplicationKey/a/PRODUCTION/WSO2IS": {Create, replaced},
			},
		},
		{
			name:    "signed-in user unknown: the owner change still replaces",
			desired: state(app("a", withKey("WSO2IS", nil))),
			live:    state(app("a", both(ownedBy("alice"), withKey("WSO2IS", nil)))),
			want: map[string]want{
				"Application/a":                      {Replace, "owner"},
				"ApplicationKey/a/PRODUCTION/WSO2IS": {Create, replaced},
			},
		},
		{
			name:    "an owner other than the signed-in user is not a replace",
			desired: state(app("a", both(ownedBy("bob"), withKey("WSO2IS", nil))), sub("s", "a", "ForexAPI", "Gold")),
			live:    state(signedIn, app("a", withKey("WSO2IS", nil)), sub("s", "a", "ForexAPI", "Gold")),
			want:    map[string]want{"Application/a": {Update, "wso2sync signs in as admin"}},
			warning: "owner bob cannot be set",
		},
		{
			name:    "a deleted application's keys are not planned apart",
			desired: state(app("keep", nil)),
			live:    state(signedIn, app("keep", nil), app("a", withKey("WSO2IS", nil))),
			opts:    Options{Prune: PruneOwned, Owned: ownAll},
			want:    map[string]want{"Application/a": {Delete, "also removes its keys"}},
		},
		{
			name:    "a replaced key manager that keys use is a warning",
			desired: state(km("WSO2IS", nil), app("a", withKey("WSO2IS", nil))),
			live:    state(signedIn, km("WSO2IS", func(s *spec.KeyManagerSpec) { s.Type = "WSO2-IS" }), app("a", withKey("WSO2IS", nil))),
			want:    map[string]want{"KeyManager/WSO2IS": {Replace, "type of a key manager"}},
			warning: "KeyManager WSO2IS is replaced but application keys use it (a/PRODUCTION/WSO2IS)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Compute(tc.desired, tc.live, tc.opts)
			got := map[string]Change{}
			for _, c := range p.Changes {
				if c.Action != NoOp {
					got[string(c.Kind)+"/"+c.Name] = c
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d changes, want %d\n%s", len(got), len(tc.want), describe(p))
			}
			for k, w := range tc.want {
				c, ok := got[k]
				if !ok || c.Action != w.action || !strings.Contains(c.Reason, w.reason) {
					t.Errorf("%s: %s %q, want %s %q\n%s", k, c.Action, c.Reason, w.action, w.reason, describe(p))
				}
			}
			warned := strings.Join(p.Warnings, "\n")
			if (tc.warning == "") != (warned == "") || !strings.Contains(warned, tc.warning) {
				t.Errorf("warnings %q, want %q", warned, tc.warning)
			}
		})
	}
}
