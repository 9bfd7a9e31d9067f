package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// staticSource is a source that never changes.
type staticSource struct{ dir string }

func (s staticSource) Sync(context.Context) (string, Revision, error) {
	return s.dir, Revision{Source: "dir", URL: s.dir, Time: time.Now()}, nil
}
func (s staticSource) Watch(ctx context.Context, _ func(string)) error { <-ctx.Done(); return nil }
func (staticSource) StateDir() string                                  { return "" }
func (s staticSource) Describe() Revision                              { return Revision{Source: "dir", URL: s.dir} }

// recorder is a PassFunc that records its requests and returns what the
// test sets.
type recorder struct {
	mu     sync.Mutex
	reqs   []PassRequest
	result PassResult
	err    error
	block  chan struct{} // when set, passes wait for it (or their context)
	passes chan PassRequest
}

func newRecorder() *recorder { return &recorder{passes: make(chan PassRequest, 100)} }

func (r *recorder) pass(ctx context.Context, req PassRequest) (PassResult, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	res, err, block := r.result, r.err, r.block
	r.mu.Unlock()
	r.passes <- req
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	req.Log.Info("fake pass")
	return res, err
}

func (r *recorder) set(res PassResult, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result, r.err = res, err
}

func (r *recorder) wait(t *testing.T, what string) PassRequest {
	t.Helper()
	select {
	case req := <-r.passes:
		return req
	case <-time.After(10 * time.Second):
		t.Fatalf("no pass: %s", what)
	}
	return PassRequest{}
}

func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case req := <-r.passes:
		t.Fatalf("unexpected pass %s (%s)", req.ID, req.Reason)
	case <-time.After(d):
	}
}

// startDaemon runs a daemon until the test ends and returns it with its
// base URL.
func startDaemon(t *testing.T, o Options) (*Daemon, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Listener = ln
	if o.Log == nil {
		o.Log = testLogger(t)
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	return d, "http://" + ln.Addr().String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url string, body []byte, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWebhookSignature(t *testing.T) {
	rec := newRecorder()
	secret := []byte("s3cret")
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, WebhookSecret: secret,
		Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "first pass recorded", 5*time.Second, func() bool { return d.Status().LastPass != nil })

	body := []byte(`{"ref":"refs/heads/main"}`)
	for _, c := range []struct {
		name, sig string
		code      int
	}{
		{"unsigned", "", http.StatusUnauthorized},
		{"wrong secret", Sign([]byte("other"), body), http.StatusUnauthorized},
		{"not hex", "sha256=zz", http.StatusUnauthorized},
		{"sha1", "sha1=" + strings.Repeat("0", 40), http.StatusUnauthorized},
		{"truncated", Sign(secret, body)[:20], http.StatusUnauthorized},
	} {
		if code, msg := post(t, base+"/sync", body, c.sig); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, msg, c.code)
		}
	}
	rec.none(t, 100*time.Millisecond)

	// Over 1 MiB.
	big := bytes.Repeat([]byte("x"), MaxWebhookBody+1)
	if code, _ := post(t, base+"/sync", big, Sign(secret, big)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d, want 413", code)
	}

	if code, msg := post(t, base+"/sync", body, Sign(secret, body)); code != http.StatusAccepted {
		t.Fatalf("signed: %d %s", code, msg)
	}
	if req := rec.wait(t, "webhook"); req.Reason != "webhook" {
		t.Errorf("reason %q", req.Reason)
	}
	if code, _ := get(t, base+"/metrics"); code != http.StatusOK {
		t.Fatal(code)
	}
	if n := testutil.ToFloat64(d.metrics.webhooks.WithLabelValues("unauthorized")); n != 5 {
		t.Errorf("unauthorized webhooks counted %v, want 5", n)
	}
}

