package transport

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFullJitterBounds(t *testing.T) {
	min, max := 10*time.Millisecond, 300*time.Millisecond
	for attempt := 0; attempt < 70; attempt++ {
		ceiling := max
		if attempt < 10 && min<<attempt < max {
			ceiling = min << attempt
		}
		var lo, hi time.Duration = ceiling, 0
		for range 500 {
			d := fullJitter(min, max, attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: %v outside [0, %v]", attempt, d, ceiling)
			}
			lo, hi = minD(lo, d), maxD(hi, d)
		}
		// Full jitter spreads over the whole range, not just near the cap.
		if lo > ceiling/4 || hi < ceiling*3/4 {
			t.Fatalf("attempt %d: samples in [%v, %v], want spread over [0, %v]", attempt, lo, hi, ceiling)
		}
	}
	if d := fullJitter(0, max, 3); d != 0 {
		t.Fatalf("min 0: got %v", d)
	}
}

func minD(a, b time.Duration) time.Duration { return min(a, b) }
func maxD(a, b time.Duration) time.Duration { return max(a, b) }

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"3", 3 * time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"0", 0, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"Sun, 01 Jun 2025 12:00:05 GMT", 5 * time.Second, true},
		{"99999999999999999999", 365 * 24 * time.Hour, false}, // overflows uint64: not a number, not a date
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBackoffHonoursCappedRetryAfter(t *testing.T) {
	clk := newClock()
	c := newClient(t, Options{BaseURL: "http://x", RetryAfterCap: 30 * time.Second, Now: clk.Now, Logger: discardLogger()})
	co := c.core
	resp := func(status int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	min, max := 100*time.Millisecond, 2*time.Second
	if d := co.backoff(min, max, 0, resp(429, "7")); d != 7*time.Second {
		t.Errorf("429 Retry-After 7: %v", d)
	}
	if d := co.backoff(min, max, 0, resp(429, "3600")); d != 30*time.Second {
		t.Errorf("429 Retry-After 3600 not capped: %v", d)
	}
	date := clk.Now().Add(12 * time.Second).Format(http.TimeFormat)
	if d := co.backoff(min, max, 0, resp(503, date)); d != 12*time.Second {
		t.Errorf("503 Retry-After date: %v", d)
	}
	if d := co.backoff(min, max, 3, resp(401, "")); d != 0 {
		t.Errorf("401 replay should not wait: %v", d)
	}
	for range 100 {
		if d := co.backoff(min, max, 2, resp(500, "9")); d > 400*time.Millisecond {
			t.Fatalf("500 ignores Retry-After and uses jitter ≤ 400ms: %v", d)
		}
		if d := co.backoff(min, max, 1, resp(429, "")); d > 200*time.Millisecond {
			t.Fatalf("429 without Retry-After uses jitter ≤ 200ms: %v", d)
		}
	}
}

func TestRetryMatrix(t *testing.T) {
	ok := step{status: 200, body: `{}`}
	tests := []struct {
		name      string
		method    string
		steps     []step
		verify    func(calls *atomic.Int64) func(context.Context) (bool, error)
		wantHits  int64
		wantErr   func(error) bool
		wantCalls int64 // VerifyNotLanded calls
	}{
		{name: "GET 503 then 200 is retried", method: "GET", steps: []step{{status: 503}, ok}, wantHits: 2},
		{name: "GET connection reset is retried", method: "GET", steps: []step{{hangup: true}, ok}, wantHits: 2},
		{name: "PUT 500 is retried", method: "PUT", steps: []step{{status: 500}, ok}, wantHits: 2},
		{name: "DELETE 502 is retried", method: "DELETE", steps: []step{{status: 502}, ok}, wantHits: 2},
		{name: "DELETE 500 with a generic code is retried", method: "DELETE",
			steps: []step{{status: 500, body: `{"code":500,"message":"Internal server error"}`}, ok}, wantHits: 2},
		{name: "DELETE 500 with a WSO2 error code is not retried", method: "DELETE",
			steps:    []step{{status: 500, body: `{"code":901410,"message":"Key Manager is already used","description":"in use"}`}, ok},
			wantHits: 1, wantErr: func(err error) bool { return IsServer(err) && strings.Contains(err.Error(), "in use") }},
		{name: "GET 501 is not retried", method: "GET", steps: []step{{status: 501}, ok}, wantHits: 1, wantErr: IsServer},
		{name: "POST 503 without check is not retried", method: "POST", steps: []step{{status: 503}, ok}, wantHits: 1, wantErr: IsServer},
		{name: "POST hangup without check is not retried", method: "POST", steps: []step{{hangup: true}, ok}, wantHits: 1, wantErr: IsTransport},
		{
			name: "POST 503 not landed is retried", method: "POST", steps: []step{{status: 503}, {status: 201}},
			verify: func(n *atomic.Int64) func(context.Context) (bool, error) {
				return func(context.Context) (bool, error) { n.Add(1); return false, nil }
			},
			wantHits: 2, wantCalls: 1,
		},
		{
			name: "POST 503 landed returns ErrLanded", method: "POST", steps: []step{{status: 503, body: `{"code":500,"message":"boom"}`}, {status: 201}},
			verify: func(n *atomic.Int64) func(context.Context) (bool, error) {
				return func(context.Context) (bool, error) { n.Add(1); return true, nil }
			},
			wantHits: 1, wantCalls: 1,
			wantErr: func(err error) bool { return IsLanded(err) && IsServer(err) },
		},
		{
			name: "POST hangup landed returns ErrLanded", method: "POST", steps: []step{{hangup: true}, {status: 201}},
			verify: func(n *atomic.Int64) func(context.Context) (bool, error) {
				return func(context.Context) (bool, error) { n.Add(1); return true, nil }
			},
			wantHits: 1, wantCalls: 1,
			wantErr: func(err error) bool { return IsLanded(err) && IsTransport(err) },
		},
		{
			name: "POST verify failure stops", method: "POST", steps: []step{{status: 500}, {status: 201}},
			verify: func(n *atomic.Int64) func(context.Context) (bool, error) {
				return func(context.Context) (bool, error) { n.Add(1); return false, errors.New("lookup broke") }
			},
			wantHits: 1, wantCalls: 1,
			wantErr: func(err error) bool { return strings.Contains(err.Error(), "lookup broke") && !IsLanded(err) },
		},
		{
			name: "POST 400 does not consult the check", method: "POST", steps: []step{{status: 400}, ok},
			verify: func(n *atomic.Int64) func(context.Context) (bool, error) {
				return func(context.Context) (bool, error) { n.Add(1); return false, nil }
			},
			wantHits: 1, wantErr: IsBadRequest,
		},
		{name: "GET 400 is not retried", method: "GET", steps: []step{{status: 400}, ok}, wantHits: 1, wantErr: IsBadRequest},
		{name: "GET 404 is not retried", method: "GET", steps: []step{{status: 404}, ok}, wantHits: 1, wantErr: IsNotFound},
		{name: "POST 409 is not retried", method: "POST", steps: []step{{status: 409}, ok}, wantHits: 1, wantErr: IsConflict},
		{name: "GET 403 is not retried", method: "GET", steps: []step{{status: 403}, ok}, wantHits: 1, wantErr: IsForbidden},
		{name: "POST 429 is retried", method: "POST", steps: []step{{status: 429}, {status: 429}, {status: 201}}, wantHits: 3},
		{name: "GET 500 gives up after MaxRetries", method: "GET", steps: []step{{status: 500}}, wantHits: 3, wantErr: func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.Attempts == 3 && ae.Status == 500 && strings.HasSuffix(err.Error(), "after 3 attempts")
		}},
		{name: "GET 429 gives up after MaxRetries", method: "GET", steps: []step{{status: 429}}, wantHits: 3, wantErr: IsRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := serve(t, tt.steps...)
			opts := fastOptions(srv.URL)
			opts.MaxRetries = 2
			c := newClient(t, opts)
			var calls atomic.Int64
			req := Request{Method: tt.method, PathTemplate: "/things"}
			if tt.verify != nil {
				req.VerifyNotLanded = tt.verify(&calls)
			}
			_, err := c.Do(context.Background(), req)
			if got := s.hits.Load(); got != tt.wantHits {
				t.Errorf("hits = %d, want %d", got, tt.wantHits)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("VerifyNotLanded calls = %d, want %d", got, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != nil && (err == nil || !tt.wantErr(err)):
				t.Errorf("error %v (%T) is not the expected one", err, err)
			}
		})
	}
}

