package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// refusals is an Observer that counts refused connections and runs
// onRefused (once) at the n-th.
type refusals struct {
	n         int64
	count     atomic.Int64
	once      sync.Once
	onRefused func()
}

func (r *refusals) ObserveRequest(e RequestEvent) {
	if errors.Is(e.Err, syscall.ECONNREFUSED) && r.count.Add(1) == r.n && r.onRefused != nil {
		r.once.Do(r.onRefused)
	}
}

// freePort returns an address where nothing listens (for now).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveAt starts an HTTP server on addr answering 201 and counting hits.
func serveAt(t *testing.T, addr string, hits *atomic.Int64) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("listen %s: %v", addr, err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
	})}
	t.Cleanup(func() { srv.Close() })
	go srv.Serve(l)
}

// A server that starts only after refusing the client three times still
// gets the call, a POST (not idempotent) included, without any of
// MaxRetries: a refused connection carried no request.
func TestStartupWaitForStartingServer(t *testing.T) {
	addr := freePort(t)
	var hits atomic.Int64
	obs := &refusals{n: 3}
	obs.onRefused = func() { serveAt(t, addr, &hits) }
	opts := fastOptions("http://" + addr)
	opts.StartupWait = time.Minute // the test ends as soon as the server is up
	opts.MaxRetries = -1
	opts.Observer = obs
	c := newClient(t, opts)
	resp, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{"a": "b"}})
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("got %v, %v", resp, err)
	}
	if hits.Load() != 1 || obs.count.Load() < 3 {
		t.Fatalf("hits %d, refusals %d: want 1 hit after 3 refusals", hits.Load(), obs.count.Load())
	}
}

// Without StartupWait (the library default), a refused POST fails at once.
func TestStartupWaitOffFailsAtOnce(t *testing.T) {
	opts := fastOptions("http://" + freePort(t))
	c := newClient(t, opts)
	_, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindTransport || ae.Attempts != 1 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want one refused attempt, got %v", err)
	}
}

// The wait is bounded: a server that never starts fails the call once
// StartupWait is spent, with the refusal as the error.
func TestStartupWaitSpent(t *testing.T) {
	opts := fastOptions("http://" + freePort(t))
	opts.StartupWait = 500 * time.Millisecond
	opts.MaxRetries = -1
	c := newClient(t, opts)
	_, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindTransport || ae.Attempts < 2 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("want several refused attempts, then the refusal, got %v", err)
	}
	// The wait is spent for good: the next call fails at its first refusal.
	_, err = c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{}})
	if !errors.As(err, &ae) || ae.Attempts != 1 {
		t.Fatalf("after the wait: want one attempt, got %v", err)
	}
}

// Once the server has answered, a refused connection is not a server
// starting: it is an ordinary transport error (a POST is not repeated).
func TestStartupWaitEndsAtFirstAnswer(t *testing.T) {
	addr := freePort(t)
	var hits atomic.Int64
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
	})}
	go srv.Serve(l)
	opts := fastOptions("http://" + addr)
	opts.StartupWait = time.Minute
	opts.MaxRetries = -1
	c := newClient(t, opts)
	if _, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	c.CloseIdle()
	_, err = c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/create", Body: map[string]string{}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Attempts != 1 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a server gone after answering: want one refused attempt, got %v", err)
	}
}
