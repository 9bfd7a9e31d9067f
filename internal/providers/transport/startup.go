package transport

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// startupPoll is how often a client waiting for a server that is starting
// tries to connect again.
const startupPoll = 200 * time.Millisecond

// startup is a client's wait for a server that is still starting
// (Options.StartupWait): until the server has answered once, a connection
// it refuses (nothing listens on the port yet) is tried again every
// startupPoll for up to StartupWait after the first refusal, whatever the
// method: a refused connection carried no request, so even a POST is safe
// to send again. These tries do not count against MaxRetries, and once the
// wait is spent a refusal fails the call at once (the wait took the place
// of the ordinary retries). Once the server has answered, a refused
// connection is an ordinary transport error: a server that goes away
// mid-run is not starting.
type startup struct {
	wait time.Duration // 0: no wait

	mu       sync.Mutex
	answered bool
	deadline time.Time // set at the first refusal
}

// sawAnswer records that the server answered (any HTTP status).
func (s *startup) sawAnswer() {
	s.mu.Lock()
	s.answered = true
	s.mu.Unlock()
}

// startupVerdict is what the start wait says of a failed attempt.
type startupVerdict int

const (
	notStarting  startupVerdict = iota // not a refusal before the first answer: the ordinary policy decides
	waitForStart                       // try again: the server may still be starting
	neverStarted                       // the wait is spent: fail now, no ordinary retries on top
)

// startupRetry judges an attempt that failed with err. The first refusal
// is logged once.
func (co *core) startupRetry(err error) startupVerdict {
	s := &co.startup
	if s.wait <= 0 || !errors.Is(err, syscall.ECONNREFUSED) {
		return notStarting
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered {
		return notStarting
	}
	now := time.Now()
	if s.deadline.IsZero() {
		s.deadline = now.Add(s.wait)
		co.log.Info("server refuses connections; waiting for it to start",
			slog.String("server", co.server), slog.String("url", co.base), slog.Duration("wait", s.wait))
	}
	if now.Before(s.deadline) {
		return waitForStart
	}
	return neverStarted
}

// startupBackoff is the wait before trying a refused connection again,
// and false once the server has answered or the wait is spent.
func (co *core) startupBackoff() (time.Duration, bool) {
	s := &co.startup
	if s.wait <= 0 {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answered || s.deadline.IsZero() {
		return 0, false
	}
	left := time.Until(s.deadline)
	if left <= 0 {
		return 0, false
	}
	return min(startupPoll, left), true
}
