package is

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const apiResourcesPath = baseServerAPI + "/api-resources"

// Error codes of identity-api-server's API resource management.
const (
	aprNotFound       = "API-RESOURCE-60002"
	aprInvalidName    = "API-RESOURCE-60003"
	aprInvalidIdent   = "API-RESOURCE-60004"
	aprInvalidScope   = "API-RESOURCE-60005"
	aprRemovedScopes  = "API-RESOURCE-60006"
	aprRestricted     = "API-RESOURCE-60008"
	aprOIDCScope      = "API-RESOURCE-60009"
	aprInvalidLimit   = "API-RESOURCE-60010"
	aprBeforeAfter    = "API-RESOURCE-60011"
	aprSystemReadOnly = "API-RESOURCE-60012"
	aprInvalidAttrs   = "API-RESOURCE-60013"
	// Service-layer codes, prefixed by the endpoint.
	aprInvalidFilter = "API-RESOURCE-60001"
	aprBadCursor     = "API-RESOURCE-60002"
	aprExists        = "API-RESOURCE-60003"
	aprScopeExists   = "API-RESOURCE-60004"
)

var oidcScopes = []string{"openid", "email", "profile", "address", "phone", "groups", "roles"}

type apiErr struct {
	status                     int
	code, message, description string
}

func writeAPIError(w http.ResponseWriter, e *apiErr) {
	writeJSON(w, e.status, jsonCT, map[string]string{"code": e.code, "message": e.message,
		"description": e.description, "traceId": newUUID()})
}

func aprNotFoundErr(id string) *apiErr {
	return &apiErr{404, aprNotFound, "Unable to find the API resource.",
		fmt.Sprintf("Unable to find the API resource with the id: %s in the tenant domain.", id)}
}

func aprSystemErr() *apiErr {
	return &apiErr{403, aprSystemReadOnly, "Cannot modify or delete System APIs.",
		"Cannot modify or delete the read-only System APIs."}
}

func isSystemAPI(r *apiResource) bool {
	return !strings.HasPrefix(r.Type, "BUSINESS") && !strings.HasPrefix(r.Type, "MCP")
}

type scopeInput struct {
	Name        string  `json:"name"`
	DisplayName *string `json:"displayName"`
	Description string  `json:"description"`
}

// validateScopesLocked checks new scopes of resource self (nil for a new
// resource): names, restricted prefixes, OIDC names and tenant-wide
// uniqueness.
func (s *Server) validateScopesLocked(self *apiResource, in []scopeInput) *apiErr {
	seen := map[string]bool{}
	for _, sc := range in {
		if strings.TrimSpace(sc.Name) == "" {
			return &apiErr{400, aprInvalidScope, "Invalid scope name provided.", "Scope name is required."}
		}
		if strings.HasPrefix(sc.Name, "internal_") {
			return &apiErr{400, aprRestricted, "Restricted scope name provided.", "Scope name is restricted."}
		}
		if slices.Contains(oidcScopes, sc.Name) {
			return &apiErr{400, aprOIDCScope, "Existing OIDC scope name provided.",
				"Provided scopes name is already exists in the system as an OIDC scope."}
		}
		if owner := s.st.scopeOwner(sc.Name); (owner != nil && owner != self) || seen[sc.Name] {
			return &apiErr{409, aprScopeExists, "Unable to add scope.", "Scope already exists for the tenant: " + superTenant + "."}
		}
		seen[sc.Name] = true
	}
	return nil
}

func toScopes(in []scopeInput) []apiScope {
	out := make([]apiScope, 0, len(in))
	for _, sc := range in {
		d := sc.Name
		if sc.DisplayName != nil {
			d = *sc.DisplayName
		}
		out = append(out, apiScope{ID: newUUID(), Name: sc.Name, DisplayName: d, Description: sc.Description})
	}
	return out
}

func (s *Server) apiResourceWire(r *apiResource) map[string]any {
	scopes := make([]map[string]any, 0, len(r.Scopes))
	for _, sc := range r.Scopes {
		m := map[string]any{"id": sc.ID, "name": sc.Name, "displayName": sc.DisplayName}
		if sc.Description != "" {
			m["description"] = sc.Description
		}
		scopes = append(scopes, m)
	}
	m := map[string]any{
		"id":                     r.ID,
		"name":                   r.Name,
		"identifier":             r.Identifier,
		"type":                   r.Type,
		"requiresAuthorization":  r.RequiresAuthorization,
		"scopes":                 scopes,
		"subscribedApplications": []any{},
		"properties":             []any{},
		"self":                   tenantPrefix + apiResourcesPath + "/" + r.ID,
	}
	if r.Description != "" {
		m["description"] = r.Description
	}
	return m
}

