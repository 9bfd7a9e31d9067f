package reconcile

import (
	"context"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// keyManager creates, updates or deletes a key manager. The Resident Key
// Manager (type default) is never deleted: a manifest that disables it
// updates it, keeping the server's configuration and toggling enabled.
func (p *Pass) keyManager(ctx context.Context, c diff.Change) error {
	a := p.Providers.APIM.KeyManagers
	if c.Action == diff.Delete {
		return a.Delete(ctx, p.id(spec.KindKeyManager, c.Name))
	}
	km := p.State.KeyManager(c.Name)
	if km == nil {
		return notFound(c, "desired")
	}
	// A keyManager Certificate sets the certificates field: the key
	// manager's own writes keep it.
	if km.Spec.Certificates == nil {
		cert, err := p.kmCertificate(ctx, c.Name)
		if err != nil {
			return err
		}
		if cert != nil {
			cp := *km
			cp.Spec.Certificates = cert
			km = &cp
		}
	}
	pw := ""
	if km.Spec.Connector != nil {
		v, err := p.secret(ctx, &km.Spec.Connector.Password)
		if err != nil {
			return err
		}
		pw = v
	}
	id := p.id(spec.KindKeyManager, c.Name)
	switch c.Action {
	case diff.Create:
		if id == "" { // a built-in KM is updated, never created twice
			nid, err := a.Create(ctx, km, pw)
			if err != nil {
				return err
			}
			p.setID(spec.KindKeyManager, c.Name, nid)
			return nil
		}
	case diff.Replace:
		if id != "" && !diff.IsProtected(spec.KindKeyManager, c.Name) {
			if err := a.Delete(ctx, id); err != nil {
				return err
			}
			nid, err := a.Create(ctx, km, pw)
			if err != nil {
				return err
			}
			p.setID(spec.KindKeyManager, c.Name, nid)
			return nil
		}
	}
	if km.Spec.Type == "default" {
		cur, err := a.Get(ctx, id)
		if err != nil {
			return err
		}
		cur.Spec.Enabled = km.Spec.Enabled
		if km.Spec.Description != "" {
			cur.Spec.Description = km.Spec.Description
		}
		km = cur
	}
	return a.Update(ctx, id, km, pw)
}
