package apim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Admin v4 application/subscription tiers. Lists are not paginated and carry
// full objects; policyId is a UUID; isDeployed and type are server-set.
// Built-in tiers cannot be deleted (400) and a tier still referenced by an
// application, subscription or API is refused with the generic 500 the real
// server answers ("Policy … already attached to API/Resource").

func validateLimit(l *ThrottleLimit) string {
	switch l.Type {
	case "REQUESTCOUNTLIMIT":
		if l.RequestCount == nil {
			return "requestCount is required for REQUESTCOUNTLIMIT"
		}
	case "BANDWIDTHLIMIT":
		if l.Bandwidth == nil {
			return "bandwidth is required for BANDWIDTHLIMIT"
		}
	case "EVENTCOUNTLIMIT":
		if l.EventCount == nil {
			return "eventCount is required for EVENTCOUNTLIMIT"
		}
	case "AIAPIQUOTALIMIT":
		if l.AIAPIQuota == nil {
			return "aiApiQuota is required for AIAPIQUOTALIMIT"
		}
	case "":
		return "defaultLimit is required"
	default:
		return "Invalid throttle limit type " + l.Type
	}
	return ""
}

func validatePolicyName(name string) string {
	if name == "" {
		return "policyName is required"
	}
	if len(name) > 60 {
		return "policyName must be at most 60 characters"
	}
	return ""
}

// sortedTiers lists one level's tiers in creation order (their integer id),
// the order the admin API lists them in.
func sortedTiers[T any](m map[string]*T, intID func(*T) int) []*T {
	out := make([]*T, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return intID(out[i]) < intID(out[j]) })
	return out
}

func (s *Server) sortedAppTiers() []*appTier {
	return sortedTiers(s.st.appTiers, func(t *appTier) int { return t.intID })
}

func (s *Server) sortedSubTiers() []*subTier {
	return sortedTiers(s.st.subTiers, func(t *subTier) int { return t.intID })
}

func policyNotFound(w http.ResponseWriter, level, id string) {
	notFound(w, 404, "Not Found", fmt.Sprintf("Requested %s policy with Id '%s' not found", level, id))
}

func policyExists(w http.ResponseWriter, level, name string) {
	apimError(w, http.StatusConflict, 409, "Conflict",
		fmt.Sprintf("%s Policy with name %s already exists", level, name))
}

// ---- application and subscription tier levels ----

func (s *Server) appTierLevel() *tierLevel[ApplicationThrottlePolicy, *ApplicationThrottlePolicy, appTier] {
	return &tierLevel[ApplicationThrottlePolicy, *ApplicationThrottlePolicy, appTier]{
		s: s, label: "Application", path: "application", typ: appTierType,
		tiers:  func(st *store) map[string]*appTier { return st.appTiers },
		sorted: (*Server).sortedAppTiers,
		policy: func(t *appTier) *ApplicationThrottlePolicy { return &t.ApplicationThrottlePolicy },
		newTier: func(p ApplicationThrottlePolicy, n int) *appTier {
			return &appTier{ApplicationThrottlePolicy: p, intID: n}
		},
		builtin:  func(t *appTier) bool { return t.builtin },
		validate: func(*ApplicationThrottlePolicy) string { return "" },
		inUse: func(st *store, name string) bool {
			for _, a := range st.apps {
				if a.ThrottlingPolicy == name {
					return true
				}
			}
			return false
		},
	}
}

func (s *Server) subTierLevel() *tierLevel[SubscriptionThrottlePolicy, *SubscriptionThrottlePolicy, subTier] {
	return &tierLevel[SubscriptionThrottlePolicy, *SubscriptionThrottlePolicy, subTier]{
		s: s, label: "Subscription", path: "subscription", typ: subTierType,
		tiers:  func(st *store) map[string]*subTier { return st.subTiers },
		sorted: (*Server).sortedSubTiers,
		policy: func(t *subTier) *SubscriptionThrottlePolicy { return &t.SubscriptionThrottlePolicy },
		newTier: func(p SubscriptionThrottlePolicy, n int) *subTier {
			return &subTier{SubscriptionThrottlePolicy: p, intID: n}
		},
		builtin:  func(t *subTier) bool { return t.builtin },
		validate: validateSubTier,
		inUse:    subTierInUse,
	}
}

// validateSubTier checks and defaults what only subscription tiers carry.
func validateSubTier(p *SubscriptionThrottlePolicy) string {
	if p.BillingPlan == "" {
		p.BillingPlan = "FREE"
	}
	if p.BillingPlan != "FREE" && p.BillingPlan != "COMMERCIAL" {
		return "billingPlan must be FREE or COMMERCIAL"
	}
	if p.Permissions != nil && p.Permissions.PermissionType != "ALLOW" && p.Permissions.PermissionType != "DENY" {
		return "permissions.permissionType must be ALLOW or DENY"
	}
	if p.CustomAttributes == nil {
		p.CustomAttributes = []CustomAttribute{}
	}
	return ""
}

