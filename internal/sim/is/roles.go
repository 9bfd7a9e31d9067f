package is

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func (s *Server) audienceDisplayLocked(r *role) string {
	if r.AudienceType == "application" {
		if c := s.st.clientApp[r.AudienceValue]; c != nil {
			return c.Name
		}
		return ""
	}
	return superTenant
}

// roleWireLocked renders a Roles v2 role. Lists show only id, displayName,
// audience and meta unless attributes ask for more (as IS does).
func (s *Server) roleWireLocked(r *role, full bool) map[string]any {
	st := s.st
	m := map[string]any{
		"schemas":     []string{schemaRole},
		"id":          r.ID,
		"displayName": r.DisplayName,
		"meta": map[string]any{
			"location":     s.baseURL() + baseSCIM + "/v2/Roles/" + r.ID,
			"resourceType": "Role",
			"created":      scimTime(r.Created),
			"lastModified": scimTime(r.Modified),
		},
		"audience": map[string]any{
			"value":   r.AudienceValue,
			"display": s.audienceDisplayLocked(r),
			"type":    r.AudienceType,
		},
	}
	if !full {
		return m
	}
	if len(r.Users) > 0 {
		us := make([]map[string]any, 0, len(r.Users))
		for _, id := range r.Users {
			if u := st.users[id]; u != nil {
				us = append(us, map[string]any{"value": id, "display": u.wireName(),
					"$ref": s.baseURL() + baseSCIM + "/Users/" + id})
			}
		}
		m["users"] = us
	}
	if len(r.Groups) > 0 {
		gs := make([]map[string]any, 0, len(r.Groups))
		for _, id := range r.Groups {
			if g := st.groups[id]; g != nil {
				gs = append(gs, map[string]any{"value": id, "display": g.wireName(),
					"$ref": s.baseURL() + baseSCIM + "/Groups/" + id})
			}
		}
		m["groups"] = gs
	}
	if len(r.Permissions) > 0 {
		m["permissions"] = slices.Clone(r.Permissions)
	}
	if r.AudienceType == "application" {
		if c := st.clientApp[r.AudienceValue]; c != nil {
			m["associatedApplications"] = []map[string]any{{"value": c.AppID, "display": c.Name}}
		}
	}
	return m
}

func roleNotFound(id string) *scimErr {
	return &scimErr{status: 404, detail: fmt.Sprintf("A role with the id: %s does not exist.", id)}
}

