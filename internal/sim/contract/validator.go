// Package contract checks the simulator against the official WSO2 specs:
// a middleware (installed through sim.Options.Middleware) validates every
// request a test sends and every response the simulator gives against the
// operation the request matched — path, parameters, body schema and the
// declared status codes — with kin-openapi's openapi3filter. Known spec
// bugs are allowed only through the Errata list, one entry per deviation.
//
// Any test can get a validating simulator with contract.Start; violations
// fail the test when it ends.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

func init() {
	// IS SCIM speaks application/scim+json; validate it as JSON.
	openapi3filter.RegisterBodyDecoder("application/scim+json", openapi3filter.JSONBodyDecoder)
}

// Phase says which side of an exchange a check concerns.
type Phase string

// Phases.
const (
	PhaseRequest  Phase = "request"
	PhaseResponse Phase = "response"
)

// Violation is one failed check.
type Violation struct {
	Server string
	Op     string // the route pattern, "METHOD /base/path"
	Method string
	Path   string
	Status int
	Phase  Phase
	Err    string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s %s (%s, status %d) %s: %s", v.Method, v.Path, v.Op, v.Status, v.Phase, v.Err)
}

// Coverage records which operations were validated with which statuses,
// and which errata were needed. Share one across the tests of a package to
// assert that every route is exercised. Safe for concurrent use.
type Coverage struct {
	mu         sync.Mutex
	hits       map[string]map[int]int
	errataUsed map[int]int
}

// NewCoverage returns an empty Coverage.
func NewCoverage() *Coverage {
	return &Coverage{hits: map[string]map[int]int{}, errataUsed: map[int]int{}}
}

func (c *Coverage) hit(server, op string, status int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := server + " " + op
	m := c.hits[k]
	if m == nil {
		m = map[int]int{}
		c.hits[k] = m
	}
	m[status]++
}

func (c *Coverage) useErratum(i int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errataUsed[i]++
}

// Statuses returns the statuses validated for op ("METHOD /base/path") of
// server ("apim" or "is").
func (c *Coverage) Statuses(server, op string) map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int]int{}
	for k, v := range c.hits[server+" "+op] {
		out[k] = v
	}
	return out
}

// ErrataUsed reports how often each Errata entry (by index) excused a
// validation error.
func (c *Coverage) ErrataUsed() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int]int{}
	for k, v := range c.errataUsed {
		out[k] = v
	}
	return out
}

// Validator is the validating middleware. Safe for concurrent use.
type Validator struct {
	specs *Specs
	cov   *Coverage

	mu         sync.Mutex
	violations []Violation
	checked    int
	// scopesOf resolves an APIM bearer token to its scopes (set by Start
	// once the simulator runs); nil skips the security check.
	scopesOf func(token string) ([]string, bool)
}

// NewValidator validates against specs and records into cov (may be nil).
func NewValidator(specs *Specs, cov *Coverage) *Validator {
	return &Validator{specs: specs, cov: cov}
}

// Violations returns what failed so far.
func (v *Validator) Violations() []Violation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Violation(nil), v.violations...)
}

// Checked is the number of exchanges validated against a spec.
func (v *Validator) Checked() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.checked
}

// Report fails t once per violation (call it after the traffic ended).
func (v *Validator) Report(t testing.TB) {
	t.Helper()
	for _, x := range v.Violations() {
		t.Errorf("contract: %s", x)
	}
}

// Start is sim.Start with every exchange validated against the official
// specs; violations fail t at cleanup. cov may be nil.
func Start(t testing.TB, opts sim.Options, cov *Coverage) (*sim.Sim, *Validator) {
	t.Helper()
	specs, err := LoadSpecs()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	v := NewValidator(specs, cov)
	// Registered before sim.Start's cleanup, so it runs after the
	// servers are closed and all traffic is over.
	t.Cleanup(func() { v.Report(t) })
	prev := opts.Middleware
	opts.Middleware = func(server string, next http.Handler) http.Handler {
		if prev != nil {
			next = prev(server, next)
		}
		return v.Middleware(server, next)
	}
	s := sim.Start(t, opts)
	v.mu.Lock()
	v.scopesOf = s.APIM().TokenScopes
	v.mu.Unlock()
	return s, v
}

func (v *Validator) violate(x Violation) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations = append(v.violations, x)
}

