package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server names used in stats, logs, fault rules and RouteInfo.
const (
	ServerAPIM = "apim"
	ServerIS   = "is"
)

// FaultHeader is set on every response the fault middleware makes up
// (value "5xx" or "429"), so tests and the contract validator can tell an
// injected failure from the server's own.
const FaultHeader = "X-Wso2sim-Fault"

// Duration is a time.Duration that reads and writes JSON as "20ms" (a
// number is taken as nanoseconds).
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "20ms" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want \"20ms\" or nanoseconds, got %s", b)
	}
	*d = Duration(n)
	return nil
}

// FaultRule is one set of faults, applied to all routes or one route of
// one or both servers. Zero fields inject nothing.
type FaultRule struct {
	// Server limits the rule to "apim" or "is"; "" is both.
	Server string `json:"server,omitempty"`
	// Route limits the rule to one route pattern, "METHOD /path" as the
	// server's ServeMux names it (e.g. "POST /api/am/devportal/v3/applications");
	// "" is every route.
	Route string `json:"route,omitempty"`

	// Latency delays every matching request by Latency ± a uniform Jitter.
	Latency Duration `json:"latency,omitempty"`
	Jitter  Duration `json:"jitter,omitempty"`
	// P5xx is the probability (0..1) of answering Status5xx (default 500)
	// with the server family's error body instead of calling the handler.
	P5xx      float64 `json:"p5xx,omitempty"`
	Status5xx int     `json:"status5xx,omitempty"`
	// Burst429 answers the next Burst429 matching requests with 429 and a
	// Retry-After of RetryAfter (default 1s), then lets requests through.
	// The burst is re-armed whenever the fault configuration is set.
	Burst429 int `json:"burst429,omitempty"`
	// P429 answers 429 with this probability (independent of Burst429).
	P429       float64  `json:"p429,omitempty"`
	RetryAfter Duration `json:"retryAfter,omitempty"`
	// PReset is the probability of resetting the TCP connection (RST,
	// no response) instead of answering.
	PReset float64 `json:"pReset,omitempty"`

	// After is a post-commit fault: the handler runs and its change is
	// made, then the client sees a failure instead of the answer, so it
	// cannot know the write landed. AfterFault5xx answers 500 with the
	// family's error body, AfterFaultReset resets the connection,
	// AfterFaultTimeout answers nothing until the client gives up (then
	// resets), and AfterFaultHalf makes a handler with a documented
	// half-failure fail half-way (generate-keys: the IS client is
	// created, no mapping is stored, 500; WSO2-API.md §5.4); other
	// handlers serve such a request normally. PAfter is the probability;
	// AfterCount fails the next AfterCount matching requests (re-armed
	// whenever the configuration is set, like Burst429).
	After      string  `json:"after,omitempty"`
	PAfter     float64 `json:"pAfter,omitempty"`
	AfterCount int     `json:"afterCount,omitempty"`
}

// Post-commit fault kinds (FaultRule.After).
const (
	AfterFault5xx     = "5xx"
	AfterFaultReset   = "reset"
	AfterFaultTimeout = "timeout"
	AfterFaultHalf    = "half"
)

// afterTimeoutCap bounds how long a post-commit timeout holds a request
// whose client never gives up.
const afterTimeoutCap = 2 * time.Minute

// FaultConfig is the complete fault set: the rules are merged per field,
// the most specific rule (server+route, route, server, global) winning.
type FaultConfig struct {
	Rules []FaultRule `json:"rules"`
}

