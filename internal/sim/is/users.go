package is

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// coreUserAttrs are the SCIM core User attributes IS stores (lower-case →
// canonical name). Unknown attributes are ignored, as charon's decoder
// ignores attributes its schema does not define.
var coreUserAttrs = map[string]string{}

// multiValued are the multi-valued core attributes.
var multiValued = map[string]bool{}

// extensionSchemas are the user schema extensions IS 7.1 knows.
var extensionSchemas = []string{schemaEnterprise, schemaWSO2, schemaCustom}

func init() {
	for _, a := range []string{"name", "displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
		"locale", "timezone", "active", "externalId", "emails", "phoneNumbers", "ims", "photos", "addresses",
		"x509Certificates", "entitlements"} {
		coreUserAttrs[strings.ToLower(a)] = a
	}
	for _, a := range []string{"emails", "phoneNumbers", "ims", "photos", "addresses", "x509Certificates", "entitlements"} {
		multiValued[a] = true
	}
}

// usernameRE is the default JDBC user store UsernameJavaRegEx.
var usernameRE = regexp.MustCompile(`^\S{3,30}$`)

// canonicalAttr maps a request attribute name to its stored key ("" =
// ignored).
func canonicalAttr(k string) string {
	if c, ok := coreUserAttrs[strings.ToLower(k)]; ok {
		return c
	}
	for _, urn := range extensionSchemas {
		if strings.EqualFold(k, urn) {
			return urn
		}
	}
	return ""
}

// normaliseAttr validates and normalises one attribute value.
func normaliseAttr(key string, v any) (any, *scimErr) {
	switch {
	case key == "name" || slices.Contains(extensionSchemas, key):
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest("invalidValue", "Attribute %s must be a complex attribute.", key)
		}
		return m, nil
	case key == "emails":
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v}
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			switch ev := e.(type) {
			case string:
				// IS accepts the plain string form.
				out = append(out, map[string]any{"value": ev})
			case map[string]any:
				val, ok := ev["value"].(string)
				if !ok || val == "" {
					return nil, badRequest("invalidValue", "Email value is required.")
				}
				m := map[string]any{"value": val}
				for _, k := range []string{"type", "primary", "display"} {
					if x, ok := ev[k]; ok {
						m[k] = x
					}
				}
				out = append(out, m)
			default:
				return nil, badRequest("invalidValue", "Invalid value for emails.")
			}
		}
		return out, nil
	case multiValued[key]:
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v}
		}
		return arr, nil
	}
	return v, nil
}

// userInput is a decoded create/replace body.
type userInput struct {
	userName string
	password *string
	attrs    map[string]any
}

func parseUserInput(raw map[string]any) (*userInput, *scimErr) {
	in := &userInput{attrs: map[string]any{}}
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "schemas", "id", "meta", "groups", "roles":
			continue
		case "username":
			s, ok := v.(string)
			if !ok {
				return nil, badRequest("invalidValue", "userName must be a string.")
			}
			in.userName = s
			continue
		case "password":
			s, ok := v.(string)
			if !ok {
				return nil, badRequest("invalidValue", "password must be a string.")
			}
			in.password = &s
			continue
		}
		key := canonicalAttr(k)
		if key == "" || v == nil {
			continue
		}
		nv, e := normaliseAttr(key, v)
		if e != nil {
			return nil, e
		}
		in.attrs[key] = nv
	}
	return in, nil
}

// checkPasswordPolicy applies the IS 7 default password policy.
func (s *Server) checkPasswordPolicy(pw string) *scimErr {
	if s.opts.SkipPasswordPolicy {
		return nil
	}
	var up, low, dig, spec bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			up = true
		case unicode.IsLower(r):
			low = true
		case unicode.IsDigit(r):
			dig = true
		default:
			spec = true
		}
	}
	n := len([]rune(pw))
	if n < 8 || n > 30 || !up || !low || !dig || !spec {
		return badRequest("invalidValue", "Password pattern policy violated. Password should contain a digit[0-9], "+
			"a lower case letter[a-z], an upper case letter[A-Z], one of !@#$%%&* characters and be 8 to 30 characters long.")
	}
	return nil
}

