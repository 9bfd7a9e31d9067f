package reconcile

import (
	"context"
	"fmt"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// subscription subscribes an application to a published API, changes its
// tier in place, or removes it.
func (p *Pass) subscription(ctx context.Context, c diff.Change) error {
	a := p.Providers.APIM.Subscriptions
	if c.Action == diff.Delete || c.Action == diff.Replace {
		// A replace that moves the subscription to another API deletes the
		// live one, which has its own name (LiveName).
		if id := p.id(spec.KindSubscription, cmpOr(c.LiveName, c.Name)); id != "" {
			if err := a.Delete(ctx, id); err != nil {
				return err
			}
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	s := find(p.State.Subscriptions, c.Name)
	if s == nil {
		return notFound(c, "desired")
	}
	ref := p.appRef(s.Spec.Application)
	if c.Action == diff.Update {
		cur, ok := p.Live.Subscriptions[c.Name]
		if !ok {
			return notFound(c, "live")
		}
		_, err := a.Update(ctx, ref, &cur, s.Spec.ThrottlingPolicy)
		return err
	}
	api, err := p.Providers.APIM.APIs.Lookup(ctx, s.Spec.API)
	if err != nil {
		return err
	}
	if api == nil {
		return fmt.Errorf("subscription %s: API %s is not published", c.Name, s.Spec.API)
	}
	got, err := a.Create(ctx, ref, api.ID, s.Spec.API, s.Spec.ThrottlingPolicy)
	if err != nil {
		return err
	}
	if got != nil {
		p.setID(spec.KindSubscription, c.Name, got.ID)
	}
	return nil
}