// Validate checks probabilities, statuses and server names.
func (c FaultConfig) Validate() error {
	for i, r := range c.Rules {
		where := fmt.Sprintf("fault rule %d", i+1)
		if r.Server != "" && r.Server != ServerAPIM && r.Server != ServerIS {
			return fmt.Errorf("%s: server %q: want %q or %q", where, r.Server, ServerAPIM, ServerIS)
		}
		if r.Route != "" {
			m, p, ok := strings.Cut(r.Route, " ")
			if !ok || m == "" || !strings.HasPrefix(p, "/") || strings.ToUpper(m) != m {
				return fmt.Errorf("%s: route %q: want \"METHOD /path\"", where, r.Route)
			}
		}
		switch r.After {
		case "", AfterFault5xx, AfterFaultReset, AfterFaultTimeout, AfterFaultHalf:
		default:
			return fmt.Errorf("%s: after %q: want 5xx, reset, timeout or half", where, r.After)
		}
		if r.After == "" && (r.PAfter > 0 || r.AfterCount > 0) {
			return fmt.Errorf("%s: a post-commit fault needs its kind (after)", where)
		}
		for name, p := range map[string]float64{"5xx": r.P5xx, "429": r.P429, "reset": r.PReset, "after": r.PAfter} {
			if p < 0 || p > 1 {
				return fmt.Errorf("%s: %s probability %v not in 0..1", where, name, p)
			}
		}
		if r.Status5xx != 0 && (r.Status5xx < 500 || r.Status5xx > 599) {
			return fmt.Errorf("%s: status %d is not a 5xx", where, r.Status5xx)
		}
		if r.Latency < 0 || r.Jitter < 0 || r.RetryAfter < 0 || r.Burst429 < 0 || r.AfterCount < 0 {
			return fmt.Errorf("%s: negative value", where)
		}
	}
	return nil
}

// ParseFaults parses the --faults flag syntax into a FaultConfig.
//
// The spec is a comma-separated list of items. Items are key=value pairs,
// optionally prefixed by a server ("apim." or "is."):
//
//	latency=20ms        fixed latency
//	latency=20ms±5ms    latency with uniform jitter (also 20ms+-5ms)
//	5xx=0.05            probability of a 500 with the family's error body
//	5xx=0.05@503        … with another 5xx status
//	429=10              the next 10 requests get 429 (Retry-After: 1)
//	429=10@2s           … with Retry-After: 2
//	429=0.1@1s          a value with a dot is a probability instead
//	reset=0.01          probability of a TCP reset
//
// Post-commit faults (the handler runs and its change is made, then the
// client sees the failure) take a probability (with a dot) or a count of
// next requests:
//
//	after5xx=0.1        500 after the write
//	afterreset=2        the next 2 requests: connection reset after the write
//	aftertimeout=1      no answer after the write until the client gives up
//	half=1              a documented half-failure (generate-keys: IS client
//	                    created, no key mapping, 500)
//
// An item "route=[apim |is ]METHOD /path:key=value;key=value" adds a rule
// for one route pattern, e.g.
//
//	route=POST /api/am/devportal/v3/applications:5xx=1.0;latency=50ms
//
// "none" or "" is the empty configuration.
func ParseFaults(spec string) (FaultConfig, error) {
	spec = strings.TrimSpace(spec)
	var cfg FaultConfig
	if spec == "" || spec == "none" {
		return cfg, nil
	}
	global := map[string]*FaultRule{}
	var order []string
	ruleFor := func(server string) *FaultRule {
		if r, ok := global[server]; ok {
			return r
		}
		r := &FaultRule{Server: server}
		global[server] = r
		order = append(order, server)
		return r
	}
	var routes []FaultRule
	for _, item := range splitItems(spec) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		if !ok {
			return FaultConfig{}, fmt.Errorf("faults: %q: want key=value", item)
		}
		key = strings.TrimSpace(key)
		if key == "route" {
			r, err := parseRouteItem(val)
			if err != nil {
				return FaultConfig{}, err
			}
			routes = append(routes, r)
			continue
		}
		server := ""
		if p, k, ok := strings.Cut(key, "."); ok && (p == ServerAPIM || p == ServerIS) {
			server, key = p, k
		}
		if err := setFaultKey(ruleFor(server), key, strings.TrimSpace(val)); err != nil {
			return FaultConfig{}, err
		}
	}
	for _, s := range order {
		cfg.Rules = append(cfg.Rules, *global[s])
	}
	cfg.Rules = append(cfg.Rules, routes...)
	return cfg, cfg.Validate()
}

