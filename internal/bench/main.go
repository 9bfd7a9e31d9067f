// Command bench measures wso2sync against the simulator at the estate sizes
// of issue 10 (see BENCHMARKS.md at the repository root):
//
//	go run ./internal/bench            # or: make bench
//	BENCH_SIZES=S,M,L go run ./internal/bench
//
// Environment: BENCH_SIZES (default S,M), BENCH_LATENCY (per call, default
// 20ms), BENCH_SERVER_CONCURRENCY (the simulator's per-server cap, default
// 16; wso2sync's client concurrency is set to the same figure),
// BENCH_OUT (default bench-results.json), BENCH_MD (default BENCHMARKS.md;
// its table between the results markers is replaced; "" to skip),
// BENCH_NAIVE_SIZES (sizes the naive client runs for, default all: at L
// it takes ≈ 14 min at 20 ms), BENCH_SIM=inprocess (run the simulator in
// the bench process instead of a child process; RSS then includes it).
//
// For each size it starts an in-process simulator (latency, concurrency
// cap), generates the size's APIs, writes the manifests of the estate into
// a temporary directory and runs, timing each: apply from empty; a no-op
// plan; the naive sequential client's no-op read; the apply of a 1% change
// set. Calls and writes are the simulator's own counters (writes leave out
// the two authentication POSTs); floors are computed from the estate and
// the simulator's page limits (floor.go).
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if conf := os.Getenv(simChildEnv); conf != "" {
		runSimChild(conf) // the simulator child process (simproc.go)
		return
	}
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench: error:", err)
		os.Exit(1)
	}
}

// Config is the run's configuration (from the environment).
type Config struct {
	Sizes             []Size
	Latency           time.Duration
	ServerConcurrency int
	Out, Markdown     string
	// NaiveSizes are the sizes the naive client runs for (nil: all);
	// BENCH_NAIVE_SIZES.
	NaiveSizes []string
}

// naive reports whether the naive client runs at this size.
func (c Config) naive(size string) bool {
	return c.NaiveSizes == nil || slices.Contains(c.NaiveSizes, size)
}

func configFromEnv() (Config, error) {
	var c Config
	var err error
	if c.Sizes, err = ParseSizes(os.Getenv("BENCH_SIZES")); err != nil {
		return c, err
	}
	c.Latency = 20 * time.Millisecond
	if v := os.Getenv("BENCH_LATENCY"); v != "" {
		if c.Latency, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("BENCH_LATENCY: %w", err)
		}
	}
	c.ServerConcurrency = 16
	if v := os.Getenv("BENCH_SERVER_CONCURRENCY"); v != "" {
		if c.ServerConcurrency, err = strconv.Atoi(v); err != nil || c.ServerConcurrency < 1 {
			return c, fmt.Errorf("BENCH_SERVER_CONCURRENCY: want a positive integer, got %q", v)
		}
	}
	if v, ok := os.LookupEnv("BENCH_NAIVE_SIZES"); ok {
		c.NaiveSizes = []string{}
		for _, n := range strings.Split(v, ",") {
			if n = strings.ToUpper(strings.TrimSpace(n)); n != "" {
				c.NaiveSizes = append(c.NaiveSizes, n)
			}
		}
	}
	c.Out = "bench-results.json"
	if v, ok := os.LookupEnv("BENCH_OUT"); ok {
		c.Out = v
	}
	c.Markdown = "BENCHMARKS.md"
	if v, ok := os.LookupEnv("BENCH_MD"); ok {
		c.Markdown = v
	}
	return c, nil
}

func run(ctx context.Context) error {
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	for k, v := range Env {
		os.Setenv(k, v)
	}
	var recs []Record
	var notes []string
	for _, size := range cfg.Sizes {
		fmt.Fprintf(os.Stderr, "bench: size %s (%d apps, %d subscriptions, %d users, %d APIs, %d roles), latency %s, server concurrency %d\n",
			size.Name, size.Apps, size.Subscriptions, size.Users, size.APIs, size.Roles, cfg.Latency, cfg.ServerConcurrency)
		rs, ns, err := RunSize(ctx, size, cfg)
		if err != nil {
			return fmt.Errorf("size %s: %w", size.Name, err)
		}
		recs = append(recs, rs...)
		notes = append(notes, ns...)
	}
	WriteTable(os.Stdout, recs)
	for _, n := range notes {
		fmt.Println(n)
	}
	if cfg.Out != "" {
		if err := WriteJSON(cfg.Out, recs); err != nil {
			return err
		}
	}
	if cfg.Markdown != "" {
		if err := UpdateMarkdown(cfg.Markdown, recs, notes, cfg); err != nil {
			return err
		}
	}
	return nil
}
