package reconcile

import (
	"context"
	"errors"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// user creates a user (with its password and role memberships), updates
// its name, emails and roles, or deletes it. Passwords are write-only:
// they are set on create only.
func (p *Pass) user(ctx context.Context, c diff.Change) (err error) {
	if b := p.memberBatches(); b != nil {
		// Report (nothing, if setRoles did not) however the step ends, so
		// that the role batches it is counted in are not left waiting.
		defer func() { err = errors.Join(err, b.report(ctx, p, c.Name, "", nil, nil)) }()
	}
	u := p.Providers.IS.Users
	id := p.id(spec.KindUser, c.Name)
	if c.Action == diff.Delete || (c.Action == diff.Replace && id != "") {
		if err := u.Delete(ctx, id); err != nil {
			return err
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	d := find(p.State.Users, c.Name)
	if d == nil {
		return notFound(c, "desired")
	}
	var have []string
	if c.Action == diff.Update {
		if err := u.Update(ctx, id, d); err != nil {
			return err
		}
		if lu := find(p.Live.State.Users, c.Name); lu != nil {
			have = lu.Spec.Roles
		}
	} else {
		pw, err := p.secret(ctx, d.Spec.Password)
		if err != nil {
			return err
		}
		if id, err = u.Create(ctx, d, pw); err != nil {
			return err
		}
		p.setID(spec.KindUser, c.Name, id)
	}
	return p.setRoles(ctx, c.Name, id, have, d.Spec.Roles)
}

// setRoles adds and removes the user's role memberships: into the role
// batches of the running Apply (members.go), else directly, one PATCH per
// role.
func (p *Pass) setRoles(ctx context.Context, user, id string, have, want []string) error {
	add, remove := rolesDelta(have, want)
	for _, role := range add {
		if p.id(spec.KindRole, role) == "" {
			return &missingRoleError{user: user, role: role}
		}
	}
	if b := p.memberBatches(); b != nil {
		return b.report(ctx, p, user, id, add, remove)
	}
	return p.sendOne(ctx, user, id, add, remove)
}

// memberBatches returns the role batches of the running Apply (nil
// outside one).
func (p *Pass) memberBatches() *memberBatches {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.members
}

type missingRoleError struct{ user, role string }

func (e *missingRoleError) Error() string {
	return "User " + e.user + ": role " + e.role + " does not exist"
}
