package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/daemon"
	"github.com/wso2sync/wso2sync/internal/providers"
)

// DefaultDaemonPasses is how many passes the daemon scenario runs
// (BENCH_DAEMON_PASSES overrides it).
const DefaultDaemonPasses = 20

// daemonResult is what the daemon scenario measured.
type daemonResult struct {
	slowest measured // the slowest pass
	peakRSS float64  // over all passes
}

// runDaemon is the daemon at steady state (issue 17): cfg.DaemonPasses
// drift passes of the daemon's own pass function (daemon.Reconcile, the
// pass `wso2sync run` makes: enforce mode, lock, journal, inventory, with
// its validation cache carried from pass to pass) over manifests that do
// not change, against an estate that already matches them. Each pass must
// plan nothing and write nothing. It reports every pass's wall time, the
// documents each pass validated, and the process's RSS after each pass.
func runDaemon(ctx context.Context, s simHandle, envDir string, popts providers.Options, cfg Config, f Floor) (daemonResult, string, error) {
	var res daemonResult
	pass := daemon.Reconcile(daemon.ReconcileOptions{Providers: popts, Concurrency: cfg.applyConcurrency()})
	if err := resetScenario(s); err != nil {
		return res, "", err
	}
	n := cfg.DaemonPasses
	walls := make([]float64, 0, n)
	rss := make([]float64, 0, n)
	var validated []int
	var calls []int64
	var allocB, allocO []uint64
	for i := range n {
		if err := s.ResetCounters(); err != nil {
			return res, "", err
		}
		b0, o0 := Allocs()
		start := time.Now()
		pr, err := pass(ctx, daemon.PassRequest{ID: fmt.Sprintf("bench-%d", i+1), Reason: "interval", Dir: envDir})
		if err != nil {
			return res, "", fmt.Errorf("pass %d: %w (%s)", i+1, err, strings.Join(pr.Errors, "; "))
		}
		m, err := observe(s, start)
		if err != nil {
			return res, "", err
		}
		b1, o1 := Allocs()
		allocB, allocO = append(allocB, b1-b0), append(allocO, o1-o0)
		if c := pr.Plan.Create + pr.Plan.Update + pr.Plan.Replace + pr.Plan.Delete; c != 0 || m.writes != 0 {
			return res, "", fmt.Errorf("pass %d planned %d changes and made %d writes on an unchanged estate", i+1, c, m.writes)
		}
		if m.wall > res.slowest.wall {
			res.slowest = m
		}
		walls = append(walls, m.wall.Seconds())
		rss = append(rss, RSSMiB())
		validated = append(validated, pr.Validated)
		calls = append(calls, m.calls)
	}
	res.peakRSS = PeakRSSMiB()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	sorted := slices.Clone(walls)
	slices.Sort(sorted)
	later := slices.Max(validated[1:])
	if later > 0 {
		// Not a timing: the daemon's validation cache is broken.
		return res, "", fmt.Errorf("a pass over unchanged manifests validated %d documents again (validated per pass: %v)", later, validated)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d passes (enforce mode, nothing to change): wall min %.2f s, median %.2f s, max %.2f s (floor time %.2f s); calls per pass %d–%d (floor %d), 0 writes; ",
		n, sorted[0], sorted[len(sorted)/2], sorted[len(sorted)-1],
		FloorTime(f, 0, cfg.Latency, cfg.ServerConcurrency).Seconds(), slices.Min(calls), slices.Max(calls), f.Total())
	fmt.Fprintf(&b, "documents validated: %d in pass 1, at most %d in passes 2–%d (the rest from the validation cache); ", validated[0], later, n)
	fmt.Fprintf(&b, "RSS after pass 1 %.0f MiB, after pass %d %.0f MiB (%+.1f%%), peak %.0f MiB; Go heap in use at the end %.0f MiB; ",
		rss[0], n, rss[n-1], 100*(rss[n-1]-rss[0])/rss[0], res.peakRSS, float64(ms.HeapInuse)/(1<<20))
	var sb, so uint64
	for i := 1; i < n; i++ {
		sb, so = sb+allocB[i], so+allocO[i]
	}
	fmt.Fprintf(&b, "allocated per pass: pass 1 %.0f MiB / %d objects, passes 2–%d %.0f MiB / %d objects on average; ",
		float64(allocB[0])/(1<<20), allocO[0], n, float64(sb)/float64(n-1)/(1<<20), so/uint64(n-1))
	parts := make([]string, n)
	for i, w := range walls {
		parts[i] = fmt.Sprintf("%.2f", w)
	}
	b.WriteString("wall per pass (s): " + strings.Join(parts, " "))
	return res, b.String(), nil
}
