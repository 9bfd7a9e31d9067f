package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults for Options.
const (
	DefaultUserAgent        = "wso2sync/dev"
	DefaultTimeout          = 30 * time.Second
	DefaultMaxRetries       = 4
	DefaultRetryWaitMin     = 250 * time.Millisecond
	DefaultRetryWaitMax     = 10 * time.Second
	DefaultRetryAfterCap    = 30 * time.Second
	DefaultThrottleBudget   = 2 * time.Minute
	DefaultStartupWait      = 10 * time.Second
	DefaultConcurrency      = 8
	DefaultMaxResponseBytes = 32 << 20
)

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// BaseURL is the server root ("https://localhost:9443"), optionally
	// with a path prefix; PathTemplates are appended to it.
	BaseURL string
	// Server labels logs and metrics: "apim" or "is".
	Server string
	// UserAgent is sent on every request: "wso2sync/<version>".
	UserAgent string
	// Timeout bounds each HTTP attempt (connect, send, read the whole
	// response). The whole call, retries and waits included, is bounded by
	// the caller's context. A timed-out attempt is a transport error, retried
	// like one.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt
	// (default 4; negative means none).
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the full-jitter exponential
	// backoff: wait = rand[0, min(RetryWaitMax, RetryWaitMin·2^n)].
	RetryWaitMin, RetryWaitMax time.Duration
	// RetryAfterCap caps a server's Retry-After (default 30s).
	RetryAfterCap time.Duration
	// ThrottleBudget is how long, in all, this client waits out 429s
	// beyond MaxRetries (default 2 minutes). A 429 means the server did
	// nothing, so a call that is still refused after MaxRetries retries
	// goes on waiting as Retry-After asks until the budget is spent: a
	// burst of 429s (say at the start of a run, on the DCR and token
	// calls) is waited out instead of failing the run. Negative: none.
	ThrottleBudget time.Duration
	// StartupWait is how long a client whose server has not answered yet
	// waits for it to accept connections: a refused connection (nothing
	// listening yet, say a server or simulator just started) is tried
	// again every 200ms for up to this long after the first refusal, any
	// method, since no request was sent. After the server's first answer
	// a refused connection is an ordinary transport error. Default 0: no
	// wait (the CLI waits DefaultStartupWait).
	StartupWait time.Duration
	// Concurrency is the AIMD limiter's bound (default 8). Ignored when
	// Limiter is set.
	Concurrency int
	// Limiter shares one limiter between clients of the same server.
	Limiter *Limiter
	// TLS configures certificate verification and mTLS. Ignored when
	// Transport is set.
	TLS TLSOptions
	// Logger gets one debug line per HTTP attempt (never headers or
	// bodies) and the insecureSkipVerify warning. Default slog.Default().
	Logger *slog.Logger
	// Auth authorizes requests (nil: anonymous). See Client.WithAuth.
	Auth Authenticator
	// Counter counts requests for the run; share one across servers.
	// Default: a fresh counter (see Client.Counter).
	Counter *Counter
	// Observer, if set, is told about every HTTP attempt (metrics).
	Observer Observer
	// Transport replaces the HTTP transport under the client (tests, custom
	// dialers). Limiting, counting, logging and retries still apply.
	Transport http.RoundTripper
	// Now is the clock used to read Retry-After dates. Default time.Now.
	Now func() time.Time
	// MaxResponseBytes bounds a response body (default 32 MiB).
	MaxResponseBytes int64
}

// Observer is told about every HTTP attempt, for metrics.
type Observer interface {
	ObserveRequest(RequestEvent)
}

// RequestEvent describes one HTTP attempt.
type RequestEvent struct {
	Server       string
	Method       string
	PathTemplate string
	Status       int // 0 when there was no response
	Duration     time.Duration
	Attempt      int // 1 for the first attempt
	Err          error
}