func TestWebhookDisabledWithoutSecret(t *testing.T) {
	rec := newRecorder()
	_, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass})
	rec.wait(t, "start")
	body := []byte(`{}`)
	if code, _ := post(t, base+"/sync", body, Sign(nil, body)); code != http.StatusForbidden {
		t.Errorf("webhook without a configured secret: %d, want 403", code)
	}
	rec.none(t, 100*time.Millisecond)
}

func TestStatusReadinessAndBackoff(t *testing.T) {
	rec := newRecorder()
	rec.set(PassResult{Mode: "enforce", Plan: PlanSummary{Create: 1, NoOp: 3},
		Applied: map[string]map[string]int{"Application": {"create": 1}},
		Drift:   map[string]int{"Application": 1}, Unmanaged: []ObjectRef{{"Application", "legacy"}},
		Calls: []CallCount{{"apim", "200", 7}, {"is", "201", 1}}, Retries: 2,
		Concurrency:  map[string]int{"apim": 8, "is": 8},
		Certificates: []Certificate{{"backend", time.Now().Add(48 * time.Hour)}},
		Estate: &Estate{Counts: map[string]int{StateInSync: 4}, Unmanaged: 1,
			Kinds:            []KindStatus{{Kind: "Application", Objects: []ObjectStatus{{Name: "web", State: StateInSync, Action: "create", Corrected: true}}}},
			UnmanagedObjects: []UnmanagedObject{{Kind: "Application", Name: "legacy", Reason: "not created by wso2sync"}}}}, nil)
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, Version: "test",
		Scheduler: SchedulerOptions{Interval: time.Hour, BackoffBase: 20 * time.Millisecond, BackoffMax: 40 * time.Millisecond}})
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %d", code)
	}
	rec.wait(t, "start")
	waitFor(t, "ready", 5*time.Second, func() bool { code, _ := get(t, base+"/readyz"); return code == http.StatusOK })

	code, body := get(t, base+"/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("/status %d %v: %s", code, err, body)
	}
	if st.LastPass == nil || st.LastPass.Result != ResultSuccess || st.LastPass.Plan.Create != 1 ||
		len(st.LastPass.Unmanaged) != 1 || st.LastSuccess == nil || len(st.History) != 1 || !st.Ready || st.Mode != "enforce" {
		t.Errorf("status: %s", body)
	}
	code, html := get(t, base+"/")
	if code != http.StatusOK || !strings.Contains(html, "legacy") || !strings.Contains(html, "success") {
		t.Errorf("/ %d: %s", code, html)
	}

	// Failures back off (tiny backoff here) and keep /readyz up within
	// the grace.
	rec.set(PassResult{}, errors.New("apim: connection refused"))
	d.Trigger("test")
	rec.wait(t, "failing pass")
	rec.wait(t, "retry after backoff")
	rec.wait(t, "second retry")
	waitFor(t, "failures counted", 5*time.Second, func() bool { return d.Status().ConsecutiveFailures >= 2 })
	if code, why := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz within the grace: %d %s", code, why)
	}
	st = d.Status()
	if st.LastPass.Result != ResultFailure || !strings.Contains(st.LastPass.Error, "connection refused") {
		t.Errorf("last pass %+v", st.LastPass)
	}
	rec.set(PassResult{}, nil)
	waitFor(t, "recovery", 5*time.Second, func() bool { return d.Status().ConsecutiveFailures == 0 })
}

func TestReadyzOutsideGrace(t *testing.T) {
	rec := newRecorder()
	rec.set(PassResult{}, errors.New("down"))
	_, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass,
		Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "not ready", 5*time.Second, func() bool {
		code, body := get(t, base+"/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "no pass has succeeded")
	})
}

func TestInvalidPassIsReportedNotRetried(t *testing.T) {
	rec := newRecorder()
	rec.set(PassResult{Errors: []string{"applications.yaml:3:5: spec.tier: field not allowed"}}, Invalid(errors.New("the manifests have 1 error(s)")))
	d, _ := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass,
		Scheduler: SchedulerOptions{Interval: time.Hour, BackoffBase: 10 * time.Millisecond}})
	rec.wait(t, "start")
	waitFor(t, "invalid", 5*time.Second, func() bool { lp := d.Status().LastPass; return lp != nil && lp.Result == ResultInvalid })
	rec.none(t, 200*time.Millisecond) // no backoff retry: only a change can fix it
	if got := testutil.ToFloat64(d.metrics.passes.WithLabelValues(ResultInvalid)); got != 1 {
		t.Errorf("invalid passes %v", got)
	}
}

