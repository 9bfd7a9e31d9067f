package is

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

func (s *Server) groupWireLocked(g *group) map[string]any {
	m := map[string]any{
		"schemas":     []string{schemaGroup},
		"id":          g.ID,
		"displayName": g.wireName(),
		"meta": map[string]any{
			"created":      scimTime(g.Created),
			"lastModified": scimTime(g.Modified),
			"resourceType": "Group",
			"location":     s.baseURL() + baseSCIM + "/Groups/" + g.ID,
		},
	}
	if len(g.Members) > 0 {
		ms := make([]map[string]any, 0, len(g.Members))
		for _, id := range g.Members {
			if u := s.st.users[id]; u != nil {
				ms = append(ms, map[string]any{"value": id, "display": u.wireName(),
					"$ref": s.baseURL() + baseSCIM + "/Users/" + id})
			}
		}
		m["members"] = ms
	}
	var rs []map[string]any
	for _, r := range s.st.roleOrder {
		if slices.Contains(r.Groups, g.ID) {
			rs = append(rs, s.roleRefLocked(r))
		}
	}
	if len(rs) > 0 {
		m["roles"] = rs
	}
	return m
}

func groupNotFound(id string) *scimErr {
	return &scimErr{status: 404, detail: fmt.Sprintf("Group with id: %s not found in the system.", id)}
}

type groupInput struct {
	DisplayName string     `json:"displayName"`
	Members     []refValue `json:"members"`
}

func (s *Server) validateMembersLocked(ids []string) *scimErr {
	for _, id := range ids {
		if s.st.users[id] == nil {
			return badRequest("invalidValue", "User id: %s does not exist.", id)
		}
	}
	return nil
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_group_mgt_create") == nil {
		return
	}
	var in groupInput
	if e := readJSON(r, &in); e != nil {
		writeSCIMError(w, e)
		return
	}
	if strings.TrimSpace(in.DisplayName) == "" {
		writeSCIMError(w, badRequest("invalidValue", "Required attribute displayName is missing in the SCIM Group object."))
		return
	}
	domain, name := splitDomain(strings.TrimSpace(in.DisplayName))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.groupByName(domain, name) != nil {
		g := &group{Domain: domain, Name: name}
		writeSCIMError(w, &scimErr{status: 409, scimType: "uniqueness",
			detail: fmt.Sprintf("Group with name: %s already exists in the system.", g.wireName())})
		return
	}
	ids := refIDs(in.Members)
	if e := s.validateMembersLocked(ids); e != nil {
		writeSCIMError(w, e)
		return
	}
	now := s.now()
	g := &group{ID: newUUID(), Domain: domain, Name: name, Created: now, Modified: now}
	s.st.insertGroup(g)
	s.st.setGroupMembers(g, ids)
	body := s.groupWireLocked(g)
	w.Header().Set("Location", body["meta"].(map[string]any)["location"].(string))
	writeJSON(w, http.StatusCreated, scimCT, body)
}

func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	serveSCIMGet(s, w, r, "internal_group_mgt_view", func(st *store) map[string]*group { return st.groups }, groupNotFound,
		s.groupWireLocked)
}

func (s *Server) listGroups(w http.ResponseWriter, q map[string]string) {
	pg, terms, e := s.scimListQuery(q, "displayname", "id")
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	domain := strings.ToUpper(q["domain"])
	s.mu.RLock()
	defer s.mu.RUnlock()
	total, groups := pageOf(s.st.groupOrder, pg, func(g *group) bool {
		return (domain == "" || g.Domain == domain) && groupMatches(g, terms)
	})
	writeSCIMList(w, q, total, pg, groups, s.groupWireLocked)
}

func groupMatches(g *group, terms []filterTerm) bool {
	for _, t := range terms {
		switch strings.ToLower(t.attr) {
		case "displayname":
			if !domainNameMatches(t, g.Domain, g.Name) {
				return false
			}
		case "id":
			if !matchOp(t.op, g.ID, t.value) {
				return false
			}
		}
	}
	return true
}

