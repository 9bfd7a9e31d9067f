package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultPassTimeout = 15 * time.Minute
	// DefaultShutdownTimeout is short: `wso2sync run` stops within 5 s of
	// SIGTERM (issue 15); a pass cut short is journalled, and the next
	// one reports and converges what it left.
	DefaultShutdownTimeout = 3 * time.Second
	DefaultHistory         = 20
)

// Options configure a Daemon.
type Options struct {
	Source Source
	Pass   PassFunc
	// Mode overrides the environment's mode ("dry-run" or "enforce");
	// empty keeps the environment's.
	Mode string
	// Listen is the HTTP address (host:port); Listener, if set, is used
	// instead (tests).
	Listen   string
	Listener net.Listener
	// WebhookSecret authenticates POST /sync (HMAC-SHA256 of the body, as
	// GitHub's X-Hub-Signature-256). Empty disables the webhook.
	WebhookSecret []byte
	Scheduler     SchedulerOptions
	// PassTimeout bounds a pass (default 15m).
	PassTimeout time.Duration
	// ShutdownTimeout bounds how long a running pass may go on after the
	// daemon is told to stop (default 30s).
	ShutdownTimeout time.Duration
	// ReadyGrace is how long after the last successful pass /readyz stays
	// ready while passes fail (default twice the interval).
	ReadyGrace time.Duration
	// History is how many passes /status lists (default 20).
	History int
	Version string
	Log     *slog.Logger
}

// Daemon runs passes and serves their status.
type Daemon struct {
	opts    Options
	sched   *Scheduler
	metrics *metrics
	log     *slog.Logger
	clock   Clock
	started time.Time

	stopping atomic.Bool
	// deliveries are the webhook deliveries seen (replays are refused).
	deliveries deliveryLog

	mu          sync.Mutex
	running     *RunningPass
	last        *PassStatus
	lastSuccess *PassStatus
	history     []PassBrief
	estate      *Estate
	lastVerify  *VerifyStatus // never modified once stored
	source      Revision
	addr        string

	// events tells the status pages open in browsers (GET /events) when
	// a pass starts and ends.
	events *broker
}

// New checks the options and returns a daemon; Run starts it.
func New(o Options) (*Daemon, error) {
	if o.Source == nil || o.Pass == nil {
		return nil, errors.New("daemon: a source and a pass are required")
	}
	switch o.Mode {
	case "", "dry-run", "enforce":
	default:
		return nil, fmt.Errorf("unknown mode %q (want dry-run or enforce)", o.Mode)
	}
	o.Scheduler.defaults()
	if o.PassTimeout <= 0 {
		o.PassTimeout = DefaultPassTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ReadyGrace <= 0 {
		o.ReadyGrace = 2 * o.Scheduler.Interval
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{opts: o, log: o.Log, clock: o.Scheduler.Clock, source: o.Source.Describe(), events: newBroker()}
	d.sched = NewScheduler(o.Scheduler)
	d.metrics = newMetrics(
		func() float64 { return float64(d.sched.Coalesced()) },
		func() float64 { return float64(d.sched.Failures()) })
	d.started = d.clock.Now()
	return d, nil
}

// Trigger asks for a pass (as a source change or webhook does).
func (d *Daemon) Trigger(reason string) bool {
	queued := d.sched.Request(reason)
	d.log.Info("pass requested", "reason", reason, "queued", queued)
	return queued
}

// Addr is the address the HTTP server listens on (after Run started).
func (d *Daemon) Addr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addr
}

// Run serves HTTP, watches the source and runs passes until ctx ends; then
// it shuts down gracefully and returns nil. It returns an error only when
// it cannot start.
func (d *Daemon) Run(ctx context.Context) error {
	ln := d.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", d.opts.Listen); err != nil {
			return fmt.Errorf("listening on %s: %w", d.opts.Listen, err)
		}
	}
	d.mu.Lock()
	d.addr = ln.Addr().String()
	d.mu.Unlock()
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	d.log.Info("daemon started", "listen", d.addr, "source", d.source.Source, "url", d.source.URL,
		"ref", d.source.Ref, "path", d.source.Path, "mode", cmpOr(d.opts.Mode, "from the environment"),
		"interval", d.opts.Scheduler.Interval.String())

	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if err := d.opts.Source.Watch(watchCtx, func(reason string) { d.Trigger(reason) }); err != nil {
			d.log.Error("watching the source failed; passes still run on the interval and on /sync", "err", err)
		}
	}()

	go func() {
		<-ctx.Done()
		d.stopping.Store(true) // /readyz turns 503 while the last pass drains
	}()
	d.sched.Run(ctx, d.pass)

	d.log.Info("shutting down")
	d.events.close() // ends the open event streams, so the server can shut down
	stopWatch()
	<-watched
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.log.Warn("http server", "err", err)
	}
	d.log.Info("stopped")
	return nil
}

