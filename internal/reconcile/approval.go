package reconcile

import (
	"sort"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// AwaitingApproval lists the objects of the last Compute that an APIM
// approval workflow holds back (WSO2-API §5.3): subscriptions ON_HOLD or
// TIER_UPDATE_PENDING, and application keys whose generation waits
// (key state CREATED). The plan leaves them alone because they are
// converging; the daemon's status shows them as pending approval rather
// than in sync. Ref.Reason is the server's state. Names are the plan's
// (diff.KeyName for keys).
func (p *Pass) AwaitingApproval() []diff.Ref {
	if p.Live == nil {
		return nil
	}
	var out []diff.Ref
	for name, s := range p.Live.Subscriptions {
		switch s.Status {
		case "ON_HOLD", "TIER_UPDATE_PENDING":
			out = append(out, diff.Ref{Kind: spec.KindSubscription, Name: name, Reason: s.Status})
		}
	}
	for app, keys := range p.Live.Keys {
		for _, k := range keys {
			if k.KeyState == "CREATED" {
				out = append(out, diff.Ref{Kind: diff.KindApplicationKey, Name: diff.KeyName(app, k.Spec.KeyType, k.Spec.KeyManager), Reason: "key generation " + k.KeyState})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
