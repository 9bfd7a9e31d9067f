package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// Options configure a Sim. The zero value is a plain-HTTP simulator with
// admin/admin, 3600 s tokens, no faults and no seed.
type Options struct {
	// Clock drives token expiry on both servers; nil → the wall clock.
	// Pass a *simcore.ManualClock to move time by hand.
	Clock simcore.Clock
	// AdminUser and AdminPassword are the super admin of both servers.
	AdminUser, AdminPassword string
	// TokenTTL is the access-token lifetime of both servers (default 3600s).
	TokenTTL time.Duration
	// MaxSCIMCount is IS's silent cap on a SCIM page (default 100).
	MaxSCIMCount int
	// PageCaps are the initial silent page caps of each list family
	// (simcore.PageCaps; zero: the real servers' defaults). Reset restores
	// them; PUT /_sim/knobs changes them.
	PageCaps simcore.PageCaps
	// ISBaseURL overrides the base URL IS derives its token issuer from
	// (issuer = ISBaseURL + "/oauth2/token"); default: the IS listener's
	// URL.
	ISBaseURL string

	// TLS serves both listeners over HTTPS with a self-signed ECDSA
	// certificate for 127.0.0.1, localhost, wso2am and wso2is.
	TLS bool

	// Seed is applied by Start, Serve and New (New panics if it fails; use
	// ApplySeed for an error instead). Reset re-applies it.
	Seed *Estate

	// Faults is the initial fault configuration.
	Faults FaultConfig
	// RandSeed seeds the random source that decides probabilistic faults
	// and jitter (0 → 1), so a run can be repeated exactly.
	RandSeed uint64
	// MaxInFlight caps the requests each server handles at once; excess
	// requests wait (0 = no cap).
	MaxInFlight int
	// LogSize is the capacity of the request log (default 1000).
	LogSize int
	// InProcessConnector makes APIM's IS 7 key manager connector call the
	// IS simulator in process instead of over HTTP (the default, as the
	// real connector does): IS faults, latency, authentication, TLS trust
	// and the contract checks then no longer apply to the connector's
	// calls. For tests that need that leniency, by name.
	InProcessConnector bool
	// SearchLag is the initial search-index lag: APIs stay out of API
	// lists and searches this long after they are created (WSO2-API.md
	// §5.1). Reset keeps it; the knobs change it live.
	SearchLag time.Duration

	// Logger, if set, logs every request at Info (server, method, path,
	// route, status, duration, fault; never headers or bodies).
	Logger *slog.Logger

	// Middleware, if set, wraps each server's handler inside the fault
	// and counting layers (server is "apim" or "is"); the contract tests
	// use it to validate every request and response. RouteFromContext
	// tells it which route a request matched.
	Middleware func(server string, next http.Handler) http.Handler
}

// Sim is an APIM 4.5 simulator and an IS 7.1 simulator wired together (the
// APIM key manager connector registers clients in the IS simulator), behind
// fault injection, counters and the /_sim/ control API.
type Sim struct {
	opts  Options
	clock simcore.Clock
	knobs *simcore.Knobs

	apim *apim.Server
	is   *is.Server
	// connector is APIM's IS 7 key manager connector (connector.go).
	connector *isConnector

	cert      *selfSigned
	certErr   error
	transport *aliasTransport
	client    *http.Client

	faults   *Faults
	counters *counters
	control  http.Handler

	sides map[string]*side

	mu      sync.Mutex
	seed    *Estate
	apimURL string
	isURL   string
	servers []*http.Server
	closed  bool
	// gw is the gateway (gatewaylisten.go), built on first use; gwURL its
	// listener's URL.
	gw    http.Handler
	gwURL string
}

// side is one server with its middleware chain.
type side struct {
	name    string
	mux     *http.ServeMux
	routes  map[string]simcore.Route // Route.Pattern() → Route
	sem     chan struct{}
	handler http.Handler
}

