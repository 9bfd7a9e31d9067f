package diff

import (
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const reasonTierLevel = "a tier's level cannot change in place (application and subscription tiers are separate APIM resources): it is deleted at the old level and created at the new one"

// throttlingPolicy normalises a tier. Its server identity is level+name:
// APIM keeps an application and a subscription tier of the same name apart
// (both levels ship an "Unlimited").
func (c *normCtx) throttlingPolicy(p *spec.ThrottlingPolicy, desired bool) view {
	s := &p.Spec
	v := c.newView(spec.KindThrottlingPolicy, &p.Object, desired)
	level := strings.ToLower(s.Level)
	v.key = p.Key()
	v.add(field{path: "spec.level", value: level, always: true, replace: reasonTierLevel})
	v.add(field{path: "spec.displayName", value: s.DisplayName})
	v.add(field{path: "spec.description", value: s.Description})

	// The default limit is required: every part of the declared limit is
	// compared; the live side may carry other limit kinds, which are not.
	l := s.DefaultLimit
	v.add(field{path: "spec.defaultLimit.type", value: strings.ToUpper(l.Type), always: true})
	if r := l.RequestCount; r != nil {
		v.add(field{path: "spec.defaultLimit.requestCount.timeUnit", value: timeUnit(r.TimeUnit), always: true})
		v.add(field{path: "spec.defaultLimit.requestCount.unitTime", value: r.UnitTime, always: true})
		v.add(field{path: "spec.defaultLimit.requestCount.requestCount", value: r.RequestCount, always: true})
	}
	if b := l.Bandwidth; b != nil {
		v.add(field{path: "spec.defaultLimit.bandwidth.timeUnit", value: timeUnit(b.TimeUnit), always: true})
		v.add(field{path: "spec.defaultLimit.bandwidth.unitTime", value: b.UnitTime, always: true})
		v.add(field{path: "spec.defaultLimit.bandwidth.dataAmount", value: b.DataAmount, always: true})
		v.add(field{path: "spec.defaultLimit.bandwidth.dataUnit", value: strings.ToUpper(b.DataUnit), always: true})
	}
	if e := l.EventCount; e != nil {
		v.add(field{path: "spec.defaultLimit.eventCount.timeUnit", value: timeUnit(e.TimeUnit), always: true})
		v.add(field{path: "spec.defaultLimit.eventCount.unitTime", value: e.UnitTime, always: true})
		v.add(field{path: "spec.defaultLimit.eventCount.eventCount", value: e.EventCount, always: true})
	}
	// A burst limit of 0 is no burst limit: APIM keeps no time unit for
	// it, so the unit only counts with a count (else "0 per sec" in a
	// manifest would never converge).
	if b := s.BurstLimit; b != nil {
		v.add(field{path: "spec.burstLimit.rateLimitCount", value: b.RateLimitCount})
		v.add(field{path: "spec.burstLimit.rateLimitTimeUnit", value: burstUnit(b.RateLimitCount, b.RateLimitTimeUnit)})
	}
	v.add(field{path: "spec.rateLimitCount", value: s.RateLimitCount})
	v.add(field{path: "spec.rateLimitTimeUnit", value: burstUnit(s.RateLimitCount, s.RateLimitTimeUnit)})
	var attrs []map[string]any
	for _, a := range s.CustomAttributes {
		attrs = append(attrs, map[string]any{"name": a.Name, "value": a.Value})
	}
	v.add(field{path: "spec.customAttributes", value: sortMaps(attrs, "name", "value")})
	if s.StopOnQuotaReach != nil {
		v.add(field{path: "spec.stopOnQuotaReach", value: *s.StopOnQuotaReach})
	}
	v.add(field{path: "spec.billingPlan", value: strings.ToUpper(s.BillingPlan)})
	if pm := s.Permissions; pm != nil {
		v.add(field{path: "spec.permissions.permissionType", value: strings.ToUpper(pm.PermissionType)})
		v.add(field{path: "spec.permissions.roles", value: set(pm.Roles, nil)})
	}
	return v
}

// burstUnit is a burst limit's time unit, "" when there is no limit.
func burstUnit(count int, unit string) string {
	if count == 0 {
		return ""
	}
	return timeUnit(unit)
}
