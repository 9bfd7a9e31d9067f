package is

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const (
	scimCT           = "application/scim+json"
	schemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaWSO2       = "urn:scim:wso2:schema"
	schemaCustom     = "urn:scim:schemas:extension:custom:User"
	schemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaRole       = "urn:ietf:params:scim:schemas:extension:2.0:Role"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaSearch     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// scimErr is a SCIM error answer.
type scimErr struct {
	status   int
	scimType string
	detail   string
}

func (e *scimErr) Error() string { return e.detail }

func badRequest(scimType, format string, a ...any) *scimErr {
	return &scimErr{status: 400, scimType: scimType, detail: fmt.Sprintf(format, a...)}
}

// writeSCIMError writes an RFC 7644 error.
// erratum §7.15: the spec types `schemas` as a string and requires a
// `schema` member; the wire has an array `schemas` and no `schema`.
// `status` is a string on the wire (as the spec says).
func writeSCIMError(w http.ResponseWriter, e *scimErr) {
	body := map[string]any{
		"schemas": []string{schemaError},
		"status":  strconv.Itoa(e.status),
		"detail":  e.detail,
	}
	if e.scimType != "" {
		body["scimType"] = e.scimType
	}
	writeJSON(w, e.status, scimCT, body)
}

// readJSON decodes a request body into v; malformed → 400 invalidSyntax.
func readJSON(r *http.Request, v any) *scimErr {
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return badRequest("invalidSyntax", "Request is unparsable, syntactically incorrect, or violates schema.")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("invalidSyntax", "Request is unparsable, syntactically incorrect, or violates schema.")
	}
	return nil
}

// ---- filters ----

type filterTerm struct {
	attr  string // as written (compared case-insensitively)
	op    string // eq ne co sw ew
	value string
}

var errInvalidFilter = errors.New("invalid filter")

// parseFilter parses `attr op value [and attr op value]...`. Values may be
// quoted or bare (WSO2's own clients send bare values).
func parseFilter(s string) ([]filterTerm, error) {
	toks, err := tokenizeFilter(s)
	if err != nil {
		return nil, err
	}
	var out []filterTerm
	for i := 0; i < len(toks); {
		if len(toks)-i < 3 {
			return nil, errInvalidFilter
		}
		t := filterTerm{attr: toks[i], op: strings.ToLower(toks[i+1]), value: toks[i+2]}
		switch t.op {
		case "eq", "ne", "co", "sw", "ew":
		default:
			return nil, errInvalidFilter
		}
		if t.attr == "" || strings.ContainsAny(t.attr, `"()[]`) {
			return nil, errInvalidFilter
		}
		out = append(out, t)
		i += 3
		if i < len(toks) {
			if !strings.EqualFold(toks[i], "and") || i+1 >= len(toks) {
				return nil, errInvalidFilter
			}
			i++
		}
	}
	if len(out) == 0 {
		return nil, errInvalidFilter
	}
	return out, nil
}

func tokenizeFilter(s string) ([]string, error) {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errInvalidFilter
			}
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// matchOp applies a filter operator case-insensitively.
func matchOp(op, have, want string) bool {
	h, w := strings.ToLower(have), strings.ToLower(want)
	switch op {
	case "eq":
		return h == w
	case "ne":
		return h != w
	case "co":
		return strings.Contains(h, w)
	case "sw":
		return strings.HasPrefix(h, w)
	case "ew":
		return strings.HasSuffix(h, w)
	}
	return false
}

// ---- paging ----

type page struct {
	start, count int
}

// scimPage reads startIndex/count (1-based; count silently capped).
func (s *Server) scimPage(q map[string]string) (page, *scimErr) {
	p := page{start: 1, count: s.opts.MaxSCIMCount}
	if c := s.opts.Knobs.PageCaps().SCIM; c > 0 {
		p.count = c
	}
	if v := q["startIndex"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "Invalid startIndex: %s", v)
		}
		if n > 1 {
			p.start = n
		}
	}
	if v := q["count"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest("invalidValue", "Invalid count: %s", v)
		}
		if n < 0 {
			n = 0
		}
		if n < p.count {
			p.count = n
		}
	}
	return p, nil
}

// listResponse builds a SCIM ListResponse; `Resources` is omitted when
// empty (erratum §7.17/§5.18: 200 with totalResults 0, not 404).
// erratum: UserObjectListResponseObject types `schemas` as object; it is
// an array on the wire.
func listResponse(total, start int, items []map[string]any) map[string]any {
	m := map[string]any{
		"schemas":      []string{schemaList},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(items),
	}
	if len(items) > 0 {
		m["Resources"] = items
	}
	return m
}

// ---- attribute projection ----