// New builds both servers and their middleware without listening (use
// Listen, Start or Serve, or mount Handler(ServerAPIM) yourself).
func New(opts Options) *Sim {
	if opts.AdminUser == "" {
		opts.AdminUser = "admin"
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 3600 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = simcore.SystemClock{}
	}
	s := &Sim{opts: opts, clock: opts.Clock, knobs: &simcore.Knobs{}}
	s.knobs.SetPageCaps(opts.PageCaps)
	s.knobs.SetSearchLag(opts.SearchLag)
	s.faults = newFaults(opts.RandSeed)
	if err := s.faults.Set(opts.Faults); err != nil {
		panic(fmt.Sprintf("sim: invalid Options.Faults: %v", err))
	}
	s.counters = newCounters(opts.LogSize)

	var clientTLS *tls.Config
	if opts.TLS {
		s.cert, s.certErr = newSelfSigned()
		if s.certErr == nil {
			clientTLS = &tls.Config{RootCAs: s.cert.pool, MinVersion: tls.VersionTLS12}
		}
	}
	s.transport = newAliasTransport(clientTLS)
	s.client = &http.Client{Transport: s.transport, Timeout: 30 * time.Second}

	s.is = is.New(is.Options{
		Clock:         s.clock,
		AdminUser:     opts.AdminUser,
		AdminPassword: opts.AdminPassword,
		Issuer:        s.isBaseURL,
		TokenTTL:      opts.TokenTTL,
		MaxSCIMCount:  opts.MaxSCIMCount,
		Knobs:         s.knobs,
	})
	s.connector = &isConnector{s: s}
	var registry simcore.ClientRegistry = s.connector
	if opts.InProcessConnector {
		registry = s.is
	}
	s.apim = apim.New(apim.Options{
		Clock:         s.clock,
		Knobs:         s.knobs,
		Registry:      registry,
		HTTPClient:    s.client,
		AdminUser:     opts.AdminUser,
		AdminPassword: opts.AdminPassword,
		TokenTTL:      opts.TokenTTL,
	})
	s.control = s.controlHandler()
	s.sides = map[string]*side{
		ServerAPIM: s.newSide(ServerAPIM, s.apim.Handler(), s.apim.Mux(), s.apim.Routes(), opts),
		ServerIS:   s.newSide(ServerIS, s.is.Handler(), s.is.Mux(), s.is.Routes(), opts),
	}
	if opts.Seed != nil {
		if err := s.ApplySeed(opts.Seed); err != nil {
			panic(fmt.Sprintf("sim: Options.Seed: %v", err))
		}
	}
	return s
}

func (s *Sim) newSide(name string, h http.Handler, mux *http.ServeMux, routes []simcore.Route, opts Options) *side {
	sd := &side{name: name, mux: mux, routes: map[string]simcore.Route{}}
	for _, r := range routes {
		sd.routes[r.Pattern()] = r
	}
	if opts.MaxInFlight > 0 {
		sd.sem = make(chan struct{}, opts.MaxInFlight)
	}
	inner := h
	if opts.Middleware != nil {
		inner = opts.Middleware(name, inner)
	}
	sd.handler = s.wrap(sd, inner)
	return sd
}

// Start runs a Sim on two random 127.0.0.1 ports for the duration of the
// test (closed by t.Cleanup).
func Start(t testing.TB, opts Options) *Sim {
	t.Helper()
	seed := opts.Seed
	opts.Seed = nil
	s := New(opts)
	if err := s.Listen("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatalf("sim: %v", err)
	}
	t.Cleanup(s.Close)
	if seed != nil {
		if err := s.ApplySeed(seed); err != nil {
			t.Fatalf("sim: seed: %v", err)
		}
	}
	return s
}

