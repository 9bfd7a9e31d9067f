package apim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

type subInput struct {
	ApplicationID             string `json:"applicationId"`
	APIID                     string `json:"apiId"`
	ThrottlingPolicy          string `json:"throttlingPolicy"`
	RequestedThrottlingPolicy string `json:"requestedThrottlingPolicy"`
}

func (s *Server) subView(sub *subRec) Subscription {
	out := sub.Subscription
	if a := s.st.apis[sub.APIID]; a != nil {
		info := a.devportalInfo()
		out.APIInfo = &info
	}
	if app := s.st.apps[sub.ApplicationID]; app != nil {
		info := app.info()
		out.ApplicationInfo = &info
	}
	return out
}

// checkSubTier validates a subscription tier for an API: unknown tier → 400,
// tier not offered by the API → 403 902002.
func (s *Server) checkSubTier(tier string, api *apiRec, user string) *apiErr {
	if tier == "" {
		return kmErr(400, 400, "Bad Request", "throttlingPolicy is required")
	}
	if s.st.subTierByName(tier) == nil {
		return kmErr(400, 400, "Bad Request", fmt.Sprintf("Specified tier %s is invalid", tier))
	}
	if !containsStr(api.Policies, tier) {
		return kmErr(403, codeSubTierNotAllowed, "Subscription Tier is not allowed for user",
			fmt.Sprintf("Subscription Tier %s is not allowed for user %s", tier, user))
	}
	return nil
}

// createSubLocked validates and stores a subscription; the caller holds the
// write lock.
func (s *Server) createSubLocked(c *caller, in *subInput, wf bool) (*subRec, *apiErr) {
	if in.ApplicationID == "" {
		return nil, kmErr(400, 400, "Bad Request", "applicationId is required")
	}
	if in.APIID == "" {
		return nil, kmErr(400, 400, "Bad Request", "apiId is required")
	}
	app := s.st.apps[in.ApplicationID]
	if app == nil {
		return nil, kmErr(404, codeAppNotFound, "Application not found",
			fmt.Sprintf("Requested Application with Id '%s' not found", in.ApplicationID))
	}
	if app.Owner != c.user {
		return nil, kmErr(403, 403, "Forbidden",
			fmt.Sprintf("You don't have permission to access the application with Id %s", in.ApplicationID))
	}
	api := s.st.apis[in.APIID]
	if api == nil {
		return nil, kmErr(404, codeAPINotFound, "API Not Found", fmt.Sprintf("Requested API with id '%s' not found", in.APIID))
	}
	if api.LifeCycleStatus != "PUBLISHED" && api.LifeCycleStatus != "PROTOTYPED" {
		return nil, kmErr(404, 404, "Not Found",
			"Subscriptions not allowed on APIs/API Products in the state: "+api.LifeCycleStatus)
	}
	if e := s.checkSubTier(in.ThrottlingPolicy, api, c.user); e != nil {
		return nil, e
	}
	if s.st.subFor(app.ApplicationID, api.ID) != nil {
		// erratum: 409 is not in the spec (§7.2).
		return nil, kmErr(409, codeSubExists, "Subscription already exists",
			fmt.Sprintf("Specified subscription already exists for API %s, for application %s", api.ID, app.ApplicationID))
	}
	status := "UNBLOCKED"
	if wf {
		status = "ON_HOLD" // still 201 (§5.3)
	}
	sub := &subRec{seq: s.st.nextSeq(), Subscription: Subscription{SubscriptionID: newUUID(),
		ApplicationID: app.ApplicationID, APIID: api.ID, ThrottlingPolicy: in.ThrottlingPolicy, Status: status}}
	s.st.insertSub(sub)
	return sub, nil
}

func (s *Server) handleSubCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	var in subInput
	if !decodeBody(w, r, &in) {
		return
	}
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, e := s.createSubLocked(c, &in, wf)
	if e != nil {
		e.write(w)
		return
	}
	w.Header().Set("Location", DevportalBase+"/subscriptions/"+sub.SubscriptionID)
	writeJSON(w, http.StatusCreated, s.subView(sub))
}

func (s *Server) handleSubCreateMultiple(w http.ResponseWriter, r *http.Request, c *caller) {
	var in []subInput
	if !decodeBody(w, r, &in) {
		return
	}
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Subscription{}
	for i := range in {
		sub, e := s.createSubLocked(c, &in[i], wf)
		if e != nil {
			e.write(w)
			return
		}
		out = append(out, s.subView(sub))
	}
	writeJSON(w, http.StatusOK, out) // 200, not 201
}

