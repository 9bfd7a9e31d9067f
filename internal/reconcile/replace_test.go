package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestReplaceApplicationRecreatesDependents: replacing an application
// (its owner differs from the one declared, here the user wso2sync signs
// in as) deletes its keys and subscriptions on the server (cascade); the
// same run creates them again, so the next plan is empty.
func TestReplaceApplicationRecreatesDependents(t *testing.T) {
	const name = "ledger-client" // two keys and a subscription in the examples
	ctx := context.Background()
	s := startSim(t, sim.Options{})
	p := load(t, s, "dev")
	if res := p.Apply(ctx, compute(t, p, nil), ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("first apply:\n%s", res.Report())
	}
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("plan after the first apply:\n%s", render(t, plan))
	}
	oldID := p.Live.ID(spec.KindApplication, name)
	var oldKeys []string
	for _, k := range p.Live.Keys[name] {
		oldKeys = append(oldKeys, k.ConsumerKey)
	}
	if oldID == "" || len(oldKeys) != 2 {
		t.Fatalf("live %s: id %q, keys %v", name, oldID, oldKeys)
	}

	// The server reports another owner (an application shared with the
	// user wso2sync signs in as, made by someone else): the simulator
	// lists only the caller's applications, so the live view says so.
	for _, a := range p.Live.State.Applications {
		if a.Metadata.Name == name {
			a.Spec.Owner = "alice"
		}
	}
	plan := diff.Compute(p.State, p.Live.State, diff.Options{Prune: p.State.Environment.Spec.Prune.Policy, Owned: nilOwned})
	var creates []string
	for _, c := range plan.Changes {
		switch {
		case c.Kind == spec.KindApplication && c.Name == name:
			if c.Action != diff.Replace {
				t.Fatalf("%s: %s, want replace\n%s", name, c.Action, render(t, plan))
			}
		case c.Action == diff.Create && c.Reason == "application "+name+" is replaced":
			creates = append(creates, string(c.Kind)+"/"+c.Name)
		case c.Action != diff.NoOp:
			t.Errorf("unexpected %s %s %s (%s)", c.Action, c.Kind, c.Name, c.Reason)
		}
	}
	slices.Sort(creates)
	want := []string{"ApplicationKey/ledger-client/PRODUCTION/WSO2IS", "ApplicationKey/ledger-client/SANDBOX/WSO2IS",
		"Subscription/ledger-client--ledger"}
	if !slices.Equal(creates, want) {
		t.Fatalf("dependents created %v, want %v\n%s", creates, want, render(t, plan))
	}
	if res := p.Apply(ctx, plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("apply of the replace:\n%s", res.Report())
	}

	// One run converged: the next plan is empty, and the new application
	// has new keys and its subscription on the server.
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("plan after the replace:\n%s", render(t, plan))
	}
	if id := p.Live.ID(spec.KindApplication, name); id == "" || id == oldID {
		t.Errorf("application id %q, want a new one (old %q)", id, oldID)
	}
	keys := p.Live.Keys[name]
	if len(keys) != 2 {
		t.Fatalf("live keys of %s: %d, want 2", name, len(keys))
	}
	for _, k := range keys {
		if k.ConsumerKey == "" || slices.Contains(oldKeys, k.ConsumerKey) {
			t.Errorf("key %s/%s: consumer key %q, want a new one", k.Spec.KeyType, k.Spec.KeyManager, k.ConsumerKey)
		}
	}
	sub, ok := p.Live.Subscriptions["ledger-client--ledger"]
	if !ok || !strings.EqualFold(sub.Object.Spec.Application, name) {
		t.Errorf("subscription ledger-client--ledger not on the server: %+v", sub)
	}
}