// maxCapture bounds the response body kept for validation.
const maxCapture = 8 << 20

type capture struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.buf.Len() < maxCapture {
		c.buf.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Middleware validates each exchange of server.
func (v *Validator) Middleware(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri, ok := sim.RouteFromContext(r.Context())
		if !ok || !ri.Declared {
			// Not one of the operations the server declares (a 404 from
			// the mux): nothing to validate against.
			next.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		// Keep the request as the client sent it; handlers may change r.
		orig := r.Clone(context.Background())
		cw := &capture{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		status := cw.status
		if status == 0 {
			status = http.StatusOK
		}
		if cw.Header().Get(sim.FaultHeader) != "" {
			return // made up by fault injection (outside this layer anyway)
		}
		v.check(server, ri, orig, reqBody, status, cw.Header().Clone(), cw.buf.Bytes())
	})
}

func (v *Validator) check(server string, ri sim.RouteInfo, r *http.Request, reqBody []byte,
	status int, hdr http.Header, body []byte) {
	op := ri.Route.Pattern()
	base := Violation{Server: server, Op: op, Method: r.Method, Path: r.URL.Path, Status: status}
	fail := func(phase Phase, err string) {
		x := base
		x.Phase, x.Err = phase, err
		v.violate(x)
	}
	if ri.Route.Spec == "" {
		// No official spec covers it (token, JWKS, discovery): counted,
		// checked by the scenario tests instead.
		v.cov.hit(server, op, status)
		return
	}
	doc := v.specs.Docs[ri.Route.Spec]
	if doc == nil {
		fail(PhaseRequest, fmt.Sprintf("route names spec %q, which is not loaded", ri.Route.Spec))
		return
	}
	pi := doc.Paths.Value(ri.Route.Path)
	if pi == nil {
		fail(PhaseRequest, fmt.Sprintf("path %q is not in %s", ri.Route.Path, ri.Route.Spec))
		return
	}
	oper := pi.GetOperation(ri.Route.Method)
	if oper == nil {
		fail(PhaseRequest, fmt.Sprintf("%s %s is not an operation of %s", ri.Route.Method, ri.Route.Path, ri.Route.Spec))
		return
	}
	params, err := pathParams(ri.Route, r.URL.EscapedPath())
	if err != nil {
		fail(PhaseRequest, err.Error())
		return
	}
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	req.ContentLength = int64(len(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route: &routers.Route{Spec: doc, Path: ri.Route.Path, PathItem: pi,
			Method: ri.Route.Method, Operation: oper},
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	ctx := context.Background()
	if err := v.validateRequest(ctx, in, reqBody); err != nil {
		var bad []string
		for _, msg := range err {
			if i, ok := v.allowed(ri.Route, PhaseRequest, status, msg); ok {
				v.cov.useErratum(i)
				continue
			}
			bad = append(bad, msg)
		}
		// A request the spec rejects must be rejected by the server too
		// (negative tests send such requests on purpose); accepting it
		// is a violation.
		if len(bad) > 0 && (status < 400 || status >= 500) {
			for _, msg := range bad {
				fail(PhaseRequest, fmt.Sprintf("server answered %d to a request the spec rejects: %s", status, msg))
			}
		}
	}
	if msg := v.checkScopes(oper, doc, r, status); msg != "" {
		if i, ok := v.allowed(ri.Route, PhaseRequest, status, msg); ok {
			v.cov.useErratum(i)
		} else {
			fail(PhaseRequest, msg)
		}
	}
	// The request is replayed from the copy for response validation.
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 hdr,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	respOK := true
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		for _, msg := range flatten(err) {
			if i, ok := v.allowed(ri.Route, PhaseResponse, status, msg); ok {
				v.cov.useErratum(i)
				continue
			}
			respOK = false
			fail(PhaseResponse, msg)
		}
	}
	v.mu.Lock()
	v.checked++
	v.mu.Unlock()
	if respOK {
		v.cov.hit(server, op, status)
	}
}

// validateRequest validates the request; when its media type is refused
// only because the operation declares another JSON type (IS SCIM declares
// application/scim+json and accepts application/json, WSO2-API.md §3.8),
// the body is validated again under the declared type, so a body is never
// left unchecked.
func (v *Validator) validateRequest(ctx context.Context, in *openapi3filter.RequestValidationInput, body []byte) []string {
	err := openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	msgs := flatten(err)
	ct := in.Request.Header.Get("Content-Type")
	alt := jsonAlternative(in.Route.Operation, ct)
	if alt == "" || !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "header Content-Type has unexpected value") }) {
		return msgs
	}
	req := in.Request.Clone(context.Background())
	req.Header.Set("Content-Type", alt)
	req.Body = io.NopCloser(bytes.NewReader(body))
	again := *in
	again.Request = req
	if err := openapi3filter.ValidateRequest(ctx, &again); err != nil {
		for _, m := range flatten(err) {
			if !slices.Contains(msgs, m) {
				msgs = append(msgs, m)
			}
		}
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	return msgs
}