func (s *Server) handleSubList(w http.ResponseWriter, r *http.Request, c *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	apiID, appID := q.Get("apiId"), q.Get("applicationId")
	if apiID == "" && appID == "" {
		// erratum: the rule is prose only in the spec (§7.3).
		badRequest(w, "Either applicationId or apiId should be available")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var src []*subRec
	if appID != "" {
		if s.ownedApp(w, c, appID) == nil {
			return
		}
		src = s.st.subsByApp[appID]
	} else {
		if s.st.apis[apiID] == nil {
			apiNotFound(w, apiID)
			return
		}
		src = s.st.subsByAPI[apiID]
	}
	sel := []Subscription{}
	for _, sub := range src {
		if apiID != "" && sub.APIID != apiID {
			continue
		}
		if app := s.st.apps[sub.ApplicationID]; app == nil || app.Owner != c.user {
			continue
		}
		sel = append(sel, s.subView(sub))
	}
	page, pg := paginate(sel, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/subscriptions?limit=%d&offset=%d&apiId=%s&applicationId=%s&groupId=",
			l, o, url.QueryEscape(apiID), url.QueryEscape(appID))
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

// ownedSub finds a subscription of one of the caller's applications.
func (s *Server) ownedSub(w http.ResponseWriter, c *caller, id string) *subRec {
	sub := s.st.subs[id]
	if sub == nil {
		notFound(w, codeSubNotFound, "Subscription not found",
			fmt.Sprintf("Requested Subscription with Id '%s' not found", id))
		return nil
	}
	if app := s.st.apps[sub.ApplicationID]; app == nil || app.Owner != c.user {
		forbidden(w, "subscription", id)
		return nil
	}
	return sub
}

func (s *Server) handleSubGet(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sub := s.ownedSub(w, c, r.PathValue("subscriptionId"))
	if sub == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.subView(sub))
}

// handleSubUpdate changes the tier: requestedThrottlingPolicy carries the
// new tier (throttlingPolicy if absent). With a workflow the change is
// pending (TIER_UPDATE_PENDING).
func (s *Server) handleSubUpdate(w http.ResponseWriter, r *http.Request, c *caller) {
	var in subInput
	if !decodeBody(w, r, &in) {
		return
	}
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.ownedSub(w, c, r.PathValue("subscriptionId"))
	if sub == nil {
		return
	}
	if (in.APIID != "" && in.APIID != sub.APIID) || (in.ApplicationID != "" && in.ApplicationID != sub.ApplicationID) {
		badRequest(w, "apiId and applicationId of a subscription cannot be changed")
		return
	}
	tier := in.RequestedThrottlingPolicy
	if tier == "" {
		tier = in.ThrottlingPolicy
	}
	api := s.st.apis[sub.APIID]
	if api == nil {
		apiNotFound(w, sub.APIID)
		return
	}
	if e := s.checkSubTier(tier, api, c.user); e != nil {
		e.write(w)
		return
	}
	if wf && tier != sub.ThrottlingPolicy {
		sub.RequestedThrottlingPolicy = tier
		sub.Status = "TIER_UPDATE_PENDING"
	} else {
		sub.ThrottlingPolicy = tier
		sub.RequestedThrottlingPolicy = ""
	}
	w.Header().Set("Location", DevportalBase+"/subscriptions/"+sub.SubscriptionID)
	writeJSON(w, http.StatusOK, s.subView(sub))
}

func (s *Server) handleSubDelete(w http.ResponseWriter, r *http.Request, c *caller) {
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.ownedSub(w, c, r.PathValue("subscriptionId"))
	if sub == nil {
		return
	}
	if sub.pendingDelete {
		apimError(w, http.StatusConflict, codePendingWorkflow, "Pending workflow task exists",
			"Pending workflow task exists for subscription "+sub.SubscriptionID)
		return
	}
	if wf {
		sub.pendingDelete = true
		w.Header().Set("Location", DevportalBase+"/subscriptions/"+sub.SubscriptionID)
		writeJSON(w, http.StatusAccepted, WorkflowResponse{WorkflowStatus: "CREATED", JSONPayload: ""})
		return
	}
	s.st.removeSub(sub)
	w.WriteHeader(http.StatusOK)
}

// handlePublisherSubs is the Publisher v4 subscription list: the caller's
// APIs' subscriptions (all for admin), optionally of one API.
func (s *Server) handlePublisherSubs(w http.ResponseWriter, r *http.Request, c *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	apiID, query := q.Get("apiId"), strings.ToLower(q.Get("query"))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var src []*subRec
	if apiID != "" {
		if s.st.apis[apiID] == nil {
			apiNotFound(w, apiID)
			return
		}
		src = s.st.subsByAPI[apiID]
	} else {
		for _, sub := range s.st.subs {
			src = append(src, sub)
		}
		slices.SortFunc(src, func(a, b *subRec) int { return int(a.seq - b.seq) })
	}
	sel := []PublisherSubscription{}
	for _, sub := range src {
		api := s.st.apis[sub.APIID]
		app := s.st.apps[sub.ApplicationID]
		if api == nil || app == nil || (!c.admin && api.Provider != c.user) {
			continue
		}
		if query != "" && !strings.Contains(strings.ToLower(app.Name), query) && !strings.Contains(strings.ToLower(app.Owner), query) {
			continue
		}
		status := sub.Status
		if sub.pendingDelete {
			status = "DELETE_PENDING"
		}
		sel = append(sel, PublisherSubscription{SubscriptionID: sub.SubscriptionID,
			ApplicationInfo: PublisherApplicationInfo{ApplicationID: app.ApplicationID, Name: app.Name,
				Subscriber: app.Owner, Description: app.Description, SubscriptionCount: app.subCount},
			ThrottlingPolicy: sub.ThrottlingPolicy, SubscriptionStatus: status})
	}
	page, pg := paginate(sel, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/subscriptions?limit=%d&offset=%d&apiId=%s&query=%s", l, o,
			url.QueryEscape(apiID), url.QueryEscape(query))
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}
