package apim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

type appInput struct {
	Name             string            `json:"name"`
	ThrottlingPolicy string            `json:"throttlingPolicy"`
	Description      string            `json:"description"`
	TokenType        string            `json:"tokenType"`
	Groups           []string          `json:"groups"`
	Attributes       map[string]string `json:"attributes"`
	Visibility       string            `json:"visibility"`
}

func (a *appRec) view() Application {
	out := a.Application
	out.SubscriptionCount = a.subCount
	out.Groups = cloneStrings(a.Groups)
	out.Attributes = cloneMap(a.Attributes)
	out.Keys = []ApplicationKey{}
	out.SubscriptionScopes = []ScopeInfo{}
	return out
}

func (a *appRec) info() ApplicationInfo {
	return ApplicationInfo{ApplicationID: a.ApplicationID, Name: a.Name, ThrottlingPolicy: a.ThrottlingPolicy,
		Description: a.Description, Status: a.Status, Groups: cloneStrings(a.Groups),
		SubscriptionCount: a.subCount, Attributes: cloneMap(a.Attributes), Owner: a.Owner}
}

// validateApp checks an application body; the caller holds the lock.
func (s *Server) validateApp(w http.ResponseWriter, in *appInput) bool {
	switch {
	case in.Name == "":
		badRequest(w, "Application name cannot be empty")
	case strings.TrimSpace(in.Name) != in.Name:
		badRequest(w, "Application name cannot contain leading or trailing white spaces")
	case len(in.Name) > 100:
		badRequest(w, "Application name must be at most 100 characters")
	case in.ThrottlingPolicy == "":
		badRequest(w, "Throttling tier cannot be null")
	case s.st.appTierByName(in.ThrottlingPolicy) == nil:
		badRequest(w, fmt.Sprintf("Specified tier %s is invalid", in.ThrottlingPolicy))
	case len(in.Description) > 512:
		badRequest(w, "Application description must be at most 512 characters")
	case in.Visibility != "" && in.Visibility != "PRIVATE" && in.Visibility != "SHARED_WITH_ORG":
		badRequest(w, "Invalid visibility "+in.Visibility)
	case in.TokenType != "" && in.TokenType != "JWT" && in.TokenType != "OAUTH":
		badRequest(w, "Invalid tokenType "+in.TokenType)
	default:
		return true
	}
	return false
}

func appExists(w http.ResponseWriter, name string) {
	apimError(w, http.StatusConflict, codeAppExists, "Application already exists",
		"An application already exists with name "+name)
}

// ownedApp finds an application the caller owns: 404 when unknown, 403
// when another user's. The caller holds the lock.
func (s *Server) ownedApp(w http.ResponseWriter, c *caller, id string) *appRec {
	a := s.st.apps[id]
	if a == nil {
		appNotFound(w, id)
		return nil
	}
	if a.Owner != c.user {
		forbidden(w, "application", id)
		return nil
	}
	return a
}

