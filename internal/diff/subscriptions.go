package diff

import (
	"github.com/wso2sync/wso2sync/internal/spec"
)

const reasonSubscriptionTarget = "a subscription is identified by its application and API (WSO2-API §3.5): moving it means unsubscribing and subscribing again"

// subscription normalises a subscription. Its server identity is
// application+API; a tier change is an in-place update (PUT).
func (c *normCtx) subscription(s *spec.Subscription, desired bool) view {
	v := c.newView(spec.KindSubscription, &s.Object, desired)
	v.key = s.Key()
	v.add(field{path: "spec.application", value: s.Spec.Application, always: true, fold: true, replace: reasonSubscriptionTarget})
	v.add(field{path: "spec.api", value: s.Spec.API.String(), always: true, replace: reasonSubscriptionTarget})
	v.add(field{path: "spec.throttlingPolicy", value: s.Spec.ThrottlingPolicy, always: true})
	return v
}
