package sim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

const (
	routeAPIs      = "GET /api/am/devportal/v3/apis"
	routeWellKnown = "GET /oauth2/token/.well-known/openid-configuration"
	pathAPIs       = "/api/am/devportal/v3/apis"
	pathWellKnown  = "/oauth2/token/.well-known/openid-configuration"
)

func TestStartCountsAndLogs(t *testing.T) {
	s := Start(t, Options{})
	for range 3 {
		if r := call(t, nil, "GET", s.APIMURL()+pathAPIs+"?limit=1", nil); r.Status != 200 {
			t.Fatalf("APIM anonymous GET /apis: %d %s", r.Status, r.Body)
		}
	}
	if r := call(t, nil, "GET", s.ISURL()+pathWellKnown, nil); r.Status != 200 {
		t.Fatalf("IS discovery: %d %s", r.Status, r.Body)
	}
	// A write that fails (no credentials) is still a counted write.
	if r := call(t, nil, "POST", s.APIMURL()+"/api/am/devportal/v3/applications", map[string]any{"name": "x"},
		"Authorization", "Bearer secret-token"); r.Status != 401 {
		t.Fatalf("POST /applications without a token: %d", r.Status)
	}
	if r := call(t, nil, "GET", s.APIMURL()+"/no/such/thing", nil); r.Status != 404 {
		t.Fatalf("unknown path: %d", r.Status)
	}
	// The control API is not counted.
	call(t, nil, "GET", s.APIMURL()+"/_sim/stats", nil)

	st := s.Stats()
	if st.APIM.Calls != 5 || st.APIM.Writes != 1 || st.IS.Calls != 1 || st.IS.Writes != 0 || st.Total() != 6 {
		t.Fatalf("calls/writes: %+v / %+v", st.APIM, st.IS)
	}
	if st.APIM.Route(routeAPIs) != 3 || st.IS.Route(routeWellKnown) != 1 ||
		st.APIM.Route("POST /api/am/devportal/v3/applications") != 1 || st.APIM.Route("GET <unmatched>") != 1 {
		t.Fatalf("routes: %v %v", st.APIM.Routes, st.IS.Routes)
	}
	if st.APIM.Statuses[200] != 3 || st.APIM.Statuses[401] != 1 || st.APIM.Statuses[404] != 1 {
		t.Fatalf("statuses: %v", st.APIM.Statuses)
	}
	if st.APIM.RouteStatuses[routeAPIs][200] != 3 {
		t.Fatalf("route statuses: %v", st.APIM.RouteStatuses)
	}
	log := s.Log(0)
	if len(log) != 6 {
		t.Fatalf("log has %d entries, want 6", len(log))
	}
	b, _ := json.Marshal(log)
	for _, banned := range []string{"secret-token", "Bearer", "limit=1"} {
		if strings.Contains(string(b), banned) {
			t.Fatalf("request log leaks %q: %s", banned, b)
		}
	}
	if e := log[0]; e.Server != ServerAPIM || e.Method != "GET" || e.Path != pathAPIs || e.Route != routeAPIs || e.Status != 200 {
		t.Fatalf("first log entry %+v", e)
	}
	if got := s.Log(2); len(got) != 2 || got[1].Status != 404 {
		t.Fatalf("Log(2) = %+v", got)
	}
	s.ResetCounters()
	if st := s.Stats(); st.Total() != 0 || len(s.Log(0)) != 0 {
		t.Fatalf("after ResetCounters: %+v", st)
	}
}

func TestRequestLogIsBounded(t *testing.T) {
	s := Start(t, Options{LogSize: 4})
	for range 10 {
		call(t, nil, "GET", s.ISURL()+pathWellKnown, nil)
	}
	if n := len(s.Log(0)); n != 4 {
		t.Fatalf("log holds %d entries, want 4", n)
	}
	if s.Stats().IS.Calls != 10 {
		t.Fatalf("calls %d", s.Stats().IS.Calls)
	}
}

