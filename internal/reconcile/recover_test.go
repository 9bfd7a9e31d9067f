package reconcile

import (
	"context"
	"errors"
	"testing"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestCrashRecovery: a run is cut off right after an application's create
// reached the server (its result unknown). The next run resolves the
// pending create by looking the application up by name, records it as
// owned, and converges without creating it twice.
func TestCrashRecovery(t *testing.T) {
	s := startSim(t, sim.Options{})
	p := load(t, s, "dev")
	dir := t.TempDir()
	j, err := apply.OpenJournal(dir, apply.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := apply.LoadInventory(dir, p.State.Name)
	if err != nil {
		t.Fatal(err)
	}
	plan := compute(t, p, inv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := apply.Steps(plan, func(c diff.Change) func(context.Context) error {
		do := p.Do(c)
		if c.Kind != spec.KindApplication || c.Name != "forex-client" {
			return do
		}
		return func(ctx context.Context) error {
			if err := do(ctx); err != nil {
				return err
			}
			cancel() // the process "dies" before it learns the result
			return errors.Join(context.Canceled, ctx.Err())
		}
	})
	res := apply.Run(ctx, steps, apply.RunOptions{Journal: j, Inventory: inv, Concurrency: 1})
	if !res.Interrupted {
		t.Fatalf("run not interrupted: %s", res.Summary())
	}
	_ = j.Close()

	// The next run.
	p = load(t, s, "dev")
	j, err = apply.OpenJournal(dir, apply.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	inv, err = apply.LoadInventory(dir, p.State.Name)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := apply.Resolve(context.Background(), j, inv, p.Resolver())
	if err != nil {
		t.Fatal(err)
	}
	landed := false
	for _, r := range rec.Resolved {
		if r.Ref == (apply.Ref{Kind: spec.KindApplication, Name: "forex-client"}) && r.Outcome == apply.OutcomeLanded {
			landed = true
		}
	}
	if !landed || !inv.Owned(apply.Ref{Kind: spec.KindApplication, Name: "forex-client"}) {
		t.Fatalf("pending create not resolved as landed and owned:\n%s", rec.Report())
	}
	plan = compute(t, p, inv)
	for _, c := range plan.Changes {
		if c.Kind == spec.KindApplication && c.Name == "forex-client" && c.Action != diff.NoOp {
			t.Fatalf("forex-client planned again: %s", c.Action)
		}
	}
	if res := p.Apply(context.Background(), plan, ApplyOptions{Journal: j, Inventory: inv}); res.ExitCode() != 0 {
		t.Fatalf("second run: %s", res.Report())
	}
	if plan := compute(t, p, inv); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}
	n := 0
	for _, a := range p.Live.State.Applications {
		if a.Metadata.Name == "forex-client" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d forex-client applications, want 1", n)
	}
}
