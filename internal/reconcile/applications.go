package reconcile

import (
	"context"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// application creates, updates, replaces or deletes an application (its
// keys and subscriptions are changes of their own).
func (p *Pass) application(ctx context.Context, c diff.Change) error {
	a := p.Providers.APIM.Applications
	id := p.id(spec.KindApplication, c.Name)
	if c.Action == diff.Delete || (c.Action == diff.Replace && id != "") {
		if err := a.Delete(ctx, id); err != nil {
			return err
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	app := p.State.Application(c.Name)
	if app == nil {
		return notFound(c, "desired")
	}
	if c.Action == diff.Update {
		return a.Update(ctx, id, app)
	}
	nid, err := a.Create(ctx, app)
	if err != nil {
		return err
	}
	p.setID(spec.KindApplication, c.Name, nid)
	return nil
}

// appRef is the reference the key and subscription calls take.
func (p *Pass) appRef(name string) apim.AppRef {
	return apim.AppRef{ID: p.id(spec.KindApplication, name), Name: name}
}
