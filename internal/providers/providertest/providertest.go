// Package providertest starts the simulator with the example estate's
// APIs, opens providers against it, loads the example environment and
// creates its objects through the typed clients (a create-only apply),
// for the tests of providers, export and the commands.
package providertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/is"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Env variables the example environment references, with values the
// simulator accepts (admin/admin; passwords that pass the IS policy).
var ExampleEnv = map[string]string{
	"WSO2SYNC_ADMIN_USERNAME":            "admin",
	"WSO2SYNC_ADMIN_PASSWORD":            "admin",
	"WSO2SYNC_USER_ALICE_PASSWORD":       "Alice!pass1",
	"WSO2SYNC_USER_BOB_PASSWORD":         "Bob!pass12",
	"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": "rule-engine-secret-1",
	"WSO2SYNC_TRUSTSTORE_PASSWORD":       "changeit",
}

// RuleEngineClientID replaces the example's rule-engine-prod, which the
// IS DCR client-id regex (^[a-zA-Z0-9_]{15,30}$) refuses.
const RuleEngineClientID = "rule_engine_prod_client"

// SetEnv sets ExampleEnv for the test.
func SetEnv(t testing.TB) {
	for k, v := range ExampleEnv {
		t.Setenv(k, v)
	}
}

// Seed is the example catalogue: the six APIs at version 1.0.0, with
// the tiers the example subscriptions use.
func Seed() *sim.Estate {
	var e sim.Estate
	for _, n := range []string{"Forex", "Ledger", "Payment", "Profile", "RuleEngine", "Wallet"} {
		ctx := map[string]string{"RuleEngine": "/rule-engine"}[n]
		if ctx == "" {
			ctx = "/" + lower(n)
		}
		e.APIs = append(e.APIs, sim.APISeed{Name: n + "API", Version: "1.0.0", Context: ctx,
			Tiers: []string{"Unlimited", "Gold", "Silver", "Bronze", "Platinum"}})
	}
	return &e
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// ExampleDir is examples/environments/<name> of the repository.
func ExampleDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "environments", name)
}

// LoadExample loads the dev example environment, pointed at the simulator,
// with the rule engine's client id replaced (see RuleEngineClientID).
func LoadExample(t testing.TB, s *sim.Sim) *spec.State {
	t.Helper()
	st, ds := spec.Load(context.Background(), ExampleDir("dev"), spec.LoadOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL()})
	if ds.HasErrors() {
		t.Fatalf("loading the example: %v", ds)
	}
	for _, a := range st.Applications {
		for i := range a.Spec.Keys {
			if a.Spec.Keys[i].Mode == spec.KeyModeMap {
				a.Spec.Keys[i].ClientID = RuleEngineClientID
			}
		}
	}
	return st
}

// Options are the fast-retry transport settings tests use.
func Options() providers.Options {
	return providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
		RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second}
}

// Open opens providers for st's environment against s.
func Open(t testing.TB, s *sim.Sim, env *spec.Environment, opts providers.Options) *providers.Providers {
	t.Helper()
	opts.APIMURL, opts.ISURL = s.APIMURL(), s.ISURL()
	p, err := providers.Open(context.Background(), env, opts)
	if err != nil {
		t.Fatalf("providers.Open: %v", err)
	}
	return p
}

// Start starts a simulator (Seed is applied by Apply, after the tiers the
// APIs offer exist), sets ExampleEnv, loads the example
// and opens providers; the caller applies it with Apply if needed.
func Start(t testing.TB, so sim.Options) (*sim.Sim, *spec.State, *providers.Providers) {
	t.Helper()
	SetEnv(t)
	s := sim.Start(t, so)
	st := LoadExample(t, s)
	return s, st, Open(t, s, st.Environment, Options())
}

