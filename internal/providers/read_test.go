package providers_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/providertest"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/contract"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// startContract is providertest.ApplyExample with every request and
// response validated against the official specs.
func startContract(t *testing.T) (*sim.Sim, *spec.State, *providers.Providers) {
	t.Helper()
	providertest.SetEnv(t)
	specs, err := contract.LoadSpecs()
	if err != nil {
		t.Fatalf("contract specs: %v", err)
	}
	v := contract.NewValidator(specs, nil)
	t.Cleanup(func() { v.Report(t) })
	s := sim.Start(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return v.Middleware(server, next)
	}})
	st := providertest.LoadExample(t, s)
	p := providertest.Open(t, s, st.Environment, providertest.Options())
	if err := providertest.Apply(context.Background(), p, st, providertest.SeedAPIs(s)); err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { t.Logf("contract: %d exchanges validated", v.Checked()) })
	return s, st, p
}

// TestReadExampleEstate applies the example estate through the typed
// clients (every kind's Create), reads it back with the desired state and
// checks names, ids, values and the number of calls.
func TestReadExampleEstate(t *testing.T) {
	s, st, p := startContract(t)
	ctx := context.Background()
	s.ResetCounters()
	live, err := p.Read(ctx, providers.ReadOptions{Desired: st})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	c := live.Calls
	t.Logf("read of the example estate: %d requests (%d reads, %d auth, %d retries); simulator saw %d",
		c.Reads+c.Writes+c.Auth, c.Reads, c.Auth, c.Retries, s.Stats().Total())
	// 1 KM list + 2 KM GETs, 2 tier lists, 1 app page, 6×(keys+subs),
	// 1 endpoint-cert page, 1 users page, 1 roles page = 21, plus the
	// client certificates of the 6 catalogue APIs (the API list is the
	// one the subscriptions read) = 27.
	if c.Reads != 27 || c.Writes != 0 || c.Retries != 0 {
		t.Errorf("calls = %+v, want 27 reads, no writes or retries", c)
	}

	// Every desired object has a live counterpart with the same name.
	for _, r := range st.Resources() {
		m := r.Meta()
		switch m.Kind {
		case spec.KindEnvironment, spec.KindTruststore, spec.KindCertificate:
			continue
		}
		key := m.Metadata.Name
		if m.Kind == spec.KindThrottlingPolicy {
			key = providers.PolicyKey(r.(*spec.ThrottlingPolicy).Spec.Level, key)
		}
		if live.ID(m.Kind, key) == "" {
			t.Errorf("%s %q: no live id", m.Kind, m.Metadata.Name)
		}
	}
	if !live.IsBuiltin(spec.KindApplication, "DefaultApplication") || !live.IsBuiltin(spec.KindKeyManager, spec.ResidentKeyManager) ||
		!live.IsBuiltin(spec.KindUser, "admin") || !live.IsBuiltin(spec.KindThrottlingPolicy, "Gold") {
		t.Errorf("built-ins not flagged")
	}

	// Values that round-trip.
	km := live.State.KeyManager("WSO2IS")
	want := st.KeyManager("WSO2IS")
	if km.Spec.Issuer != want.Spec.Issuer || km.Spec.Connector == nil || km.Spec.Connector.RolesEndpoint != want.Spec.Connector.RolesEndpoint ||
		!km.Spec.Connector.Password.IsZero() || !km.Spec.EnableMapOAuthConsumerApps {
		t.Errorf("WSO2IS = %+v", km.Spec)
	}
	if r := live.State.KeyManager(spec.ResidentKeyManager); r == nil || r.Spec.Enabled {
		t.Errorf("Resident KM not disabled: %+v", r)
	}
	tp := live.State.ThrottlingPolicy(spec.LevelSubscription, "Platinum")
	if tp == nil || tp.Spec.RateLimitCount != 200 || tp.Spec.StopOnQuotaReach == nil || !*tp.Spec.StopOnQuotaReach ||
		tp.Spec.DefaultLimit.RequestCount.RequestCount != 5000 {
		t.Errorf("Platinum = %+v", tp)
	}
	pay := live.State.Application("payment-client")
	if pay.Spec.ThrottlingPolicy != "ServiceToService" || pay.Spec.Attributes["costCentre"] != "4711" || len(pay.Spec.Keys) != 1 {
		t.Fatalf("payment-client = %+v", pay.Spec)
	}
	k := pay.Spec.Keys[0]
	if k.KeyManager != "WSO2IS" || k.Mode != spec.KeyModeGenerate || k.AdditionalProperties["ext_application_token_lifetime"] != "900" ||
		!slices.Contains(k.GrantTypes, "refresh_token") {
		t.Errorf("payment-client key = %+v", k)
	}
	lk := live.Keys["payment-client"][0]
	if lk.KeyMappingID == "" || lk.ConsumerKey == "" || !lk.HasSecret {
		t.Errorf("live key = %+v", lk)
	}
	re := live.State.Application("rule-engine-client").Spec.Keys
	if len(re) != 1 || re[0].Mode != spec.KeyModeMap || re[0].ClientID != providertest.RuleEngineClientID {
		t.Errorf("rule-engine keys = %+v", re)
	}
	if got := len(live.State.Subscriptions); got != len(st.Subscriptions) {
		t.Errorf("%d subscriptions, want %d", got, len(st.Subscriptions))
	}
	sub := findSub(live.State, "payment-client--payment")
	if sub == nil || sub.Spec.ThrottlingPolicy != "Platinum" || sub.Spec.API != (spec.APIRef{Name: "PaymentAPI", Version: "1.0.0"}) {
		t.Errorf("payment-client--payment = %+v", sub)
	}
	bob := findUser(live.State, "bob")
	if bob == nil || !slices.Equal(bob.Spec.Roles, []string{"api-consumer", "ledger-auditor"}) || bob.Spec.Name.FamilyName != "Smith" {
		t.Errorf("bob = %+v", bob)
	}
	if r := live.State.Role("payments-operator"); r == nil || !slices.Equal(r.Spec.Permissions, []string{"internal_login", "internal_user_mgt_view"}) {
		t.Errorf("payments-operator = %+v", r)
	}
	if m := live.RoleMembers["api-consumer"]; !slices.Equal(m, []string{"alice", "bob"}) {
		t.Errorf("api-consumer members = %v", m)
	}

	// Without the desired state, subscriptions get wso2sync's own names
	// and DefaultApplication's keys are read too.
	live2, err := p.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindSubscription}})
	if err != nil {
		t.Fatal(err)
	}
	if findSub(live2.State, "payment-client--PaymentAPI--1.0.0") == nil || live2.State.Applications != nil {
		t.Errorf("subscriptions without desired: %v", names(live2.State))
	}
}

