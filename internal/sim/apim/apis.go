package apim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const wso2Time = "2006-01-02 15:04:05"

type queryTerm struct {
	attr  string // "" = content search
	value string // lower-cased
	exact bool   // value was double-quoted
}

// parseAPIQuery splits "name:\"Pizza Shack\" version:1.0.0 foo" into terms.
func parseAPIQuery(q string) []queryTerm {
	var terms []queryTerm
	var cur strings.Builder
	inQuote := false
	var tokens []string
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
			cur.WriteRune(r)
		case r == ' ' && !inQuote:
			if cur.Len() > 0 {
				tokens = append(tokens, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		tokens = append(tokens, cur.String())
	}
	for _, tok := range tokens {
		t := queryTerm{}
		if attr, v, ok := strings.Cut(tok, ":"); ok && !strings.Contains(attr, `"`) {
			t.attr, tok = strings.ToLower(attr), v
		}
		if len(tok) >= 2 && strings.HasPrefix(tok, `"`) && strings.HasSuffix(tok, `"`) {
			t.exact, tok = true, tok[1:len(tok)-1]
		}
		t.value = strings.ToLower(strings.ReplaceAll(tok, "*", ""))
		terms = append(terms, t)
	}
	return terms
}

func matchStr(field string, t queryTerm) bool {
	f := strings.ToLower(field)
	if t.exact {
		return f == t.value
	}
	return strings.Contains(f, t.value)
}

// matchAPI applies search terms. Unquoted values are partial matches
// (name:pizza1 also matches pizza12), quoted values exact (§3.6).
func matchAPI(a *apiRec, terms []queryTerm) bool {
	for _, t := range terms {
		var ok bool
		switch t.attr {
		case "", "content":
			ok = matchStr(a.Name, t) || matchStr(a.Description, t)
		case "name":
			ok = matchStr(a.Name, t)
		case "version":
			ok = matchStr(a.Version, t)
		case "context":
			ok = matchStr(a.Context, t)
		case "status":
			ok = strings.EqualFold(a.LifeCycleStatus, t.value)
		case "description":
			ok = matchStr(a.Description, t)
		case "provider":
			ok = matchStr(a.Provider, t)
		case "tag", "tags":
			ok = slices.ContainsFunc(a.Tags, func(tag string) bool { return matchStr(tag, t) })
		case "doc":
			ok = false
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

func (a *apiRec) devportalInfo() APIInfo {
	return APIInfo{ID: a.ID, Name: a.Name, Description: a.Description, Context: a.Context, Version: a.Version,
		Type: a.Type, CreatedTime: a.CreatedTime.Format(wso2Time), Provider: a.Provider,
		LifeCycleStatus: a.LifeCycleStatus, ThrottlingPolicies: cloneStrings(a.Policies), IsSubscriptionAvailable: true}
}

func (a *apiRec) publisherInfo() PublisherAPIInfo {
	return PublisherAPIInfo{ID: a.ID, Name: a.Name, Description: a.Description, Context: a.Context,
		Version: a.Version, Provider: a.Provider, Type: a.Type, LifeCycleStatus: a.LifeCycleStatus,
		SecurityScheme: []string{"oauth2", "oauth_basic_auth_api_key_mandatory"},
		CreatedTime:    a.CreatedTime.Format(wso2Time), UpdatedTime: a.LastUpdatedTime.Format(wso2Time),
		GatewayVendor: "wso2"}
}

type tierRef struct {
	TierName string `json:"tierName"`
	TierPlan string `json:"tierPlan"`
}

type advertiseInfo struct {
	Advertised bool   `json:"advertised"`
	Vendor     string `json:"vendor"`
}

// devportalAPI is the devportal API object (the fields the simulator knows).
type devportalAPI struct {
	ID                      string        `json:"id"`
	Name                    string        `json:"name"`
	Description             string        `json:"description,omitempty"`
	Context                 string        `json:"context"`
	Version                 string        `json:"version"`
	Provider                string        `json:"provider"`
	LifeCycleStatus         string        `json:"lifeCycleStatus"`
	IsDefaultVersion        bool          `json:"isDefaultVersion"`
	Type                    string        `json:"type"`
	Transport               []string      `json:"transport"`
	AuthorizationHeader     string        `json:"authorizationHeader"`
	SecurityScheme          []string      `json:"securityScheme"`
	Tags                    []string      `json:"tags"`
	Tiers                   []tierRef     `json:"tiers"`
	HasThumbnail            bool          `json:"hasThumbnail"`
	AdditionalProperties    []any         `json:"additionalProperties"`
	EnvironmentList         []string      `json:"environmentList"`
	Scopes                  []ScopeInfo   `json:"scopes"`
	AdvertiseInfo           advertiseInfo `json:"advertiseInfo"`
	IsSubscriptionAvailable bool          `json:"isSubscriptionAvailable"`
	Categories              []string      `json:"categories"`
	CreatedTime             string        `json:"createdTime"`
	LastUpdatedTime         string        `json:"lastUpdatedTime"`
	GatewayVendor           string        `json:"gatewayVendor"`
}

// publisherAPI is the publisher API object (the fields the simulator knows).
type publisherAPI struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Description          string   `json:"description,omitempty"`
	Context              string   `json:"context"`
	Version              string   `json:"version"`
	Provider             string   `json:"provider"`
	LifeCycleStatus      string   `json:"lifeCycleStatus"`
	HasThumbnail         bool     `json:"hasThumbnail"`
	IsDefaultVersion     bool     `json:"isDefaultVersion"`
	IsRevision           bool     `json:"isRevision"`
	Type                 string   `json:"type"`
	Transport            []string `json:"transport"`
	Tags                 []string `json:"tags"`
	Policies             []string `json:"policies"`
	AuthorizationHeader  string   `json:"authorizationHeader"`
	SecurityScheme       []string `json:"securityScheme"`
	Visibility           string   `json:"visibility"`
	VisibleRoles         []string `json:"visibleRoles"`
	AdditionalProperties []any    `json:"additionalProperties"`
	CreatedTime          string   `json:"createdTime"`
	LastUpdatedTime      string   `json:"lastUpdatedTime"`
	GatewayVendor        string   `json:"gatewayVendor"`
	GatewayType          string   `json:"gatewayType"`
}

func (s *Server) devportalAPIView(a *apiRec) devportalAPI {
	tiers := []tierRef{}
	for _, p := range a.Policies {
		plan := "FREE"
		if t := s.st.subTierByName(p); t != nil && t.BillingPlan != "" {
			plan = t.BillingPlan
		}
		tiers = append(tiers, tierRef{TierName: p, TierPlan: plan})
	}
	return devportalAPI{ID: a.ID, Name: a.Name, Description: a.Description, Context: a.Context, Version: a.Version,
		Provider: a.Provider, LifeCycleStatus: a.LifeCycleStatus, Type: a.Type, Transport: []string{"http", "https"},
		AuthorizationHeader: "Authorization", SecurityScheme: []string{"oauth2", "oauth_basic_auth_api_key_mandatory"},
		Tags: cloneStrings(a.Tags), Tiers: tiers, AdditionalProperties: []any{},
		EnvironmentList: []string{"PRODUCTION", "SANDBOX"}, Scopes: []ScopeInfo{},
		AdvertiseInfo: advertiseInfo{Vendor: "WSO2"}, IsSubscriptionAvailable: true, Categories: []string{},
		CreatedTime: a.CreatedTime.Format(wso2Time), LastUpdatedTime: a.LastUpdatedTime.Format(wso2Time),
		GatewayVendor: "wso2"}
}

func devportalVisible(status string, prototyped bool) bool {
	return status == "PUBLISHED" || (prototyped && status == "PROTOTYPED")
}

func apiLink(q string) func(l, o int) string {
	return func(l, o int) string {
		return fmt.Sprintf("/apis?limit=%d&offset=%d&query=%s", l, o, url.QueryEscape(q))
	}
}

// handleDevportalAPIs lists PUBLISHED APIs (PROTOTYPED with
// status:PROTOTYPED), subject to the search-index lag (§5.1).
func (s *Server) handleDevportalAPIs(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query().Get("query")
	terms := parseAPIQuery(q)
	prototyped := slices.ContainsFunc(terms, func(t queryTerm) bool { return t.attr == "status" && t.value == "prototyped" })
	s.mu.Lock()
	hidden := s.hiddenAPIs()
	var sel []APIInfo
	for _, a := range s.st.apiSorted {
		if _, h := hidden[a.ID]; h || !devportalVisible(a.LifeCycleStatus, prototyped) || !matchAPI(a, terms) {
			continue
		}
		sel = append(sel, a.devportalInfo())
	}
	s.mu.Unlock()
	page, pg := paginate(sel, limit, offset, apiLink(q))
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

func (s *Server) handleDevportalAPIGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("apiId")
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.st.apis[id]
	if a == nil || !devportalVisible(a.LifeCycleStatus, true) {
		apiNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, s.devportalAPIView(a))
}

func (s *Server) handlePublisherAPIs(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	qv := r.URL.Query()
	q := qv.Get("query")
	sortBy, sortOrder := qv.Get("sortBy"), qv.Get("sortOrder")
	if sortBy == "" {
		sortBy = "createdTime"
	}
	if sortOrder == "" {
		sortOrder = "desc"
	}
	if !slices.Contains([]string{"apiName", "version", "createdTime", "status"}, sortBy) {
		badRequest(w, "Invalid sortBy value "+sortBy)
		return
	}
	if sortOrder != "asc" && sortOrder != "desc" {
		badRequest(w, "Invalid sortOrder value "+sortOrder)
		return
	}
	terms := parseAPIQuery(q)
	s.mu.Lock()
	hidden := s.hiddenAPIs()
	var sel []*apiRec
	for _, a := range s.st.apiSorted {
		if _, h := hidden[a.ID]; h || !matchAPI(a, terms) {
			continue
		}
		sel = append(sel, a)
	}
	s.mu.Unlock()
	switch sortBy {
	case "version":
		slices.SortStableFunc(sel, func(x, y *apiRec) int { return strings.Compare(x.Version, y.Version) })
	case "createdTime":
		slices.SortStableFunc(sel, func(x, y *apiRec) int { return x.CreatedTime.Compare(y.CreatedTime) })
	case "status":
		slices.SortStableFunc(sel, func(x, y *apiRec) int { return strings.Compare(x.LifeCycleStatus, y.LifeCycleStatus) })
	}
	if sortOrder == "desc" {
		slices.Reverse(sel)
	}
	infos := make([]PublisherAPIInfo, 0, len(sel))
	for _, a := range sel {
		infos = append(infos, a.publisherInfo())
	}
	page, pg := paginate(infos, limit, offset, apiLink(q))
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

func (s *Server) handlePublisherAPIGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("apiId")
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.st.apis[id]
	if a == nil {
		apiNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, publisherAPI{ID: a.ID, Name: a.Name, Description: a.Description, Context: a.Context,
		Version: a.Version, Provider: a.Provider, LifeCycleStatus: a.LifeCycleStatus, Type: a.Type,
		Transport: []string{"http", "https"}, Tags: cloneStrings(a.Tags), Policies: cloneStrings(a.Policies),
		AuthorizationHeader: "Authorization", SecurityScheme: []string{"oauth2", "oauth_basic_auth_api_key_mandatory"},
		Visibility: a.Visibility, VisibleRoles: []string{}, AdditionalProperties: []any{},
		CreatedTime: a.CreatedTime.Format(wso2Time), LastUpdatedTime: a.LastUpdatedTime.Format(wso2Time),
		GatewayVendor: "wso2", GatewayType: "wso2/synapse"})
}
