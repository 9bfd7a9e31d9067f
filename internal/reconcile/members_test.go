package reconcile

import (
	"context"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestRoleMembersBatched: applying the example users sends one membership
// PATCH per role (not one per user and role), and the memberships land.
func TestRoleMembersBatched(t *testing.T) {
	s := startSim(t, sim.Options{})
	p := load(t, s, "dev")
	plan := compute(t, p, nil)
	roles, memberships := map[string]bool{}, 0
	for _, u := range p.State.Users {
		for _, r := range u.Spec.Roles {
			roles[r] = true
			memberships++
		}
	}
	if memberships <= len(roles) {
		t.Skipf("the example has %d memberships in %d roles: nothing to batch", memberships, len(roles))
	}
	s.ResetCounters()
	if res := p.Apply(context.Background(), plan, ApplyOptions{}); res.ExitCode() != 0 {
		t.Fatalf("apply:\n%s", res.Report())
	}
	if got := s.Stats().IS.Routes["PATCH /scim2/v2/Roles/{id}"]; got > int64(len(roles)) {
		t.Errorf("%d role PATCHes for %d memberships in %d roles", got, memberships, len(roles))
	}
	if plan2 := compute(t, p, nil); plan2.HasChanges() {
		t.Fatalf("memberships did not land:\n%s", render(t, plan2))
	}
}
