package reconcile

import (
	"context"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// policy creates, updates, replaces (a level change) or deletes a
// throttling policy. Ids are keyed "<level>/<name>".
func (p *Pass) policy(ctx context.Context, c diff.Change) error {
	a := p.Providers.APIM.Policies
	if c.Action == diff.Delete || c.Action == diff.Replace {
		if lp := find(p.Live.State.ThrottlingPolicies, c.Name); lp != nil {
			if err := a.Delete(ctx, lp.Spec.Level, p.id(spec.KindThrottlingPolicy, providers.PolicyKey(lp.Spec.Level, c.Name))); err != nil {
				return err
			}
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	tp := find(p.State.ThrottlingPolicies, c.Name)
	if tp == nil {
		return notFound(c, "desired")
	}
	key := providers.PolicyKey(tp.Spec.Level, c.Name)
	if c.Action == diff.Update {
		return a.Update(ctx, p.id(spec.KindThrottlingPolicy, key), tp)
	}
	id, err := a.Create(ctx, tp)
	if err != nil {
		return err
	}
	p.setID(spec.KindThrottlingPolicy, key, id)
	return nil
}