// Listen starts serving APIM on apimAddr and IS on isAddr ("host:port";
// port 0 picks a free one) and returns once both accept connections.
func (s *Sim) Listen(apimAddr, isAddr string) error {
	if s.certErr != nil {
		return s.certErr
	}
	la, err := net.Listen("tcp", apimAddr)
	if err != nil {
		return fmt.Errorf("listen APIM on %s: %w", apimAddr, err)
	}
	li, err := net.Listen("tcp", isAddr)
	if err != nil {
		la.Close()
		return fmt.Errorf("listen IS on %s: %w", isAddr, err)
	}
	scheme := "http"
	if s.cert != nil {
		scheme = "https"
		la = tls.NewListener(la, s.cert.serverConfig())
		li = tls.NewListener(li, s.cert.serverConfig())
	}
	s.mu.Lock()
	s.apimURL = scheme + "://" + urlHost(la.Addr())
	s.isURL = scheme + "://" + urlHost(li.Addr())
	s.mu.Unlock()

	// The APIM key manager connector reaches IS by the names a real
	// deployment uses; send those to the IS listener.
	_, isPort, _ := net.SplitHostPort(li.Addr().String())
	_, apimPort, _ := net.SplitHostPort(la.Addr().String())
	s.transport.set(s.ISURL(), "wso2is", "localhost:9444", "127.0.0.1:9444",
		"localhost:"+isPort, "127.0.0.1:"+isPort)
	s.transport.set(s.APIMURL(), "wso2am", "localhost:9443", "127.0.0.1:9443",
		"localhost:"+apimPort, "127.0.0.1:"+apimPort)

	for _, x := range []struct {
		l net.Listener
		h http.Handler
	}{{la, s.sides[ServerAPIM].handler}, {li, s.sides[ServerIS].handler}} {
		srv := &http.Server{Handler: x.h, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: log.New(io.Discard, "", 0)}
		if s.opts.Logger != nil {
			srv.ErrorLog = slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn)
		}
		s.mu.Lock()
		s.servers = append(s.servers, srv)
		s.mu.Unlock()
		go func() { _ = srv.Serve(x.l) }()
	}
	return nil
}

func urlHost(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Close stops both listeners immediately.
func (s *Sim) Close() {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.closed = true
	s.mu.Unlock()
	for _, srv := range servers {
		_ = srv.Close()
	}
	s.transport.closeIdle()
}

// Shutdown stops both listeners gracefully: requests in flight finish
// until ctx ends; then the connections left are closed and ctx's error
// is returned.
func (s *Sim) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.closed = true
	s.mu.Unlock()
	// First the sim's own calls between its servers (APIM's key manager
	// calling IS): a connection that client dialled but never used would
	// hold its server's Shutdown as a new, maybe busy, connection.
	s.transport.closeIdle()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			errs = append(errs, err)
		}
	}
	s.transport.closeIdle()
	return errors.Join(errs...)
}

// APIMURL is the APIM base URL, e.g. "https://127.0.0.1:40123" ("" before
// Listen).
func (s *Sim) APIMURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apimURL
}

// ISURL is the IS base URL ("" before Listen).
func (s *Sim) ISURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isURL
}

// isBaseURL is what IS derives its issuer from.
func (s *Sim) isBaseURL() string {
	if s.opts.ISBaseURL != "" {
		return strings.TrimRight(s.opts.ISBaseURL, "/")
	}
	if u := s.ISURL(); u != "" {
		return u
	}
	return "https://localhost:9444"
}

// Issuer is the "iss" IS writes into its tokens.
func (s *Sim) Issuer() string { return s.isBaseURL() + "/oauth2/token" }

// APIM is the APIM simulator (for direct seeding and inspection).
func (s *Sim) APIM() *apim.Server { return s.apim }

// IS is the IS simulator.
func (s *Sim) IS() *is.Server { return s.is }

// Handler is the full middleware chain of "apim" or "is" (for mounting on
// your own listener, e.g. httptest.NewServer).
func (s *Sim) Handler(server string) http.Handler {
	if sd := s.sides[server]; sd != nil {
		return sd.handler
	}
	return http.NotFoundHandler()
}

// Stats is a snapshot of the counters.
func (s *Sim) Stats() Stats { return s.counters.snapshot() }