// jsonAlternative is the JSON media type the operation declares for its
// body when the request sent plain application/json and the operation
// does not list it ("" otherwise).
func jsonAlternative(op *openapi3.Operation, ct string) string {
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return ""
	}
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(mt) != "application/json" {
		return ""
	}
	content := op.RequestBody.Value.Content
	if content.Get("application/json") != nil {
		return ""
	}
	for name := range content {
		if strings.HasSuffix(name, "+json") {
			return name
		}
	}
	return ""
}

// checkScopes checks a successful APIM exchange against the operation's
// OAuth2 security requirement: the bearer token must hold at least one of
// the scopes it lists (WSO2-API.md §2.3). A 2xx to a token without any is
// a violation of the simulator (it must answer 403, code 900910).
func (v *Validator) checkScopes(op *openapi3.Operation, doc *openapi3.T, r *http.Request, status int) string {
	if status < 200 || status >= 300 {
		return ""
	}
	v.mu.Lock()
	scopesOf := v.scopesOf
	v.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if scopesOf == nil || !ok {
		return ""
	}
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var want []string
	for _, req := range reqs {
		for scheme, scopes := range req {
			if ss := doc.Components.SecuritySchemes[scheme]; ss == nil || ss.Value == nil || ss.Value.Type != "oauth2" {
				continue
			}
			want = append(want, scopes...)
		}
	}
	if len(want) == 0 {
		return ""
	}
	have, live := scopesOf(strings.TrimSpace(tok))
	if !live {
		return fmt.Sprintf("answered %d to an unknown or expired token", status)
	}
	if slices.ContainsFunc(want, func(s string) bool { return slices.Contains(have, s) }) {
		return ""
	}
	return fmt.Sprintf("answered %d to a token holding none of the operation's scopes %v (token scopes %v)", status, want, have)
}

// allowed finds the erratum that excuses msg.
func (v *Validator) allowed(rt simcore.Route, phase Phase, status int, msg string) (int, bool) {
	for i, e := range Errata {
		if e.Fix != nil || e.DedupKeys || e.Phase != phase {
			continue
		}
		if e.Spec != "" && e.Spec != rt.Spec {
			continue
		}
		if e.Op != "" && e.Op != rt.Pattern() {
			continue
		}
		if e.Status != 0 && e.Status != status {
			continue
		}
		if e.Match != "" && !strings.Contains(msg, e.Match) {
			continue
		}
		return i, true
	}
	return -1, false
}

// flatten turns a (multi) validation error into one line per problem.
func flatten(err error) []string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var out []string
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return []string{msg}
}

// pathParams matches the request path against the route's template.
func pathParams(rt simcore.Route, path string) (map[string]string, error) {
	p := strings.TrimPrefix(path, "/t/carbon.super")
	if !strings.HasPrefix(p, rt.BasePath) {
		return nil, fmt.Errorf("path %q is not under base path %q", path, rt.BasePath)
	}
	p = strings.TrimPrefix(p, rt.BasePath)
	tmpl := strings.Split(strings.Trim(rt.Path, "/"), "/")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(tmpl) != len(segs) {
		return nil, fmt.Errorf("path %q does not match template %q", path, rt.Path)
	}
	out := map[string]string{}
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			val, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, err
			}
			out[t[1:len(t)-1]] = val
			continue
		}
		if t != segs[i] {
			return nil, fmt.Errorf("path %q does not match template %q", path, rt.Path)
		}
	}
	return out, nil
}

// SortedOps returns the keys of m sorted.
func SortedOps[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
