package transport

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterHalvesOncePerBurstAndRecoversAdditively(t *testing.T) {
	l := NewLimiter(8)
	ctx := context.Background()
	var epochs []uint64
	for range 8 {
		e, err := l.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		epochs = append(epochs, e)
	}
	// The whole in-flight burst comes back 429: one halving, not eight.
	for _, e := range epochs {
		l.release(e, outcomeRateLimited)
	}
	if got := l.Current(); got != 4 {
		t.Fatalf("after a 429 burst: limit %d, want 4", got)
	}
	// A 429 for a request admitted after the decrease halves again.
	e, _ := l.acquire(ctx)
	l.release(e, outcomeRateLimited)
	if got := l.Current(); got != 2 {
		t.Fatalf("after a second 429: limit %d, want 2", got)
	}
	for range 3 {
		e, _ := l.acquire(ctx)
		l.release(e, outcomeRateLimited)
	}
	if got := l.Current(); got != 1 {
		t.Fatalf("floor: limit %d, want 1", got)
	}
	// Additive increase: `limit` successes raise the limit by one.
	succeed := func(n int) {
		for range n {
			e, _ := l.acquire(ctx)
			l.release(e, outcomeSuccess)
		}
	}
	succeed(1)
	if got := l.Current(); got != 2 {
		t.Fatalf("after 1 success at 1: %d, want 2", got)
	}
	succeed(1)
	if got := l.Current(); got != 2 {
		t.Fatalf("after 1 success at 2: %d, want 2", got)
	}
	succeed(1)
	if got := l.Current(); got != 3 {
		t.Fatalf("after 2 successes at 2: %d, want 3", got)
	}
	// Neutral outcomes (5xx, transport errors) change nothing.
	e, _ = l.acquire(ctx)
	l.release(e, outcomeNeutral)
	if got := l.Current(); got != 3 {
		t.Fatalf("neutral: %d, want 3", got)
	}
	succeed(3 + 4 + 5 + 6 + 7 + 100)
	if got := l.Current(); got != 8 {
		t.Fatalf("recovery stops at the bound: %d, want 8", got)
	}
	if l.InFlight() != 0 {
		t.Fatalf("in flight %d", l.InFlight())
	}
}

func TestLimiterBoundsConcurrency(t *testing.T) {
	var cur, peak atomic.Int64
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
	})
	opts := fastOptions(srv.URL)
	opts.Concurrency = 3
	c := newClient(t, opts)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if _, err := c.Do(context.Background(), Request{PathTemplate: "/x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
}

// A burst of concurrent calls that all get 429 halves the shared limit
// once; the retries' successes then add one.
func TestRateLimitedBurstHalvesSharedLimiterOnce(t *testing.T) {
	const n = 8
	var first sync.WaitGroup
	first.Add(n)
	var hits atomic.Int64
	srv := newHandlerServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= n {
			first.Done()
			first.Wait() // all n are in flight together
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(200)
	})
	opts := fastOptions(srv.URL)
	opts.Concurrency = n
	opts.RetryAfterCap = 50 * time.Millisecond // every retry waits exactly 50ms
	shared := NewLimiter(n)
	opts.Limiter = shared
	c := newClient(t, opts)
	other := newClient(t, opts) // a second client of the same server shares the limiter
	if other.Limiter() != c.Limiter() {
		t.Fatal("limiter not shared")
	}
	var wg sync.WaitGroup
	for i := range n {
		cl := c
		if i%2 == 0 {
			cl = other
		}
		wg.Go(func() {
			if _, err := cl.Do(context.Background(), Request{PathTemplate: "/x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 8 → 4 on the burst, then 8 successes: 4 of them raise it to 5.
	if got := shared.Current(); got != 5 {
		t.Fatalf("limit %d, want 5 (halved once, then +1)", got)
	}
	if hits.Load() != 2*n {
		t.Fatalf("hits %d", hits.Load())
	}
}

// TestCloseIdle: the connections a client kept alive are closed by
// CloseIdle (a daemon pass closes its clients' connections when it ends).
func TestCloseIdle(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(t, fastOptions(srv.URL))
	for range 3 {
		if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, PathTemplate: "/things"}); err != nil {
			t.Fatal(err)
		}
	}
	if open.Load() == 0 {
		t.Fatal("no connection kept alive to close")
	}
	c.CloseIdle()
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d connections still open after CloseIdle", n)
	}
}