func (s *Server) apiResourceListItem(r *apiResource, withProps bool) map[string]any {
	m := map[string]any{
		"id":                    r.ID,
		"name":                  r.Name,
		"identifier":            r.Identifier,
		"type":                  r.Type,
		"requiresAuthorization": r.RequiresAuthorization,
		"self":                  tenantPrefix + apiResourcesPath + "/" + r.ID,
	}
	if withProps {
		m["properties"] = []any{}
	}
	return m
}

func apiResourceMatches(r *apiResource, terms []filterTerm) bool {
	for _, t := range terms {
		var have string
		switch strings.ToLower(t.attr) {
		case "name":
			have = r.Name
		case "identifier":
			have = r.Identifier
		case "type":
			have = r.Type
		}
		if !matchOp(t.op, have, t.value) {
			return false
		}
	}
	return true
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(c); err != nil {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(b))
	return n, err == nil
}

func encodeCursor(n int) string { return base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(n))) }

func (s *Server) handleListAPIResources(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_api_resource_view") == nil {
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeAPIError(w, &apiErr{400, aprInvalidLimit, "Invalid limit provided.", "Limit should be a positive integer."})
			return
		}
		limit = n
	}
	before, after := q.Get("before"), q.Get("after")
	if before != "" && after != "" {
		writeAPIError(w, &apiErr{400, aprBeforeAfter, "Invalid before/after provided.",
			"Both before and after parameters cannot be provided at the same time."})
		return
	}
	var cursor int
	if c := before + after; c != "" {
		n, ok := decodeCursor(c)
		if !ok {
			writeAPIError(w, &apiErr{400, aprBadCursor, "Unable to retrieve tenant domains.", "Invalid cursor used for pagination."})
			return
		}
		cursor = n
	}
	withProps := false
	for _, a := range splitList(q.Get("attributes")) {
		if a != "properties" {
			writeAPIError(w, &apiErr{400, aprInvalidAttrs, "Invalid attribute name.", "Invalid attribute name provided as required attribute."})
			return
		}
		withProps = true
	}
	filter := strings.TrimSpace(q.Get("filter"))
	var terms []filterTerm
	if filter != "" {
		var err error
		terms, err = parseFilter(filter)
		if err == nil {
			for _, t := range terms {
				switch strings.ToLower(t.attr) {
				case "name", "identifier", "type":
				default:
					err = errInvalidFilter
				}
				if t.op == "ne" && !strings.EqualFold(t.attr, "type") {
					err = errInvalidFilter
				}
			}
		}
		if err != nil {
			writeAPIError(w, &apiErr{400, aprInvalidFilter, "Unable to retrieve API resources.", "Invalid format used for filtering."})
			return
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	total := 0
	var window []*apiResource // limit+1 items in pagination order
	if before != "" {
		for i := len(s.st.apiOrder) - 1; i >= 0; i-- {
			a := s.st.apiOrder[i]
			if apiResourceMatches(a, terms) {
				total++
				if a.Cursor < cursor && len(window) <= limit {
					window = append(window, a)
				}
			}
		}
	} else {
		for _, a := range s.st.apiOrder {
			if apiResourceMatches(a, terms) {
				total++
				if (after == "" || a.Cursor > cursor) && len(window) <= limit {
					window = append(window, a)
				}
			}
		}
	}
	links := []map[string]string{}
	resp := map[string]any{"links": links}
	if len(window) == 0 {
		// erratum §7.26: the list member is `apiResources` on the wire.
		resp["totalResults"] = 0
		resp["apiResources"] = []any{}
		writeJSON(w, http.StatusOK, jsonCT, resp)
		return
	}
	hasMore := len(window) > limit
	isFirst := (before == "" && after == "") || (before != "" && !hasMore)
	isLast := !hasMore && (after != "" || before == "")
	if hasMore {
		window = window[:limit]
	}
	if before != "" {
		slices.Reverse(window)
	}
	base := s.baseURL() + apiResourcesPath + "?limit=" + strconv.Itoa(limit)
	if filter != "" {
		base += "&filter=" + url.QueryEscape(filter)
	}
	if !isFirst {
		links = append(links, map[string]string{"rel": "previous", "href": base + "&before=" + encodeCursor(window[0].Cursor)})
	}
	if !isLast {
		links = append(links, map[string]string{"rel": "next", "href": base + "&after=" + encodeCursor(window[len(window)-1].Cursor)})
	}
	items := make([]map[string]any, 0, len(window))
	for _, a := range window {
		items = append(items, s.apiResourceListItem(a, withProps))
	}
	resp["links"] = links
	resp["totalResults"] = total
	resp["apiResources"] = items // erratum §7.26 (spec: APIResources)
	writeJSON(w, http.StatusOK, jsonCT, resp)
}

type apiResourceInput struct {
	Name                  string       `json:"name"`
	Identifier            string       `json:"identifier"`
	Description           string       `json:"description"`
	RequiresAuthorization *bool        `json:"requiresAuthorization"`
	Scopes                []scopeInput `json:"scopes"`
}

func readAPIJSON(r *http.Request, v any) *apiErr {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return &apiErr{400, "API-RESOURCE-60000", "Invalid request.", "Unable to parse the request body."}
	}
	return nil
}