func TestFault5xxEveryRequest(t *testing.T) {
	s := Start(t, Options{})
	if err := s.Faults().SetSpec("5xx=1.0"); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		url  string
		body func(resp) bool
	}{
		{s.APIMURL() + pathAPIs, func(r resp) bool {
			var e struct {
				Code    int64  `json:"code"`
				Message string `json:"message"`
			}
			return json.Unmarshal(r.Body, &e) == nil && e.Code == 500 && e.Message != ""
		}},
		{s.ISURL() + "/scim2/Users", func(r resp) bool {
			var e struct {
				Schemas []string `json:"schemas"`
				Status  string   `json:"status"`
			}
			return json.Unmarshal(r.Body, &e) == nil && e.Status == "500" && len(e.Schemas) == 1 &&
				r.Header.Get("Content-Type") == "application/scim+json"
		}},
		{s.ISURL() + "/api/identity/oauth2/dcr/v1.1/register/abc", func(r resp) bool { return len(r.Body) == 0 }},
		{s.ISURL() + "/oauth2/jwks", func(r resp) bool { return strings.Contains(string(r.Body), "server_error") }},
	}
	for _, c := range checks {
		for range 5 {
			r := call(t, nil, "GET", c.url, nil)
			if r.Status != 500 || r.Header.Get(FaultHeader) != "5xx" || !c.body(r) {
				t.Fatalf("GET %s: %d %v %s", c.url, r.Status, r.Header, r.Body)
			}
		}
	}
	st := s.Stats()
	if st.APIM.Faults.Status5xx != 5 || st.IS.Faults.Status5xx != 15 || st.APIM.Statuses[500] != 5 {
		t.Fatalf("fault counters: %+v %+v", st.APIM.Faults, st.IS.Faults)
	}
	// 503 variant, IS only.
	_ = s.Faults().SetSpec("is.5xx=1@503")
	if r := call(t, nil, "GET", s.APIMURL()+pathAPIs, nil); r.Status != 200 {
		t.Fatalf("APIM should be healthy: %d", r.Status)
	}
	if r := call(t, nil, "GET", s.ISURL()+pathWellKnown, nil); r.Status != 503 {
		t.Fatalf("IS should answer 503: %d", r.Status)
	}
}

