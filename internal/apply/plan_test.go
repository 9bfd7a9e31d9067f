package apply

import (
	"context"
	"slices"
	"testing"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// A plan where an application moves off a tier that is removed, another
// application goes with its subscription, and a new app gets a key.
func TestStepsFromPlan(t *testing.T) {
	p := &diff.Plan{Changes: []diff.Change{
		{Kind: spec.KindThrottlingPolicy, Name: "Old", Action: diff.Delete, Before: map[string]any{"spec.level": "application"}},
		{Kind: spec.KindThrottlingPolicy, Name: "New", Action: diff.Create, After: map[string]any{"spec.level": "application"}},
		{Kind: spec.KindRole, Name: "readers", Action: diff.NoOp},
		{Kind: spec.KindApplication, Name: "moving", Action: diff.Update,
			Before: map[string]any{"spec.throttlingPolicy": "Old"}, After: map[string]any{"spec.throttlingPolicy": "New"}},
		{Kind: spec.KindApplication, Name: "gone", Action: diff.Delete, Before: map[string]any{"spec.throttlingPolicy": "Gold"}},
		{Kind: KindApplicationKey, Name: "moving/PRODUCTION/IS7", Action: diff.Create},
		{Kind: spec.KindUser, Name: "bob", Action: diff.Create, After: map[string]any{"spec.roles": []string{"readers", "writers"}}},
		{Kind: spec.KindSubscription, Name: "gone:Pets 1.0", Action: diff.Delete,
			Before: map[string]any{"spec.application": "gone", "spec.throttlingPolicy": "Gold"}},
	}}
	var r recorder
	steps := Steps(p, func(c diff.Change) func(context.Context) error {
		return r.step(c.Kind, c.Name, Action(c.Action), nil).Do
	})
	if len(steps) != 7 {
		t.Fatalf("%d steps, want 7 (NoOps left out)", len(steps))
	}
	deps := map[Ref][]Ref{}
	for _, s := range steps {
		deps[s.Ref()] = s.DependsOn
	}
	for r, want := range map[Ref][]Ref{
		ref(spec.KindThrottlingPolicy, "Old"): {ref(spec.KindApplication, "moving")},
		ref(spec.KindApplication, "moving"):   {ref(spec.KindThrottlingPolicy, "New")},
		ref(spec.KindApplication, "gone"):     {ref(spec.KindSubscription, "gone:Pets 1.0")},
		ref(KindApplicationKey, "moving/PRODUCTION/IS7"): {
			ref(spec.KindApplication, "moving"), ref(spec.KindKeyManager, "IS7")},
		ref(spec.KindUser, "bob"): {ref(spec.KindRole, "readers"), ref(spec.KindRole, "writers")},
	} {
		if !slices.Equal(deps[r], want) {
			t.Errorf("%s depends on %v, want %v", r, deps[r], want)
		}
	}

	res := Run(context.Background(), steps, RunOptions{})
	if res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	got := r.order()
	before := func(a, b Ref) {
		if slices.Index(got, a) > slices.Index(got, b) {
			t.Errorf("%s ran after %s: %v", a, b, got)
		}
	}
	before(ref(spec.KindApplication, "moving"), ref(spec.KindThrottlingPolicy, "Old"))
	before(ref(spec.KindSubscription, "gone:Pets 1.0"), ref(spec.KindApplication, "gone"))
	if d := Deletes(p); len(d) != 3 {
		t.Errorf("Deletes() = %v", d)
	}
}

// The keys and subscriptions of a replaced application are created after
// it (diff plans them as creates: APIM deletes them with the application),
// even when a subscription names the application in another case.
func TestStepsReplacedApplication(t *testing.T) {
	p := &diff.Plan{Changes: []diff.Change{
		{Kind: spec.KindApplication, Name: "payments", Action: diff.Replace, After: map[string]any{"spec.owner": "admin"}},
		{Kind: KindApplicationKey, Name: "payments/PRODUCTION/IS7", Action: diff.Create, Reason: "application payments is replaced"},
		{Kind: spec.KindSubscription, Name: "payments--forex", Action: diff.Create, Reason: "application payments is replaced",
			After: map[string]any{"spec.application": "Payments"}},
	}}
	var r recorder
	steps := Steps(p, func(c diff.Change) func(context.Context) error {
		return r.step(c.Kind, c.Name, Action(c.Action), nil).Do
	})
	app := ref(spec.KindApplication, "payments")
	for _, s := range steps[1:] {
		if !slices.Contains(s.DependsOn, app) {
			t.Errorf("%s depends on %v, not on %s", s.Ref(), s.DependsOn, app)
		}
	}
	if res := Run(context.Background(), steps, RunOptions{}); res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	if got := r.order(); got[0] != app {
		t.Errorf("order %v: the application is not first", got)
	}
}
