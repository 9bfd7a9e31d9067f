package daemon

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Scheduler defaults.
const (
	DefaultInterval    = 10 * time.Minute
	DefaultJitter      = 0.1
	DefaultBackoffBase = 15 * time.Second
	DefaultBackoffMax  = 10 * time.Minute
)

// Outcome is how a pass ended, as far as scheduling cares.
type Outcome int

const (
	// OK: the next pass is due after the interval.
	OK Outcome = iota
	// Failed: the next pass is due after the backoff, which grows with
	// each consecutive failure.
	Failed
	// Stalled: the manifests are invalid; retrying cannot help, so the
	// next pass is due after the interval (a change triggers one sooner).
	Stalled
)

// SchedulerOptions configure a Scheduler. Zero values are the defaults.
type SchedulerOptions struct {
	// Interval between drift passes (default 10m).
	Interval time.Duration
	// Jitter is the fraction by which each delay varies either way
	// (default 0.1: ±10%); negative means none.
	Jitter float64
	// BackoffBase is the delay after the first failure (default 15s); it
	// doubles with each consecutive failure up to BackoffMax (default 10m).
	BackoffBase, BackoffMax time.Duration
	Clock                   Clock
	// Rand returns a number in [0, 1) (default math/rand/v2).
	Rand func() float64
}

func (o *SchedulerOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Jitter == 0 {
		o.Jitter = DefaultJitter
	} else if o.Jitter < 0 {
		o.Jitter = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
}

// Scheduler runs passes one at a time: once at start, when Request is
// called, and when the interval (or, after failures, the backoff) has
// passed. A request that arrives during a pass queues exactly one
// follow-up pass however many arrive.
type Scheduler struct {
	opts     SchedulerOptions
	requests chan string

	mu        sync.Mutex
	next      time.Time
	failures  int
	coalesced int64
}

// NewScheduler returns a scheduler; Run starts it.
func NewScheduler(o SchedulerOptions) *Scheduler {
	o.defaults()
	return &Scheduler{opts: o, requests: make(chan string, 1)}
}

// Request asks for a pass as soon as none is running. It reports false
// when a pass was already queued (the requests coalesce into it).
func (s *Scheduler) Request(reason string) bool {
	select {
	case s.requests <- reason:
		return true
	default:
		s.mu.Lock()
		s.coalesced++
		s.mu.Unlock()
		return false
	}
}

// Next is when the next timed pass is due (zero before the first pass).
func (s *Scheduler) Next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Failures is the number of consecutive failed passes.
func (s *Scheduler) Failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

// Coalesced is the number of requests folded into an already queued pass.
func (s *Scheduler) Coalesced() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.coalesced
}

// Run runs passes until ctx ends; it returns after the running pass
// returns. pass gets ctx and the reason ("start", "interval", "retry" or
// what Request was given).
func (s *Scheduler) Run(ctx context.Context, pass func(ctx context.Context, reason string) Outcome) {
	if ctx.Err() != nil {
		return
	}
	timer := s.opts.Clock.NewTimer(s.after(pass(ctx, "start")))
	defer timer.Stop()
	for {
		var reason string
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
			reason = "interval"
			if s.Failures() > 0 {
				reason = "retry"
			}
		case reason = <-s.requests:
			if !timer.Stop() {
				// Drain a timer that fired meanwhile so it does not
				// trigger a second pass right after this one.
				select {
				case <-timer.C():
				default:
				}
			}
		}
		// Shutdown wins over a trigger that raced with it.
		if ctx.Err() != nil {
			return
		}
		timer.Reset(s.after(pass(ctx, reason)))
	}
}

// after records a pass's outcome and returns the delay to the next timed
// pass.
func (s *Scheduler) after(o Outcome) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o == Failed {
		s.failures++
	} else {
		s.failures = 0
	}
	d := s.delay(s.failures)
	s.next = s.opts.Clock.Now().Add(d)
	return d
}

// delay is the wait after n consecutive failures (0: the interval), with
// jitter.
func (s *Scheduler) delay(n int) time.Duration {
	if n == 0 {
		return Jittered(s.opts.Interval, s.opts.Jitter, s.opts.Rand())
	}
	return min(Jittered(Backoff(n, s.opts.BackoffBase, s.opts.BackoffMax), s.opts.Jitter, s.opts.Rand()), s.opts.BackoffMax)
}

// Backoff is the delay after n ≥ 1 consecutive failures: base doubled
// n-1 times, at most max.
func Backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n; i++ {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

// Jittered varies d by up to ±frac·d; r in [0, 1) picks where.
func Jittered(d time.Duration, frac, r float64) time.Duration {
	if frac <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + frac*(2*r-1)))
}
