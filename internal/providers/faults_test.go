package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/providertest"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

const appsRoute = "/api/am/devportal/v3/applications"

func testEnv(dir string) *spec.Environment {
	env := &spec.Environment{Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindEnvironment,
		Metadata: spec.Metadata{Name: "test"}, Source: spec.Position{File: filepath.Join(dir, spec.EnvironmentFile)}}}
	env.Spec.Credentials = &spec.Credentials{Username: spec.SecretRef{Env: "WSO2SYNC_ADMIN_USERNAME"},
		Password: spec.SecretRef{Env: "WSO2SYNC_ADMIN_PASSWORD"}}
	return env
}

func newApp(name string) *spec.Application {
	return &spec.Application{Object: spec.Object{Metadata: spec.Metadata{Name: name}},
		Spec: spec.ApplicationSpec{ThrottlingPolicy: "Unlimited", Description: "d"}}
}

// TestCreateResponseLostNoDuplicate: the server creates the application
// but the response is lost (502 after the handler ran); the client checks,
// finds it and returns its id without creating it twice.
func TestCreateResponseLostNoDuplicate(t *testing.T) {
	providertest.SetEnv(t)
	var dropped atomic.Int32
	s := sim.Start(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == appsRoute && dropped.Add(1) == 1 {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r) // lands
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	p := providertest.Open(t, s, testEnv(t.TempDir()), providertest.Options())
	ctx := context.Background()
	id, err := p.APIM.Applications.Create(ctx, newApp("lost-response"))
	if err != nil || id == "" {
		t.Fatalf("Create = %q, %v", id, err)
	}
	n := 0
	for _, a := range s.Dump().APIM.Applications {
		if a.Name == "lost-response" {
			n++
			if a.ApplicationID != id {
				t.Errorf("id %s, server has %s", id, a.ApplicationID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d applications created, want 1", n)
	}
	if got := s.Stats().Server("apim").Route("POST " + appsRoute); got != 1 {
		t.Errorf("POST sent %d times, want 1", got)
	}
}

// TestRetryOn5xxCounted: idempotent reads are retried after 5xx with
// backoff, and the retries are counted; a create whose 5xx was made up
// before the handler ran is retried once it is known not to have landed.
func TestRetryOn5xxCounted(t *testing.T) {
	providertest.SetEnv(t)
	s := sim.Start(t, sim.Options{})
	p := providertest.Open(t, s, testEnv(t.TempDir()), providertest.Options())
	ctx := context.Background()
	if _, err := p.APIM.Applications.List(ctx); err != nil { // authenticate first
		t.Fatal(err)
	}
	before := p.Calls()
	if err := s.Faults().SetSpec("route=apim GET " + appsRoute + ":5xx=1.0"); err != nil {
		t.Fatal(err)
	}
	_, err := p.APIM.Applications.List(ctx)
	if !transport.IsServer(err) {
		t.Fatalf("List with 100%% 5xx = %v, want a server error", err)
	}
	after := p.Calls()
	if r := after.Retries - before.Retries; r != 4 {
		t.Errorf("retries = %d, want 4 (DefaultMaxRetries)", r)
	}
	s.Faults().Clear()
	if err := s.Faults().SetSpec("route=apim POST " + appsRoute + ":5xx=0.5"); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if _, err := p.APIM.Applications.Create(ctx, newApp("retry-"+string(rune('a'+i)))); err != nil {
			t.Fatalf("Create with 50%% 5xx: %v", err)
		}
	}
	apps, _ := p.APIM.Applications.List(ctx)
	if len(apps) != 7 {
		t.Errorf("%d applications, want 7 (DefaultApplication + 6, no duplicates)", len(apps))
	}
	if p.Calls().Retries == after.Retries {
		t.Logf("no create was retried (random faults)")
	}
}

// TestRateLimitSlowsLimiter: 429 with Retry-After is waited out and halves
// the limiter.
func TestRateLimitSlowsLimiter(t *testing.T) {
	providertest.SetEnv(t)
	s := sim.Start(t, sim.Options{})
	p := providertest.Open(t, s, testEnv(t.TempDir()), providertest.Options())
	ctx := context.Background()
	if _, err := p.APIM.Applications.List(ctx); err != nil {
		t.Fatal(err)
	}
	lim := p.APIM.Transport().Limiter()
	start := lim.Current()
	if err := s.Faults().SetSpec("apim.429=2@100ms"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := p.APIM.Policies.List(ctx); err != nil {
		t.Fatalf("List through 429s: %v", err)
	}
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("took %v, want ≥ 2×Retry-After", d)
	}
	if lim.Current() >= start {
		t.Errorf("limiter %d → %d, want smaller", start, lim.Current())
	}
	if c := p.Calls(); c.RateLimited != 2 {
		t.Errorf("rate limited = %d, want 2", c.RateLimited)
	}
}

// TestTokenExpiryMidRun: tokens expiring between calls are refreshed.
func TestTokenExpiryMidRun(t *testing.T) {
	s, _, p := providertest.ApplyExample(t, sim.Options{})
	ctx := context.Background()
	if _, err := p.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindKeyManager}}); err != nil {
		t.Fatal(err)
	}
	auth := p.Calls().Auth
	s.ExpireTokens()
	live, err := p.Read(ctx, providers.ReadOptions{})
	if err != nil {
		t.Fatalf("Read after expiry: %v", err)
	}
	if p.Calls().Auth <= auth {
		t.Errorf("no new token after expiry")
	}
	if len(live.State.Applications) != 7 {
		t.Errorf("%d applications", len(live.State.Applications))
	}
}