func TestLandedErrorLetsCallerFetch(t *testing.T) {
	_, srv := serve(t, step{status: 500, body: `{"code":500,"message":"Internal server error"}`})
	c := newClient(t, fastOptions(srv.URL))
	_, err := c.Do(context.Background(), Request{
		Method: "POST", PathTemplate: "/applications", Identity: "Application payments-web",
		Body:            map[string]string{"name": "payments-web"},
		VerifyNotLanded: func(context.Context) (bool, error) { return true, nil },
	})
	var le *LandedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLanded) {
		t.Fatalf("want *LandedError, got %T %v", err, err)
	}
	want := "POST /applications (Application payments-web): the call failed but the write took effect: POST /applications (Application payments-web): 500 Internal Server Error: Internal server error [500]"
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}

func TestUnauthorizedRefreshesOnceAndReplays(t *testing.T) {
	t.Run("replay succeeds", func(t *testing.T) {
		var hits atomic.Int64
		srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if r.Header.Get("Authorization") != "Bearer tok-2" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"ok":true}`))
		})
		auth := &fakeAuth{}
		c := newClient(t, fastOptions(srv.URL)).WithAuth(auth)
		var out struct{ OK bool }
		if err := c.JSON(context.Background(), Request{PathTemplate: "/x"}, &out); err != nil || !out.OK {
			t.Fatalf("JSON: %v %+v", err, out)
		}
		if hits.Load() != 2 || auth.refreshes.Load() != 1 {
			t.Fatalf("hits %d refreshes %d, want 2 and 1", hits.Load(), auth.refreshes.Load())
		}
		if got := c.Counter().Snapshot(); got.Retries != 1 || got.Reads != 2 {
			t.Fatalf("counts %+v", got)
		}
	})
	t.Run("still 401 after refresh", func(t *testing.T) {
		s, srv := serve(t, step{status: 401, body: `{"code":900902,"message":"Invalid Credentials","description":"Make sure you have provided the correct security credentials"}`})
		auth := &fakeAuth{}
		c := newClient(t, fastOptions(srv.URL)).WithAuth(auth)
		_, err := c.Do(context.Background(), Request{PathTemplate: "/x"})
		if !IsUnauthorized(err) || HintOf(err) != "fake hint" {
			t.Fatalf("want Unauthorized with hint, got %v (hint %q)", err, HintOf(err))
		}
		if s.hits.Load() != 2 || auth.refreshes.Load() != 1 {
			t.Fatalf("hits %d refreshes %d, want 2 and 1", s.hits.Load(), auth.refreshes.Load())
		}
	})
	t.Run("refresh fails", func(t *testing.T) {
		s, srv := serve(t, step{status: 401})
		auth := &fakeAuth{refreshErr: &APIError{Kind: KindUnauthorized, Method: "POST", PathTemplate: "/oauth2/token", Status: 400, Code: "invalid_grant", Hint: "check creds"}}
		c := newClient(t, fastOptions(srv.URL)).WithAuth(auth)
		_, err := c.Do(context.Background(), Request{PathTemplate: "/x"})
		if !IsUnauthorized(err) || HintOf(err) != "check creds" || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("want the refresh error, got %v", err)
		}
		if s.hits.Load() != 1 {
			t.Fatalf("hits %d, want 1", s.hits.Load())
		}
	})
	t.Run("basic auth is not replayed", func(t *testing.T) {
		s, srv := serve(t, step{status: 401})
		c := newClient(t, fastOptions(srv.URL)).WithAuth(BasicAuth{Username: StaticSecret("admin"), Password: StaticSecret("wrong")})
		_, err := c.Do(context.Background(), Request{PathTemplate: "/scim2/Users"})
		if !IsUnauthorized(err) || HintOf(err) != DefaultCredentialsHint {
			t.Fatalf("got %v (hint %q)", err, HintOf(err))
		}
		if s.hits.Load() != 1 {
			t.Fatalf("hits %d, want 1 (no replay of a wrong password)", s.hits.Load())
		}
		if u, p, _ := s.reqs[0].BasicAuth(); u != "admin" || p != "wrong" {
			t.Fatalf("basic auth not sent: %q %q", u, p)
		}
	})
	t.Run("IS DCR 401 means not found", func(t *testing.T) {
		_, srv := serve(t, step{status: 401})
		c := newClient(t, fastOptions(srv.URL)).WithAuth(BasicAuth{Username: StaticSecret("admin"), Password: StaticSecret("admin")})
		_, err := c.Do(context.Background(), Request{PathTemplate: "/api/identity/oauth2/dcr/v1.1/register/{clientId}",
			PathParams: map[string]string{"clientId": "abc"}, NotFoundOn401: true})
		var ae *APIError
		if !IsNotFound(err) || !errors.As(err, &ae) || ae.Status != 401 {
			t.Fatalf("got %v", err)
		}
	})
}

func TestContextCancelDuringBackoffReturnsPromptly(t *testing.T) {
	s, srv := serve(t, step{status: 503, header: map[string]string{"Retry-After": "30"}})
	opts := fastOptions(srv.URL)
	opts.RetryAfterCap = time.Minute
	c := newClient(t, opts)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, Request{PathTemplate: "/slow"})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	if !errors.Is(err, context.Canceled) || KindOf(err) != KindCanceled {
		t.Fatalf("want canceled, got %v", err)
	}
	if s.hits.Load() != 1 {
		t.Fatalf("hits %d", s.hits.Load())
	}
}

func TestContextCancelWhileWaitingForSlot(t *testing.T) {
	release := make(chan struct{})
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	opts := fastOptions(srv.URL)
	opts.Concurrency = 1
	c := newClient(t, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Do(context.Background(), Request{PathTemplate: "/hold"})
	}()
	for c.Limiter().InFlight() != 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, Request{PathTemplate: "/queued"})
	if !errors.Is(err, context.DeadlineExceeded) || KindOf(err) != KindCanceled {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	close(release)
	<-done
	if got := c.Counter().Snapshot().Total(); got != 1 {
		t.Fatalf("a call that never got a slot was counted: total %d", got)
	}
	if c.Limiter().InFlight() != 0 {
		t.Fatalf("slot leaked: in flight %d", c.Limiter().InFlight())
	}
}

func TestPerCallTimeout(t *testing.T) {
	var hits atomic.Int64
	block := make(chan struct{})
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	defer close(block)
	opts := fastOptions(srv.URL)
	opts.Timeout = 50 * time.Millisecond
	opts.MaxRetries = 1
	c := newClient(t, opts)

	start := time.Now()
	_, err := c.Do(context.Background(), Request{PathTemplate: "/hang"})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	var te *timeoutError
	if !IsTransport(err) || !errors.As(err, &te) || !strings.Contains(err.Error(), "no response within 50ms") {
		t.Fatalf("want a timeout transport error, got %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("GET timeout should be retried once: hits %d", hits.Load())
	}

	hits.Store(0)
	_, err = c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/hang"})
	if !IsTransport(err) || hits.Load() != 1 {
		t.Fatalf("POST timeout is not retried without a landing check: %v, hits %d", err, hits.Load())
	}
}

func TestCounterExactCounts(t *testing.T) {
	// A scripted server per call keeps the expected counts obvious; one
	// counter is shared as it is across the servers of a run.
	counter := &Counter{}
	run := func(method string, steps []step, req Request) {
		t.Helper()
		_, srv := serve(t, steps...)
		opts := fastOptions(srv.URL)
		opts.Counter = counter
		opts.MaxRetries = 2
		req.Method = method
		req.PathTemplate = "/x"
		newClient(t, opts).Do(context.Background(), req)
	}
	ok := step{status: 200}
	run("GET", []step{ok}, Request{})                               // 1 read
	run("GET", []step{{status: 503}, {status: 503}, ok}, Request{}) // 3 reads, 2 retries
	run("POST", []step{{status: 201}}, Request{})                   // 1 write
	run("POST", []step{ok}, Request{ReadOnly: true})                // 1 read
	run("PUT", []step{{status: 500}}, Request{})                    // 3 writes, 2 retries
	run("POST", []step{{status: 429}, {status: 201}}, Request{})    // 2 writes, 1 retry
	run("DELETE", []step{{status: 404}}, Request{})                 // 1 write
	run("POST", []step{ok}, Request{authCall: true})                // 1 auth
	run("GET", []step{{hangup: true}, ok}, Request{})               // 2 reads, 1 retry, 1 transport error
	got := counter.Snapshot()
	want := CallCounts{Reads: 7, Writes: 7, Auth: 1, Retries: 6, RateLimited: 1, TransportErrors: 1,
		ByStatus: map[int]int64{200: 5, 201: 2, 404: 1, 429: 1, 500: 3, 503: 2}}
	if got.Reads != want.Reads || got.Writes != want.Writes || got.Auth != want.Auth || got.Retries != want.Retries ||
		got.RateLimited != want.RateLimited || got.TransportErrors != want.TransportErrors || got.Total() != 15 {
		t.Fatalf("counts\n got %+v\nwant %+v", got, want)
	}
	for k, v := range want.ByStatus {
		if got.ByStatus[k] != v {
			t.Errorf("status %d: %d, want %d", k, got.ByStatus[k], v)
		}
	}
	if len(got.ByStatus) != len(want.ByStatus) {
		t.Errorf("statuses %v", got.ByStatus)
	}
}

func TestFullJitterExtremes(t *testing.T) {
	if d := fullJitter(time.Second, time.Duration(math.MaxInt64), 80); d < 0 {
		t.Fatalf("negative wait %v", d)
	}
	if d := fullJitter(time.Duration(math.MaxInt64/2), time.Duration(math.MaxInt64), 3); d < 0 {
		t.Fatalf("overflowing shift gave %v", d)
	}
}

// TestThrottleBudgetWaitsOutABurst: a burst of 429s longer than
// MaxRetries is waited out, as Retry-After asks, while the client's
// throttle budget lasts; once it is spent the call fails as rate limited.
func TestThrottleBudgetWaitsOutABurst(t *testing.T) {
	burst := make([]step, 8)
	for i := range burst {
		burst[i] = step{status: 429, header: map[string]string{"Retry-After": "0"}}
	}
	s, srv := serve(t, append(burst, step{status: 200, body: `{}`})...)
	opts := fastOptions(srv.URL)
	opts.MaxRetries = 2
	opts.ThrottleBudget = time.Second // 100 ms charged per extra attempt: room for 10
	c := newClient(t, opts)
	if _, err := c.Do(context.Background(), Request{PathTemplate: "/things"}); err != nil {
		t.Fatalf("a burst of 8 429s within the budget: %v", err)
	}
	if got := s.hits.Load(); got != 9 {
		t.Fatalf("hits = %d, want 9 (8 refusals, then success)", got)
	}

	// A budget that runs out: 2 retries + 3 extra (300 ms of 350 ms), then
	// the fourth extra wait would exceed what is left… it is shortened and
	// the call after it still fails: the error says rate limited.
	s2, srv2 := serve(t, step{status: 429, header: map[string]string{"Retry-After": "0"}})
	opts2 := fastOptions(srv2.URL)
	opts2.MaxRetries = 2
	opts2.ThrottleBudget = 350 * time.Millisecond
	c2 := newClient(t, opts2)
	_, err := c2.Do(context.Background(), Request{PathTemplate: "/things"})
	if !IsRateLimited(err) {
		t.Fatalf("budget spent: err = %v, want rate limited", err)
	}
	if got := s2.hits.Load(); got != 7 {
		t.Fatalf("hits = %d, want 7 (1 + 2 retries + 4 paid from the budget)", got)
	}
}
