package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// applyExample applies an example environment and checks it converged.
func applyExample(t *testing.T, s *sim.Sim, env string) *Pass {
	t.Helper()
	p := load(t, s, env)
	plan := compute(t, p, nil)
	if res := p.Apply(context.Background(), plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("apply: %s", res.Report())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}
	return p
}

// TestDrift changes four objects out of band through the servers' APIs (an
// application's tier, a key manager field, a user's email, a
// subscription's tier): the plan shows exactly those, with the right
// field, and apply puts them back.
func TestDrift(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, sim.Options{})
	p := applyExample(t, s, "dev")
	a, live := p.Providers.APIM, p.Live

	app := *p.State.Application("forex-client")
	app.Spec.ThrottlingPolicy = "20PerMin"
	if err := a.Applications.Update(ctx, live.ID(spec.KindApplication, "forex-client"), &app); err != nil {
		t.Fatal(err)
	}
	kmID := live.ID(spec.KindKeyManager, "WSO2IS")
	km, err := a.KeyManagers.Get(ctx, kmID)
	if err != nil {
		t.Fatal(err)
	}
	km.Spec.Description = "changed by hand"
	if err := a.KeyManagers.Update(ctx, kmID, km, "admin"); err != nil {
		t.Fatal(err)
	}
	u := *find(p.State.Users, "alice")
	u.Spec.Emails = []spec.Email{{Value: "alice@elsewhere.example", Primary: true}}
	if err := p.Providers.IS.Users.Update(ctx, live.ID(spec.KindUser, "alice"), &u); err != nil {
		t.Fatal(err)
	}
	sub := live.Subscriptions["ledger-client--ledger"]
	ref := apim.AppRef{ID: live.ID(spec.KindApplication, "ledger-client"), Name: "ledger-client"}
	if _, err := a.Subscriptions.Update(ctx, ref, &sub, "Silver"); err != nil {
		t.Fatal(err)
	}

	plan := compute(t, p, nil)
	want := map[string]string{
		"Application/forex-client":           "spec.throttlingPolicy",
		"KeyManager/WSO2IS":                  "spec.description",
		"User/alice":                         "spec.emails",
		"Subscription/ledger-client--ledger": "spec.throttlingPolicy",
	}
	got := map[string]bool{}
	for _, c := range plan.Changes {
		if c.Action == diff.NoOp {
			continue
		}
		key := string(c.Kind) + "/" + c.Name
		field, ok := want[key]
		if !ok || c.Action != diff.Update {
			t.Errorf("unexpected change %s (%s): %s", key, c.Action, c.Reason)
			continue
		}
		got[key] = true
		if len(c.Fields) != 1 || !strings.HasPrefix(c.Fields[0].Path, field) {
			t.Errorf("%s: fields %+v, want one at %s", key, c.Fields, field)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("plan shows %v, want %v:\n%s", got, want, render(t, plan))
	}
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 || len(res.Applied) != 4 {
		t.Fatalf("apply: %s", res.Report())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("drift not corrected:\n%s", render(t, plan))
	}
}

// TestPartialFailure: a 500 on one object's create fails that step and the
// steps that need it; every other change is applied, and the next run
// finishes the job.
func TestPartialFailure(t *testing.T) {
	ctx := context.Background()
	fc, err := sim.ParseFaults("route=POST /api/am/admin/v4/throttling/policies/subscription:5xx=1.0")
	if err != nil {
		t.Fatal(err)
	}
	s := startSim(t, sim.Options{Faults: fc})
	p := load(t, s, "dev")
	plan := compute(t, p, nil)
	res := p.Apply(ctx, plan, ApplyOptions{})
	if res.ExitCode() != 1 {
		t.Fatalf("exit %d, want 1: %s", res.ExitCode(), res.Report())
	}
	if len(res.Failed) != 1 || res.Failed[0].Ref != (apply.Ref{Kind: spec.KindThrottlingPolicy, Name: "Platinum"}) {
		t.Fatalf("failed %+v, want only ThrottlingPolicy/Platinum", res.Failed)
	}
	if !strings.Contains(res.Failed[0].Message, "500") {
		t.Errorf("message %q lacks the server's status", res.Failed[0].Message)
	}
	var skipped []string
	for _, n := range res.NotAttempted {
		skipped = append(skipped, n.Ref.String())
	}
	if want := []string{"Subscription/payment-client--payment"}; !subset(want, skipped) {
		t.Errorf("not attempted %v, want at least %v", skipped, want)
	}
	total := len(plan.Changes) - plan.Summary.NoOp
	if len(res.Applied)+len(res.Failed)+len(res.NotAttempted) != total || len(res.Applied) < total-4 {
		t.Errorf("applied %d of %d: %s", len(res.Applied), total, res.Summary())
	}
	if !strings.Contains(res.Summary(), "1 failed") {
		t.Errorf("summary %q", res.Summary())
	}

	s.Faults().Clear()
	plan = compute(t, p, nil)
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("second run: %s", res.Report())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}
}

func subset(want, have []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestKeyUpdateInPlace: changed grant types and callback URL of a
// generated key update it in place (no new consumer key).
func TestKeyUpdateInPlace(t *testing.T) {
	s := startSim(t, sim.Options{})
	p := applyExample(t, s, "dev")
	before := p.liveKey("profile-client", "PRODUCTION", "WSO2IS").ConsumerKey
	k := p.desiredKey("profile-client", "PRODUCTION", "WSO2IS")
	k.GrantTypes = append(k.GrantTypes, "client_credentials")
	k.CallbackURL = "http://localhost:9090/callback"
	plan := compute(t, p, nil)
	var changes []diff.Change
	for _, c := range plan.Changes {
		if c.Action != diff.NoOp {
			changes = append(changes, c)
		}
	}
	if len(changes) != 1 || changes[0].Kind != diff.KindApplicationKey || changes[0].Action != diff.Update {
		t.Fatalf("want one key update:\n%s", render(t, plan))
	}
	if res := p.Apply(context.Background(), plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("apply: %s", res.Report())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}
	if after := p.liveKey("profile-client", "PRODUCTION", "WSO2IS").ConsumerKey; after != before {
		t.Fatalf("consumer key changed %s → %s: the key was recreated", before, after)
	}
}
