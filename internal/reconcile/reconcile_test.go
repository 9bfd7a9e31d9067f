package reconcile

import (
	"context"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestIdempotent: for every example environment, apply then plan is empty
// and a second apply makes no write.
func TestIdempotent(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			s := startSim(t, sim.Options{})
			p := load(t, s, env)
			plan := compute(t, p, nil)
			if !plan.HasChanges() {
				t.Fatal("first plan is empty")
			}
			res := p.Apply(context.Background(), plan, ApplyOptions{})
			if res.ExitCode() != 0 {
				t.Fatalf("apply:\n%s\nplan:\n%s", res.Report(), render(t, plan))
			}
			before := s.Stats()
			plan2 := compute(t, p, nil)
			if plan2.HasChanges() {
				t.Fatalf("second plan has changes:\n%s", render(t, plan2))
			}
			res2 := p.Apply(context.Background(), plan2, ApplyOptions{})
			after := s.Stats()
			if w := after.APIM.Writes + after.IS.Writes - before.APIM.Writes - before.IS.Writes; w != 0 || res2.ExitCode() != 0 {
				t.Fatalf("second run wrote %d times: %s", w, res2.Summary())
			}
		})
	}
}
