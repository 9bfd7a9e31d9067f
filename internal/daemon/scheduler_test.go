package daemon

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestJitterBounds(t *testing.T) {
	d := 10 * time.Minute
	for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.999999} {
		got := Jittered(d, 0.1, r)
		if got < 9*time.Minute || got > 11*time.Minute {
			t.Errorf("Jittered(10m, 0.1, %v) = %v, outside [9m, 11m]", r, got)
		}
	}
	if got := Jittered(d, 0.1, 0); got != 9*time.Minute {
		t.Errorf("r=0 gives %v, want the lower bound 9m", got)
	}
	if got := Jittered(d, 0.1, 0.5); got != d {
		t.Errorf("r=0.5 gives %v, want 10m", got)
	}
	if got := Jittered(d, 0, 0.9); got != d {
		t.Errorf("no jitter gives %v", got)
	}
	// The real source of randomness stays within the bounds too.
	s := NewScheduler(SchedulerOptions{Interval: d})
	for range 1000 {
		if got := s.delay(0); got < 9*time.Minute || got > 11*time.Minute {
			t.Fatalf("delay = %v, outside ±10%%", got)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, max := 15*time.Second, 4*time.Minute
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := Backoff(i+1, base, max); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := Backoff(1000, base, max); got != max {
		t.Errorf("Backoff(1000) = %v, want the cap", got)
	}
	// Jitter never takes the delay over the cap.
	s := NewScheduler(SchedulerOptions{BackoffBase: base, BackoffMax: max, Rand: func() float64 { return 0.999 }})
	if got := s.delay(10); got != max {
		t.Errorf("delay after 10 failures = %v, want the cap %v", got, max)
	}
}

// harness runs a scheduler on a fake clock with a pass the test controls.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	s      *Scheduler
	starts chan string  // a pass began, with its reason
	finish chan Outcome // the test ends the running pass
	cancel func()
	done   chan struct{}
	mu     sync.Mutex
	active int
	maxAct int
}

func newHarness(t *testing.T, o SchedulerOptions) *harness {
	h := &harness{t: t, clock: newFakeClock(), starts: make(chan string, 10), finish: make(chan Outcome), done: make(chan struct{})}
	o.Clock = h.clock
	o.Rand = func() float64 { return 0.5 } // no jitter: exact delays
	h.s = NewScheduler(o)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.s.Run(ctx, func(_ context.Context, reason string) Outcome {
			h.mu.Lock()
			h.active++
			h.maxAct = max(h.maxAct, h.active)
			h.mu.Unlock()
			h.starts <- reason
			o := <-h.finish
			h.mu.Lock()
			h.active--
			h.mu.Unlock()
			return o
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("scheduler did not stop")
		}
	})
	return h
}

func (h *harness) started(want string) {
	h.t.Helper()
	select {
	case got := <-h.starts:
		if got != want {
			h.t.Fatalf("pass reason %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no pass started (want %q)", want)
	}
}

func (h *harness) noPass() {
	h.t.Helper()
	select {
	case got := <-h.starts:
		h.t.Fatalf("unexpected pass %q", got)
	case <-time.After(50 * time.Millisecond):
	}
}

// reset waits for the scheduler to set its timer and returns the delay.
func (h *harness) reset() time.Duration {
	h.t.Helper()
	select {
	case d := <-h.clock.resets:
		return d
	case <-time.After(5 * time.Second):
		h.t.Fatal("timer not set")
	}
	return 0
}

func TestSchedulerCoalescesRequestsDuringAPass(t *testing.T) {
	h := newHarness(t, SchedulerOptions{Interval: time.Minute})
	h.started("start")
	// Three requests while the first pass runs: exactly one follow-up.
	if !h.s.Request("change") {
		t.Error("first request not queued")
	}
	if h.s.Request("webhook") || h.s.Request("change") {
		t.Error("later requests were queued, want them coalesced")
	}
	h.finish <- OK
	h.reset()
	h.started("change")
	h.finish <- OK
	h.reset()
	h.noPass()
	if got := h.s.Coalesced(); got != 2 {
		t.Errorf("Coalesced() = %d, want 2", got)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.maxAct != 1 {
		t.Errorf("%d passes ran at once", h.maxAct)
	}
}

func TestSchedulerIntervalAndBackoff(t *testing.T) {
	h := newHarness(t, SchedulerOptions{Interval: 10 * time.Minute, BackoffBase: 10 * time.Second, BackoffMax: 40 * time.Second})
	h.started("start")
	h.finish <- OK
	if d := h.reset(); d != 10*time.Minute {
		t.Fatalf("after a good pass the next is due in %v, want the interval", d)
	}
	h.clock.Advance(10 * time.Minute)
	h.started("interval")
	h.finish <- Failed
	for _, want := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second} {
		d := h.reset()
		if d != want {
			t.Fatalf("backoff %v, want %v", d, want)
		}
		if got := h.s.Next(); !got.Equal(h.clock.Now().Add(want)) {
			t.Errorf("Next() = %v, want now+%v", got, want)
		}
		h.clock.Advance(d)
		h.started("retry")
		h.finish <- Failed
	}
	h.reset()
	if h.s.Failures() != 5 {
		t.Errorf("Failures() = %d, want 5", h.s.Failures())
	}
	// A change does not wait for the backoff; success resets it.
	h.s.Request("change")
	h.started("change")
	h.finish <- OK
	if d := h.reset(); d != 10*time.Minute {
		t.Errorf("after recovery the next pass is due in %v, want the interval", d)
	}
	// Invalid manifests do not back off either.
	h.s.Request("change")
	h.started("change")
	h.finish <- Stalled
	if d := h.reset(); d != 10*time.Minute {
		t.Errorf("after an invalid pass the next is due in %v, want the interval", d)
	}
}

func TestSchedulerStopsWithoutFurtherPasses(t *testing.T) {
	h := newHarness(t, SchedulerOptions{Interval: time.Minute})
	h.started("start")
	h.s.Request("change") // queued during the pass
	h.cancel()
	h.finish <- OK // the running pass finishes; the queued one never starts
	select {
	case <-h.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the pass")
	}
	h.noPass()
}
