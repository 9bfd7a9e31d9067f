package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Role membership is batched per role: instead of one SCIM PATCH per
// (user, role), the user steps of one apply report their membership
// changes to a per-role batch, and the batch is sent as one PATCH (add)
// and one PATCH (remove) per role once every user step of the run that
// touches the role has reported (issue 10: 5,000 users in 100 roles are
// 100 PATCHes, not 5,000).
//
// The expected reporters are counted from the plan before the run
// (beginMembers), so no step ever waits for another: the step that
// reports last sends the PATCH and carries its error. A user step that
// fails or is not attempted reports nothing; the batches it leaves
// incomplete are sent after the run (endMembers), and their failures are
// failed steps of the result. Ordering is unchanged: roles are created at
// level 1, users at level 2, and a membership is sent only after the
// user's own write (the user exists). Crash safety is unchanged too: a
// membership that was never sent is drift the next plan shows as a user
// update (live roles differ), which adds it again.

// maxMembersPerPatch bounds the users of one SCIM PATCH.
const maxMembersPerPatch = 500

type memberBatches struct {
	mu    sync.Mutex
	roles map[string]*memberBatch // role name → batch
	users map[string][]string     // user name → roles its step will report for
}

type memberBatch struct {
	pending     int      // user steps that have yet to report
	add, remove []string // user ids
	names       []string // user names, for messages
}

// rolesDelta is what a user change does to memberships.
func rolesDelta(have, want []string) (add, remove []string) {
	for _, r := range want {
		if !slices.Contains(have, r) {
			add = append(add, r)
		}
	}
	for _, r := range have {
		if !slices.Contains(want, r) {
			remove = append(remove, r)
		}
	}
	return add, remove
}

// userRoles returns the live roles a user change starts from (those of an
// update; a create or replace starts from none) and the desired ones.
func (p *Pass) userRoles(c diff.Change, d *spec.User, live map[string]*spec.User) (have, want []string) {
	if c.Action == diff.Update {
		if lu := live[c.Name]; lu != nil {
			have = lu.Spec.Roles
		}
	}
	return have, d.Spec.Roles
}

// beginMembers counts, per role, the user changes of plan that will
// report a membership change.
func (p *Pass) beginMembers(plan *diff.Plan) {
	b := &memberBatches{roles: map[string]*memberBatch{}, users: map[string][]string{}}
	desired := make(map[string]*spec.User, len(p.State.Users))
	for _, u := range p.State.Users {
		desired[u.Name()] = u
	}
	live := map[string]*spec.User{}
	if p.Live != nil {
		for _, u := range p.Live.State.Users {
			live[u.Name()] = u
		}
	}
	for _, c := range plan.Changes {
		if c.Kind != spec.KindUser || c.Action == diff.NoOp || c.Action == diff.Delete {
			continue
		}
		d := desired[c.Name]
		if d == nil {
			continue
		}
		add, remove := rolesDelta(p.userRoles(c, d, live))
		roles := append(add, remove...)
		b.users[c.Name] = roles
		for _, r := range roles {
			if b.roles[r] == nil {
				b.roles[r] = &memberBatch{}
			}
			b.roles[r].pending++
		}
	}
	p.mu.Lock()
	p.members = b
	p.mu.Unlock()
}

// report files the membership changes of one user step (none when the
// step failed before they were due: every user step reports once, from a
// deferred call) and sends the batches it completes. Only the first report
// of a user counts.
func (b *memberBatches) report(ctx context.Context, p *Pass, user, id string, add, remove []string) error {
	b.mu.Lock()
	roles, ok := b.users[user]
	delete(b.users, user)
	var full []string
	for _, r := range roles {
		mb := b.roles[r]
		switch {
		case slices.Contains(add, r):
			mb.add = append(mb.add, id)
			mb.names = append(mb.names, user)
		case slices.Contains(remove, r):
			mb.remove = append(mb.remove, id)
			mb.names = append(mb.names, user)
		}
		if mb.pending--; mb.pending == 0 {
			full = append(full, r)
		}
	}
	b.mu.Unlock()
	if !ok && (len(add) > 0 || len(remove) > 0) {
		// A user change the plan given to beginMembers did not have.
		return p.sendOne(ctx, user, id, add, remove)
	}
	var errs []error
	for _, r := range full {
		if err := b.flush(ctx, p, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sendOne sends one user's memberships role by role (no batching: Do
// called outside Apply).
func (p *Pass) sendOne(ctx context.Context, user, id string, add, remove []string) error {
	for _, r := range add {
		if err := p.sendMembers(ctx, r, &memberBatch{add: []string{id}, names: []string{user}}); err != nil {
			return err
		}
	}
	for _, r := range remove {
		if err := p.sendMembers(ctx, r, &memberBatch{remove: []string{id}, names: []string{user}}); err != nil {
			return err
		}
	}
	return nil
}

// flush takes the batch of role out and sends it.
func (b *memberBatches) flush(ctx context.Context, p *Pass, role string) error {
	b.mu.Lock()
	mb := b.roles[role]
	delete(b.roles, role)
	b.mu.Unlock()
	if mb == nil || (len(mb.add) == 0 && len(mb.remove) == 0) {
		return nil
	}
	return p.sendMembers(ctx, role, mb)
}

// sendMembers PATCHes a role's members: additions, then removals, at
// most maxMembersPerPatch users per request.
func (p *Pass) sendMembers(ctx context.Context, role string, mb *memberBatch) error {
	rid := p.id(spec.KindRole, role)
	if rid == "" && len(mb.add) == 0 {
		return nil // the role is gone: nobody to remove from it
	}
	if rid == "" {
		return fmt.Errorf("role %s does not exist (members %s)", role, userList(mb.names))
	}
	r := p.Providers.IS.Roles
	for ids := range slices.Chunk(mb.add, maxMembersPerPatch) {
		if err := r.AddUsers(ctx, rid, ids); err != nil {
			return fmt.Errorf("adding %s to role %s: %w", userList(mb.names), role, err)
		}
	}
	for ids := range slices.Chunk(mb.remove, maxMembersPerPatch) {
		if err := r.RemoveUsers(ctx, rid, ids); err != nil {
			return fmt.Errorf("removing %s from role %s: %w", userList(mb.names), role, err)
		}
	}
	return nil
}

func userList(names []string) string {
	switch {
	case len(names) == 1:
		return "user " + names[0]
	case len(names) <= 3:
		return fmt.Sprintf("users %v", names)
	}
	return fmt.Sprintf("%d users (%s, %s, …)", len(names), names[0], names[1])
}

// endMembers sends the batches that a failed or skipped user step left
// incomplete; each failure becomes a failed step of res (Role/<name>,
// update). It drops the batches.
func (p *Pass) endMembers(ctx context.Context, res *apply.Result) {
	p.mu.Lock()
	b := p.members
	p.members = nil
	p.mu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	var left []string
	for r, mb := range b.roles {
		if len(mb.add) > 0 || len(mb.remove) > 0 {
			left = append(left, r)
		}
	}
	b.mu.Unlock()
	slices.Sort(left)
	for _, r := range left {
		if err := b.flush(ctx, p, r); err != nil && res != nil {
			res.Failed = append(res.Failed, apply.StepResult{Ref: apply.Ref{Kind: spec.KindRole, Name: r},
				Action: apply.ActionUpdate, Status: apply.StatusFailed, Err: err, Message: err.Error()})
		}
	}
}
