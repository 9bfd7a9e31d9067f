package apim

import (
	"encoding/json"
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

func (s *Server) sortedAppTiers() []*appTier {
	out := make([]*appTier, 0, len(s.st.appTiers))
	for _, t := range s.st.appTiers {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].intID < out[j].intID })
	return out
}

func (s *Server) sortedSubTiers() []*subTier {
	out := make([]*subTier, 0, len(s.st.subTiers))
	for _, t := range s.st.subTiers {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].intID < out[j].intID })
	return out
}

func policyNotFound(w http.ResponseWriter, level, id string) {
	notFound(w, 404, "Not Found", fmt.Sprintf("Requested %s policy with Id '%s' not found", level, id))
}

func policyExists(w http.ResponseWriter, level, name string) {
	apimError(w, http.StatusConflict, 409, "Conflict",
		fmt.Sprintf("%s Policy with name %s already exists", level, name))
}

// ---- application tiers ----

func (s *Server) handleAppTierList(w http.ResponseWriter, _ *http.Request, _ *caller) {
	s.mu.RLock()
	list := []ApplicationThrottlePolicy{}
	for _, t := range s.sortedAppTiers() {
		list = append(list, t.ApplicationThrottlePolicy)
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

func (s *Server) handleAppTierGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	s.mu.RLock()
	t := s.st.appTiers[id]
	var out ApplicationThrottlePolicy
	if t != nil {
		out = t.ApplicationThrottlePolicy
	}
	s.mu.RUnlock()
	if t == nil {
		policyNotFound(w, "Application", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeAppTier(w http.ResponseWriter, r *http.Request) (*ApplicationThrottlePolicy, bool) {
	var p ApplicationThrottlePolicy
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		badRequest(w, "Invalid request body: "+err.Error())
		return nil, false
	}
	if msg := validatePolicyName(p.PolicyName); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	if msg := validateLimit(&p.DefaultLimit); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	p.Type = appTierType
	p.IsDeployed = true
	if p.DisplayName == "" {
		p.DisplayName = p.PolicyName
	}
	return &p, true
}

func (s *Server) handleAppTierCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, ok := decodeAppTier(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.st.appTierByName(p.PolicyName) != nil {
		s.mu.Unlock()
		policyExists(w, "Application", p.PolicyName)
		return
	}
	p.PolicyID = newUUID()
	s.st.tierIntSeq++
	s.st.appTiers[p.PolicyID] = &appTier{ApplicationThrottlePolicy: *p, intID: s.st.tierIntSeq}
	s.mu.Unlock()
	w.Header().Set("Location", AdminBase+"/throttling/policies/application/"+p.PolicyID)
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) handleAppTierUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	p, ok := decodeAppTier(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.appTiers[id]
	if t == nil {
		policyNotFound(w, "Application", id)
		return
	}
	if p.PolicyName != t.PolicyName {
		badRequest(w, "Policy name cannot be changed")
		return
	}
	p.PolicyID = id
	t.ApplicationThrottlePolicy = *p
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleAppTierDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.appTiers[id]
	if t == nil {
		policyNotFound(w, "Application", id)
		return
	}
	if t.builtin {
		badRequest(w, fmt.Sprintf("Policy %s is a default policy and cannot be deleted", t.PolicyName))
		return
	}
	for _, a := range s.st.apps {
		if a.ThrottlingPolicy == t.PolicyName {
			internalError(w, "Policy "+t.PolicyName+" already attached to API/Resource")
			return
		}
	}
	delete(s.st.appTiers, id)
	w.WriteHeader(http.StatusOK)
}

// ---- subscription tiers ----

func (s *Server) handleSubTierList(w http.ResponseWriter, _ *http.Request, _ *caller) {
	s.mu.RLock()
	list := []SubscriptionThrottlePolicy{}
	for _, t := range s.sortedSubTiers() {
		list = append(list, t.SubscriptionThrottlePolicy)
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

func (s *Server) handleSubTierGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	s.mu.RLock()
	t := s.st.subTiers[id]
	var out SubscriptionThrottlePolicy
	if t != nil {
		out = t.SubscriptionThrottlePolicy
	}
	s.mu.RUnlock()
	if t == nil {
		policyNotFound(w, "Subscription", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeSubTier(w http.ResponseWriter, r *http.Request) (*SubscriptionThrottlePolicy, bool) {
	var p SubscriptionThrottlePolicy
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		badRequest(w, "Invalid request body: "+err.Error())
		return nil, false
	}
	if msg := validatePolicyName(p.PolicyName); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	if msg := validateLimit(&p.DefaultLimit); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	if p.BillingPlan == "" {
		p.BillingPlan = "FREE"
	}
	if p.BillingPlan != "FREE" && p.BillingPlan != "COMMERCIAL" {
		badRequest(w, "billingPlan must be FREE or COMMERCIAL")
		return nil, false
	}
	if p.Permissions != nil && p.Permissions.PermissionType != "ALLOW" && p.Permissions.PermissionType != "DENY" {
		badRequest(w, "permissions.permissionType must be ALLOW or DENY")
		return nil, false
	}
	if p.CustomAttributes == nil {
		p.CustomAttributes = []CustomAttribute{}
	}
	p.Type = subTierType
	p.IsDeployed = true
	if p.DisplayName == "" {
		p.DisplayName = p.PolicyName
	}
	return &p, true
}

func (s *Server) handleSubTierCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, ok := decodeSubTier(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.st.subTierByName(p.PolicyName) != nil {
		s.mu.Unlock()
		policyExists(w, "Subscription", p.PolicyName)
		return
	}
	p.PolicyID = newUUID()
	s.st.tierIntSeq++
	s.st.subTiers[p.PolicyID] = &subTier{SubscriptionThrottlePolicy: *p, intID: s.st.tierIntSeq}
	s.mu.Unlock()
	w.Header().Set("Location", AdminBase+"/throttling/policies/subscription/"+p.PolicyID)
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) handleSubTierUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	p, ok := decodeSubTier(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.subTiers[id]
	if t == nil {
		policyNotFound(w, "Subscription", id)
		return
	}
	if p.PolicyName != t.PolicyName {
		badRequest(w, "Policy name cannot be changed")
		return
	}
	p.PolicyID = id
	t.SubscriptionThrottlePolicy = *p
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleSubTierDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.subTiers[id]
	if t == nil {
		policyNotFound(w, "Subscription", id)
		return
	}
	if t.builtin {
		badRequest(w, fmt.Sprintf("Policy %s is a default policy and cannot be deleted", t.PolicyName))
		return
	}
	for _, sub := range s.st.subs {
		if sub.ThrottlingPolicy == t.PolicyName || sub.RequestedThrottlingPolicy == t.PolicyName {
			internalError(w, "Policy "+t.PolicyName+" already attached to API/Resource")
			return
		}
	}
	for _, a := range s.st.apis {
		if containsStr(a.Policies, t.PolicyName) {
			internalError(w, "Policy "+t.PolicyName+" already attached to API/Resource")
			return
		}
	}
	delete(s.st.subTiers, id)
	w.WriteHeader(http.StatusOK)
}

// handleTierSearch serves GET /throttling/policies/search?query=type:<t>
// (application|app, subscription|sub; no query → both).
func (s *Server) handleTierSearch(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := strings.TrimSpace(r.URL.Query().Get("query"))
	typ := ""
	if q != "" {
		v, ok := strings.CutPrefix(q, "type:")
		if !ok {
			badRequest(w, "Invalid query: only type:<policy type> is supported")
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
	limit, offset, ok := pageParams(w, r)
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