// Log returns the request log, oldest first; limit > 0 keeps the newest.
func (s *Sim) Log(limit int) []LogEntry { return s.counters.entries(limit) }

// ResetCounters zeroes the counters and empties the request log.
func (s *Sim) ResetCounters() { s.counters.reset() }

// Faults is the live fault configuration.
func (s *Sim) Faults() *Faults { return s.faults }

// Knobs are the in-handler behaviours (workflow mode, list lag).
func (s *Sim) Knobs() *simcore.Knobs { return s.knobs }

// Clock is the clock both servers use.
func (s *Sim) Clock() simcore.Clock { return s.clock }

// HTTPClient is a client that trusts the simulator's certificate and
// reaches the listeners by the names wso2am/wso2is (and localhost:9443/9444).
func (s *Sim) HTTPClient() *http.Client { return s.client }

// CACertPEM is the PEM certificate clients must trust (nil without TLS).
func (s *Sim) CACertPEM() []byte {
	if s.cert == nil {
		return nil
	}
	return append([]byte(nil), s.cert.certPEM...)
}

// ExpireTokens makes every token issued so far by either server expired.
func (s *Sim) ExpireTokens() {
	s.apim.ExpireTokens()
	s.is.ExpireTokens()
}

// State is the full data of both servers.
type State struct {
	APIM apim.State `json:"apim"`
	IS   is.State   `json:"is"`
}

// Dump is a deep copy of both servers' data.
func (s *Sim) Dump() State { return State{APIM: s.apim.Dump(), IS: s.is.Dump()} }

// ResetState returns both servers to a fresh install and re-applies the
// seed (if any).
func (s *Sim) ResetState() error {
	s.apim.Reset()
	s.is.Reset()
	s.mu.Lock()
	seed := s.seed
	s.mu.Unlock()
	if seed != nil {
		return s.applySeed(seed)
	}
	return nil
}

// Reset is ResetState plus ResetCounters, and clears faults and knobs.
func (s *Sim) Reset() error {
	s.faults.Clear()
	s.faults.Seed(s.opts.RandSeed)
	s.knobs.SetWorkflow(false)
	s.knobs.SetSearchLag(s.opts.SearchLag)
	s.knobs.SetPageCaps(s.opts.PageCaps)
	err := s.ResetState()
	s.ResetCounters()
	return err
}

// RouteInfo describes the route a request matched; the middleware chain
// puts it in the request context.
type RouteInfo struct {
	// Server is "apim" or "is".
	Server string
	// Pattern is "METHOD /path" as the server's ServeMux matched it
	// ("METHOD <unmatched>" when nothing matched).
	Pattern string
	// Route is the matched operation, with tenant-qualified IS paths
	// (/t/carbon.super/...) mapped to their bare route; zero when the
	// request matched no declared route.
	Route simcore.Route
	// Declared reports whether Route is one of the server's Routes().
	Declared bool
}

type routeKey struct{}

// RouteFromContext returns the RouteInfo of a request inside the chain.
func RouteFromContext(ctx context.Context) (RouteInfo, bool) {
	ri, ok := ctx.Value(routeKey{}).(RouteInfo)
	return ri, ok
}

const unmatched = "<unmatched>"

// statusClientClosed is logged for a request whose client went away while
// it waited behind the concurrency cap (nginx's 499).
const statusClientClosed = 499

func (sd *side) route(r *http.Request) RouteInfo {
	_, pattern := sd.mux.Handler(r)
	ri := RouteInfo{Server: sd.name}
	if pattern == "" {
		ri.Pattern = r.Method + " " + unmatched
		return ri
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		method, path = r.Method, pattern
		if i := strings.Index(path, "/"); i > 0 { // host-qualified pattern
			path = path[i:]
		}
	}
	if method == "" {
		method = r.Method
	}
	ri.Pattern = method + " " + path
	bare := strings.TrimPrefix(path, "/t/carbon.super")
	if rt, ok := sd.routes[method+" "+bare]; ok {
		ri.Route, ri.Declared = rt, true
	} else if method == http.MethodHead {
		if rt, ok := sd.routes[http.MethodGet+" "+bare]; ok {
			ri.Route, ri.Declared = rt, true
		}
	}
	return ri
}

