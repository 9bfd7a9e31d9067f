package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkRetry is the retry policy (retryablehttp.CheckRetry):
//
//   - 429: retried (the server refused before doing anything); past
//     MaxRetries, as long as the client's throttle budget lasts;
//   - a refused connection before the server first answered: tried again
//     for up to Options.StartupWait, any method (startup.go);
//   - 401: the Authenticator refreshes once and the call is replayed once;
//   - 5xx (but 501) and connection errors: retried when the call is
//     idempotent, or when Request.VerifyNotLanded says the write did not
//     take effect; never a 5xx whose WSO2 error code means the same
//     answer next time (deterministic5xx);
//   - every other status: not retried.
//
// Retrying stops as soon as the caller's context is done.
func (co *core) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateFrom(ctx)
	if st == nil {
		return false, nil
	}
	if err != nil && ctx.Err() == nil {
		switch co.startupRetry(err) { // a server that is starting (startup.go)
		case waitForStart:
			return true, nil // not counted as a retry
		case neverStarted:
			return false, nil
		}
	}
	retry, perr := co.decide(ctx, st, resp, err)
	if retry && ctx.Err() != nil {
		return false, ctx.Err()
	}
	if retry {
		st.retries++
		if st.retries > co.maxRetries {
			throttled := resp != nil && resp.StatusCode == http.StatusTooManyRequests
			if !throttled || co.maxRetries == 0 || co.throttleLeft() <= 0 {
				return false, perr
			}
		}
	}
	return retry, perr
}

func (co *core) decide(ctx context.Context, st *callState, resp *http.Response, err error) (bool, error) {
	if err != nil {
		if ctx.Err() != nil || !retryableTransportError(err) {
			return false, nil
		}
		return st.mayRepeat(ctx)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return true, nil
	case code == http.StatusUnauthorized:
		if st.auth == nil || st.refreshed {
			return false, nil
		}
		st.refreshed = true
		var rerr error
		if ra, ok := st.auth.(RejectionAwareAuthenticator); ok {
			rerr = ra.RefreshRejected(ctx, resp.Request)
		} else {
			rerr = st.auth.Refresh(ctx)
		}
		switch {
		case rerr == nil:
			return true, nil
		case errors.Is(rerr, ErrNoRefresh):
			return false, nil
		default:
			st.authErr = rerr
			return false, rerr
		}
	case code >= 500 && code != http.StatusNotImplemented:
		if deterministic5xx(resp) {
			return false, nil
		}
		return st.mayRepeat(ctx)
	}
	return false, nil
}

// deterministic5xx reports whether a 5xx carries a WSO2 error code that
// names a specific condition (APIM's six-digit ExceptionCodes, 900000 and
// up: "Key Manager is already used…", a KM refusing the client, …), which
// the same request meets again: retrying it only repeats the failure
// (issue 13). A generic 500 (code 500, or no code) may be transient and is
// retried as before. The body is read and put back for the caller.
func deterministic5xx(resp *http.Response) bool {
	if resp == nil || resp.Body == nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(parseErrorBody(b).Code)
	return err == nil && n >= 900000 && n <= 999999
}

// mayRepeat decides for a failure after which the write may or may not have
// taken effect.
func (st *callState) mayRepeat(ctx context.Context) (bool, error) {
	if st.idempotent {
		return true, nil
	}
	if st.verify == nil {
		return false, nil
	}
	landed, err := st.verify(ctx)
	switch {
	case err != nil:
		st.verifyErr = err
		return false, err
	case landed:
		st.landed = true
		return false, nil
	}
	return true, nil
}

// prepareRetry re-authorizes each retry: the token may have been refreshed
// (by this call after a 401, or by another goroutine).
func (co *core) prepareRetry(req *http.Request) error {
	st := stateFrom(req.Context())
	// retryablehttp copies the request shallowly; do not share the header map.
	req.Header = req.Header.Clone()
	if st == nil || st.auth == nil {
		return nil
	}
	if err := st.auth.Authorize(req.Context(), req, st.scopes); err != nil {
		st.authErr = err
		return err
	}
	return nil
}

// backoff is the wait before retry number attempt+1 (retryablehttp.Backoff):
// nothing before the replay after a 401, the server's Retry-After (capped)
// on 429/503 when given, full-jitter exponential backoff otherwise.
func (co *core) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp == nil {
		if d, ok := co.startupBackoff(); ok {
			return d
		}
	}
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return 0
		case http.StatusTooManyRequests:
			d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), co.now())
			if ok {
				d = capDuration(d, co.capRA)
			} else {
				d = fullJitter(lo, hi, attempt)
			}
			if resp.Request != nil && overRetries(co, resp.Request) {
				// Never hammer past MaxRetries (Retry-After: 0), and make
				// every extra attempt cost the budget something.
				return co.spendThrottle(max(d, lo, 100*time.Millisecond))
			}
			return d
		case http.StatusServiceUnavailable:
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), co.now()); ok {
				return capDuration(d, co.capRA)
			}
		}
	}
	return fullJitter(lo, hi, attempt)
}

// throttleLeft is what is left of the throttle budget.
func (co *core) throttleLeft() time.Duration {
	co.throttleMu.Lock()
	defer co.throttleMu.Unlock()
	return co.throttleBudget
}

// spendThrottle charges a wait for a 429 past MaxRetries to the budget
// and returns it, shortened to what is left. Concurrent calls waiting out
// the same burst each charge their own wait, so the budget bounds the sum
// of those waits, an upper bound of the wall time they cost.
func (co *core) spendThrottle(d time.Duration) time.Duration {
	co.throttleMu.Lock()
	defer co.throttleMu.Unlock()
	if d > co.throttleBudget {
		d = co.throttleBudget
	}
	co.throttleBudget -= d
	return d
}

func capDuration(d, limit time.Duration) time.Duration {
	if d > limit {
		return limit
	}
	return d
}

// fullJitter returns a uniformly random wait in [0, min(max, min·2^attempt)].
func fullJitter(min, max time.Duration, attempt int) time.Duration {
	if min <= 0 || max <= 0 {
		return 0
	}
	ceiling := max
	if attempt < 62 {
		if c := min << uint(attempt); c>>uint(attempt) == min && c < max {
			ceiling = c
		}
	}
	if ceiling == math.MaxInt64 {
		return rand.N(ceiling)
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (a date in the past means "now").
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(365*24*3600) { // beyond any cap; avoid overflow
			n = 365 * 24 * 3600
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// retryableTransportError tells connection trouble (worth retrying) from
// errors that will not go away (TLS verification, bad URL, unknown host).
func retryableTransportError(err error) bool {
	var (
		certInvalid  x509.CertificateInvalidError
		unknownAuth  x509.UnknownAuthorityError
		hostname     x509.HostnameError
		verification *tls.CertificateVerificationError
		recordHeader tls.RecordHeaderError
		dnsErr       *net.DNSError
		tooLarge     *bodyTooLargeError
	)
	switch {
	case errors.As(err, &certInvalid), errors.As(err, &unknownAuth), errors.As(err, &hostname),
		errors.As(err, &verification), errors.As(err, &recordHeader), errors.As(err, &tooLarge):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Err.Error()
		if strings.Contains(msg, "unsupported protocol scheme") || strings.Contains(msg, "invalid header") {
			return false
		}
	}
	return true
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// full URL including the query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// overRetries reports whether the call behind req has used up MaxRetries
// (its further waits for 429s come out of the throttle budget).
func overRetries(co *core, req *http.Request) bool {
	st := stateFrom(req.Context())
	return st != nil && st.retries > co.maxRetries
}
