package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/is"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// IS authentication modes.
const (
	// ISAuthBasic sends the environment's IS credentials as Basic auth.
	ISAuthBasic = "basic"
	// ISAuthClientCredentials takes the IS credentials as the client id
	// and secret of an IS M2M application authorized for is.Scopes.
	ISAuthClientCredentials = "client_credentials"
)

// Options configure Open. Zero values are the defaults.
type Options struct {
	// APIMURL and ISURL override the environment's URLs (--apim-url,
	// --is-url, WSO2SYNC_APIM_URL, WSO2SYNC_IS_URL).
	APIMURL, ISURL string
	// Resolve resolves secret references; default NewResolver(env dir).
	Resolve Resolver
	// ISAuth is ISAuthBasic (default) or ISAuthClientCredentials.
	ISAuth string
	// OnSecret receives every consumer secret the APIM client sees
	// (generated, mapped or read); see apim.Options.OnSecret.
	OnSecret func(app, keyType, keyManager, consumerKey, consumerSecret string)

	UserAgent string
	Logger    *slog.Logger
	// Counter counts every request of the run (both servers); default a
	// fresh one (Providers.Counter).
	Counter *transport.Counter
	// Observer, if set, is told about every HTTP attempt of both servers
	// (server, route, status): the daemon's calls-by-server metrics.
	Observer transport.Observer
	// Concurrency bounds the in-flight requests per server: the maximum
	// of each server's AIMD limiter, which also sizes the read fan-out
	// (ReadOptions.Concurrency). Default: $WSO2SYNC_CONCURRENCY when set
	// to a positive integer, else 8 (transport.DefaultConcurrency).
	Concurrency int
	// Timeout, MaxRetries, RetryWaitMin/Max and RetryAfterCap tune the
	// transport (see transport.Options).
	Timeout                    time.Duration
	MaxRetries                 int
	RetryWaitMin, RetryWaitMax time.Duration
	RetryAfterCap              time.Duration
	// StartupWait is how long each client waits for its server to accept
	// connections while it refuses them before answering once (a server
	// that is starting; transport.Options.StartupWait). 0: no wait.
	StartupWait time.Duration
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// APIMPageSize and SCIMPageSize override the page sizes.
	APIMPageSize, SCIMPageSize int
	// Now is the clock of the token sources (tests).
	Now func() time.Time
}

// DefaultStartupWait is the CLI's Options.StartupWait.
const DefaultStartupWait = transport.DefaultStartupWait

// ConcurrencyEnv names the environment variable that sets
// Options.Concurrency when the caller leaves it 0 (the CLI and the daemon
// do): the requests in flight per server, read and write.
const ConcurrencyEnv = "WSO2SYNC_CONCURRENCY"

// Providers are the typed clients of one environment.
type Providers struct {
	APIM    *apim.Client
	IS      *is.Client
	Counter *transport.Counter

	env       *spec.Environment
	resolve   Resolver
	adminUser string
}

// CloseIdle closes both clients' idle connections: call it when the pass
// that opened the providers is over (nil-safe).
func (p *Providers) CloseIdle() {
	if p == nil {
		return
	}
	if p.APIM != nil {
		p.APIM.Transport().CloseIdle()
	}
	if p.IS != nil {
		p.IS.Transport().CloseIdle()
	}
}