// roleInput is a decoded create/put body.
type roleInput struct {
	Schemas     []string `json:"schemas"`
	DisplayName *string  `json:"displayName"`
	Audience    *struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"audience"`
	Users       []refValue      `json:"users"`
	Groups      []refValue      `json:"groups"`
	Permissions json.RawMessage `json:"permissions"`
}

type refValue struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
}

// parsePermissions accepts [{value,display}] and, leniently, ["name"].
func parsePermissions(raw json.RawMessage) ([]string, *scimErr) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var arr []any
	if err := json.Unmarshal(raw, &arr); err != nil {
		var one any
		if json.Unmarshal(raw, &one) != nil {
			return nil, badRequest("invalidValue", "Invalid permissions value.")
		}
		arr = []any{one}
	}
	var out []string
	for _, p := range arr {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			s, _ := v["value"].(string)
			if s == "" {
				return nil, badRequest("invalidValue", "Permission value is required.")
			}
			out = append(out, s)
		default:
			return nil, badRequest("invalidValue", "Invalid permissions value.")
		}
	}
	return out, nil
}

func parseRefs(raw any) ([]string, *scimErr) {
	arr, ok := raw.([]any)
	if !ok {
		if raw == nil {
			return nil, nil
		}
		arr = []any{raw}
	}
	var out []string
	for _, x := range arr {
		switch v := x.(type) {
		case map[string]any:
			s, _ := v["value"].(string)
			if s == "" {
				return nil, badRequest("invalidValue", "Member value is required.")
			}
			out = append(out, s)
		case string:
			out = append(out, v)
		default:
			return nil, badRequest("invalidValue", "Invalid member value.")
		}
	}
	return out, nil
}

// validateRoleRefsLocked checks user ids, group ids and permission names.
func (s *Server) validateRoleRefsLocked(users, groups, perms []string) *scimErr {
	for _, id := range users {
		if s.st.users[id] == nil {
			return badRequest("invalidValue", "User id: %s does not exist.", id)
		}
	}
	for _, id := range groups {
		if s.st.groups[id] == nil {
			return badRequest("invalidValue", "Group id: %s does not exist.", id)
		}
	}
	for _, p := range perms {
		if s.st.scopeOwner(p) == nil {
			return badRequest("invalidValue", "Permission: %s is not a scope of any API resource.", p)
		}
	}
	return nil
}

func (s *Server) permsLocked(names []string) []permission {
	var out []permission
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, permission{Value: n, Display: s.st.scopeDisplayName(n)})
	}
	return out
}

func refIDs(rs []refValue) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Value)
	}
	return out
}

func (s *Server) handleCreateRole(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_role_mgt_create") == nil {
		return
	}
	var in roleInput
	if e := readJSON(r, &in); e != nil {
		writeSCIMError(w, e)
		return
	}
	if in.DisplayName == nil || strings.TrimSpace(*in.DisplayName) == "" {
		writeSCIMError(w, badRequest("invalidValue", "Required attribute displayName is missing in the SCIM Role object."))
		return
	}
	perms, e := parsePermissions(in.Permissions)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	audType, audValue := "organization", superOrgID
	if in.Audience != nil && (in.Audience.Type != "" || in.Audience.Value != "") {
		audType = strings.ToLower(in.Audience.Type)
		audValue = in.Audience.Value
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch audType {
	case "organization":
		if audValue == "" {
			audValue = superOrgID
		}
		if audValue != superOrgID {
			writeSCIMError(w, badRequest("invalidValue", "Invalid audience value: %s for the organization audience.", audValue))
			return
		}
	case "application":
		c := s.st.clientApp[audValue]
		if c == nil {
			writeSCIMError(w, badRequest("invalidValue", "Invalid audience. No application found with application id: %s.", audValue))
			return
		}
		if c.Audience != "application" {
			writeSCIMError(w, badRequest("invalidValue", "Invalid audience. Application: %s does not allow application audience roles.", c.Name))
			return
		}
	default:
		writeSCIMError(w, badRequest("invalidValue", "Invalid audience type: %s.", in.Audience.Type))
		return
	}
	name := strings.TrimSpace(*in.DisplayName)
	if s.st.roleByNameAudience(name, audType, audValue) != nil {
		writeSCIMError(w, &scimErr{status: 409, scimType: "uniqueness",
			detail: fmt.Sprintf("Role with name: %s already exists in the system.", name)})
		return
	}
	users, groups := refIDs(in.Users), refIDs(in.Groups)
	if e := s.validateRoleRefsLocked(users, groups, perms); e != nil {
		writeSCIMError(w, e)
		return
	}
	now := s.now()
	nr := &role{ID: newUUID(), DisplayName: name, AudienceType: audType, AudienceValue: audValue,
		Permissions: s.permsLocked(perms), Created: now, Modified: now}
	s.st.insertRole(nr)
	s.st.setRoleUsers(nr, users)
	nr.Groups = dedupe(groups)
	body := s.roleWireLocked(nr, true)
	w.Header().Set("Location", body["meta"].(map[string]any)["location"].(string))
	writeJSON(w, http.StatusCreated, scimCT, body)
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) handleGetRole(w http.ResponseWriter, r *http.Request) {
	serveSCIMGet(s, w, r, "internal_role_mgt_view", func(st *store) map[string]*role { return st.roles }, roleNotFound,
		func(rl *role) map[string]any { return s.roleWireLocked(rl, true) })
}

func (s *Server) listRoles(w http.ResponseWriter, q map[string]string) {
	pg, terms, e := s.scimListQuery(q, "displayname", "id", "audience.value", "audience.type", "audience.display")
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	attrs := strings.ToLower(q["attributes"])
	full := strings.Contains(attrs, "users") || strings.Contains(attrs, "permissions") || strings.Contains(attrs, "groups")
	s.mu.RLock()
	defer s.mu.RUnlock()
	total, roles := pageOf(s.st.roleOrder, pg, func(rl *role) bool { return s.roleMatchesLocked(rl, terms) })
	writeSCIMList(w, q, total, pg, roles, func(rl *role) map[string]any { return s.roleWireLocked(rl, full) })
}

func (s *Server) roleMatchesLocked(rl *role, terms []filterTerm) bool {
	for _, t := range terms {
		var have string
		switch strings.ToLower(t.attr) {
		case "displayname":
			have = rl.DisplayName
		case "id":
			have = rl.ID
		case "audience.value":
			have = rl.AudienceValue
		case "audience.type":
			have = rl.AudienceType
		case "audience.display":
			have = s.audienceDisplayLocked(rl)
		}
		if !matchOp(t.op, have, t.value) {
			return false
		}
	}
	return true
}

func (s *Server) handlePutRole(w http.ResponseWriter, r *http.Request) {
	var in roleInput
	id, ok := s.guardedJSON(w, r, "internal_role_mgt_update", &in)
	if !ok {
		return
	}
	perms, e := parsePermissions(in.Permissions)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rl := foundLocked(w, s.st.roles, id, roleNotFound)
	if rl == nil {
		return
	}
	name := rl.DisplayName
	if in.DisplayName != nil && strings.TrimSpace(*in.DisplayName) != "" {
		name = strings.TrimSpace(*in.DisplayName)
	}
	users, groups := refIDs(in.Users), refIDs(in.Groups)
	if e := s.checkRoleUpdateLocked(rl, name, users, groups, perms); e != nil {
		writeSCIMError(w, e)
		return
	}
	rl.DisplayName = name
	s.st.setRoleUsers(rl, users)
	rl.Groups = dedupe(groups)
	rl.Permissions = s.permsLocked(perms)
	rl.Modified = s.now()
	writeJSON(w, http.StatusOK, scimCT, s.roleWireLocked(rl, true))
}

func (s *Server) checkRoleUpdateLocked(rl *role, name string, users, groups, perms []string) *scimErr {
	if name != rl.DisplayName {
		if rl.System {
			return badRequest("invalidValue", "Invalid operation. Role: %s cannot be renamed.", rl.DisplayName)
		}
		if x := s.st.roleByNameAudience(name, rl.AudienceType, rl.AudienceValue); x != nil && x != rl {
			return &scimErr{status: 409, scimType: "uniqueness",
				detail: fmt.Sprintf("Role with name: %s already exists in the system.", name)}
		}
	}
	return s.validateRoleRefsLocked(users, groups, perms)
}

func (s *Server) handlePatchRole(w http.ResponseWriter, r *http.Request) {
	id, pr, ok := s.guardedPatch(w, r, "internal_role_mgt_update")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rl := foundLocked(w, s.st.roles, id, roleNotFound)
	if rl == nil {
		return
	}
	name := rl.DisplayName
	users := slices.Clone(rl.Users)
	groups := slices.Clone(rl.Groups)
	var perms []string
	for _, p := range rl.Permissions {
		perms = append(perms, p.Value)
	}
	lists := map[string]*[]string{"users": &users, "groups": &groups, "permissions": &perms}
	for _, op := range pr.Operations {
		var val any
		if len(op.Value) > 0 {
			if err := json.Unmarshal(op.Value, &val); err != nil {
				writeSCIMError(w, badRequest("invalidSyntax", "Invalid patch value."))
				return
			}
		}
		if op.Path == "" {
			obj, ok := val.(map[string]any)
			if !ok || op.Op == "remove" {
				writeSCIMError(w, badRequest("invalidValue", "Value must be an object when no path is given."))
				return
			}
			for k, v := range obj {
				lk := strings.ToLower(k)
				if lk == "displayname" {
					sv, _ := v.(string)
					if sv != "" {
						name = sv
					}
					continue
				}
				dst := lists[lk]
				if dst == nil {
					continue
				}
				ids, e := parseRefs(v)
				if e != nil {
					writeSCIMError(w, e)
					return
				}
				if op.Op == "add" {
					*dst = dedupe(append(*dst, ids...))
				} else {
					*dst = dedupe(ids)
				}
			}
			continue
		}
		pp, e := parsePatchPath(op.Path)
		if e != nil {
			writeSCIMError(w, e)
			return
		}
		lk := strings.ToLower(pp.attr)
		if lk == "displayname" {
			sv, _ := val.(string)
			if op.Op == "remove" || sv == "" {
				writeSCIMError(w, badRequest("invalidValue", "displayName cannot be removed."))
				return
			}
			name = sv
			continue
		}
		dst := lists[lk]
		if dst == nil {
			writeSCIMError(w, badRequest("invalidPath", "Invalid path: %s", op.Path))
			return
		}
		switch {
		case pp.filter != nil:
			if op.Op != "remove" {
				writeSCIMError(w, badRequest("invalidPath", "Value filters are only supported for remove operations."))
				return
			}
			*dst = slices.DeleteFunc(*dst, func(id string) bool { return valueMatches(map[string]any{"value": id}, pp.filter) })
		default:
			ids, e := parseRefs(val)
			if e != nil {
				writeSCIMError(w, e)
				return
			}
			switch op.Op {
			case "add":
				*dst = dedupe(append(*dst, ids...))
			case "replace":
				*dst = dedupe(ids)
			case "remove":
				if val == nil {
					*dst = nil
				} else {
					*dst = slices.DeleteFunc(*dst, func(id string) bool { return slices.Contains(ids, id) })
				}
			}
		}
	}
	if e := s.checkRoleUpdateLocked(rl, name, users, groups, perms); e != nil {
		writeSCIMError(w, e)
		return
	}
	rl.DisplayName = name
	s.st.setRoleUsers(rl, users)
	rl.Groups = groups
	rl.Permissions = s.permsLocked(perms)
	rl.Modified = s.now()
	// erratum: PatchRoleOperationResponseObjectV2 types `schemas` as object;
	// it is an array on the wire.
	writeJSON(w, http.StatusOK, scimCT, s.roleWireLocked(rl, true))
}

func (s *Server) handleDeleteRole(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_role_mgt_delete") == nil {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	rl := foundLocked(w, s.st.roles, id, roleNotFound)
	if rl == nil {
		return
	}
	if rl.System {
		// Status unverified (WSO2-API.md §3.9); IS maps its
		// OPERATION_FORBIDDEN role error to a SCIM bad request.
		writeSCIMError(w, badRequest("invalidValue", "Invalid operation. Role: %s cannot be deleted.", rl.DisplayName))
		return
	}
	s.st.removeRole(rl)
	w.WriteHeader(http.StatusNoContent)
}