// subTierInUse: a subscription tier is referenced by subscriptions (granted
// or requested) and by the policies an API offers.
func subTierInUse(st *store, name string) bool {
	for _, sub := range st.subs {
		if sub.ThrottlingPolicy == name || sub.RequestedThrottlingPolicy == name {
			return true
		}
	}
	for _, a := range st.apis {
		if containsStr(a.Policies, name) {
			return true
		}
	}
	return false
}

// handleTierSearch serves GET /throttling/policies/search?query=type:<t>
// (application|app, subscription|sub; no query → both).
func (s *Server) handleTierSearch(w http.ResponseWriter, r *http.Request, _ *caller) {
	// As ThrottlingCommonImpl.throttlingPolicySearch: no query means every
	// type; a query without "type:" (apictl sends the literal "null" when
	// `get policies rate-limiting` has no -q) is "Invalid query format",
	// handleInternalServerError: a generic 500 (ThrottlingApiServiceImpl).
	q, given := r.URL.Query()["query"]
	typ := ""
	if given {
		v, ok := strings.CutPrefix(strings.TrimSpace(strings.Join(q, " ")), "type:")
		if !ok {
			internalError(w, "Invalid query format")
			return
		}
		typ = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
	}
	list := []ThrottlePolicyDetails{}
	s.mu.RLock()
	if typ == "" || typ == "application" || typ == "app" {
		for _, t := range s.sortedAppTiers() {
			list = append(list, ThrottlePolicyDetails{PolicyID: t.intID, UUID: t.PolicyID, PolicyName: t.PolicyName,
				DisplayName: t.DisplayName, Description: t.Description, IsDeployed: t.IsDeployed, Type: t.Type})
		}
	}
	if typ == "" || typ == "subscription" || typ == "sub" {
		for _, t := range s.sortedSubTiers() {
			list = append(list, ThrottlePolicyDetails{PolicyID: t.intID, UUID: t.PolicyID, PolicyName: t.PolicyName,
				DisplayName: t.DisplayName, Description: t.Description, IsDeployed: t.IsDeployed, Type: t.Type})
		}
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

// ---- devportal throttling-policies ----

func devportalPolicyFromLimit(name, desc, level string, l ThrottleLimit) DevportalThrottlingPolicy {
	p := DevportalThrottlingPolicy{Name: name, Description: desc, PolicyLevel: level, Attributes: map[string]string{},
		TierPlan: "FREE", QuotaPolicyType: "REQUESTCOUNT"}
	switch {
	case l.RequestCount != nil:
		p.RequestCount, p.UnitTime, p.TimeUnit = l.RequestCount.RequestCount, l.RequestCount.UnitTime, l.RequestCount.TimeUnit
	case l.EventCount != nil:
		p.RequestCount, p.UnitTime, p.TimeUnit = l.EventCount.EventCount, l.EventCount.UnitTime, l.EventCount.TimeUnit
	case l.Bandwidth != nil:
		p.RequestCount, p.UnitTime, p.TimeUnit = l.Bandwidth.DataAmount, l.Bandwidth.UnitTime, l.Bandwidth.TimeUnit
		p.DataUnit, p.QuotaPolicyType = l.Bandwidth.DataUnit, "BANDWIDTHVOLUME"
	}
	return p
}

func (s *Server) devportalPolicies(level string) ([]DevportalThrottlingPolicy, bool) {
	var list []DevportalThrottlingPolicy
	switch level {
	case "application":
		for _, t := range s.sortedAppTiers() {
			p := devportalPolicyFromLimit(t.PolicyName, t.Description, level, t.DefaultLimit)
			if t.BurstLimit != nil {
				p.RateLimitCount, p.RateLimitTimeUnit = t.BurstLimit.RateLimitCount, t.BurstLimit.RateLimitTimeUnit
			}
			list = append(list, p)
		}
	case "subscription":
		for _, t := range s.sortedSubTiers() {
			p := devportalPolicyFromLimit(t.PolicyName, t.Description, level, t.DefaultLimit)
			p.RateLimitCount, p.RateLimitTimeUnit = t.RateLimitCount, t.RateLimitTimeUnit
			p.StopOnQuotaReach = t.StopOnQuotaReach
			p.TierPlan = t.BillingPlan
			for _, a := range t.CustomAttributes {
				p.Attributes[a.Name] = a.Value
			}
			list = append(list, p)
		}
	default:
		return nil, false
	}
	return list, true
}

func (s *Server) handleDevportalPolicies(w http.ResponseWriter, r *http.Request, _ *caller) {
	level := r.PathValue("policyLevel")
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	list, valid := s.devportalPolicies(level)
	s.mu.RUnlock()
	if !valid {
		badRequest(w, "Policy level should be one of application or subscription")
		return
	}
	page, pg := paginate(list, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/throttling-policies/%s?limit=%d&offset=%d", level, l, o)
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

func (s *Server) handleDevportalPolicyGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	level, name := r.PathValue("policyLevel"), r.PathValue("policyId")
	s.mu.RLock()
	list, valid := s.devportalPolicies(level)
	s.mu.RUnlock()
	if !valid {
		badRequest(w, "Policy level should be one of application or subscription")
		return
	}
	for _, p := range list {
		if p.Name == name {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	notFound(w, 404, "Not Found", fmt.Sprintf("Requested Throttling Policy with Id '%s' not found", name))
}