// Request is one logical call. Exactly one of Body, Form and Multipart may
// be set.
type Request struct {
	Method string
	// PathTemplate is the path with {placeholders}: "/applications/{applicationId}".
	// It names the call in errors, logs and metrics.
	PathTemplate string
	// PathParams fill the placeholders, path-escaped. Every placeholder
	// needs a non-empty value and every value a placeholder.
	PathParams map[string]string
	Query      url.Values
	// Header adds request headers (never logged).
	Header http.Header
	// Body is marshalled to JSON (json.RawMessage is sent as is).
	Body any
	// ContentType, if set, replaces application/json as the media type of
	// a JSON Body (SCIM2 declares application/scim+json, WSO2-API.md §3.8).
	ContentType string
	// Form is sent as application/x-www-form-urlencoded.
	Form url.Values
	// Multipart is sent as multipart/form-data.
	Multipart *Multipart
	// Idempotent marks a call safe to repeat after a 5xx or a connection
	// error. GET, HEAD, OPTIONS, PUT and DELETE always are; set it for
	// POSTs that are safe to repeat (searches, DCR v0.17 registration).
	Idempotent bool
	// ReadOnly counts a POST as a read (SCIM /.search).
	ReadOnly bool
	// VerifyNotLanded is consulted when a non-idempotent call fails with a
	// 5xx or a connection error: it should look the object up by its
	// natural key. Not landed → the call is retried; landed → Do returns a
	// *LandedError (errors.Is(err, ErrLanded)) so the caller fetches the
	// object. Without it, such failures are not retried.
	VerifyNotLanded func(ctx context.Context) (landed bool, err error)
	// Scopes are the OAuth scopes this call needs (all of them), passed to
	// the Authenticator.
	Scopes []string
	// Identity names the resource in errors: "Application payments-web".
	Identity string
	// Sensitive marks a body that holds secrets: body values the server
	// echoes in its error message are redacted, and encoding errors are
	// reported without detail.
	Sensitive bool
	// NotFoundOn401 reports a 401 that survives a credentials refresh as
	// KindNotFound (IS DCR v1.1 answers 401 for unknown client ids,
	// WSO2-API.md §5.16). Status stays 401.
	NotFoundOn401 bool

	authCall bool // DCR/token request: counted as Auth
}

// Multipart is a multipart/form-data body.
type Multipart struct {
	Fields map[string]string
	Files  []MultipartFile
}

// MultipartFile is one file part.
type MultipartFile struct {
	Field, FileName, ContentType string
	Content                      []byte
}

// Response is a successful (or, next to an *APIError, a failed) response;
// the body has been read completely.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Client sends Requests to one server. It is safe for concurrent use;
// clients derived with WithAuth share the limiter, the counter and the
// connection pool.
type Client struct {
	core *core
	auth Authenticator
}

type core struct {
	opts     Options
	base     string
	server   string
	ua       string
	timeout  time.Duration
	capRA    time.Duration
	maxBody  int64
	now      func() time.Time
	limiter  *Limiter
	counter  *Counter
	log      *slog.Logger
	observer Observer
	retry    *retryablehttp.Client

	maxRetries int // retries after the first attempt, except for 429s

	throttleMu     sync.Mutex
	throttleBudget time.Duration // left to spend waiting out 429s

	startup startup // waiting for a server that is starting
}

