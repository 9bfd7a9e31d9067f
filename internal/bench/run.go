package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// SCIMCap is the simulator's SCIM page cap the bench runs with (IS's
// default MaxUserNameListLength).
const SCIMCap = 100

// SimLimits are the page limits of the simulator the bench starts.
var SimLimits = Limits{APIMPage: 0, SCIMPage: SCIMCap}

// measured is what one timed scenario observed.
type measured struct {
	wall          time.Duration
	calls, writes int64
	routes        map[string]int64
}

// isAuthRoute tells the two authentication POSTs (DCR, token) apart from
// the writes that change the estate.
func isAuthRoute(route string) bool {
	return strings.Contains(route, "/client-registration/") || strings.HasSuffix(route, "/oauth2/token")
}

func observe(s simHandle, start time.Time) (measured, error) {
	wall := time.Since(start)
	st, err := s.Stats()
	if err != nil {
		return measured{}, fmt.Errorf("simulator stats: %w", err)
	}
	m := measured{wall: wall, routes: map[string]int64{}}
	for _, ss := range []sim.ServerStats{st.APIM, st.IS} {
		m.calls += ss.Calls
		m.writes += ss.Writes
		for r, n := range ss.Routes {
			m.routes[r] += n
			if isAuthRoute(r) && !strings.HasPrefix(r, "GET ") {
				m.writes -= n
			}
		}
	}
	return m, nil
}

// topRoutes lists the routes of a scenario, most calls first.
func topRoutes(routes map[string]int64, n int) string {
	type rc struct {
		r string
		n int64
	}
	var all []rc
	for r, c := range routes {
		all = append(all, rc{r, c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].r < all[j].r
	})
	var parts []string
	for i, x := range all {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", x.r, x.n))
	}
	return strings.Join(parts, "; ")
}

// RunSize runs the four scenarios for one size on a fresh simulator.
func RunSize(ctx context.Context, size Size, cfg Config) ([]Record, []string, error) {
	runtime.GC()
	ResetPeakRSS()
	s, err := startSim(ctx, cfg, size.APIs)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	est, err := sim.DescribeEstate(size.EstateSize())
	if err != nil {
		return nil, nil, err
	}
	b := s.Builtins()
	counts := CountsOf(est, b)

	dir, err := os.MkdirTemp("", "wso2sync-bench-"+size.Name+"-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	envDir := filepath.Join(dir, "env")
	mo := ManifestOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), Issuer: s.Issuer()}
	if err := WriteManifests(envDir, est, mo); err != nil {
		return nil, nil, err
	}
	popts := providers.Options{Concurrency: cfg.ServerConcurrency, Timeout: 2 * time.Minute}
	rec := func(scenario string, m measured, floor Floor) Record {
		return Record{Size: size.Name, Scenario: scenario, WallS: round(m.wall.Seconds(), 3), Calls: m.calls,
			Floor: floor.Total(), Writes: m.writes, PeakRSSMiB: round(PeakRSSMiB(), 1),
			LatencyMS: float64(cfg.Latency) / float64(time.Millisecond), ServerConcurrency: cfg.ServerConcurrency}
	}
	var notes []string
	note := func(scenario string, m measured, f Floor, extra string) {
		n := fmt.Sprintf("%s %s: floor %s; routes: %s%s", size.Name, scenario, f, topRoutes(m.routes, 8), extra)
		fmt.Fprintln(os.Stderr, "bench:", n)
		notes = append(notes, n)
	}

	// 1. Apply from empty.
	if err := resetScenario(s); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	tm, err := pass(ctx, envDir, popts, cfg.ServerConcurrency, true)
	if err != nil {
		return nil, nil, fmt.Errorf("apply from empty: %w", err)
	}
	mEmpty, err := observe(s, start)
	if err != nil {
		return nil, nil, err
	}
	fEmpty := ApplyEmptyFloor(counts, SimLimits, Counts{LiveApps: b.Apps, LiveUsers: b.Users, LiveRoles: b.Roles})
	recEmpty := rec(ScenarioApplyEmpty, mEmpty, fEmpty)
	note(ScenarioApplyEmpty, mEmpty, fEmpty, "; "+tm.String())

	// 2. No-op plan.
	if err := resetScenario(s); err != nil {
		return nil, nil, err
	}
	start = time.Now()
	tm, err = pass(ctx, envDir, popts, cfg.ServerConcurrency, false)
	if err != nil {
		return nil, nil, fmt.Errorf("no-op plan: %w", err)
	}
	mNoop, err := observe(s, start)
	if err != nil {
		return nil, nil, err
	}
	if tm.changes != 0 {
		return nil, nil, fmt.Errorf("no-op plan after apply has %d changes: %s", tm.changes, tm.summary)
	}
	fNoop := NoopFloor(counts, SimLimits)
	recNoop := rec(ScenarioNoop, mNoop, fNoop)
	note(ScenarioNoop, mNoop, fNoop, "; "+tm.String())

	// 3. The naive sequential client, same estate (unless
	// BENCH_NAIVE_SIZES leaves this size out).
	var recNaive *Record
	if cfg.naive(size.Name) {
		if err := resetScenario(s); err != nil {
			return nil, nil, err
		}
		start = time.Now()
		nv := &Naive{APIMURL: s.APIMURL(), ISURL: s.ISURL(), User: "admin", Password: "admin"}
		nres, err := nv.Run(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("naive client: %w", err)
		}
		mNaive, err := observe(s, start)
		if err != nil {
			return nil, nil, err
		}
		if nres.Apps != size.Apps+b.Apps || nres.Subs != size.Subscriptions || nres.Users != size.Users+b.Users {
			return nil, nil, fmt.Errorf("naive client read %d apps, %d subscriptions, %d users; want %d, %d, %d",
				nres.Apps, nres.Subs, nres.Users, size.Apps+b.Apps, size.Subscriptions, size.Users+b.Users)
		}
		r := rec(ScenarioNaive, mNaive, fNoop)
		recNaive = &r
		note(ScenarioNaive, mNaive, fNoop, "")
		sp := round(mNaive.wall.Seconds()/mNoop.wall.Seconds(), 1)
		recNoop.SpeedupVsNaive = &sp
	} else {
		notes = append(notes, fmt.Sprintf("%s naive-noop-plan: not run (BENCH_NAIVE_SIZES=%s)", size.Name, os.Getenv("BENCH_NAIVE_SIZES")))
	}

	// 4. Apply of a 1% change set.
	mo.Change = true
	if err := WriteManifests(envDir, est, mo); err != nil {
		return nil, nil, err
	}
	if err := resetScenario(s); err != nil {
		return nil, nil, err
	}
	start = time.Now()
	tm, err = pass(ctx, envDir, popts, cfg.ServerConcurrency, true)
	if err != nil {
		return nil, nil, fmt.Errorf("apply 1%%: %w", err)
	}
	m1, err := observe(s, start)
	if err != nil {
		return nil, nil, err
	}
	want := ChangeSetSize(counts)
	if tm.changes != want {
		notes = append(notes, fmt.Sprintf("%s apply-1pct: the plan had %d changes, the change set is %d objects (%s)",
			size.Name, tm.changes, want, tm.summary))
	}
	f1 := ChangeFloor(counts, SimLimits, want)
	rec1 := rec(ScenarioApply1pct, m1, f1)
	note(ScenarioApply1pct, m1, f1, "; "+tm.String())

	if rss := s.PeakRSSMiB(); rss > 0 {
		notes = append(notes, fmt.Sprintf("%s: the simulator (child process) peaked at %.0f MiB RSS; wso2sync's figures exclude it", size.Name, rss))
	}
	out := []Record{recNoop, recEmpty, rec1}
	if recNaive != nil {
		out = append(out, *recNaive)
	}
	return out, notes, nil
}