// project applies SCIM attributes / excludedAttributes to a resource.
// id, schemas and meta are always kept.
func project(m map[string]any, attributes, excluded []string) map[string]any {
	if len(attributes) > 0 {
		out := map[string]any{}
		for _, k := range []string{"id", "schemas", "meta"} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		for _, a := range attributes {
			top, sub, hasSub := strings.Cut(a, ".")
			key := findKey(m, top)
			if key == "" {
				// URN-qualified attribute, e.g. urn:...:User:employeeNumber.
				continue
			}
			if !hasSub {
				out[key] = m[key]
				continue
			}
			src, ok := m[key].(map[string]any)
			if !ok {
				continue
			}
			dst, _ := out[key].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				out[key] = dst
			}
			if sk := findKey(src, sub); sk != "" {
				dst[sk] = src[sk]
			}
		}
		m = out
	}
	for _, a := range excluded {
		top, sub, hasSub := strings.Cut(a, ".")
		key := findKey(m, top)
		if key == "" || key == "id" || key == "schemas" {
			continue
		}
		if !hasSub {
			delete(m, key)
			continue
		}
		if src, ok := m[key].(map[string]any); ok {
			cp := map[string]any{}
			for k, v := range src {
				if !strings.EqualFold(k, sub) {
					cp[k] = v
				}
			}
			m[key] = cp
		}
	}
	return m
}

func findKey(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ---- PATCH ----

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

type patchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

func readPatch(r *http.Request) (*patchRequest, *scimErr) {
	var pr patchRequest
	if e := readJSON(r, &pr); e != nil {
		return nil, e
	}
	ok := false
	for _, s := range pr.Schemas {
		if s == schemaPatch {
			ok = true
		}
	}
	if !ok || len(pr.Operations) == 0 {
		return nil, badRequest("invalidSyntax", "Request is unparsable, syntactically incorrect, or violates schema.")
	}
	for i := range pr.Operations {
		pr.Operations[i].Op = strings.ToLower(pr.Operations[i].Op)
		switch pr.Operations[i].Op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest("invalidSyntax", "Invalid patch operation: %s", pr.Operations[i].Op)
		}
	}
	return &pr, nil
}

// patchPath is `attr[filter].sub`.
type patchPath struct {
	attr   string
	filter []filterTerm
	sub    string
}

func parsePatchPath(p string) (patchPath, *scimErr) {
	var pp patchPath
	p = strings.TrimSpace(p)
	// URN-qualified extension attribute: urn:...:User:employeeNumber.
	for _, urn := range []string{schemaEnterprise, schemaWSO2, schemaCustom} {
		if strings.HasPrefix(p, urn+":") {
			return patchPath{attr: urn, sub: strings.TrimPrefix(p, urn+":")}, nil
		}
		if p == urn {
			return patchPath{attr: urn}, nil
		}
	}
	p = strings.TrimPrefix(p, schemaUser+":")
	if i := strings.Index(p, "["); i >= 0 {
		j := strings.LastIndex(p, "]")
		if j < i {
			return pp, badRequest("invalidPath", "Invalid path: %s", p)
		}
		f, err := parseFilter(p[i+1 : j])
		if err != nil {
			return pp, badRequest("invalidFilter", "Invalid filter in path: %s", p)
		}
		pp.attr, pp.filter = p[:i], f
		pp.sub = strings.TrimPrefix(p[j+1:], ".")
		return pp, nil
	}
	pp.attr, pp.sub, _ = strings.Cut(p, ".")
	if pp.attr == "" {
		return pp, badRequest("invalidPath", "Invalid path: %s", p)
	}
	return pp, nil
}

// valueMatches applies a path filter to one element of a multi-valued
// attribute (either {"value":...} objects or bare strings).
func valueMatches(elem any, f []filterTerm) bool {
	for _, t := range f {
		var have string
		switch e := elem.(type) {
		case string:
			if !strings.EqualFold(t.attr, "value") {
				return false
			}
			have = e
		case map[string]any:
			k := findKey(e, t.attr)
			if k == "" {
				return false
			}
			have = fmt.Sprint(e[k])
		default:
			return false
		}
		if !matchOp(t.op, have, t.value) {
			return false
		}
	}
	return true
}

func queryMap(r *http.Request) map[string]string {
	m := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// searchRequest is the body of POST .../.search.
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	Domain             string   `json:"domain"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

// asQuery turns a search body into the query map the GET handlers use.
func (sr *searchRequest) asQuery() map[string]string {
	q := map[string]string{}
	if sr.Filter != "" {
		q["filter"] = sr.Filter
	}
	if sr.Domain != "" {
		q["domain"] = sr.Domain
	}
	if sr.StartIndex != nil {
		q["startIndex"] = strconv.Itoa(*sr.StartIndex)
	}
	if sr.Count != nil {
		q["count"] = strconv.Itoa(*sr.Count)
	}
	if len(sr.Attributes) > 0 {
		q["attributes"] = strings.Join(sr.Attributes, ",")
	}
	if len(sr.ExcludedAttributes) > 0 {
		q["excludedAttributes"] = strings.Join(sr.ExcludedAttributes, ",")
	}
	return q
}
