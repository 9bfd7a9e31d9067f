package main

import (
	"context"
	"io"
	"testing"

	"github.com/wso2sync/wso2sync/internal/diff"
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
