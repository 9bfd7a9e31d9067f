package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// instrumented wraps the HTTP transport: it takes a limiter slot for each
// attempt, applies the per-attempt timeout, reads the whole body (so the
// slot is held exactly while the server works for us), and counts, logs and
// reports every attempt.
type instrumented struct {
	core *core
	base http.RoundTripper
}

// CloseIdleConnections closes the base transport's idle connections
// (http.Client.CloseIdleConnections asks the transport it holds).
func (t *instrumented) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no response within %s", e.d) }
func (e *timeoutError) Timeout() bool { return true }

type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("response body larger than %d bytes", e.limit)
}

func (t *instrumented) RoundTrip(req *http.Request) (*http.Response, error) {
	co := t.core
	ctx := req.Context()
	st := stateFrom(ctx)
	if st == nil { // used outside Do
		st = &callState{method: req.Method, template: req.URL.Path, cat: categorize(req.Method, Request{})}
	}
	epoch, err := co.limiter.acquire(ctx)
	if err != nil {
		return nil, err
	}
	st.attempts++
	attempt := st.attempts

	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, co.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	if err == nil {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(resp.Body, co.maxBody+1))
		resp.Body.Close()
		switch {
		case err != nil:
			resp = nil
		case int64(len(body)) > co.maxBody:
			resp, err = nil, &bodyTooLargeError{co.maxBody}
		default:
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
		}
	}
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &timeoutError{co.timeout}
	}
	cancel()
	elapsed := time.Since(start)

	status := 0
	o := outcomeNeutral
	if resp != nil {
		co.startup.sawAnswer()
		status = resp.StatusCode
		switch {
		case status == http.StatusTooManyRequests:
			o = outcomeRateLimited
		case status < 500:
			o = outcomeSuccess
		}
	}
	co.limiter.release(epoch, o)
	co.counter.record(st.cat, attempt > 1, status)

	if co.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("server", co.server),
			slog.String("method", st.method),
			slog.String("path", st.template),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("attempt", attempt),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", unwrapURLError(err).Error()))
		}
		co.log.LogAttrs(ctx, slog.LevelDebug, "http request", attrs...)
	}
	if co.observer != nil {
		var oerr error
		if err != nil {
			oerr = unwrapURLError(err) // *url.Error repeats the URL and query
		}
		co.observer.ObserveRequest(RequestEvent{
			Server: co.server, Method: st.method, PathTemplate: st.template,
			Status: status, Duration: elapsed, Attempt: attempt, Err: oerr,
		})
	}
	return resp, err
}
