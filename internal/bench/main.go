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
// the bench process instead of a child process; RSS then includes it),
// BENCH_429 (1: after each size's four scenarios, also run apply-from-empty
// with 10% of calls answered 429 and report convergence, duplicates and the
// limiters' trajectory, ratelimit.go; only: that scenario alone, leaving
// bench-results.json and the results table untouched), BENCH_429_SPEC
// (the fault, default 429=0.1@1s).
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
	// NaiveSizes, ListOnlySizes and DaemonSizes are the sizes the naive
	// client, the list-only client and the daemon scenario run for (nil:
	// all); BENCH_NAIVE_SIZES, BENCH_LISTONLY_SIZES, BENCH_DAEMON_SIZES.
	NaiveSizes, ListOnlySizes, DaemonSizes []string
	// DaemonPasses is the daemon scenario's pass count (BENCH_DAEMON_PASSES).
	DaemonPasses int
	// Run429 is BENCH_429: "" (off), "1" (also) or "only".
	Run429 string
	// Spec429 is the fault of the 429 scenario (BENCH_429_SPEC).
	Spec429 string
	// LoadAtStart is the machine's load average when the run began.
	LoadAtStart string
}

// applyConcurrency is the apply's bound on steps in flight (`wso2sync
// apply --concurrency`): one server cap per server. A wave mixes both
// servers' writes (applications with users, for instance), and each
// server's own limiter (providers.Options.Concurrency, the cap) bounds
// what reaches it; with only one cap in all, each server would get half.
func (c Config) applyConcurrency() int { return 2 * c.ServerConcurrency }

// naive reports whether the naive client runs at this size.
func (c Config) naive(size string) bool {
	return c.NaiveSizes == nil || slices.Contains(c.NaiveSizes, size)
}

// listOnly reports whether the list-only client runs at this size.
func (c Config) listOnly(size string) bool {
	return c.ListOnlySizes == nil || slices.Contains(c.ListOnlySizes, size)
}

// daemon reports whether the daemon scenario runs at this size.
func (c Config) daemon(size string) bool {
	return c.DaemonPasses > 1 && (c.DaemonSizes == nil || slices.Contains(c.DaemonSizes, size))
}

// sizeList reads a BENCH_*_SIZES variable: nil when unset (all sizes).
func sizeList(name string) []string {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil
	}
	out := []string{}
	for _, n := range strings.Split(v, ",") {
		if n = strings.ToUpper(strings.TrimSpace(n)); n != "" {
			out = append(out, n)
		}
	}
	return out
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
	c.NaiveSizes = sizeList("BENCH_NAIVE_SIZES")
	c.ListOnlySizes = sizeList("BENCH_LISTONLY_SIZES")
	c.DaemonSizes = sizeList("BENCH_DAEMON_SIZES")
	c.DaemonPasses = DefaultDaemonPasses
	if v := os.Getenv("BENCH_DAEMON_PASSES"); v != "" {
		if c.DaemonPasses, err = strconv.Atoi(v); err != nil || c.DaemonPasses < 0 {
			return c, fmt.Errorf("BENCH_DAEMON_PASSES: want a count, got %q", v)
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv("BENCH_429"))); v {
	case "", "0", "false", "off":
	case "1", "true", "on", "yes":
		c.Run429 = "1"
	case "only":
		c.Run429 = "only"
	default:
		return c, fmt.Errorf("BENCH_429: want 1 or only, got %q", v)
	}
	c.LoadAtStart = LoadAverage()
	c.Spec429 = Default429Spec
	if v := os.Getenv("BENCH_429_SPEC"); v != "" {
		c.Spec429 = v
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
	var rls []RateLimitResult
	var failed []string
	run429 := func(size Size) error {
		if cfg.Run429 == "" {
			return nil
		}
		fmt.Fprintf(os.Stderr, "bench: size %s: apply from empty with faults %s\n", size.Name, cfg.Spec429)
		r, err := Run429(ctx, size, cfg)
		if err != nil {
			return fmt.Errorf("size %s, 429 scenario: %w", size.Name, err)
		}
		fmt.Fprintln(os.Stderr, "bench:", r.Lines())
		rls = append(rls, r)
		return nil
	}
	if cfg.Run429 == "only" {
		for _, size := range cfg.Sizes {
			if err := run429(size); err != nil {
				return err
			}
		}
		return finish429(rls, cfg)
	}
	for _, size := range cfg.Sizes {
		fmt.Fprintf(os.Stderr, "bench: size %s (%d apps, %d subscriptions, %d users, %d APIs, %d roles), latency %s, server concurrency %d\n",
			size.Name, size.Apps, size.Subscriptions, size.Users, size.APIs, size.Roles, cfg.Latency, cfg.ServerConcurrency)
		rs, ns, err := RunSize(ctx, size, cfg)
		if err != nil {
			// The other sizes' figures are still written; the run fails
			// at the end.
			failed = append(failed, fmt.Sprintf("size %s: %v", size.Name, err))
			notes = append(notes, fmt.Sprintf("%s: FAILED: %v", size.Name, err))
			fmt.Fprintln(os.Stderr, "bench: error:", failed[len(failed)-1])
			continue
		}
		recs = append(recs, rs...)
		notes = append(notes, ns...)
		// The figures so far are written after each size, so that a run
		// stopped during a later size keeps them.
		if err := writeResults(recs, notes, cfg); err != nil {
			return err
		}
		if err := run429(size); err != nil {
			failed = append(failed, err.Error())
			fmt.Fprintln(os.Stderr, "bench: error:", err)
		}
	}
	WriteTable(os.Stdout, recs)
	for _, n := range notes {
		fmt.Println(n)
	}
	if err := writeResults(recs, notes, cfg); err != nil {
		return err
	}
	if err := finish429(rls, cfg); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return nil
}

// writeResults writes bench-results.json and the results section of the
// Markdown file (each where configured).
func writeResults(recs []Record, notes []string, cfg Config) error {
	if cfg.Out != "" {
		if err := WriteJSON(cfg.Out, recs); err != nil {
			return err
		}
	}
	if cfg.Markdown != "" {
		return UpdateMarkdown(cfg.Markdown, recs, notes, cfg)
	}
	return nil
}

// finish429 prints the 429 scenario's results and writes their section of
// the Markdown file.
func finish429(rls []RateLimitResult, cfg Config) error {
	if len(rls) == 0 {
		return nil
	}
	fmt.Println("\nApply from empty under 429s (not in bench-results.json):")
	WriteRateLimit(os.Stdout, rls)
	if cfg.Markdown != "" {
		return UpdateRateLimitMarkdown(cfg.Markdown, rls, cfg)
	}
	return nil
}
