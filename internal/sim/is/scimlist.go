package is

import (
	"net/http"
	"strings"
)

// Users, Groups and Roles answer GET <resource> and POST <resource>/.search
// the same way: guard the scope, read the query (from the URL or the search
// body), page, filter and write a ListResponse. The helpers here hold that
// shape once; each resource keeps only what differs (its filterable
// attributes, its matcher, its wire form).

// scimListHandlers returns the GET list and POST .search handlers of one
// resource; both end in list with the query as a string map.
func (s *Server) scimListHandlers(scope string, list func(http.ResponseWriter, map[string]string)) (get, search http.HandlerFunc) {
	get = func(w http.ResponseWriter, r *http.Request) {
		if s.guard(w, r, scope) == nil {
			return
		}
		list(w, queryMap(r))
	}
	search = func(w http.ResponseWriter, r *http.Request) {
		if s.guard(w, r, scope) == nil {
			return
		}
		var sr searchRequest
		if e := readJSON(r, &sr); e != nil {
			writeSCIMError(w, e)
			return
		}
		list(w, sr.asQuery())
	}
	return get, search
}

// scimListQuery reads the page and the filter of a list request. attrs are
// the filterable attributes in lower case; none means any attribute is
// accepted (the matcher then decides).
func (s *Server) scimListQuery(q map[string]string, attrs ...string) (page, []filterTerm, *scimErr) {
	pg, e := s.scimPage(q)
	if e != nil {
		return pg, nil, e
	}
	f := strings.TrimSpace(q["filter"])
	if f == "" {
		return pg, nil, nil
	}
	terms, err := parseFilter(f)
	for _, t := range terms {
		if len(attrs) > 0 && !containsFold(attrs, t.attr) {
			err = errInvalidFilter
		}
	}
	if err != nil {
		return pg, nil, badRequest("invalidFilter", "The specified filter syntax is invalid or the specified attribute and filter comparison combination is not supported: %s", f)
	}
	return pg, terms, nil
}

func containsFold(lower []string, s string) bool {
	s = strings.ToLower(s)
	for _, x := range lower {
		if x == s {
			return true
		}
	}
	return false
}

// pageOf counts the items keep accepts and returns the ones on the page.
func pageOf[T any](all []T, pg page, keep func(T) bool) (total int, onPage []T) {
	for _, x := range all {
		if !keep(x) {
			continue
		}
		total++
		if total >= pg.start && len(onPage) < pg.count {
			onPage = append(onPage, x)
		}
	}
	return total, onPage
}

// writeSCIMList writes the ListResponse of one page, each item in its wire
// form cut down to the query's attributes/excludedAttributes.
func writeSCIMList[T any](w http.ResponseWriter, q map[string]string, total int, pg page, onPage []T, wire func(T) map[string]any) {
	items := make([]map[string]any, 0, len(onPage))
	for _, x := range onPage {
		items = append(items, projectQuery(wire(x), q))
	}
	writeJSON(w, http.StatusOK, scimCT, listResponse(total, pg.start, items))
}

// domainNameMatches matches a "DOMAIN/name" or bare name filter value
// against a user's or group's domain and name; a bare name matches in any
// domain.
func domainNameMatches(t filterTerm, domain, name string) bool {
	if strings.Contains(t.value, "/") {
		d, n := splitDomain(t.value)
		return domain == d && matchOp(t.op, name, n)
	}
	return matchOp(t.op, name, t.value)
}