// NewClient builds a client. It fails on a malformed BaseURL or unusable
// TLS material (naming the file).
func NewClient(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("transport: base URL %q: want http(s)://host[:port][/prefix]", opts.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("transport: base URL %q: no query or fragment allowed", opts.BaseURL)
	}
	c := &core{
		opts:     opts,
		base:     strings.TrimRight(opts.BaseURL, "/"),
		server:   opts.Server,
		ua:       cmpOr(opts.UserAgent, DefaultUserAgent),
		timeout:  cmpOr(opts.Timeout, DefaultTimeout),
		capRA:    cmpOr(opts.RetryAfterCap, DefaultRetryAfterCap),
		maxBody:  cmpOr(opts.MaxResponseBytes, DefaultMaxResponseBytes),
		now:      opts.Now,
		limiter:  opts.Limiter,
		counter:  opts.Counter,
		log:      opts.Logger,
		observer: opts.Observer,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.limiter == nil {
		c.limiter = NewLimiter(cmpOr(opts.Concurrency, DefaultConcurrency))
	}
	if c.counter == nil {
		c.counter = &Counter{}
	}
	if c.server == "" {
		c.server = u.Host
	}
	base := opts.Transport
	if base == nil {
		tlsCfg, err := buildTLSConfig(opts.TLS, c.log, c.server)
		if err != nil {
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		tr.MaxIdleConnsPerHost = c.limiter.Max()
		base = tr
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	c.maxRetries = retries
	c.startup.wait = max(opts.StartupWait, 0)
	c.throttleBudget = max(cmpOr(opts.ThrottleBudget, DefaultThrottleBudget), 0)
	if retries > 0 || c.startup.wait > 0 {
		// checkRetry enforces maxRetries for everything but 429s, which
		// the throttle budget bounds instead, and a server that is
		// starting, which StartupWait bounds.
		retries = math.MaxInt32
	}
	c.retry = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &instrumented{core: c, base: base},
			// WSO2's REST APIs do not redirect; following one would turn a
			// POST into a GET and could carry credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: cmpOr(opts.RetryWaitMin, DefaultRetryWaitMin),
		RetryWaitMax: cmpOr(opts.RetryWaitMax, DefaultRetryWaitMax),
		RetryMax:     retries,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		PrepareRetry: c.prepareRetry,
	}
	if c.retry.RetryWaitMax < c.retry.RetryWaitMin {
		c.retry.RetryWaitMax = c.retry.RetryWaitMin
	}
	return &Client{core: c, auth: opts.Auth}, nil
}

// WithAuth returns a client that shares everything with c but authorizes
// with a. Token sources use the unauthenticated client for their own calls
// and the typed clients use the derived one:
//
//	base, _ := transport.NewClient(opts)
//	ts := transport.NewAPIMTokenSource(base, cfg)
//	api := base.WithAuth(ts)
func (c *Client) WithAuth(a Authenticator) *Client { return &Client{core: c.core, auth: a} }

// Limiter is the client's concurrency limiter (Current() for metrics).
func (c *Client) Limiter() *Limiter { return c.core.limiter }

// CloseIdle closes the client's idle connections. A pass opens its own
// clients; the daemon closes them when the pass ends rather than leaving
// up to a limiter's worth of keep-alive connections (and their goroutines
// and buffers) per server and per pass until the idle timeout.
func (c *Client) CloseIdle() { c.core.retry.HTTPClient.CloseIdleConnections() }

// Counter is the client's call counter.
func (c *Client) Counter() *Counter { return c.core.counter }

// Server is the client's server label.
func (c *Client) Server() string { return c.core.server }

// BaseURL is the client's base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.core.base }

// stateKey carries the per-call state through retryablehttp to the retry
// policy and the instrumented transport.
type stateKey struct{}

type callState struct {
	method, template, identity string
	scopes                     []string
	idempotent                 bool
	verify                     func(context.Context) (bool, error)
	cat                        category
	auth                       Authenticator

	// Written by the retry loop, which runs on the calling goroutine.
	attempts  int
	retries   int // retries so far
	refreshed bool
	landed    bool
	verifyErr error // VerifyNotLanded failed
	authErr   error // refreshing or re-authorizing for a retry failed
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// Do sends the request, retrying as the policy allows. A non-2xx response
// yields both the Response and an *APIError; a failure without response
// yields an *APIError of KindTransport or KindCanceled.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	method := strings.ToUpper(cmpOr(r.Method, http.MethodGet))
	where := describe(method, r.PathTemplate, r.Identity)
	path, err := expandPath(r.PathTemplate, r.PathParams)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	body, contentType, err := encodeBody(r)
	if err != nil {
		if r.Sensitive {
			return nil, fmt.Errorf("%s: encoding the request body failed", where)
		}
		return nil, fmt.Errorf("%s: encoding the request body: %w", where, err)
	}
	target := c.core.base + path
	if len(r.Query) > 0 {
		target += "?" + r.Query.Encode()
	}
	st := &callState{
		method:     method,
		template:   r.PathTemplate,
		identity:   r.Identity,
		scopes:     r.Scopes,
		idempotent: r.Idempotent || isIdempotentMethod(method),
		verify:     r.VerifyNotLanded,
		cat:        categorize(method, r),
		auth:       c.auth,
	}
	ctx = context.WithValue(ctx, stateKey{}, st)
	var raw any
	if body != nil {
		raw = body
	}
	hreq, err := retryablehttp.NewRequestWithContext(ctx, method, target, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("User-Agent", c.core.ua)
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json")
	}
	if contentType != "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	if c.auth != nil {
		if err := c.auth.Authorize(ctx, hreq.Request, r.Scopes); err != nil {
			return nil, c.core.authFailure(ctx, st, err)
		}
	}
	hresp, err := c.core.retry.Do(hreq)
	return c.core.finish(ctx, r, st, hresp, err)
}

// JSON sends the request and decodes a non-empty 2xx body into out (which
// may be nil).
func (c *Client) JSON(ctx context.Context, r Request, out any) error {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		method := strings.ToUpper(cmpOr(r.Method, http.MethodGet))
		return fmt.Errorf("%s: decoding the %d response: %w", describe(method, r.PathTemplate, r.Identity), resp.Status, err)
	}
	return nil
}