func (s *Server) handleAppList(w http.ResponseWriter, r *http.Request, c *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	query := strings.ToLower(q.Get("query"))
	sortBy, sortOrder := q.Get("sortBy"), q.Get("sortOrder")
	if sortBy != "" && sortBy != "name" && sortBy != "throttlingPolicy" && sortBy != "status" {
		badRequest(w, "Invalid sortBy value "+sortBy)
		return
	}
	if sortOrder != "" && sortOrder != "asc" && sortOrder != "desc" {
		badRequest(w, "Invalid sortOrder value "+sortOrder)
		return
	}
	desc := sortOrder == "desc"

	s.mu.RLock()
	var all []*appRec
	if o := s.st.owners[c.user]; o != nil {
		all = o.sorted
	}
	total := 0
	var page []ApplicationInfo
	if query == "" && (sortBy == "" || sortBy == "name") {
		// Fast path: O(page) from the per-owner name index.
		total = len(all)
		for i := offset; i < total && i < offset+limit; i++ {
			idx := i
			if desc {
				idx = total - 1 - i
			}
			page = append(page, all[idx].info())
		}
	} else {
		var sel []*appRec
		for _, a := range all {
			// erratum: the spec says exact match; the server does a
			// substring LIKE match (WSO2-API.md §7.1).
			if query != "" && !strings.Contains(strings.ToLower(a.Name), query) {
				continue
			}
			sel = append(sel, a)
		}
		switch sortBy {
		case "throttlingPolicy":
			slices.SortStableFunc(sel, func(x, y *appRec) int { return strings.Compare(x.ThrottlingPolicy, y.ThrottlingPolicy) })
		case "status":
			slices.SortStableFunc(sel, func(x, y *appRec) int { return strings.Compare(x.Status, y.Status) })
		}
		if desc {
			slices.Reverse(sel)
		}
		total = len(sel)
		for i := offset; i < total && i < offset+limit; i++ {
			page = append(page, sel[i].info())
		}
	}
	s.mu.RUnlock()

	if offset > 0 && offset >= total {
		// Quirk (§3): an offset beyond the end yields count 0, an empty
		// pagination object and no list.
		writeJSON(w, http.StatusOK, map[string]any{"count": 0, "pagination": map[string]any{}})
		return
	}
	if page == nil {
		page = []ApplicationInfo{}
	}
	pg := pagination(total, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/applications?limit=%d&offset=%d&groupId=", l, o)
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

func (s *Server) handleAppCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	var in appInput
	if !decodeBody(w, r, &in) {
		return
	}
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.validateApp(w, &in) {
		return
	}
	o := s.st.owner(c.user)
	if o.byName[strings.ToLower(in.Name)] != nil {
		appExists(w, in.Name)
		return
	}
	status := "APPROVED"
	if wf {
		status = "CREATED" // creation workflow pending; still 201 (§5.3)
	}
	vis := in.Visibility
	if vis == "" {
		vis = "PRIVATE"
	}
	attrs := in.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	a := &appRec{seq: s.st.nextSeq(), Application: Application{
		ApplicationID: newUUID(), Name: in.Name, ThrottlingPolicy: in.ThrottlingPolicy, Description: in.Description,
		TokenType: "JWT", // erratum: tokenType is ignored; the server forces JWT (§7.4)
		Status:    status, Groups: cloneStrings(in.Groups), Keys: []ApplicationKey{}, Attributes: cloneMap(attrs),
		SubscriptionScopes: []ScopeInfo{}, Owner: c.user, Visibility: vis,
	}}
	s.st.insertApp(a)
	w.Header().Set("Location", DevportalBase+"/applications/"+a.ApplicationID)
	writeJSON(w, http.StatusCreated, a.view())
}

func (s *Server) handleAppGet(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.ownedApp(w, c, r.PathValue("applicationId"))
	if a == nil {
		return
	}
	writeJSON(w, http.StatusOK, a.view())
}

func (s *Server) handleAppUpdate(w http.ResponseWriter, r *http.Request, c *caller) {
	var in appInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.ownedApp(w, c, r.PathValue("applicationId"))
	if a == nil {
		return
	}
	if !s.validateApp(w, &in) {
		return
	}
	o := s.st.owner(a.Owner)
	if other := o.byName[strings.ToLower(in.Name)]; other != nil && other != a {
		appExists(w, in.Name)
		return
	}
	// PUT is a full replacement of the writable fields.
	o.remove(a)
	a.Name = in.Name
	a.ThrottlingPolicy = in.ThrottlingPolicy
	a.Description = in.Description
	a.Groups = cloneStrings(in.Groups)
	if in.Attributes == nil {
		in.Attributes = map[string]string{}
	}
	a.Attributes = cloneMap(in.Attributes)
	if in.Visibility != "" {
		a.Visibility = in.Visibility
	} else {
		a.Visibility = "PRIVATE"
	}
	if a.TokenType != "OAUTH" {
		a.TokenType = "JWT"
	}
	o.insert(a)
	w.Header().Set("Location", DevportalBase+"/applications/"+a.ApplicationID)
	writeJSON(w, http.StatusOK, a.view())
}

func (s *Server) handleAppDelete(w http.ResponseWriter, r *http.Request, c *caller) {
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.ownedApp(w, c, r.PathValue("applicationId"))
	if a == nil {
		return
	}
	s.deleteAppAnswer(w, r, a, DevportalBase, wf)
}

// deleteAppAnswer is the part of an application delete that the DevPortal
// and Admin APIs share once the application is found: a pending delete
// workflow answers 409, a workflow-enabled delete answers 202 with the
// application's location under base, and otherwise the application goes
// with its cascade. The caller holds s.mu.
func (s *Server) deleteAppAnswer(w http.ResponseWriter, r *http.Request, a *appRec, base string, wf bool) {
	if a.pendingDelete {
		apimError(w, http.StatusConflict, codePendingWorkflow, "Pending workflow task exists",
			"Pending workflow task exists for application "+a.Name)
		return
	}
	if wf {
		a.pendingDelete = true
		w.Header().Set("Location", base+"/applications/"+a.ApplicationID)
		writeJSON(w, http.StatusAccepted, WorkflowResponse{WorkflowStatus: "CREATED", JSONPayload: ""})
		return
	}
	s.deleteAppLocked(r.Context(), a)
	w.WriteHeader(http.StatusOK)
}

// deleteAppLocked removes an application and cascades: subscriptions, key
// mappings, and the key manager's OAuth clients of CREATED mappings (MAPPED
// clients stay in IS). IdP-side failures are ignored, as the server only
// logs them (§3.3).
func (s *Server) deleteAppLocked(ctx context.Context, a *appRec) {
	for _, sub := range slices.Clone(s.st.subsByApp[a.ApplicationID]) {
		s.st.removeSub(sub)
	}
	for _, k := range slices.Clone(s.st.keysByApp[a.ApplicationID]) {
		if k.Mode == "CREATED" && k.ConsumerKey != "" {
			if km := s.st.kms[k.KeyManagerID]; km != nil {
				switch {
				case km.Type == "WSO2-IS-7" && s.opts.Registry != nil:
					_ = s.opts.Registry.DeleteClient(ctx, kmCreds(km), k.ConsumerKey)
				case !isExternalKM(km):
					delete(s.st.clients, k.ConsumerKey)
				}
			}
		}
		s.st.removeKey(k)
	}
	s.st.removeApp(a)
}

func kmCreds(km *KeyManager) simcore.Credentials {
	u, _ := km.AdditionalProperties["Username"].(string)
	p, _ := km.AdditionalProperties["Password"].(string)
	return simcore.Credentials{Username: u, Password: p}
}

// isExternalKM reports whether keys of this KM live in IS (through the
// ClientRegistry) rather than in APIM's own client store. Other third-party
// connector types (Keycloak, Okta, …) are simulated by the local store.
func isExternalKM(km *KeyManager) bool { return km.Type == "WSO2-IS-7" }