// ---- representation ----

func (s *Server) userWireLocked(u *user) map[string]any {
	st := s.st
	m := make(map[string]any, len(u.Attrs)+6)
	schemas := []string{schemaUser}
	for k, v := range u.Attrs {
		m[k] = v
	}
	for _, urn := range extensionSchemas {
		if _, ok := u.Attrs[urn]; ok {
			schemas = append(schemas, urn)
		}
	}
	// erratum §7.13/§7.14: the spec names the attribute `username`/`name.firstName`
	// and types `schemas` as object; IS returns `userName`, givenName/familyName
	// and an array.
	m["schemas"] = schemas
	m["id"] = u.ID
	m["userName"] = u.wireName()
	loc := s.baseURL() + baseSCIM + "/Users/" + u.ID
	m["meta"] = map[string]any{
		"created":      scimTime(u.Created),
		"lastModified": scimTime(u.Modified),
		"resourceType": "User",
		"location":     loc,
	}
	if len(u.groups) > 0 {
		var gs []map[string]any
		for gid := range u.groups {
			if g := st.groups[gid]; g != nil {
				gs = append(gs, map[string]any{"value": g.ID, "display": g.wireName(),
					"$ref": s.baseURL() + baseSCIM + "/Groups/" + g.ID})
			}
		}
		sort.Slice(gs, func(i, j int) bool { return gs[i]["display"].(string) < gs[j]["display"].(string) })
		m["groups"] = gs
	}
	// Role membership is read-only here (managed through Roles v2); the
	// implicit everyone role is listed as IS lists Internal/everyone.
	var rs []map[string]any
	for _, r := range st.roleOrder {
		_, direct := u.roles[r.ID]
		if direct || r.Everyone {
			rs = append(rs, s.roleRefLocked(r))
		}
	}
	if len(rs) > 0 {
		m["roles"] = rs
	}
	return m
}

func (s *Server) roleRefLocked(r *role) map[string]any {
	return map[string]any{
		"value":           r.ID,
		"display":         r.DisplayName,
		"$ref":            s.baseURL() + baseSCIM + "/v2/Roles/" + r.ID,
		"audienceType":    r.AudienceType,
		"audienceValue":   r.AudienceValue,
		"audienceDisplay": s.audienceDisplayLocked(r),
	}
}

func projectQuery(m map[string]any, q map[string]string) map[string]any {
	return project(m, splitList(q["attributes"]), splitList(q["excludedAttributes"]))
}

// ---- list / search ----