// TestBadCredentials: wrong admin credentials give a clear error with a
// hint naming the references, and the password is not in it.
func TestBadCredentials(t *testing.T) {
	providertest.SetEnv(t)
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "wrong-Secret-42")
	s := sim.Start(t, sim.Options{})
	p := providertest.Open(t, s, testEnv(t.TempDir()), providertest.Options())
	ctx := context.Background()
	for _, read := range []func() error{
		func() error { _, err := p.APIM.Applications.List(ctx); return err },
		func() error { _, err := p.IS.Users.List(ctx); return err },
	} {
		err := read()
		if err == nil {
			t.Fatal("no error with a wrong password")
		}
		hint := providers.HintOf(err)
		if !strings.Contains(hint, "env:WSO2SYNC_ADMIN_PASSWORD") || strings.Contains(err.Error()+hint, "wrong-Secret-42") {
			t.Errorf("error %q hint %q", err, hint)
		}
	}
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "")
	os.Unsetenv("WSO2SYNC_ADMIN_PASSWORD")
	_, err := p.APIM.KeyManagers.List(ctx)
	if err == nil || !strings.Contains(providers.HintOf(err), "export WSO2SYNC_ADMIN_PASSWORD") {
		t.Errorf("unset variable: %v / %q", err, providers.HintOf(err))
	}
}

// TestTLS: the simulator's self-signed certificate is trusted with the
// CA bundle of the environment and refused without it.
func TestTLS(t *testing.T) {
	providertest.SetEnv(t)
	s := sim.Start(t, sim.Options{TLS: true})
	dir := t.TempDir()
	providertest.WriteFile(t, filepath.Join(dir, "ca.pem"), s.CACertPEM())
	env := testEnv(dir)
	env.Spec.TLS.CABundle = "ca.pem"
	p := providertest.Open(t, s, env, providertest.Options())
	ctx := context.Background()
	if _, err := p.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindKeyManager, spec.KindUser}}); err != nil {
		t.Fatalf("with the CA bundle: %v", err)
	}
	bare := providertest.Open(t, s, testEnv(dir), providertest.Options())
	_, err := bare.APIM.KeyManagers.List(ctx)
	if !transport.IsTransport(err) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA bundle: %v", err)
	}
	if c := bare.Calls(); c.Retries != 0 {
		t.Errorf("certificate errors retried %d times", c.Retries)
	}
}

// TestKeyManagerDeleteRefusedHint: deleting the Resident KM gives APIM's
// 500 with a hint.
func TestKeyManagerDeleteRefusedHint(t *testing.T) {
	providertest.SetEnv(t)
	s := sim.Start(t, sim.Options{})
	p := providertest.Open(t, s, testEnv(t.TempDir()), providertest.Options())
	ctx := context.Background()
	id, err := p.APIM.KeyManagers.FindByName(ctx, spec.ResidentKeyManager)
	if err != nil || id == "" {
		t.Fatal(id, err)
	}
	err = p.APIM.KeyManagers.Delete(ctx, id)
	if err == nil || !strings.Contains(providers.HintOf(err), "Resident Key Manager") {
		t.Errorf("Delete = %v (hint %q)", err, providers.HintOf(err))
	}
	var ae *transport.APIError
	if !errors.As(err, &ae) {
		t.Errorf("not an APIError: %T", err)
	}
}

func testOptions() providers.Options { return providertest.Options() }

func openWith(t *testing.T, s *sim.Sim, st *spec.State, o providers.Options) *providers.Providers {
	return providertest.Open(t, s, st.Environment, o)
}