// splitItems splits on commas that are not inside a route item's
// key=value list (route items use ';' between their settings, so a plain
// split works; kept as a function to document that).
func splitItems(spec string) []string { return strings.Split(spec, ",") }

func parseRouteItem(val string) (FaultRule, error) {
	val = strings.TrimSpace(val)
	var r FaultRule
	for _, s := range []string{ServerAPIM, ServerIS} {
		if strings.HasPrefix(val, s+" ") {
			r.Server = s
			val = strings.TrimSpace(val[len(s)+1:])
		}
	}
	method, rest, ok := strings.Cut(val, " ")
	if !ok {
		return r, fmt.Errorf("faults: route %q: want \"METHOD /path:key=value\"", val)
	}
	path, settings, ok := strings.Cut(strings.TrimSpace(rest), ":")
	if !ok {
		return r, fmt.Errorf("faults: route %q: missing \":key=value\" after the path", val)
	}
	r.Route = strings.ToUpper(method) + " " + strings.TrimSpace(path)
	for _, kv := range strings.Split(settings, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return r, fmt.Errorf("faults: route %q: %q: want key=value", r.Route, kv)
		}
		if err := setFaultKey(&r, strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return r, err
		}
	}
	return r, nil
}

func setFaultKey(r *FaultRule, key, val string) error {
	bad := func(err error) error { return fmt.Errorf("faults: %s=%s: %v", key, val, err) }
	switch key {
	case "latency":
		base, jit := val, ""
		for _, sep := range []string{"±", "+-", "~"} {
			if b, j, ok := strings.Cut(val, sep); ok {
				base, jit = b, j
				break
			}
		}
		d, err := time.ParseDuration(base)
		if err != nil {
			return bad(err)
		}
		r.Latency = Duration(d)
		if jit != "" {
			j, err := time.ParseDuration(jit)
			if err != nil {
				return bad(err)
			}
			r.Jitter = Duration(j)
		}
	case "5xx":
		p, st, _ := strings.Cut(val, "@")
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return bad(err)
		}
		r.P5xx = f
		if st != "" {
			n, err := strconv.Atoi(st)
			if err != nil {
				return bad(err)
			}
			r.Status5xx = n
		}
	case "429":
		n, ra, _ := strings.Cut(val, "@")
		if strings.Contains(n, ".") {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return bad(err)
			}
			r.P429 = f
		} else {
			c, err := strconv.Atoi(n)
			if err != nil {
				return bad(err)
			}
			r.Burst429 = c
		}
		if ra != "" {
			d, err := time.ParseDuration(ra)
			if err != nil {
				return bad(err)
			}
			r.RetryAfter = Duration(d)
		}
	case "reset":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return bad(err)
		}
		r.PReset = f
	case "after5xx", "afterreset", "aftertimeout", "half":
		r.After = strings.TrimPrefix(key, "after")
		r.PAfter, r.AfterCount = 0, 0
		if strings.Contains(val, ".") {
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return bad(err)
			}
			r.PAfter = f
		} else {
			n, err := strconv.Atoi(val)
			if err != nil {
				return bad(err)
			}
			r.AfterCount = n
		}
	default:
		return fmt.Errorf("faults: unknown key %q (want latency, 5xx, 429, reset, after5xx, afterreset, aftertimeout, half or route)", key)
	}
	return nil
}

// String renders the configuration in the --faults syntax.
func (c FaultConfig) String() string {
	var items []string
	for _, r := range c.Rules {
		kv := r.keyValues()
		if r.Route != "" {
			p := r.Route
			if r.Server != "" {
				p = r.Server + " " + p
			}
			items = append(items, "route="+p+":"+strings.Join(kv, ";"))
			continue
		}
		for _, x := range kv {
			if r.Server != "" {
				x = r.Server + "." + x
			}
			items = append(items, x)
		}
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ",")
}