// Apply creates what st declares and the server lacks (no updates, no
// deletes), in the dependency order of DESIGN.md §4, through the typed
// clients. Existing key managers are updated (the Resident KM).
// afterPolicies, if set, runs once the throttling policies exist (to
// seed APIs that offer them).
func Apply(ctx context.Context, p *providers.Providers, st *spec.State, afterPolicies func() error) error {
	a := p.APIM
	for _, km := range st.KeyManagers {
		pw := ""
		if km.Spec.Connector != nil && !km.Spec.Connector.Password.IsZero() {
			v, err := p.Resolve(ctx, km.Spec.Connector.Password)
			if err != nil {
				return err
			}
			pw = v
		}
		id, err := a.KeyManagers.FindByName(ctx, km.Metadata.Name)
		if err != nil {
			return err
		}
		if id != "" {
			cur, gerr := a.KeyManagers.Get(ctx, id)
			if gerr != nil {
				return gerr
			}
			if km.Spec.Type == "default" { // keep the resident KM's configuration, toggle enabled
				cur.Spec.Enabled = km.Spec.Enabled
				km = cur
			}
			err = a.KeyManagers.Update(ctx, id, km, pw)
		} else {
			_, err = a.KeyManagers.Create(ctx, km, pw)
		}
		if err != nil {
			return err
		}
	}
	for _, tp := range st.ThrottlingPolicies {
		if _, err := a.Policies.Create(ctx, tp); err != nil {
			return err
		}
	}
	if afterPolicies != nil {
		if err := afterPolicies(); err != nil {
			return err
		}
	}
	roleIDs := map[string]string{}
	for _, r := range st.Roles {
		id, err := p.IS.Roles.Create(ctx, r, "", nil)
		if err != nil {
			return err
		}
		roleIDs[r.Metadata.Name] = id
	}
	members := map[string][]string{}
	for _, u := range st.Users {
		pw := ""
		if u.Spec.Password != nil {
			v, err := p.Resolve(ctx, *u.Spec.Password)
			if err != nil {
				return err
			}
			pw = v
		}
		id, err := p.IS.Users.Create(ctx, u, pw)
		if err != nil {
			return err
		}
		for _, r := range u.Spec.Roles {
			members[r] = append(members[r], id)
		}
	}
	for r, ids := range members {
		if roleIDs[r] == "" {
			continue // built-in role
		}
		if err := p.IS.Roles.AddUsers(ctx, roleIDs[r], ids); err != nil {
			return err
		}
	}
	appIDs := map[string]string{}
	for _, app := range st.Applications {
		id, err := a.Applications.Create(ctx, app)
		if err != nil {
			return err
		}
		appIDs[app.Metadata.Name] = id
		ref := apim.AppRef{ID: id, Name: app.Metadata.Name}
		for _, k := range app.Spec.Keys {
			if k.Mode == spec.KeyModeMap {
				secret, err := p.Resolve(ctx, *k.ClientSecret)
				if err != nil {
					return err
				}
				if c, err := p.IS.Clients.Get(ctx, k.ClientID); err != nil {
					return err
				} else if c == nil {
					if _, err := p.IS.Clients.Register(ctx, isRegistration(app.Metadata.Name, k, secret)); err != nil {
						return err
					}
				}
				if _, err := a.Keys.Map(ctx, ref, k, secret); err != nil {
					return err
				}
				continue
			}
			if _, err := a.Keys.Generate(ctx, ref, k); err != nil {
				return err
			}
		}
	}
	for _, s := range st.Subscriptions {
		api, err := a.APIs.Lookup(ctx, s.Spec.API)
		if err != nil {
			return err
		}
		if api == nil {
			return fmt.Errorf("subscription %s: API %s not published", s.Metadata.Name, s.Spec.API)
		}
		ref := apim.AppRef{ID: appIDs[s.Spec.Application], Name: s.Spec.Application}
		if _, err := a.Subscriptions.Create(ctx, ref, api.ID, s.Spec.API, s.Spec.ThrottlingPolicy); err != nil {
			return err
		}
	}
	return nil
}

// SeedAPIs returns an afterPolicies hook that seeds the example APIs.
func SeedAPIs(s *sim.Sim) func() error {
	return func() error { return s.ApplySeed(Seed()) }
}

// ApplyExample starts everything and applies the example.
func ApplyExample(t testing.TB, so sim.Options) (*sim.Sim, *spec.State, *providers.Providers) {
	t.Helper()
	s, st, p := Start(t, so)
	if err := Apply(context.Background(), p, st, SeedAPIs(s)); err != nil {
		t.Fatalf("applying the example: %v (hint: %s)", err, providers.HintOf(err))
	}
	return s, st, p
}

// Keys sorted for comparisons.
func SortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WriteFile writes a file for a test.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

type isReg = is.ClientRegistration

func isRegistration(app string, k spec.ApplicationKey, secret string) isReg {
	return isReg{ClientName: app + "_" + k.KeyType, GrantTypes: k.GrantTypes, ClientID: k.ClientID, ClientSecret: secret}
}
