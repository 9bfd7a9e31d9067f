package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fastOptions are Options with waits small enough for tests.
func fastOptions(base string) Options {
	return Options{
		BaseURL:       base,
		Server:        "test",
		RetryWaitMin:  time.Millisecond,
		RetryWaitMax:  5 * time.Millisecond,
		RetryAfterCap: 20 * time.Millisecond,
		// No waiting out 429s past MaxRetries unless a test asks for it.
		ThrottleBudget: -1,
		Timeout:        5 * time.Second,
		Logger:         discardLogger(),
	}
}

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := NewClient(opts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// scripted answers the n-th request with the n-th step (the last repeats).
type step struct {
	status int
	body   string
	header map[string]string
	hangup bool // close the connection without a response
}

type scripted struct {
	mu     sync.Mutex
	steps  []step
	hits   atomic.Int64
	reqs   []*http.Request
	bodies [][]byte
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.hits.Add(1)) - 1
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, body)
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	if st.hangup {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func serve(t *testing.T, steps ...step) (*scripted, *httptest.Server) {
	t.Helper()
	s := &scripted{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// logBuffer captures log output safely.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fakeAuth hands out "tok-1", "tok-2", ... and counts calls.
type fakeAuth struct {
	gen        atomic.Int64
	authorizes atomic.Int64
	refreshes  atomic.Int64
	refreshErr error
}

func (f *fakeAuth) Authorize(_ context.Context, req *http.Request, _ []string) error {
	f.authorizes.Add(1)
	req.Header.Set("Authorization", "Bearer tok-"+itoa(f.gen.Load()+1))
	return nil
}

func (f *fakeAuth) Refresh(context.Context) error {
	f.refreshes.Add(1)
	if f.refreshErr != nil {
		return f.refreshErr
	}
	f.gen.Add(1)
	return nil
}

func (f *fakeAuth) Hint() string { return "fake hint" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// clock is an adjustable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newHandlerServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
