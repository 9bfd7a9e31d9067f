package reconcile

import (
	"context"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// role creates a role (members are added by the users' changes), sets its
// permissions, or deletes it.
func (p *Pass) role(ctx context.Context, c diff.Change) error {
	r := p.Providers.IS.Roles
	id := p.id(spec.KindRole, c.Name)
	if c.Action == diff.Delete || (c.Action == diff.Replace && id != "") {
		if err := r.Delete(ctx, id); err != nil {
			return err
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	d := p.State.Role(c.Name)
	if d == nil {
		return notFound(c, "desired")
	}
	if c.Action == diff.Update {
		return r.SetPermissions(ctx, id, d.Spec.Permissions)
	}
	// Keep the members a replaced role had.
	var members []string
	if c.Action == diff.Replace && p.Live != nil {
		for _, u := range p.Live.RoleMembers[c.Name] {
			if uid := p.id(spec.KindUser, u); uid != "" {
				members = append(members, uid)
			}
		}
	}
	nid, err := r.Create(ctx, d, "", members)
	if err != nil {
		return err
	}
	p.setID(spec.KindRole, c.Name, nid)
	return nil
}