// Open builds both clients from the environment: URLs (overridable),
// admin credentials from the environment's secret references, TLS from
// spec.tls (caBundle relative to the environment file). It makes no
// request; authentication happens on the first call.
func Open(ctx context.Context, env *spec.Environment, opts Options) (*Providers, error) {
	if env == nil {
		return nil, errors.New("providers: no environment")
	}
	dir := filepath.Dir(env.Source.File)
	if opts.Resolve == nil {
		opts.Resolve = NewResolver(dir)
	}
	if opts.Counter == nil {
		opts.Counter = &transport.Counter{}
	}
	if opts.Concurrency <= 0 {
		if n, err := strconv.Atoi(os.Getenv(ConcurrencyEnv)); err == nil && n > 0 {
			opts.Concurrency = n
		}
	}
	p := &Providers{Counter: opts.Counter, env: env, resolve: opts.Resolve}
	es := &env.Spec
	tlsOpts := transport.TLSOptions{InsecureSkipVerify: es.TLS.InsecureSkipVerify}
	if ca := es.TLS.CABundle; ca != "" {
		// Read here, bounded and never from a device or FIFO, rather
		// than by the transport from a path.
		pem, err := spec.ReadRegular(ca, env.ResolvePath("spec.tls.caBundle", ca), spec.MaxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("spec.tls.caBundle: %w", err)
		}
		tlsOpts.CAPEM = pem
	}
	newClient := func(server, url string) (*transport.Client, error) {
		c, err := transport.NewClient(transport.Options{
			BaseURL: url, Server: server, UserAgent: opts.UserAgent, Timeout: opts.Timeout,
			MaxRetries: opts.MaxRetries, RetryWaitMin: opts.RetryWaitMin, RetryWaitMax: opts.RetryWaitMax,
			RetryAfterCap: opts.RetryAfterCap, StartupWait: opts.StartupWait, Concurrency: opts.Concurrency, TLS: tlsOpts,
			Logger: opts.Logger, Counter: opts.Counter, Observer: opts.Observer, Transport: opts.Transport, Now: opts.Now,
		})
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("%s client: %v", server, err),
				Hint: "check spec." + server + ".url and spec.tls in " + env.Source.File}
		}
		return c, nil
	}

	apimURL := cmpOr(opts.APIMURL, es.APIM.URL)
	isURL := cmpOr(opts.ISURL, es.IS.URL)
	if apimURL == "" || isURL == "" {
		return nil, &Error{Msg: "the environment names no APIM or IS URL", Hint: "set spec.apim.url and spec.is.url, or pass --apim-url/--is-url"}
	}

	// APIM: DCR v0.17 with the admin credentials, then password-grant
	// tokens for apim.Scopes, refreshed before expiry and after a 401.
	ac := es.AdminCredentials(es.APIM)
	if ac == nil {
		return nil, &Error{Msg: "no admin credentials for APIM", Hint: "set spec.credentials (or spec.apim.credentials) to {env: NAME} references"}
	}
	base, err := newClient("apim", apimURL)
	if err != nil {
		return nil, err
	}
	user, err := p.secret(ctx, ac.Username)
	if err != nil {
		return nil, err
	}
	p.adminUser = user
	tokens := transport.NewAPIMTokenSource(base, transport.APIMTokenConfig{
		Username: p.secretFunc(ac.Username), Password: p.secretFunc(ac.Password),
		InitialScopes:   apim.Scopes,
		CredentialsHint: fmt.Sprintf("check the APIM admin credentials (%s / %s): wso2sync registers a DCR client and gets password-grant tokens with them", ac.Username, ac.Password),
		Now:             opts.Now,
	})
	p.APIM = apim.New(base.WithAuth(tokens), apim.Options{OnSecret: opts.OnSecret, PageSize: opts.APIMPageSize})

	// IS: Basic admin, or a client_credentials token with is.Scopes.
	icred := es.AdminCredentials(es.IS)
	if icred == nil {
		return nil, &Error{Msg: "no admin credentials for IS", Hint: "set spec.credentials (or spec.is.credentials) to {env: NAME} references"}
	}
	isBase, err := newClient("is", isURL)
	if err != nil {
		return nil, err
	}
	var isAuth transport.Authenticator
	switch cmpOr(opts.ISAuth, ISAuthBasic) {
	case ISAuthBasic:
		isAuth = transport.BasicAuth{Username: p.secretFunc(icred.Username), Password: p.secretFunc(icred.Password),
			CredentialsHint: fmt.Sprintf("check the IS admin credentials (%s / %s); wrong passwords are not retried, so that the account is not locked", icred.Username, icred.Password)}
	case ISAuthClientCredentials:
		isAuth = transport.NewISClientCredentials(isBase, transport.ISClientCredentialsConfig{
			ClientID: p.secretFunc(icred.Username), ClientSecret: p.secretFunc(icred.Password), Scopes: is.Scopes,
			CredentialsHint: fmt.Sprintf("check the IS client id and secret (%s / %s) and that the application is authorized for the SCIM2 and DCR APIs", icred.Username, icred.Password),
			Now:             opts.Now,
		})
	default:
		return nil, &Error{Msg: fmt.Sprintf("unknown IS authentication %q", opts.ISAuth), Hint: "use basic or client_credentials"}
	}
	p.IS = is.New(isBase.WithAuth(isAuth), is.Options{PageSize: opts.SCIMPageSize})
	return p, nil
}

// Environment is the environment the providers were opened for.
func (p *Providers) Environment() *spec.Environment { return p.env }

// Resolve resolves a secret reference with the providers' resolver.
func (p *Providers) Resolve(ctx context.Context, ref spec.SecretRef) (string, error) {
	return p.secret(ctx, ref)
}

// Calls is a snapshot of the run's call counter.
func (p *Providers) Calls() transport.CallCounts { return p.Counter.Snapshot() }

func (p *Providers) secret(ctx context.Context, ref spec.SecretRef) (string, error) {
	v, err := p.resolve(ctx, ref)
	if err != nil {
		var se *SecretError
		if errors.As(err, &se) {
			return "", &Error{Msg: se.Error(), Hint: se.Hint, Err: err}
		}
		return "", err
	}
	return v, nil
}

func (p *Providers) secretFunc(ref spec.SecretRef) transport.SecretFunc {
	return func(ctx context.Context) (string, error) { return p.secret(ctx, ref) }
}

// Error is a configuration error with a hint the user can act on.
type Error struct {
	Msg, Hint string
	Err       error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// HintOf returns the hint of a providers or transport error ("" if none).
func HintOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Hint != "" {
		return e.Hint
	}
	return transport.HintOf(err)
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