func (s *Server) listUsers(w http.ResponseWriter, q map[string]string) {
	pg, terms, e := s.scimListQuery(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	domain := strings.ToUpper(q["domain"])
	inDomain := func(u *user) bool { return domain == "" || u.Domain == domain }

	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	var total int
	var pageUsers []*user
	switch {
	case len(terms) == 0 && domain == "":
		total = len(st.userOrder)
		from := pg.start - 1
		if from < total {
			pageUsers = st.userOrder[from:min(total, from+pg.count)]
		}
	case len(terms) == 1 && isUserNameAttr(terms[0].attr) && terms[0].op == "eq":
		total, pageUsers = pageOf(st.usersNamedLocked(terms[0].value), pg, inDomain)
	default:
		total, pageUsers = pageOf(st.userOrder, pg, func(u *user) bool { return inDomain(u) && userMatches(u, terms) })
	}
	if len(terms) > 0 && len(pageUsers) > 0 {
		// Reproduced quirk (WSO2-API.md §3.8, product-is#12717): with a
		// filter, totalResults is the page size, not the real total.
		total = len(pageUsers)
	}
	writeSCIMList(w, q, total, pg, pageUsers, s.userWireLocked)
}

// usersNamedLocked is the indexed lookup of userName eq: "DOMAIN/name" in
// that domain, a bare name in every domain.
func (st *store) usersNamedLocked(v string) []*user {
	var cands []*user
	if strings.Contains(v, "/") {
		d, n := splitDomain(v)
		if u := st.userByKey[userKey(d, n)]; u != nil {
			cands = append(cands, u)
		}
		return cands
	}
	for _, d := range st.domainsLocked() {
		if u := st.userByKey[userKey(d, v)]; u != nil {
			cands = append(cands, u)
		}
	}
	return cands
}

func (st *store) domainsLocked() []string {
	seen := map[string]bool{"PRIMARY": true}
	out := []string{"PRIMARY"}
	// userOrder is sorted by "domain/name", so domains are contiguous;
	// walking the domain boundaries is cheap with binary search.
	i := 0
	for i < len(st.userOrder) {
		d := st.userOrder[i].Domain
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
		next := strings.ToLower(d) + "0" // '0' sorts right after '/'
		i = sort.Search(len(st.userOrder), func(j int) bool { return st.userOrder[j].key() >= next })
	}
	return out
}

func isUserNameAttr(a string) bool {
	a = strings.TrimPrefix(a, schemaUser+":")
	return strings.EqualFold(a, "userName")
}

func userMatches(u *user, terms []filterTerm) bool {
	for _, t := range terms {
		if !userTermMatches(u, t) {
			return false
		}
	}
	return true
}

func userTermMatches(u *user, t filterTerm) bool {
	attr := strings.TrimPrefix(t.attr, schemaUser+":")
	switch strings.ToLower(attr) {
	case "username":
		return domainNameMatches(t, u.Domain, u.Name)
	case "id":
		return matchOp(t.op, u.ID, t.value)
	case "emails", "emails.value":
		arr, _ := u.Attrs["emails"].([]any)
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				if v, ok := m["value"].(string); ok && matchOp(t.op, v, t.value) {
					return true
				}
			}
		}
		return false
	}
	top, sub, hasSub := strings.Cut(attr, ".")
	k := findKey(u.Attrs, canonicalAttr(top))
	if k == "" {
		return t.op == "ne"
	}
	v := u.Attrs[k]
	if hasSub {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		sk := findKey(m, sub)
		if sk == "" {
			return false
		}
		v = m[sk]
	}
	return matchOp(t.op, fmt.Sprint(v), t.value)
}