func (r FaultRule) keyValues() []string {
	var kv []string
	if r.Latency > 0 || r.Jitter > 0 {
		s := "latency=" + time.Duration(r.Latency).String()
		if r.Jitter > 0 {
			s += "±" + time.Duration(r.Jitter).String()
		}
		kv = append(kv, s)
	}
	if r.P5xx > 0 {
		s := "5xx=" + strconv.FormatFloat(r.P5xx, 'g', -1, 64)
		if r.Status5xx != 0 {
			s += "@" + strconv.Itoa(r.Status5xx)
		}
		kv = append(kv, s)
	}
	ra := ""
	if r.RetryAfter > 0 {
		ra = "@" + time.Duration(r.RetryAfter).String()
	}
	if r.Burst429 > 0 {
		kv = append(kv, "429="+strconv.Itoa(r.Burst429)+ra)
	}
	if r.P429 > 0 {
		p := strconv.FormatFloat(r.P429, 'f', -1, 64)
		if !strings.Contains(p, ".") {
			p += ".0"
		}
		kv = append(kv, "429="+p+ra)
	}
	if r.PReset > 0 {
		kv = append(kv, "reset="+strconv.FormatFloat(r.PReset, 'g', -1, 64))
	}
	if r.After != "" {
		k := "after" + r.After
		if r.After == AfterFaultHalf {
			k = AfterFaultHalf
		}
		if r.AfterCount > 0 {
			kv = append(kv, k+"="+strconv.Itoa(r.AfterCount))
		}
		if r.PAfter > 0 {
			p := strconv.FormatFloat(r.PAfter, 'f', -1, 64)
			if !strings.Contains(p, ".") {
				p += ".0"
			}
			kv = append(kv, k+"="+p)
		}
	}
	return kv
}

// Faults is the live fault configuration of a Sim. Safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	cfg    FaultConfig
	bursts []int // remaining 429s per rule
	afters []int // remaining post-commit faults per rule
	rng    *mrand.Rand
}