// pass runs one pass: sync the source, then the PassFunc.
func (d *Daemon) pass(ctx context.Context, reason string) Outcome {
	id := fmt.Sprintf("%08x", rand.Uint32())
	log := d.log.With("pass", id)
	start := d.clock.Now()
	d.mu.Lock()
	d.running = &RunningPass{ID: id, Reason: reason, Start: start.UTC()}
	d.mu.Unlock()
	d.events.publish(Event{Type: EventPassStarted, Pass: id, Reason: reason})
	d.metrics.inProgress.Set(1)
	defer d.metrics.inProgress.Set(0)

	// The pass does not end with ctx: on shutdown it gets ShutdownTimeout
	// to finish its writes, then it is cancelled.
	pctx, cancelTimeout := context.WithTimeout(context.WithoutCancel(ctx), d.opts.PassTimeout)
	defer cancelTimeout()
	pctx, cancel := context.WithCancelCause(pctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		log.Info("waiting for the running pass to finish", "timeout", d.opts.ShutdownTimeout.String())
		t := time.NewTimer(d.opts.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			log.Warn("shutdown timeout: cancelling the pass")
			cancel(errors.New("shutdown timeout"))
		}
	}()

	log.Info("pass started", "reason", reason)
	ps := &PassStatus{ID: id, Reason: reason, Trigger: ParseTrigger(reason), Start: start.UTC()}
	dir, rev, srcErr := d.opts.Source.Sync(withLogger(pctx, log))
	ps.Revision = rev
	var err error
	switch {
	case srcErr != nil && dir == "":
		err = fmt.Errorf("source: %w", srcErr)
	default:
		if srcErr != nil {
			log.Warn("source not updated; the pass uses the last checkout", "err", srcErr, "commit", rev.Commit)
		}
		d.mu.Lock()
		d.source = rev
		d.mu.Unlock()
		log.Info("source", "revision", rev.Short(), "message", rev.Message)
		req := PassRequest{
			ID: id, Reason: reason, Dir: dir, StateDir: d.opts.Source.StateDir(),
			Revision: rev, Mode: d.opts.Mode, Log: log,
		}
		if ok, is := d.opts.Source.(outputsKeeper); is {
			req.OutputsDir = ok.OutputsDir()
		}
		w, watches := d.opts.Source.(extraWatcher)
		if watches {
			req.Writes = w.IgnoreDirs
		}
		ps.PassResult, err = d.opts.Pass(pctx, req)
		if watches {
			w.IgnoreDirs(ps.OutputDirs)
			w.WatchMore(ps.WatchDirs)
		}
		if err == nil && srcErr != nil {
			err = fmt.Errorf("source: %w", srcErr)
			if IsInvalid(srcErr) {
				err = Invalid(err)
			}
		}
	}
	end := d.clock.Now()
	ps.End, ps.Duration = end.UTC(), Duration(end.Sub(start))
	outcome := OK
	switch {
	case err == nil:
		ps.Result = ResultSuccess
	case IsInvalid(err):
		ps.Result, outcome = ResultInvalid, Stalled
	case errors.Is(pctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded):
		ps.Result, outcome = ResultTimeout, Failed
	default:
		ps.Result, outcome = ResultFailure, Failed
	}
	if err != nil {
		ps.Error = err.Error()
		ps.Hint = hintFor(err, ps.Result, rev)
	}
	d.finish(ps, log)
	d.events.publish(Event{Type: EventPassFinished, Pass: id, Reason: reason, Result: ps.Result})
	return outcome
}

func (d *Daemon) finish(ps *PassStatus, log *slog.Logger) {
	attrs := []any{"result", ps.Result, "duration", time.Duration(ps.Duration).Round(time.Millisecond).String(),
		"revision", ps.Revision.Short(), "create", ps.Plan.Create, "update", ps.Plan.Update,
		"replace", ps.Plan.Replace, "delete", ps.Plan.Delete, "unmanaged", len(ps.Unmanaged)}
	for _, e := range ps.Errors {
		log.Warn("pass error", "err", e)
	}
	switch ps.Result {
	case ResultSuccess:
		log.Info("pass finished", attrs...)
	case ResultInvalid:
		log.Warn("pass finished: manifests invalid, nothing applied", append(attrs, "err", ps.Error)...)
	default:
		log.Error("pass finished", append(attrs, "err", ps.Error)...)
	}
	d.metrics.observe(ps, d.clock.Now())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running = nil
	d.last = ps
	if ps.Verify != nil {
		d.lastVerify = &VerifyStatus{Pass: ps.ID, Time: ps.End, Report: ps.Verify}
	}
	if ps.Estate != nil {
		// A copy: Status hands it out without the lock from now on.
		e := *ps.Estate
		e.Pass, e.Time = ps.ID, ps.End
		linkSources(&e, ps.Revision)
		d.estate = &e
	}
	if ps.Result == ResultSuccess {
		d.lastSuccess = ps
	}
	d.history = append([]PassBrief{ps.brief()}, d.history...)
	if len(d.history) > d.opts.History {
		d.history = d.history[:d.opts.History]
	}
}

type logKey struct{}

// withLogger gives a source the pass's logger (with its ID).
func withLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

// loggerFrom is the pass's logger, else def.
func loggerFrom(ctx context.Context, def *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return def
}