func (co *core) authFailure(ctx context.Context, st *callState, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return &APIError{Kind: KindCanceled, Method: st.method, PathTemplate: st.template, Identity: st.identity, Err: err}
	}
	return fmt.Errorf("%s: authorizing: %w", describe(st.method, st.template, st.identity), err)
}

// finish turns the outcome of the retry loop into a Response and an error.
func (co *core) finish(ctx context.Context, r Request, st *callState, hresp *http.Response, err error) (*Response, error) {
	var resp *Response
	if hresp != nil {
		body, _ := io.ReadAll(hresp.Body) // already buffered by instrumented
		hresp.Body.Close()
		resp = &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: body}
	}
	where := describe(st.method, st.template, st.identity)
	switch {
	case st.verifyErr != nil:
		return resp, fmt.Errorf("%s: the call failed and checking whether it took effect failed: %w", where, st.verifyErr)
	case st.authErr != nil:
		return resp, co.authFailure(ctx, st, st.authErr)
	}
	base := APIError{Method: st.method, PathTemplate: st.template, Identity: st.identity, Attempts: st.attempts}
	var failure *APIError
	switch {
	case resp != nil:
		if resp.Status >= 200 && resp.Status < 300 {
			break
		}
		failure = &base
		failure.Kind = kindFor(resp.Status)
		failure.Status = resp.Status
		se := parseErrorBody(resp.Body)
		failure.Code, failure.Message, failure.TraceID = se.Code, se.Message, se.TraceID
		if r.Sensitive && failure.Message != "" {
			failure.Message = redact(failure.Message, secretValues(r))
		}
		switch {
		case failure.Kind == KindUnauthorized && r.NotFoundOn401:
			failure.Kind = KindNotFound
		case failure.Kind == KindUnauthorized:
			if h, ok := st.auth.(interface{ Hint() string }); ok {
				failure.Hint = h.Hint()
			}
		case failure.Kind == KindForbidden && failure.Code == "900910":
			failure.Hint = "the access token lacks a scope this operation needs; the call asked for: " + strings.Join(st.scopes, " ")
		}
	case err != nil:
		failure = &base
		if ctx.Err() != nil {
			failure.Kind, failure.Err = KindCanceled, ctx.Err()
		} else {
			failure.Kind, failure.Err = KindTransport, unwrapURLError(err)
		}
	}
	if st.landed && failure != nil {
		return resp, &LandedError{Method: st.method, PathTemplate: st.template, Identity: st.identity, Cause: failure}
	}
	if failure != nil {
		return resp, failure
	}
	return resp, nil
}

