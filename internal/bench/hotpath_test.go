package main

import (
	"context"
	"io"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Hot in-process paths at size L (issue 10): loading and validating the
// manifests (YAML, CUE, references), the diff of desired against an equal
// live state, and rendering a plan. Run with
// go test -run '^$' -bench . ./internal/bench (not part of make test).

func loadL(b *testing.B) *spec.State {
	b.Helper()
	for k, v := range Env {
		b.Setenv(k, v)
	}
	est, err := sim.DescribeEstate(Sizes[2].EstateSize())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := WriteManifests(dir, est, ManifestOptions{APIMURL: "http://127.0.0.1:1", ISURL: "http://127.0.0.1:2",
		Issuer: "http://127.0.0.1:2/oauth2/token"}); err != nil {
		b.Fatal(err)
	}
	st, ds := spec.Load(context.Background(), dir, spec.LoadOptions{})
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	return st
}

func BenchmarkLoadValidateL(b *testing.B) {
	for k, v := range Env {
		b.Setenv(k, v)
	}
	est, err := sim.DescribeEstate(Sizes[2].EstateSize())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := WriteManifests(dir, est, ManifestOptions{APIMURL: "http://127.0.0.1:1", ISURL: "http://127.0.0.1:2",
		Issuer: "http://127.0.0.1:2/oauth2/token"}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ds := spec.Load(context.Background(), dir, spec.LoadOptions{}); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}

func BenchmarkDiffL(b *testing.B) {
	st := loadL(b)
	for b.Loop() {
		if p := diff.Compute(st, st, diff.Options{}); p.HasChanges() {
			b.Fatal("an L estate against itself planned changes")
		}
	}
}

func BenchmarkRenderPlanL(b *testing.B) {
	st := loadL(b)
	live := &spec.State{}
	p := diff.Compute(st, live, diff.Options{})
	for b.Loop() {
		if err := diff.RenderText(io.Discard, p, diff.RenderOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// noopPassSetup starts the simulator (a child process, so that the
// benchmark's allocations are wso2sync's alone), writes the size's
// manifests and applies them from empty through the enforcing path.
func noopPassSetup(b *testing.B, size Size) (string, passOptions) {
	b.Helper()
	for k, v := range Env {
		b.Setenv(k, v)
	}
	ctx := context.Background()
	cfg := Config{Latency: 0, ServerConcurrency: 16}
	s, err := startSim(ctx, cfg, size.APIs)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	est, err := sim.DescribeEstate(size.EstateSize())
	if err != nil {
		b.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := WriteManifests(dir, est, ManifestOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), Issuer: s.Issuer(),
		Recipient: id.Recipient().String()}); err != nil {
		b.Fatal(err)
	}
	o := passOptions{providers: providers.Options{Concurrency: 16, Timeout: 2 * time.Minute}, concurrency: 16, enforce: true}
	if _, err := pass(ctx, dir, o); err != nil {
		b.Fatal(err)
	}
	o.enforce = false
	return dir, o
}

// benchmarkNoopPass measures one no-op plan pass (load, validate, read,
// diff) of an estate that matches its manifests; with a validation cache
// carried from pass to pass (the daemon's) when warm.
func benchmarkNoopPass(b *testing.B, size Size, warm bool) {
	dir, o := noopPassSetup(b, size)
	if warm {
		o.cache = spec.NewValidationCache(0)
		if _, err := pass(context.Background(), dir, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := pass(context.Background(), dir, o)
		if err != nil {
			b.Fatal(err)
		}
		if t.changes != 0 {
			b.Fatalf("a no-op pass planned %d changes", t.changes)
		}
	}
}

// Allocations per no-op pass (issue 17: at most a third of issue 10's).
// go test -run '^$' -bench NoopPass -benchtime 3x ./internal/bench
func BenchmarkNoopPassM(b *testing.B)     { benchmarkNoopPass(b, Sizes[1], false) }
func BenchmarkNoopPassL(b *testing.B)     { benchmarkNoopPass(b, Sizes[2], false) }
func BenchmarkNoopPassWarmL(b *testing.B) { benchmarkNoopPass(b, Sizes[2], true) }
func BenchmarkNoopPassWarmM(b *testing.B) { benchmarkNoopPass(b, Sizes[1], true) }