// ---- CRUD ----

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_user_mgt_create") == nil {
		return
	}
	var raw map[string]any
	if e := readJSON(r, &raw); e != nil {
		writeSCIMError(w, e)
		return
	}
	in, e := parseUserInput(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	if in.userName == "" {
		writeSCIMError(w, badRequest("invalidValue", "Required attribute userName is missing in the SCIM User object."))
		return
	}
	domain, name := splitDomain(in.userName)
	if !usernameRE.MatchString(name) {
		writeSCIMError(w, badRequest("invalidValue", "31301 - Username %s is not valid. User name must be a non null string with following format, ^[\\S]{3,30}$", name))
		return
	}
	if in.password != nil {
		if e := s.checkPasswordPolicy(*in.password); e != nil {
			writeSCIMError(w, e)
			return
		}
	}
	now := s.now()
	u := &user{ID: newUUID(), Domain: domain, Name: name, Attrs: in.attrs, Created: now, Modified: now}
	if in.password != nil {
		u.setPassword(*in.password)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.userByKey[u.key()] != nil {
		writeSCIMError(w, &scimErr{status: 409, scimType: "uniqueness",
			detail: fmt.Sprintf("User with the name: %s already exists in the system.", u.wireName())})
		return
	}
	s.st.insertUser(u)
	body := s.userWireLocked(u)
	w.Header().Set("Location", body["meta"].(map[string]any)["location"].(string))
	writeJSON(w, http.StatusCreated, scimCT, body)
}

func userNotFound(id string) *scimErr {
	return &scimErr{status: 404, detail: fmt.Sprintf("No user with the id : %s in the user store.", id)}
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	serveSCIMGet(s, w, r, "internal_user_mgt_view", func(st *store) map[string]*user { return st.users }, userNotFound,
		s.userWireLocked)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p := s.guard(w, r, "internal_login")
	if p == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p.user == nil || s.st.users[p.user.ID] == nil {
		writeSCIMError(w, &scimErr{status: 404, detail: "No user associated with the access token."})
		return
	}
	writeJSON(w, http.StatusOK, scimCT, projectQuery(s.userWireLocked(p.user), queryMap(r)))
}

func (s *Server) handlePutUser(w http.ResponseWriter, r *http.Request) {
	var raw map[string]any
	id, ok := s.guardedJSON(w, r, "internal_user_mgt_update", &raw)
	if !ok {
		return
	}
	in, e := parseUserInput(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	if in.password != nil {
		if e := s.checkPasswordPolicy(*in.password); e != nil {
			writeSCIMError(w, e)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := foundLocked(w, s.st.users, id, userNotFound)
	if u == nil {
		return
	}
	if in.userName == "" {
		writeSCIMError(w, badRequest("invalidValue", "Required attribute userName is missing in the SCIM User object."))
		return
	}
	if d, n := splitDomain(in.userName); d != u.Domain || !strings.EqualFold(n, u.Name) {
		writeSCIMError(w, badRequest("mutability", "Attribute userName is immutable and cannot be updated."))
		return
	}
	// PUT replaces every attribute; an omitted password keeps the old one.
	u.Attrs = in.attrs
	if in.password != nil {
		u.setPassword(*in.password)
	}
	u.Modified = s.now()
	writeJSON(w, http.StatusOK, scimCT, projectQuery(s.userWireLocked(u), queryMap(r)))
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	if s.guard(w, r, "internal_user_mgt_delete") == nil {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := foundLocked(w, s.st.users, id, userNotFound)
	if u == nil {
		return
	}
	s.st.removeUser(u)
	for k, t := range s.st.tokens {
		if t.UserID == id {
			delete(s.st.tokens, k)
		}
	}
	for k, t := range s.st.refresh {
		if t.UserID == id {
			delete(s.st.refresh, k)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- PATCH ----

func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	id, pr, ok := s.guardedPatch(w, r, "internal_user_mgt_update")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := foundLocked(w, s.st.users, id, userNotFound)
	if u == nil {
		return
	}
	attrs := deepCopyMap(u.Attrs)
	if attrs == nil {
		attrs = map[string]any{}
	}
	var newPassword *string
	for _, op := range pr.Operations {
		pw, e := s.applyUserOp(u, attrs, op)
		if e != nil {
			writeSCIMError(w, e)
			return
		}
		if pw != nil {
			newPassword = pw
		}
	}
	u.Attrs = attrs
	if newPassword != nil {
		u.setPassword(*newPassword)
	}
	u.Modified = s.now()
	writeJSON(w, http.StatusOK, scimCT, projectQuery(s.userWireLocked(u), queryMap(r)))
}

func (s *Server) applyUserOp(u *user, attrs map[string]any, op patchOp) (*string, *scimErr) {
	var val any
	if len(op.Value) > 0 {
		if err := json.Unmarshal(op.Value, &val); err != nil {
			return nil, badRequest("invalidSyntax", "Invalid patch value.")
		}
	}
	if op.Path == "" {
		if op.Op == "remove" {
			return nil, badRequest("noTarget", "Path is required for remove operations.")
		}
		obj, ok := val.(map[string]any)
		if !ok {
			return nil, badRequest("invalidValue", "Value must be an object when no path is given.")
		}
		var pw *string
		for k, v := range obj {
			switch strings.ToLower(k) {
			case "password":
				s2, ok := v.(string)
				if !ok {
					return nil, badRequest("invalidValue", "password must be a string.")
				}
				if e := s.checkPasswordPolicy(s2); e != nil {
					return nil, e
				}
				pw = &s2
				continue
			case "username":
				if sv, _ := v.(string); !sameUserName(u, sv) {
					return nil, badRequest("mutability", "Attribute userName is immutable and cannot be updated.")
				}
				continue
			case "roles", "groups":
				return nil, badRequest("mutability", "Attribute %s is read-only for users; use the Roles/Groups endpoints.", k)
			case "id", "meta", "schemas":
				continue
			}
			key := canonicalAttr(k)
			if key == "" {
				continue
			}
			nv, e := normaliseAttr(key, v)
			if e != nil {
				return nil, e
			}
			mergeAttr(attrs, key, nv, op.Op == "add")
		}
		return pw, nil
	}
	pp, e := parsePatchPath(op.Path)
	if e != nil {
		return nil, e
	}
	switch strings.ToLower(pp.attr) {
	case "password":
		if op.Op == "remove" {
			return nil, badRequest("mutability", "password cannot be removed.")
		}
		s2, ok := val.(string)
		if !ok {
			return nil, badRequest("invalidValue", "password must be a string.")
		}
		if e := s.checkPasswordPolicy(s2); e != nil {
			return nil, e
		}
		return &s2, nil
	case "username":
		if sv, _ := val.(string); op.Op == "remove" || !sameUserName(u, sv) {
			return nil, badRequest("mutability", "Attribute userName is immutable and cannot be updated.")
		}
		return nil, nil
	case "roles", "groups":
		return nil, badRequest("mutability", "Attribute %s is read-only for users; use the Roles/Groups endpoints.", pp.attr)
	}
	key := canonicalAttr(pp.attr)
	if key == "" {
		return nil, badRequest("invalidPath", "Attribute %s is not defined in the user schema.", pp.attr)
	}
	switch {
	case pp.filter != nil:
		arr, _ := attrs[key].([]any)
		var out []any
		matched := false
		for _, el := range arr {
			if !valueMatches(el, pp.filter) {
				out = append(out, el)
				continue
			}
			matched = true
			if op.Op == "remove" {
				if pp.sub != "" {
					if m, ok := el.(map[string]any); ok {
						delete(m, pp.sub)
						out = append(out, m)
					}
				}
				continue
			}
			if pp.sub != "" {
				if m, ok := el.(map[string]any); ok {
					m[pp.sub] = val
					out = append(out, m)
					continue
				}
			}
			if nv, ok := val.(map[string]any); ok {
				out = append(out, nv)
			} else {
				out = append(out, el)
			}
		}
		if !matched && op.Op == "remove" {
			return nil, nil
		}
		if len(out) == 0 {
			delete(attrs, key)
		} else {
			attrs[key] = out
		}
	case pp.sub != "":
		m, _ := attrs[key].(map[string]any)
		if op.Op == "remove" {
			if m != nil {
				if k := findKey(m, pp.sub); k != "" {
					delete(m, k)
				}
				if len(m) == 0 {
					delete(attrs, key)
				}
			}
			return nil, nil
		}
		if m == nil {
			m = map[string]any{}
			attrs[key] = m
		}
		sk := findKey(m, pp.sub)
		if sk == "" {
			sk = pp.sub
		}
		m[sk] = val
	default:
		if op.Op == "remove" {
			delete(attrs, key)
			return nil, nil
		}
		nv, e := normaliseAttr(key, val)
		if e != nil {
			return nil, e
		}
		mergeAttr(attrs, key, nv, op.Op == "add")
	}
	return nil, nil
}

func sameUserName(u *user, v string) bool {
	d, n := splitDomain(v)
	return d == u.Domain && strings.EqualFold(n, u.Name)
}

// mergeAttr applies an add/replace of a whole attribute: multi-valued add
// appends (skipping equal values), complex attributes merge their
// sub-attributes, everything else is replaced.
func mergeAttr(attrs map[string]any, key string, v any, add bool) {
	if multiValued[key] {
		nv, _ := v.([]any)
		if !add {
			attrs[key] = nv
			return
		}
		old, _ := attrs[key].([]any)
		for _, x := range nv {
			dup := false
			for _, o := range old {
				if sameValue(o, x) {
					dup = true
					break
				}
			}
			if !dup {
				old = append(old, x)
			}
		}
		attrs[key] = old
		return
	}
	if nm, ok := v.(map[string]any); ok {
		old, _ := attrs[key].(map[string]any)
		if old == nil {
			old = map[string]any{}
		}
		for k, x := range nm {
			old[k] = x
		}
		attrs[key] = old
		return
	}
	attrs[key] = v
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return fmt.Sprint(am["value"]) == fmt.Sprint(bm["value"])
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}