func newFaults(seed uint64) *Faults {
	if seed == 0 {
		seed = 1
	}
	return &Faults{rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Set replaces the configuration and re-arms 429 bursts.
func (f *Faults) Set(cfg FaultConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = FaultConfig{Rules: append([]FaultRule(nil), cfg.Rules...)}
	f.bursts = make([]int, len(cfg.Rules))
	f.afters = make([]int, len(cfg.Rules))
	for i, r := range cfg.Rules {
		f.bursts[i] = r.Burst429
		f.afters[i] = r.AfterCount
	}
	return nil
}

// SetSpec parses spec (ParseFaults syntax) and installs it.
func (f *Faults) SetSpec(spec string) error {
	cfg, err := ParseFaults(spec)
	if err != nil {
		return err
	}
	return f.Set(cfg)
}

// Clear removes every fault.
func (f *Faults) Clear() { _ = f.Set(FaultConfig{}) }

// Config returns a copy of the configuration.
func (f *Faults) Config() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FaultConfig{Rules: append([]FaultRule{}, f.cfg.Rules...)}
}

// Seed reseeds the random source deciding probabilistic faults.
func (f *Faults) Seed(seed uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if seed == 0 {
		seed = 1
	}
	f.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// decision is what the middleware does to one request.
type decision struct {
	delay      time.Duration
	reset      bool
	status     int // 5xx or 429; 0 = call the handler
	retryAfter time.Duration
	// after is the post-commit fault (FaultRule.After) to inject once the
	// handler has run; "" for none.
	after string
}

// decide merges the rules matching (server, route) and draws the dice.
func (f *Faults) decide(server, route string) decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cfg.Rules) == 0 {
		return decision{}
	}
	// Rules by specificity: 3 server+route, 2 route, 1 server, 0 global.
	var byRank [4][]int
	for i, r := range f.cfg.Rules {
		if r.Server != "" && r.Server != server {
			continue
		}
		if r.Route != "" && r.Route != route {
			continue
		}
		rank := 0
		if r.Route != "" {
			rank += 2
		}
		if r.Server != "" {
			rank++
		}
		byRank[rank] = append(byRank[rank], i)
	}
	var ordered []int
	for rank := 3; rank >= 0; rank-- {
		ordered = append(ordered, byRank[rank]...)
	}
	if len(ordered) == 0 {
		return decision{}
	}
	first := func(pick func(FaultRule) bool) (FaultRule, int, bool) {
		for _, i := range ordered {
			if pick(f.cfg.Rules[i]) {
				return f.cfg.Rules[i], i, true
			}
		}
		return FaultRule{}, -1, false
	}
	var d decision
	if r, _, ok := first(func(r FaultRule) bool { return r.Latency > 0 || r.Jitter > 0 }); ok {
		d.delay = time.Duration(r.Latency)
		if r.Jitter > 0 {
			j := time.Duration(f.rng.Int64N(2*int64(r.Jitter)+1)) - time.Duration(r.Jitter)
			d.delay += j
		}
		if d.delay < 0 {
			d.delay = 0
		}
	}
	if r, _, ok := first(func(r FaultRule) bool { return r.PReset > 0 }); ok && f.rng.Float64() < r.PReset {
		d.reset = true
		return d
	}
	retryAfter := func(r FaultRule) time.Duration {
		if r.RetryAfter > 0 {
			return time.Duration(r.RetryAfter)
		}
		return time.Second
	}
	if r, i, ok := first(func(r FaultRule) bool { return r.Burst429 > 0 }); ok && f.bursts[i] > 0 {
		f.bursts[i]--
		d.status, d.retryAfter = http.StatusTooManyRequests, retryAfter(r)
		return d
	}
	if r, _, ok := first(func(r FaultRule) bool { return r.P429 > 0 }); ok && f.rng.Float64() < r.P429 {
		d.status, d.retryAfter = http.StatusTooManyRequests, retryAfter(r)
		return d
	}
	if r, _, ok := first(func(r FaultRule) bool { return r.P5xx > 0 }); ok && f.rng.Float64() < r.P5xx {
		d.status = r.Status5xx
		if d.status == 0 {
			d.status = http.StatusInternalServerError
		}
		return d
	}
	// Post-commit faults, drawn only for requests that reach the handler.
	if r, i, ok := first(func(r FaultRule) bool { return r.AfterCount > 0 }); ok && f.afters[i] > 0 {
		f.afters[i]--
		d.after = r.After
		return d
	}
	if r, _, ok := first(func(r FaultRule) bool { return r.PAfter > 0 }); ok && f.rng.Float64() < r.PAfter {
		d.after = r.After
	}
	return d
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// resetConn answers with a TCP RST: hijack, SO_LINGER 0, close.
func resetConn(w http.ResponseWriter) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	raw := conn
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
		_ = tc.Close()
		return true
	}
	_ = conn.Close()
	return true
}

// writeFault answers status with the error body the endpoint family uses
// (WSO2-API.md §4).
func writeFault(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	kind := "5xx"
	if status == http.StatusTooManyRequests {
		kind = "429"
		secs := int((retryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.Header().Set(FaultHeader, kind)
	p := r.URL.Path
	text := http.StatusText(status)
	desc := "wso2sim injected fault"
	var body any
	ct := "application/json"
	switch {
	case strings.HasPrefix(p, "/scim2"):
		ct = "application/scim+json"
		body = map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"detail":  desc, "status": strconv.Itoa(status),
		}
	case strings.HasPrefix(p, "/api/identity/oauth2/dcr"):
		// IS DCR answers 5xx status-only (no body).
		if status == http.StatusTooManyRequests {
			body = map[string]any{"error": "server_error", "error_description": desc}
		}
	case strings.HasPrefix(p, "/api/server/"):
		body = map[string]any{"code": fmt.Sprintf("SE-%d", status*100), "message": text,
			"description": desc, "traceId": traceID()}
	case strings.HasPrefix(p, "/oauth2/"):
		code := "server_error"
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			code = "temporarily_unavailable"
		}
		body = map[string]any{"error": code, "error_description": desc}
	default: // APIM REST APIs and DCR v0.17
		code, msg := int64(status), text
		if status == http.StatusTooManyRequests {
			code, msg = 900800, "Message throttled out"
		}
		body = map[string]any{"code": code, "message": msg, "description": desc,
			"moreInfo": "", "error": []any{}}
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func traceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