// resetScenario starts a scenario: the simulator's counters are zeroed,
// the previous scenario's garbage is collected and returned to the OS, and
// the peak RSS is reset, so that each record's peak_rss_mib is its own
// scenario's (with the simulator in a child process: wso2sync's own).
func resetScenario(s simHandle) error {
	runtime.GC()
	debug.FreeOSMemory()
	ResetPeakRSS()
	return s.ResetCounters()
}

// timings of one pass.
type timings struct {
	load, read, apply time.Duration
	changes           int
	summary           string
	allocMiB          float64
	allocObjects      uint64
}

func (t timings) String() string {
	return fmt.Sprintf("load+validate %.2fs, read+diff %.2fs, apply %.2fs, %.0f MiB / %d objects allocated",
		t.load.Seconds(), t.read.Seconds(), t.apply.Seconds(), t.allocMiB, t.allocObjects)
}

// pass is one wso2sync pass over envDir: load (validate), read and diff,
// and, when doApply, apply the plan (failing unless it converges).
func pass(ctx context.Context, envDir string, po providers.Options, concurrency int, doApply bool) (timings, error) {
	return passWith(ctx, envDir, po, concurrency, doApply, nil)
}

// passWith is pass with a hook called once the pass's providers are open
// (before the read finishes and the apply starts); nil for none.
func passWith(ctx context.Context, envDir string, po providers.Options, concurrency int, doApply bool,
	onOpen func(*providers.Providers)) (timings, error) {
	var t timings
	b0, o0 := Allocs()
	t0 := time.Now()
	p, err := reconcile.Load(ctx, reconcile.Options{EnvDir: envDir, Providers: po,
		ReadAhead: func(*spec.Environment) bool { return true }})
	if err != nil {
		if p != nil && len(p.Diagnostics) > 0 {
			return t, fmt.Errorf("%w: %v", err, p.Diagnostics[:min(len(p.Diagnostics), 3)])
		}
		return t, err
	}
	if onOpen != nil && p.Providers != nil {
		onOpen(p.Providers)
	}
	t1 := time.Now()
	t.load = t1.Sub(t0)
	owned := (&apply.Inventory{}).OwnedFunc()
	plan, err := p.Compute(ctx, owned)
	if err != nil {
		return t, fmt.Errorf("%w (hint: %s)", err, providers.HintOf(err))
	}
	t2 := time.Now()
	t.read = t2.Sub(t1)
	if f := os.Getenv("BENCH_HEAPPROFILE"); f != "" && !doApply {
		// The live heap of a plan (desired, live, plan), for pprof.
		if hp, err := os.Create(f); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(hp)
			hp.Close()
		}
	}
	t.changes = countChanges(plan)
	t.summary = fmt.Sprintf("%+v", plan.Summary)
	if doApply && plan.HasChanges() {
		res := p.Apply(ctx, plan, reconcile.ApplyOptions{Concurrency: concurrency})
		if res.ExitCode() != 0 {
			return t, fmt.Errorf("apply failed: %s\n%s", res.Summary(), firstLines(res.Report(), 20))
		}
		t.apply = time.Since(t2)
	}
	b1, o1 := Allocs()
	t.allocMiB = float64(b1-b0) / (1 << 20)
	t.allocObjects = o1 - o0
	return t, nil
}

func countChanges(plan *diff.Plan) int {
	n := 0
	for _, c := range plan.Changes {
		if c.Action != diff.NoOp {
			n++
		}
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