func findSub(st *spec.State, name string) *spec.Subscription {
	for _, s := range st.Subscriptions {
		if s.Metadata.Name == name {
			return s
		}
	}
	return nil
}

func findUser(st *spec.State, name string) *spec.User {
	for _, u := range st.Users {
		if u.Metadata.Name == name {
			return u
		}
	}
	return nil
}

func names(st *spec.State) []string {
	var out []string
	for _, r := range st.Resources() {
		out = append(out, string(r.Meta().Kind)+"/"+r.Meta().Metadata.Name)
	}
	return out
}

// TestReadSubscriptionsPerAPI reads an estate with more applications than
// APIs: subscriptions are listed per API (one GET /subscriptions?apiId=
// page per API instead of one per application) and every subscription of
// the per-application read is found, with the same ids.
func TestReadSubscriptionsPerAPI(t *testing.T) {
	s, _, p := startContract(t)
	ctx := context.Background()
	if _, err := sim.GenerateEstate(s, sim.EstateSize{Apps: 30, Subscriptions: 60, APIs: 3}); err != nil {
		t.Fatal(err)
	}
	s.ResetCounters()
	live, err := p.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindSubscription}})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	perApp := st.APIM.Routes["GET /api/am/devportal/v3/subscriptions"]
	apps := len(s.Dump().APIM.Applications)
	if perApp >= int64(apps) {
		t.Errorf("%d subscription list calls for %d applications: not read per API (routes %v)", perApp, apps, st.APIM.Routes)
	}
	// The same subscriptions as a per-application read.
	n := 0
	for _, a := range s.Dump().APIM.Applications {
		subs, err := p.APIM.Subscriptions.List(ctx, apim.AppRef{ID: a.ApplicationID, Name: a.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range subs {
			n++
			if got := live.ID(spec.KindSubscription, sub.Object.Metadata.Name); got != sub.ID {
				t.Errorf("%s: id %q, want %q", sub.Object.Metadata.Name, got, sub.ID)
			}
		}
	}
	if len(live.State.Subscriptions) != n || n < 60 {
		t.Errorf("%d subscriptions read per API, %d per application", len(live.State.Subscriptions), n)
	}
}