func TestPassTimeout(t *testing.T) {
	rec := newRecorder()
	rec.block = make(chan struct{})
	d, _ := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, PassTimeout: 50 * time.Millisecond,
		Scheduler: SchedulerOptions{Interval: time.Hour, BackoffBase: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "timeout", 5*time.Second, func() bool { lp := d.Status().LastPass; return lp != nil && lp.Result == ResultTimeout })
}

func TestShutdownWaitsForThePass(t *testing.T) {
	rec := newRecorder()
	rec.block = make(chan struct{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	d, err := New(Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, Listener: ln, Log: testLogger(t),
		ShutdownTimeout: 5 * time.Second, Scheduler: SchedulerOptions{Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	rec.wait(t, "start")
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while the pass was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(rec.block)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the pass")
	}
	if lp := d.Status().LastPass; lp == nil || lp.Result != ResultSuccess {
		t.Errorf("the pass did not finish normally: %+v", lp)
	}

	// With a shorter shutdown timeout the pass is cancelled.
	rec2 := newRecorder()
	rec2.block = make(chan struct{})
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	d2, _ := New(Options{Source: staticSource{t.TempDir()}, Pass: rec2.pass, Listener: ln2, Log: testLogger(t),
		ShutdownTimeout: 50 * time.Millisecond})
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- d2.Run(ctx2) }()
	rec2.wait(t, "start")
	cancel2()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the shutdown timeout")
	}
	if lp := d2.Status().LastPass; lp == nil || lp.Result == ResultSuccess {
		t.Errorf("pass after shutdown timeout: %+v", lp)
	}
}

func TestMetricsLint(t *testing.T) {
	rec := newRecorder()
	rec.set(PassResult{Plan: PlanSummary{Update: 1}, Applied: map[string]map[string]int{"Role": {"update": 1}},
		Drift: map[string]int{"Role": 1}, Calls: []CallCount{{"apim", "200", 3}, {"is", "0", 1}},
		Concurrency: map[string]int{"apim": 4}, Certificates: []Certificate{{"wso2is", time.Now().Add(24 * time.Hour)}}}, nil)
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, WebhookSecret: []byte("x")})
	rec.wait(t, "start")
	waitFor(t, "pass", 5*time.Second, func() bool { return d.Status().LastPass != nil })
	post(t, base+"/sync", []byte("{}"), "")
	problems, err := testutil.GatherAndLint(d.metrics.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	_, text := get(t, base+"/metrics")
	for _, want := range []string{
		`wso2sync_passes_total{result="success"} 1`,
		`wso2sync_pass_duration_seconds_count 1`,
		`wso2sync_changes_applied_total{action="update",kind="Role"} 1`,
		`wso2sync_drift_detected_total{kind="Role"} 1`,
		`wso2sync_api_calls_total{server="apim",status="200"} 3`,
		`wso2sync_limiter_concurrency{server="apim"} 4`,
		`wso2sync_last_success_timestamp_seconds `,
		`wso2sync_source_revision_info{commit="",path="",ref="",source="dir",url=`,
		`wso2sync_certificate_expiry_seconds{name="wso2is"} 8`,
		`wso2sync_webhook_requests_total{result="unauthorized"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// postWith posts a signed or unsigned body with the given headers.
func postWith(t *testing.T, url string, body []byte, h map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The webhook takes only JSON (or GitHub's form encoding) that parses,
// and each signed delivery once: a replay within the hour is 409 and runs
// no pass (issue 15). Signed requests only: the signature is checked first.
func TestWebhookHardening(t *testing.T) {
	rec := newRecorder()
	secret := []byte("s3cret")
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, WebhookSecret: secret,
		Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "first pass recorded", 5*time.Second, func() bool { return d.Status().LastPass != nil })
	signed := func(body []byte, h map[string]string) map[string]string {
		out := map[string]string{SignatureHeader: Sign(secret, body)}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	for _, c := range []struct {
		name string
		body []byte
		h    map[string]string
		code int
	}{
		{"no content type", []byte(`{"a":1}`), nil, http.StatusUnsupportedMediaType},
		{"text/plain", []byte(`{"a":2}`), map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"multipart", []byte(`{"a":3}`), map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, http.StatusUnsupportedMediaType},
		{"not JSON", []byte(`ref=main`), jsonCT, http.StatusBadRequest},
		{"truncated JSON", []byte(`{"ref":`), jsonCT, http.StatusBadRequest},
		{"form without payload", []byte(`ref=main`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusBadRequest},
		{"form with bad JSON", []byte(`payload=%7Bnope`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusBadRequest},
	} {
		if code, msg := postWith(t, base+"/sync", c.body, signed(c.body, c.h)); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, msg, c.code)
		}
	}
	rec.none(t, 100*time.Millisecond)

	// A GitHub delivery, then the same delivery again: 409, no pass.
	body := []byte(`{"ref":"refs/heads/main","after":"1111"}`)
	gh := map[string]string{"Content-Type": "application/json; charset=utf-8", "X-GitHub-Delivery": "d-1"}
	if code, msg := postWith(t, base+"/sync", body, signed(body, gh)); code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", code, msg)
	}
	rec.wait(t, "webhook: d-1")
	if code, msg := postWith(t, base+"/sync", body, signed(body, gh)); code != http.StatusConflict || !strings.Contains(msg, "already received") {
		t.Errorf("replayed delivery: %d %s, want 409", code, msg)
	}
	// Without a delivery header the signature is the id: the same body again is a replay.
	plain := []byte(`{"ref":"refs/heads/main","after":"2222"}`)
	if code, _ := postWith(t, base+"/sync", plain, signed(plain, jsonCT)); code != http.StatusAccepted {
		t.Fatalf("first unnamed delivery: %d", code)
	}
	rec.wait(t, "webhook")
	if code, _ := postWith(t, base+"/sync", plain, signed(plain, jsonCT)); code != http.StatusConflict {
		t.Errorf("replayed unnamed delivery: %d, want 409", code)
	}
	rec.none(t, 200*time.Millisecond)
	// GitHub's form encoding is accepted.
	form := []byte("payload=" + url.QueryEscape(`{"ref":"refs/heads/main","after":"3333"}`))
	if code, msg := postWith(t, base+"/sync", form, signed(form, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Delivery": "d-2"})); code != http.StatusAccepted {
		t.Fatalf("form delivery: %d %s", code, msg)
	}
	rec.wait(t, "webhook: d-2")
	if n := testutil.ToFloat64(d.metrics.webhooks.WithLabelValues("replayed")); n != 2 {
		t.Errorf("replays counted %v, want 2", n)
	}
}

// The delivery log forgets ids after the window and bounds its size.
func TestDeliveryLog(t *testing.T) {
	var l deliveryLog
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	if ok, _ := l.first("a", t0); !ok {
		t.Fatal("a new id")
	}
	if ok, at := l.first("a", t0.Add(59*time.Minute)); ok || !at.Equal(t0) {
		t.Fatal("a replay within the hour")
	}
	if ok, _ := l.first("a", t0.Add(61*time.Minute)); !ok {
		t.Fatal("an id older than the window is forgotten")
	}
	for i := range maxDeliveries + 10 {
		l.first(strconv.Itoa(i), t0.Add(2*time.Hour))
	}
	if len(l.seen) > maxDeliveries || len(l.order) != len(l.seen) {
		t.Fatalf("%d ids remembered, bound %d", len(l.seen), maxDeliveries)
	}
}
