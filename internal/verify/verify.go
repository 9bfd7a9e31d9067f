// Package verify proves, after an apply, that what the manifests declare
// works for a client: `wso2sync verify`, `apply --verify` and the daemon
// after an enforcing pass that changed something.
//
// It is read-only. From the one pass (internal/reconcile) it takes the
// desired State, the sealed credentials (opened with the run's identity),
// resolved secret references and an HTTP client with the environment's
// TLS settings, and then acts as a client would:
//
//   - keys.go: every declared application key mints a token at its key
//     manager's token endpoint (client_credentials where the key allows
//     it) and the token is checked: a JWT's signature against the key
//     manager's JWKS or PEM certificate, its issuer, consumer-key claim,
//     scopes and expiry; an opaque token by introspection;
//   - gateway.go: with spec.gateway.url and a catalogue API's verify
//     resource, every declared subscription calls that resource through
//     the gateway with its application's token: a 401/403 names the key
//     or the subscription at fault;
//   - users.go (spec.verify.users or --users): every declared user whose
//     password is a reference gets a password-grant token, and its roles
//     are read back from SCIM /Me.
//
// Every check ends verified, failed (with the server's answer and a hint)
// or skipped (with why). Tokens and secrets never leave this package: the
// report names consumer keys (public identifiers) and fingerprints only.
package verify

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Status is the outcome of one check.
type Status string

const (
	Verified Status = "verified"
	Failed   Status = "failed"
	Skipped  Status = "skipped"
)

// Kinds of checks.
const (
	KindKey          = "ApplicationKey"
	KindSubscription = "Subscription"
	KindUser         = "User"
)

// Check is the outcome of one check.
type Check struct {
	// Kind is ApplicationKey, Subscription or User; Name is the object's
	// natural key ("forex-client/PRODUCTION/WSO2IS", a subscription's or
	// a user's metadata.name).
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Message says what was proven, what the server answered or why the
	// check was skipped.
	Message string `json:"message"`
	// Hint says what to do about a failure.
	Hint string `json:"hint,omitempty"`
	// Source is the manifest document (file:line).
	Source string `json:"source,omitempty"`
	// Code is the server's error code of a failure (invalid_client,
	// 900908, …).
	Code string `json:"code,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"-"`
}

// Summary counts the checks by status.
type Summary struct {
	Verified int `json:"verified"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
}

// Report is the result of a verification.
type Report struct {
	Environment string    `json:"environment"`
	Gateway     string    `json:"gateway,omitempty"`
	Started     time.Time `json:"started"`
	Duration    string    `json:"duration"`
	Summary     Summary   `json:"summary"`
	Checks      []Check   `json:"checks"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Failed > 0 }

// ExitCode is 0 when nothing failed, 1 otherwise.
func (r *Report) ExitCode() int {
	if r.Failed() {
		return 1
	}
	return 0
}

// Options configure Run.
type Options struct {
	// GatewayURL overrides spec.gateway.url (--gateway-url,
	// WSO2SYNC_GATEWAY_URL).
	GatewayURL string
	// Users also verifies users (--users); spec.verify.users does too.
	Users bool
	// Timeout bounds each HTTP call (default 15s).
	Timeout time.Duration
	// Concurrency bounds the checks in flight (default 8).
	Concurrency int
	// HTTPClient replaces the client built from the environment (tests).
	HTTPClient *http.Client
	// Now is the clock of expiry checks (default time.Now).
	Now func() time.Time
}

// GatewayEnv is the environment variable that stands in for --gateway-url.
const GatewayEnv = "WSO2SYNC_GATEWAY_URL"

// run is one verification.
type run struct {
	p      *reconcile.Pass
	o      Options
	st     *spec.State
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	// tokens are the access tokens minted per application (for the
	// gateway checks).
	tokens map[string][]appToken
	// jwks caches key sets by URL.
	jwks map[string]*jwksResult
	// down remembers a base URL (token endpoint, gateway) that did not
	// answer, so the other checks through it fail at once instead of each
	// waiting for its own timeout.
	down map[string]error
}

// each runs f for 0..n-1 with at most Options.Concurrency at once.
func (r *run) each(n int, f func(i int)) {
	sem := make(chan struct{}, r.o.Concurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// unreachable reports a base URL that failed earlier in this run.
func (r *run) unreachable(base string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down[base]
}

func (r *run) markDown(base string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down[base] == nil {
		r.down[base] = err
	}
}

// appToken is a token an application key minted.
type appToken struct {
	key, keyType, token string
}

// Run verifies the pass's environment. The pass must be loaded
// (reconcile.Load); no live read or plan is needed. The error is only for
// what stops every check (no HTTP client); failures of checks are in the
// report.
func Run(ctx context.Context, p *reconcile.Pass, o Options) (*Report, error) {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	r := &run{p: p, o: o, st: p.State, now: o.Now, tokens: map[string][]appToken{}, jwks: map[string]*jwksResult{},
		down: map[string]error{}}
	r.client = o.HTTPClient
	if r.client == nil {
		c, err := p.HTTPClient(o.Timeout)
		if err != nil {
			return nil, err
		}
		r.client = c
	}
	start := time.Now()
	rep := &Report{Environment: p.State.Name, Started: start.UTC()}
	rep.Checks = append(rep.Checks, r.keys(ctx)...)
	gw := r.gatewayURL()
	rep.Gateway = gw
	rep.Checks = append(rep.Checks, r.subscriptions(ctx, gw)...)
	if o.Users || p.State.Environment.Spec.Verify.Users {
		rep.Checks = append(rep.Checks, r.users(ctx)...)
	}
	order := map[string]int{KindKey: 0, KindSubscription: 1, KindUser: 2}
	sort.SliceStable(rep.Checks, func(i, j int) bool {
		a, b := rep.Checks[i], rep.Checks[j]
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		return a.Name < b.Name
	})
	for _, c := range rep.Checks {
		switch c.Status {
		case Verified:
			rep.Summary.Verified++
		case Failed:
			rep.Summary.Failed++
		case Skipped:
			rep.Summary.Skipped++
		}
	}
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// gatewayURL is --gateway-url, else $WSO2SYNC_GATEWAY_URL, else
// spec.gateway.url ("" when none).
func (r *run) gatewayURL() string {
	u := r.o.GatewayURL
	if u == "" {
		u = os.Getenv(GatewayEnv)
	}
	if u == "" && r.st.Environment.Spec.Gateway != nil {
		u = r.st.Environment.Spec.Gateway.URL
	}
	return strings.TrimRight(u, "/")
}

// source is the file:line of an object.
func source(o *spec.Object) string {
	if o == nil || o.Source.File == "" {
		return ""
	}
	return o.Source.String()
}
