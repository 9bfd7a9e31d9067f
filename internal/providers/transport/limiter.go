package transport

import (
	"context"
	"sync"
)

// Limiter is an AIMD concurrency limit shared by every client of one server.
// It starts at its maximum; a 429 halves it (down to 1) and every `limit`
// successes in a row raise it by one, back up to the maximum.
//
// A burst of in-flight requests that all come back 429 halves the limit only
// once: a 429 only counts if its request was admitted after the last
// decrease (an epoch number stands in for "one round trip" of cooldown).
type Limiter struct {
	mu        sync.Mutex
	max       int
	limit     int
	inflight  int
	successes int
	epoch     uint64
	wake      chan struct{} // closed and replaced when a slot may have opened
}

// NewLimiter returns a limiter that admits max concurrent requests (at least 1).
func NewLimiter(max int) *Limiter {
	if max < 1 {
		max = 1
	}
	return &Limiter{max: max, limit: max, wake: make(chan struct{})}
}

// Current is the current limit (for metrics).
func (l *Limiter) Current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Max is the configured bound.
func (l *Limiter) Max() int { return l.max }

// InFlight is the number of requests holding a slot.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inflight
}

// outcome of one request, as far as the limiter cares.
type outcome int

const (
	outcomeSuccess     outcome = iota // any response but 429 and 5xx
	outcomeRateLimited                // 429
	outcomeNeutral                    // 5xx, transport error, canceled
)

// acquire waits for a slot; it returns the epoch the slot was taken in.
func (l *Limiter) acquire(ctx context.Context) (uint64, error) {
	for {
		l.mu.Lock()
		if l.inflight < l.limit {
			l.inflight++
			e := l.epoch
			l.mu.Unlock()
			return e, nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-wake:
		}
	}
}

// release gives the slot back and adapts the limit.
func (l *Limiter) release(epoch uint64, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	switch o {
	case outcomeRateLimited:
		if epoch == l.epoch && l.limit > 1 {
			l.limit = max(1, l.limit/2)
			l.epoch++
		}
		l.successes = 0
	case outcomeSuccess:
		l.successes++
		if l.successes >= l.limit {
			l.successes = 0
			if l.limit < l.max {
				l.limit++
			}
		}
	}
	close(l.wake)
	l.wake = make(chan struct{})
}
