package apim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The Admin v4 application resources: every application of the tenant,
// whoever owns it. WSO2's apictl uses them for `get apps`, `delete app`
// and `export app` (product-apim-tooling import-export-cli/impl/apps.go,
// getApps.go, deleteApp.go: GetAdminApplicationListEndpointOfEnv), and an
// administrator uses change-owner to hand an application over without
// deleting its keys and subscriptions.
// GET /applications/{applicationId} is not served: no Admin spec (4.3 to
// 4.7-dev) declares it, although later carbon-apimgt sources implement it.
// Behaviour from carbon-apimgt
// components/apimgt/org.wso2.carbon.apimgt.rest.api.admin.v1/.../impl/ApplicationsApiServiceImpl.java.

// adminAppInfo is the Admin v4 ApplicationInfo.
type adminAppInfo struct {
	ApplicationID string `json:"applicationId"`
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	Status        string `json:"status"`
	GroupID       string `json:"groupId"`
}

func (a *appRec) adminInfo() adminAppInfo {
	return adminAppInfo{ApplicationID: a.ApplicationID, Name: a.Name, Owner: a.Owner, Status: a.Status,
		GroupID: strings.Join(a.Groups, ",")}
}

// handleAdminAppList answers GET /applications: the applications of
// `user` (exact), or of the whole tenant when no user is given
// (applicationsGet passes givenUser "" to getApplicationsWithPagination),
// whose name contains `name` (a LIKE match), sorted by name.
func (s *Server) handleAdminAppList(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	user, name := q.Get("user"), strings.ToLower(q.Get("name"))
	s.mu.RLock()
	var sel []*appRec
	for _, a := range s.st.apps {
		if user != "" && a.Owner != user {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(a.Name), name) {
			continue
		}
		sel = append(sel, a)
	}
	slices.SortFunc(sel, func(x, y *appRec) int {
		if c := strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)); c != 0 {
			return c
		}
		if c := strings.Compare(x.Owner, y.Owner); c != 0 {
			return c
		}
		return strings.Compare(x.ApplicationID, y.ApplicationID)
	})
	infos := make([]adminAppInfo, 0, len(sel))
	for _, a := range sel {
		infos = append(infos, a.adminInfo())
	}
	s.mu.RUnlock()
	page, pg := paginate(infos, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/applications?limit=%d&offset=%d&user=%s", l, o, url.QueryEscape(user))
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "list": page, "pagination": pg})
}

// handleAdminAppDelete removes any application of the tenant, with the
// same cascade as the DevPortal delete (removeApplication).
func (s *Server) handleAdminAppDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	wf := s.workflow()
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("applicationId")
	a := s.st.apps[id]
	if a == nil {
		appNotFound(w, id)
		return
	}
	s.deleteAppAnswer(w, r, a, AdminBase, wf)
}

// handleAdminAppChangeOwner answers POST /applications/{id}/change-owner
// ?owner=. The application keeps its id, keys and subscriptions. As in
// ApiMgtDAO.updateApplicationOwner, an owner unknown to APIM (no
// subscriber record) and a name the new owner already uses (the
// AM_APPLICATION unique key) fail inside the DAO, which the REST layer
// answers with a generic 500.
func (s *Server) handleAdminAppChangeOwner(w http.ResponseWriter, r *http.Request, _ *caller) {
	owner := r.URL.Query().Get("owner")
	if owner == "" {
		badRequest(w, "owner is a required query parameter")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("applicationId")
	a := s.st.apps[id]
	if a == nil {
		appNotFound(w, id)
		return
	}
	if owner == a.Owner {
		w.WriteHeader(http.StatusOK)
		return
	}
	if s.st.users[owner] == nil {
		internalError(w, "Error when retrieving subscriber details for user "+owner)
		return
	}
	if s.st.owner(owner).byName[strings.ToLower(a.Name)] != nil {
		internalError(w, "duplicate application name "+a.Name+" for owner "+owner)
		return
	}
	s.st.owners[a.Owner].remove(a)
	a.Owner = owner
	s.st.owner(owner).insert(a)
	w.WriteHeader(http.StatusOK)
}