func (s *Server) handlePutGroup(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	id, ok := s.guardedJSON(w, r, "internal_group_mgt_update", &in)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := foundLocked(w, s.st.groups, id, groupNotFound)
	if g == nil {
		return
	}
	domain, name := g.Domain, g.Name
	if strings.TrimSpace(in.DisplayName) != "" {
		domain, name = splitDomain(strings.TrimSpace(in.DisplayName))
		if x := s.st.groupByName(domain, name); x != nil && x != g {
			writeSCIMError(w, &scimErr{status: 409, scimType: "uniqueness",
				detail: fmt.Sprintf("Group with name: %s already exists in the system.", in.DisplayName)})
			return
		}
	}
	ids := refIDs(in.Members)
	s.saveGroupLocked(w, g, domain, name, ids)
}

func (s *Server) handlePatchGroup(w http.ResponseWriter, r *http.Request) {
	id, pr, ok := s.guardedPatch(w, r, "internal_group_mgt_update")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := foundLocked(w, s.st.groups, id, groupNotFound)
	if g == nil {
		return
	}
	members := slices.Clone(g.Members)
	domain, name := g.Domain, g.Name
	for _, op := range pr.Operations {
		var val any
		if len(op.Value) > 0 {
			if err := json.Unmarshal(op.Value, &val); err != nil {
				writeSCIMError(w, badRequest("invalidSyntax", "Invalid patch value."))
				return
			}
		}
		path := op.Path
		if path == "" {
			obj, ok := val.(map[string]any)
			if !ok || op.Op == "remove" {
				writeSCIMError(w, badRequest("invalidValue", "Value must be an object when no path is given."))
				return
			}
			for k, v := range obj {
				switch strings.ToLower(k) {
				case "displayname":
					if sv, _ := v.(string); sv != "" {
						domain, name = splitDomain(sv)
					}
				case "members":
					ids, e := parseRefs(v)
					if e != nil {
						writeSCIMError(w, e)
						return
					}
					if op.Op == "add" {
						members = dedupe(append(members, ids...))
					} else {
						members = dedupe(ids)
					}
				}
			}
			continue
		}
		pp, e := parsePatchPath(path)
		if e != nil {
			writeSCIMError(w, e)
			return
		}
		switch strings.ToLower(pp.attr) {
		case "displayname":
			sv, _ := val.(string)
			if op.Op == "remove" || sv == "" {
				writeSCIMError(w, badRequest("invalidValue", "displayName cannot be removed."))
				return
			}
			domain, name = splitDomain(sv)
		case "members":
			if pp.filter != nil {
				members = slices.DeleteFunc(members, func(id string) bool { return valueMatches(map[string]any{"value": id}, pp.filter) })
				continue
			}
			ids, e := parseRefs(val)
			if e != nil {
				writeSCIMError(w, e)
				return
			}
			switch op.Op {
			case "add":
				members = dedupe(append(members, ids...))
			case "replace":
				members = dedupe(ids)
			case "remove":
				if val == nil {
					members = nil
				} else {
					members = slices.DeleteFunc(members, func(id string) bool { return slices.Contains(ids, id) })
				}
			}
		default:
			writeSCIMError(w, badRequest("invalidPath", "Invalid path: %s", op.Path))
			return
		}
	}
	if x := s.st.groupByName(domain, name); x != nil && x != g {
		writeSCIMError(w, &scimErr{status: 409, scimType: "uniqueness",
			detail: fmt.Sprintf("Group with name: %s already exists in the system.", name)})
		return
	}
	s.saveGroupLocked(w, g, domain, name, members)
}

// saveGroupLocked ends PUT and PATCH alike: check the members exist, store
// the new name and members and answer the group. Callers hold s.mu.
func (s *Server) saveGroupLocked(w http.ResponseWriter, g *group, domain, name string, members []string) {
	if e := s.validateMembersLocked(members); e != nil {
		writeSCIMError(w, e)
		return
	}
	g.Domain, g.Name = domain, name
	s.st.setGroupMembers(g, members)
	g.Modified = s.now()
	writeJSON(w, http.StatusOK, scimCT, s.groupWireLocked(g))
}

func (s *Server) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_group_mgt_delete") == nil {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	g := foundLocked(w, s.st.groups, id, groupNotFound)
	if g == nil {
		return
	}
	s.st.removeGroup(g)
	w.WriteHeader(http.StatusNoContent)
}