func describe(method, template, identity string) string {
	if identity != "" {
		return method + " " + template + " (" + identity + ")"
	}
	return method + " " + template
}

func isIdempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func categorize(method string, r Request) category {
	switch {
	case r.authCall:
		return categoryAuth
	case r.ReadOnly, method == http.MethodGet, method == http.MethodHead, method == http.MethodOptions:
		return categoryRead
	}
	return categoryWrite
}

// expandPath fills {name} placeholders with path-escaped values.
func expandPath(tmpl string, params map[string]string) (string, error) {
	if !strings.HasPrefix(tmpl, "/") {
		return "", fmt.Errorf("path template %q must start with /", tmpl)
	}
	var b strings.Builder
	used := 0
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return "", fmt.Errorf("path template %q: unbalanced }", tmpl)
			}
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("path template %q: unbalanced {", tmpl)
		}
		b.WriteString(rest[:i])
		name := rest[i+1 : i+j]
		v, ok := params[name]
		if !ok || v == "" {
			return "", fmt.Errorf("path template %q: no value for {%s}", tmpl, name)
		}
		b.WriteString(url.PathEscape(v))
		used++
		rest = rest[i+j+1:]
	}
	if used < len(params) {
		var extra []string
		for k := range params {
			if !strings.Contains(tmpl, "{"+k+"}") {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra)
		return "", fmt.Errorf("path template %q has no placeholder for %s", tmpl, strings.Join(extra, ", "))
	}
	return b.String(), nil
}

func encodeBody(r Request) ([]byte, string, error) {
	n := 0
	if r.Body != nil {
		n++
	}
	if r.Form != nil {
		n++
	}
	if r.Multipart != nil {
		n++
	}
	if n > 1 {
		return nil, "", errors.New("set only one of Body, Form and Multipart")
	}
	switch {
	case r.Body != nil:
		b, err := json.Marshal(r.Body)
		return b, cmpOr(r.ContentType, "application/json"), err
	case r.Form != nil:
		return []byte(r.Form.Encode()), "application/x-www-form-urlencoded", nil
	case r.Multipart != nil:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		keys := make([]string, 0, len(r.Multipart.Fields))
		for k := range r.Multipart.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := w.WriteField(k, r.Multipart.Fields[k]); err != nil {
				return nil, "", err
			}
		}
		for _, f := range r.Multipart.Files {
			h := make(textproto.MIMEHeader)
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.Field, f.FileName))
			h.Set("Content-Type", cmpOr(f.ContentType, "application/octet-stream"))
			pw, err := w.CreatePart(h)
			if err != nil {
				return nil, "", err
			}
			if _, err := pw.Write(f.Content); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), w.FormDataContentType(), nil
	}
	return nil, "", nil
}

// secretValues lists the string values of a sensitive request's body.
func secretValues(r Request) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			add(t)
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	if r.Body != nil {
		if b, err := json.Marshal(r.Body); err == nil {
			var v any
			if json.Unmarshal(b, &v) == nil {
				walk(v)
			}
		}
	}
	for k, vs := range r.Form {
		if k == "grant_type" || k == "scope" { // protocol words, not secrets
			continue
		}
		for _, v := range vs {
			add(v)
		}
	}
	if r.Multipart != nil {
		for _, v := range r.Multipart.Fields {
			add(v)
		}
	}
	// Longest first, so that a secret containing another is redacted whole.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