func (s *Server) handleCreateAPIResource(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_api_resource_create") == nil {
		return
	}
	var in apiResourceInput
	if e := readAPIJSON(r, &in); e != nil {
		writeAPIError(w, e)
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		writeAPIError(w, &apiErr{400, aprInvalidName, "Invalid API resource name provided.", "API resource name is required."})
		return
	}
	if strings.TrimSpace(in.Identifier) == "" {
		writeAPIError(w, &apiErr{400, aprInvalidIdent, "Invalid API resource identifier provided.", "API resource identifier is required."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.st.apiOrder {
		if a.Identifier == in.Identifier {
			writeAPIError(w, &apiErr{409, aprExists, "Unable to add API resource.", "API resource already exists for the tenant: " + superTenant + "."})
			return
		}
	}
	if e := s.validateScopesLocked(nil, in.Scopes); e != nil {
		writeAPIError(w, e)
		return
	}
	nr := &apiResource{ID: newUUID(), Name: in.Name, Identifier: in.Identifier, Description: in.Description,
		Type: "BUSINESS", RequiresAuthorization: true, Scopes: toScopes(in.Scopes)}
	if in.RequiresAuthorization != nil {
		nr.RequiresAuthorization = *in.RequiresAuthorization
	}
	s.st.addAPIResource(nr)
	// erratum §7.26: 201 + Location (spec: 200).
	w.Header().Set("Location", s.baseURL()+apiResourcesPath+"/"+nr.ID)
	writeJSON(w, http.StatusCreated, jsonCT, s.apiResourceWire(nr))
}

func (s *Server) handleGetAPIResource(w http.ResponseWriter, r *http.Request) {
	s.serveAPIResource(w, r, func(a *apiResource) any { return s.apiResourceWire(a) })
}

func (s *Server) handleGetAPIResourceScopes(w http.ResponseWriter, r *http.Request) {
	s.serveAPIResource(w, r, func(a *apiResource) any { return s.apiResourceWire(a)["scopes"] })
}

// serveAPIResource answers a read of the {apiResourceId} resource with a
// view of it, so the resource and its /scopes share guard, lookup and 404.
func (s *Server) serveAPIResource(w http.ResponseWriter, r *http.Request, view func(*apiResource) any) {
	if s.guard(w, r, "internal_api_resource_view") == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a := s.aprFoundLocked(w, r.PathValue("apiResourceId")); a != nil {
		writeJSON(w, http.StatusOK, jsonCT, view(a))
	}
}

// guardedAPIJSON guards scope and decodes the body into in (before locking,
// so a malformed body is a 400 even for an unknown id); it returns the
// path's apiResourceId, or false once it has written the error.
func (s *Server) guardedAPIJSON(w http.ResponseWriter, r *http.Request, scope string, in any) (string, bool) {
	if s.guard(w, r, scope) == nil {
		return "", false
	}
	if e := readAPIJSON(r, in); e != nil {
		writeAPIError(w, e)
		return "", false
	}
	return r.PathValue("apiResourceId"), true
}

// aprFoundLocked returns the API resource with the id, or nil once it has
// written the 404. Callers hold s.mu.
func (s *Server) aprFoundLocked(w http.ResponseWriter, id string) *apiResource {
	a := s.st.apiRes[id]
	if a == nil {
		writeAPIError(w, aprNotFoundErr(id))
	}
	return a
}

// aprEditableLocked is aprFoundLocked for writes: system API resources are
// refused (403) after the 404 check, as IS orders them. Callers hold s.mu.
func (s *Server) aprEditableLocked(w http.ResponseWriter, id string) *apiResource {
	a := s.aprFoundLocked(w, id)
	if a != nil && isSystemAPI(a) {
		writeAPIError(w, aprSystemErr())
		return nil
	}
	return a
}

func (s *Server) handlePatchAPIResource(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          *string          `json:"name"`
		Description   *string          `json:"description"`
		AddedScopes   []scopeInput     `json:"addedScopes"`
		RemovedScopes *json.RawMessage `json:"removedScopes"`
	}
	id, ok := s.guardedAPIJSON(w, r, "internal_api_resource_update", &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.aprEditableLocked(w, id)
	if a == nil {
		return
	}
	if in.RemovedScopes != nil && string(*in.RemovedScopes) != "null" {
		// Reproduced: removedScopes is "not supported yet" (501).
		writeAPIError(w, &apiErr{501, aprRemovedScopes, "Removed scopes patching is not supported yet.",
			"Removed scopes patching is not supported yet for API resources."})
		return
	}
	if e := s.validateScopesLocked(a, in.AddedScopes); e != nil {
		writeAPIError(w, e)
		return
	}
	for _, sc := range in.AddedScopes {
		if slices.ContainsFunc(a.Scopes, func(x apiScope) bool { return x.Name == sc.Name }) {
			writeAPIError(w, &apiErr{409, aprScopeExists, "Unable to add scope.", "Scope already exists for the tenant: " + superTenant + "."})
			return
		}
	}
	if in.Name != nil && *in.Name != "" {
		a.Name = *in.Name
	}
	if in.Description != nil {
		a.Description = *in.Description
	}
	a.Scopes = append(a.Scopes, toScopes(in.AddedScopes)...)
	w.WriteHeader(http.StatusNoContent)
}

// dropPermissionsLocked removes scopes that no longer exist from roles.
func (s *Server) dropPermissionsLocked(names []string) {
	for _, rl := range s.st.roleOrder {
		rl.Permissions = slices.DeleteFunc(rl.Permissions, func(p permission) bool { return slices.Contains(names, p.Value) })
	}
}

func (s *Server) handleDeleteAPIResource(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_api_resource_delete") == nil {
		return
	}
	id := r.PathValue("apiResourceId")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.apiRes[id]
	if a == nil {
		w.WriteHeader(http.StatusNoContent) // IS returns silently for unknown ids
		return
	}
	if isSystemAPI(a) {
		writeAPIError(w, aprSystemErr())
		return
	}
	var names []string
	for _, sc := range a.Scopes {
		names = append(names, sc.Name)
	}
	s.st.removeAPIResource(a)
	s.dropPermissionsLocked(names)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handlePutAPIResourceScopes(w http.ResponseWriter, r *http.Request) {
	var in []scopeInput
	id, ok := s.guardedAPIJSON(w, r, "internal_api_resource_update", &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.aprEditableLocked(w, id)
	if a == nil {
		return
	}
	if e := s.validateScopesLocked(a, in); e != nil {
		writeAPIError(w, e)
		return
	}
	var dropped []string
	for _, sc := range a.Scopes {
		if !slices.ContainsFunc(in, func(x scopeInput) bool { return x.Name == sc.Name }) {
			dropped = append(dropped, sc.Name)
		}
	}
	// Keep the ids of scopes that stay.
	next := toScopes(in)
	for i := range next {
		for _, old := range a.Scopes {
			if old.Name == next[i].Name {
				next[i].ID = old.ID
			}
		}
	}
	a.Scopes = next
	s.dropPermissionsLocked(dropped)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDeleteAPIResourceScope(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_api_resource_delete") == nil {
		return
	}
	id, name := r.PathValue("apiResourceId"), r.PathValue("scopeName")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.apiRes[id]
	if a == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if isSystemAPI(a) {
		writeAPIError(w, aprSystemErr())
		return
	}
	a.Scopes = slices.DeleteFunc(a.Scopes, func(x apiScope) bool { return x.Name == name })
	s.dropPermissionsLocked([]string{name})
	w.WriteHeader(http.StatusNoContent)
}