func TestFault429Burst(t *testing.T) {
	s := Start(t, Options{})
	if err := s.Faults().SetSpec("429=3@2s"); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for range 5 {
		r := call(t, nil, "GET", s.APIMURL()+pathAPIs, nil)
		statuses = append(statuses, r.Status)
		if r.Status == 429 {
			if r.Header.Get("Retry-After") != "2" {
				t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
			}
			if !strings.Contains(string(r.Body), "900800") {
				t.Fatalf("APIM throttle body: %s", r.Body)
			}
		}
	}
	if want := []int{429, 429, 429, 200, 200}; !equalInts(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	if n := s.Stats().APIM.Faults.Status429; n != 3 {
		t.Fatalf("429 counter %d", n)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultConnectionReset(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := Start(t, Options{TLS: tlsOn})
		_ = s.Faults().SetSpec("route=GET /oauth2/jwks:reset=1")
		_, err := try(s.HTTPClient(), "GET", s.ISURL()+"/oauth2/jwks", nil)
		if err == nil {
			t.Fatalf("tls=%v: want a connection error", tlsOn)
		}
		// Other routes still work.
		if r := call(t, s.HTTPClient(), "GET", s.ISURL()+pathWellKnown, nil); r.Status != 200 {
			t.Fatalf("tls=%v: discovery %d", tlsOn, r.Status)
		}
		// The client sees the reset before the server's handler returns
		// and records it, so wait (bounded) for the counter.
		st := s.Stats().IS
		for deadline := time.Now().Add(5 * time.Second); st.Faults.Resets < 1 && time.Now().Before(deadline); st = s.Stats().IS {
			time.Sleep(10 * time.Millisecond)
		}
		if st.Faults.Resets < 1 || st.Statuses[0] != st.Faults.Resets {
			t.Fatalf("tls=%v: reset counters %+v statuses %v", tlsOn, st.Faults, st.Statuses)
		}
	}
}

func TestFaultLatency(t *testing.T) {
	s := Start(t, Options{})
	_ = s.Faults().SetSpec("latency=30ms,route=GET /oauth2/jwks:latency=60ms")
	start := time.Now()
	call(t, nil, "GET", s.APIMURL()+pathAPIs, nil)
	call(t, nil, "GET", s.ISURL()+"/oauth2/jwks", nil)
	call(t, nil, "GET", s.ISURL()+pathWellKnown, nil)
	st := s.Stats()
	if st.APIM.Faults.Delayed != 1 || time.Duration(st.APIM.Faults.DelayTotal) != 30*time.Millisecond {
		t.Fatalf("APIM delay counters %+v", st.APIM.Faults)
	}
	if st.IS.Faults.Delayed != 2 || time.Duration(st.IS.Faults.DelayTotal) != 90*time.Millisecond {
		t.Fatalf("IS delay counters %+v", st.IS.Faults)
	}
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Fatalf("three delayed calls took only %v", el)
	}
}

func TestConcurrencyCap(t *testing.T) {
	s := Start(t, Options{MaxInFlight: 2, Faults: FaultConfig{Rules: []FaultRule{{Latency: Duration(40 * time.Millisecond)}}}})
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := try(nil, "GET", s.APIMURL()+pathAPIs, nil)
			if err == nil && r.Status != 200 {
				err = errors.New(r.Header.Get("Content-Type"))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats().APIM
	if st.MaxInFlight != 2 || st.Waited < 1 || st.Calls != 10 || st.InFlight != 0 {
		t.Fatalf("cap not honoured: max %d waited %d calls %d inflight %d", st.MaxInFlight, st.Waited, st.Calls, st.InFlight)
	}
	// Without a cap the same burst runs wider.
	u := Start(t, Options{Faults: FaultConfig{Rules: []FaultRule{{Latency: Duration(150 * time.Millisecond)}}}})
	var wg2 sync.WaitGroup
	for range 6 {
		wg2.Add(1)
		go func() { defer wg2.Done(); _, _ = try(nil, "GET", u.APIMURL()+pathAPIs, nil) }()
	}
	wg2.Wait()
	if m := u.Stats().APIM.MaxInFlight; m < 3 {
		t.Fatalf("uncapped max in flight %d", m)
	}
}

func TestControlAPI(t *testing.T) {
	clock := simcore.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s := Start(t, Options{Clock: clock, Seed: DefaultEstate()})
	base := s.ISURL() // the control API is on both listeners
	call(t, nil, "GET", s.APIMURL()+pathAPIs, nil)

	var st Stats
	r := call(t, nil, "GET", base+"/_sim/stats", nil)
	if r.Status != 200 || json.Unmarshal(r.Body, &st) != nil || st.APIM.Calls != 1 || st.APIM.Route(routeAPIs) != 1 {
		t.Fatalf("stats: %d %s", r.Status, r.Body)
	}

	r = call(t, nil, "PUT", base+"/_sim/faults", "route=GET /api/am/devportal/v3/apis:5xx=1", "Content-Type", "text/plain")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"spec": "route=GET /api/am/devportal/v3/apis:5xx=1"`) {
		t.Fatalf("PUT faults text: %d %s", r.Status, r.Body)
	}
	if r := call(t, nil, "GET", s.APIMURL()+pathAPIs, nil); r.Status != 500 {
		t.Fatalf("fault not active: %d", r.Status)
	}
	r = call(t, nil, "PUT", base+"/_sim/faults", map[string]any{"rules": []any{map[string]any{"server": "is", "latency": "5ms"}}})
	if r.Status != 200 || len(s.Faults().Config().Rules) != 1 || s.Faults().Config().Rules[0].Latency != Duration(5*time.Millisecond) {
		t.Fatalf("PUT faults JSON: %d %s", r.Status, r.Body)
	}
	if r := call(t, nil, "PUT", base+"/_sim/faults", map[string]any{"rules": []any{map[string]any{"p5xx": 3}}}); r.Status != 400 {
		t.Fatalf("invalid faults accepted: %d", r.Status)
	}
	if r := call(t, nil, "GET", base+"/_sim/faults", nil); !strings.Contains(string(r.Body), `"spec": "is.latency=5ms"`) {
		t.Fatalf("GET faults: %s", r.Body)
	}
	if r := call(t, nil, "DELETE", base+"/_sim/faults", nil); r.Status != 204 || len(s.Faults().Config().Rules) != 0 {
		t.Fatalf("DELETE faults: %d", r.Status)
	}

	r = call(t, nil, "PUT", base+"/_sim/knobs", map[string]any{"workflow": true, "searchLag": "2s"})
	if r.Status != 200 || !s.Knobs().Workflow() || s.Knobs().SearchLag() != 2*time.Second {
		t.Fatalf("PUT knobs: %d %s", r.Status, r.Body)
	}
	if r := call(t, nil, "PUT", base+"/_sim/knobs", map[string]any{"searchLag": "-1s"}); r.Status != 400 {
		t.Fatalf("negative lag accepted: %d", r.Status)
	}
	if r := call(t, nil, "PUT", base+"/_sim/knobs", map[string]any{"colour": 1}); r.Status != 400 {
		t.Fatalf("unknown knob accepted: %d", r.Status)
	}

	r = call(t, nil, "GET", base+"/_sim/state", nil)
	var state struct {
		APIM struct {
			APIs []struct{ Name string } `json:"apis"`
		} `json:"apim"`
		IS map[string]any `json:"is"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &state) != nil || len(state.APIM.APIs) != 6 || state.IS == nil {
		t.Fatalf("state: %d %.300s", r.Status, r.Body)
	}

	r = call(t, nil, "GET", base+"/_sim/log?limit=1", nil)
	var log []LogEntry
	if r.Status != 200 || json.Unmarshal(r.Body, &log) != nil || len(log) != 1 || log[0].Status != 500 {
		t.Fatalf("log: %d %s", r.Status, r.Body)
	}
	if r := call(t, nil, "GET", base+"/_sim/log?limit=x", nil); r.Status != 400 {
		t.Fatalf("bad limit: %d", r.Status)
	}

	r = call(t, nil, "POST", base+"/_sim/clock/advance?by=2h", nil)
	if r.Status != 200 || !clock.Now().Equal(time.Date(2025, 1, 1, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("clock advance: %d %s", r.Status, r.Body)
	}
	if r := call(t, nil, "POST", base+"/_sim/expire-tokens", nil); r.Status != 204 {
		t.Fatalf("expire-tokens: %d", r.Status)
	}
	if r := call(t, nil, "GET", base+"/_sim/ca.pem", nil); r.Status != 404 {
		t.Fatalf("ca.pem without TLS: %d", r.Status)
	}

	// Control calls were not counted: 1 + 1 APIM calls so far.
	if st := s.Stats(); st.APIM.Calls != 2 || st.IS.Calls != 0 {
		t.Fatalf("control calls counted: %+v", st)
	}
	if r := call(t, nil, "POST", base+"/_sim/reset?scope=counters", nil); r.Status != 204 || s.Stats().Total() != 0 || !s.Knobs().Workflow() {
		t.Fatalf("reset counters: %d", r.Status)
	}
	if r := call(t, nil, "POST", base+"/_sim/reset?scope=nonsense", nil); r.Status != 400 {
		t.Fatalf("bad scope: %d", r.Status)
	}
	if r := call(t, nil, "POST", base+"/_sim/reset", nil); r.Status != 204 || s.Knobs().Workflow() || s.Knobs().SearchLag() != 0 {
		t.Fatalf("reset all: %d", r.Status)
	}
	// The seed is re-applied after a state reset.
	if n := len(s.Dump().APIM.APIs); n != 6 {
		t.Fatalf("after reset: %d APIs, want the 6 of the seed", n)
	}
}

func TestTLSAndAliases(t *testing.T) {
	s := Start(t, Options{TLS: true})
	pemBytes := s.CACertPEM()
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("CACertPEM: %s", pemBytes)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "wso2am", "wso2is", "127.0.0.1"} {
		if err := cert.VerifyHostname(h); err != nil {
			t.Errorf("certificate not valid for %s: %v", h, err)
		}
	}
	if !strings.HasPrefix(s.APIMURL(), "https://127.0.0.1:") || !strings.HasPrefix(s.ISURL(), "https://127.0.0.1:") {
		t.Fatalf("URLs %s %s", s.APIMURL(), s.ISURL())
	}
	// A client that does not trust the certificate fails.
	if _, err := try(&http.Client{}, "GET", s.APIMURL()+pathAPIs, nil); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if r := call(t, c, "GET", s.APIMURL()+pathAPIs, nil); r.Status != 200 {
		t.Fatalf("APIM over TLS: %d", r.Status)
	}
	// The in-network names reach the IS listener (what the APIM key
	// manager connector uses).
	for _, u := range []string{"https://wso2is:9443/oauth2/jwks", "https://localhost:9444/oauth2/jwks"} {
		if r := call(t, s.HTTPClient(), "GET", u, nil); r.Status != 200 || !strings.Contains(string(r.Body), "keys") {
			t.Fatalf("GET %s: %d %s", u, r.Status, r.Body)
		}
	}
	if r := call(t, s.HTTPClient(), "GET", "https://wso2am:9443"+pathAPIs, nil); r.Status != 200 {
		t.Fatalf("wso2am alias: %d", r.Status)
	}
	if n := s.Stats().IS.Route("GET /oauth2/jwks"); n != 2 {
		t.Fatalf("IS jwks calls %d, want 2", n)
	}
	if r := call(t, c, "GET", s.APIMURL()+"/_sim/ca.pem", nil); r.Status != 200 || string(r.Body) != string(pemBytes) {
		t.Fatalf("ca.pem: %d", r.Status)
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "sim.pem")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *Sim, 1)
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- Serve(ctx, ServeOptions{APIMListen: "127.0.0.1:0", ISListen: "127.0.0.1:0", TLS: true,
			CertOut: certFile, Faults: "is.5xx=1", Latency: time.Millisecond, Out: &syncWriter{w: &out},
			Ready: func(s *Sim) { ready <- s }})
	}()
	var s *Sim
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not become ready")
	}
	fi, err := os.Stat(certFile)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("cert file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(certFile)
	if !strings.Contains(string(b), "BEGIN CERTIFICATE") || strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatalf("cert file content: %s", b)
	}
	r := call(t, s.HTTPClient(), "GET", s.APIMURL()+pathAPIs, nil)
	var list struct {
		Count int `json:"count"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &list) != nil || list.Count != 6 {
		t.Fatalf("default seed APIs: %d %s", r.Status, r.Body)
	}
	if r := call(t, s.HTTPClient(), "GET", s.ISURL()+pathWellKnown, nil); r.Status != 500 {
		t.Fatalf("--faults not applied: %d", r.Status)
	}
	if d := s.Stats().APIM.Faults.Delayed; d != 1 {
		t.Fatalf("--latency not applied: delayed %d", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if !strings.Contains(out.String(), s.APIMURL()) || !strings.Contains(out.String(), certFile) {
		t.Fatalf("banner: %s", out.String())
	}
	if _, err := try(s.HTTPClient(), "GET", s.APIMURL()+pathAPIs, nil); err == nil {
		t.Fatal("still serving after cancel")
	}

	// Flag errors come back as errors.
	for _, o := range []ServeOptions{
		{Faults: "5xx=7"},
		{CertOut: certFile},
		{SeedFile: filepath.Join(dir, "missing.yaml")},
	} {
		o.APIMListen, o.ISListen = "127.0.0.1:0", "127.0.0.1:0"
		if err := Serve(context.Background(), o); err == nil {
			t.Errorf("Serve(%+v) = nil, want an error", o)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestExpireTokensForcesReauth(t *testing.T) {
	s := Start(t, Options{})
	tok := apimToken(t, s, "apim:subscribe")
	apps := s.APIMURL() + "/api/am/devportal/v3/applications"
	if r := call(t, nil, "GET", apps, nil, "Authorization", "Bearer "+tok); r.Status != 200 {
		t.Fatalf("GET /applications: %d %s", r.Status, r.Body)
	}
	s.ExpireTokens()
	if r := call(t, nil, "GET", apps, nil, "Authorization", "Bearer "+tok); r.Status != 401 {
		t.Fatalf("expired token: %d", r.Status)
	}
	tok = apimToken(t, s, "apim:subscribe")
	if r := call(t, nil, "GET", apps, nil, "Authorization", "Bearer "+tok); r.Status != 200 {
		t.Fatalf("after re-auth: %d", r.Status)
	}
}

func TestManualClockExpiresTokens(t *testing.T) {
	clock := simcore.NewManualClock(time.Now())
	s := Start(t, Options{Clock: clock, TokenTTL: time.Minute})
	tok := apimToken(t, s, "apim:subscribe")
	apps := s.APIMURL() + "/api/am/devportal/v3/applications"
	if r := call(t, nil, "GET", apps, nil, "Authorization", "Bearer "+tok); r.Status != 200 {
		t.Fatalf("fresh token: %d", r.Status)
	}
	clock.Advance(2 * time.Minute)
	if r := call(t, nil, "GET", apps, nil, "Authorization", "Bearer "+tok); r.Status != 401 {
		t.Fatalf("token past its TTL: %d", r.Status)
	}
}

func TestSeedAndResetState(t *testing.T) {
	seed, err := ParseEstate([]byte(`
apis: [{name: ForexAPI, version: v1, context: /forex}]
applications:
  - {name: Seeded, subscriptions: [{api: ForexAPI}]}
users: [{userName: alice, password: "Al1ce!pass"}]
roles: [{displayName: readers, users: [alice]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := Start(t, Options{Seed: seed})
	d := s.Dump()
	if len(d.APIM.APIs) != 1 || len(d.APIM.Subscriptions) != 1 {
		t.Fatalf("APIM seeded: %d APIs %d subs", len(d.APIM.APIs), len(d.APIM.Subscriptions))
	}
	found := false
	for _, a := range d.APIM.Applications {
		found = found || a.Name == "Seeded"
	}
	if !found {
		t.Fatal("seeded application missing")
	}
	// alice can log in to IS with her password.
	if r := call(t, nil, "GET", s.ISURL()+"/scim2/Me", nil, "Authorization", basic("alice", "Al1ce!pass")); r.Status != 200 {
		t.Fatalf("seeded user login: %d %s", r.Status, r.Body)
	}
	if err := s.ApplySeed(seed); err == nil {
		t.Fatal("applying the same seed twice should fail on duplicates")
	}
	if err := s.ResetState(); err != nil {
		t.Fatal(err)
	}
	if d := s.Dump(); len(d.APIM.APIs) != 1 || len(d.APIM.Subscriptions) != 1 {
		t.Fatalf("after ResetState: %d APIs %d subs", len(d.APIM.APIs), len(d.APIM.Subscriptions))
	}
}

// A connection that never sends a request (a client's spare keep-alive
// dial) counts as busy to http.Server.Shutdown for 5 s; Serve must still
// stop cleanly and within its grace when its context ends (`kill %1` of
// a background `wso2sync sim` printed an interrupt error under load).
func TestServeStopsDespiteSilentConnection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *Sim, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{APIMListen: "127.0.0.1:0", ISListen: "127.0.0.1:0", SeedFile: "none",
			Ready: func(s *Sim) { ready <- s }})
	}()
	var s *Sim
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	host := strings.TrimPrefix(s.ISURL(), "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v, want a clean stop", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not stop")
	}
	// The silent connection was closed, not left behind.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent connection is still open")
	}
}
