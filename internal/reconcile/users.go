package reconcile

import (
	"context"
	"slices"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// user creates a user (with its password and role memberships), updates
// its name, emails and roles, or deletes it. Passwords are write-only:
// they are set on create only.
func (p *Pass) user(ctx context.Context, c diff.Change) error {
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

// setRoles adds and removes the user's role memberships.
func (p *Pass) setRoles(ctx context.Context, user, id string, have, want []string) error {
	r := p.Providers.IS.Roles
	for _, role := range want {
		if slices.Contains(have, role) {
			continue
		}
		rid := p.id(spec.KindRole, role)
		if rid == "" {
			return &missingRoleError{user: user, role: role}
		}
		if err := r.AddUsers(ctx, rid, []string{id}); err != nil {
			return err
		}
	}
	for _, role := range have {
		if slices.Contains(want, role) {
			continue
		}
		if rid := p.id(spec.KindRole, role); rid != "" {
			if err := r.RemoveUsers(ctx, rid, []string{id}); err != nil {
				return err
			}
		}
	}
	return nil
}

type missingRoleError struct{ user, role string }

func (e *missingRoleError) Error() string {
	return "User " + e.user + ": role " + e.role + " does not exist"
}