// statusWriter remembers the status the handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap builds: control API | route lookup → counting/log → concurrency cap
// → faults → (Options.Middleware → server handler).
func (s *Sim) wrap(sd *side, inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, "/_sim/") {
			s.control.ServeHTTP(w, r)
			return
		}
		ri := sd.route(r)
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, ri))
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		fault := ""
		defer func() {
			st := sw.status
			if (fault == "reset" || fault == "after-reset" || fault == "after-timeout") && st == 0 {
				st = 0 // the connection was reset: no status
			} else if st == 0 {
				st = http.StatusOK
			}
			e := LogEntry{
				Time: start, Server: sd.name, Method: r.Method, Path: r.URL.Path,
				Route: ri.Pattern, Status: st, Fault: fault,
				DurationMS: float64(time.Since(start).Microseconds()) / 1000,
			}
			s.counters.record(e)
			if lg := s.opts.Logger; lg != nil {
				lg.Info("request", "server", e.Server, "method", e.Method, "path", e.Path,
					"route", e.Route, "status", e.Status, "ms", e.DurationMS, "fault", e.Fault)
			}
		}()

		waited := false
		if sd.sem != nil {
			select {
			case sd.sem <- struct{}{}:
			default:
				waited = true
				select {
				case sd.sem <- struct{}{}:
				case <-r.Context().Done():
					// The client gave up while queued behind the cap.
					fault = "canceled"
					sw.status = statusClientClosed
					return
				}
			}
			defer func() { <-sd.sem }()
		}
		s.counters.enter(sd.name, waited)
		defer s.counters.leave(sd.name)

		d := s.faults.decide(sd.name, ri.Pattern)
		if d.delay > 0 {
			s.counters.delayed(sd.name, d.delay)
			sleep(r.Context(), d.delay)
		}
		switch {
		case d.reset:
			if resetConn(w) {
				fault = "reset"
				return
			}
			// Not hijackable (HTTP/2): fall back to a 502-like failure.
			fault = "5xx"
			writeFault(sw, r, http.StatusBadGateway, 0)
			return
		case d.status != 0:
			if d.status == http.StatusTooManyRequests {
				fault = "429"
			} else {
				fault = "5xx"
			}
			writeFault(sw, r, d.status, d.retryAfter)
			return
		}
		switch d.after {
		case "":
			inner.ServeHTTP(sw, r)
		case AfterFaultHalf:
			h := &simcore.HalfFailure{}
			inner.ServeHTTP(sw, r.WithContext(simcore.WithHalfFailure(r.Context(), h)))
			if h.Taken() {
				fault = "half"
			}
		default:
			fault = s.afterCommit(sd, w, sw, r, inner, d.after)
		}
	})
}

// afterCommit serves r with the handler (its change is made), throws the
// answer away and fails instead (FaultRule.After); it returns the fault's
// log name.
func (s *Sim) afterCommit(_ *side, w http.ResponseWriter, sw *statusWriter, r *http.Request, inner http.Handler, kind string) string {
	inner.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	switch kind {
	case AfterFaultTimeout:
		// The change is made; the answer never comes. Hold the request until
		// the client gives up (its timeout), then drop the connection.
		sleep(r.Context(), afterTimeoutCap)
		if resetConn(w) {
			return "after-timeout"
		}
		writeFault(sw, r, http.StatusGatewayTimeout, 0)
		return "after-timeout"
	case AfterFaultReset:
		if resetConn(w) {
			return "after-reset"
		}
		writeFault(sw, r, http.StatusBadGateway, 0)
		return "after-reset"
	default:
		writeFault(sw, r, http.StatusInternalServerError, 0)
		return "after-5xx"
	}
}

// discardWriter takes a handler's answer that a post-commit fault replaces.
type discardWriter struct {
	h http.Header
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
