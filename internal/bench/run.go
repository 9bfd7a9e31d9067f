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

	"filippo.io/age"

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

// RunSize runs the scenarios for one size on a fresh simulator.
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
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, nil, err
	}
	mo := ManifestOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), Issuer: s.Issuer(), Recipient: id.Recipient().String()}
	if err := WriteManifests(envDir, est, mo); err != nil {
		return nil, nil, err
	}
	popts := providers.Options{Concurrency: cfg.ServerConcurrency, Timeout: 2 * time.Minute}
	plan := passOptions{providers: popts, concurrency: cfg.applyConcurrency()}
	enforce := plan
	enforce.enforce = true
	rec := func(scenario string, m measured, floor Floor, writeDepth int) Record {
		ft := FloorTime(floor, writeDepth, cfg.Latency, cfg.ServerConcurrency).Seconds()
		r := Record{Size: size.Name, Scenario: scenario, WallS: round(m.wall.Seconds(), 3), Calls: m.calls,
			Floor: floor.Total(), FloorTimeS: round(ft, 3), Writes: m.writes, PeakRSSMiB: round(PeakRSSMiB(), 1),
			LatencyMS: float64(cfg.Latency) / float64(time.Millisecond), ServerConcurrency: cfg.ServerConcurrency}
		if ft > 0 {
			r.WallPerFloorTime = round(m.wall.Seconds()/ft, 2)
		}
		return r
	}
	var notes []string
	note := func(scenario string, m measured, f Floor, extra string) {
		n := fmt.Sprintf("%s %s: floor %s; routes: %s%s", size.Name, scenario, f, topRoutes(m.routes, 8), extra)
		fmt.Fprintln(os.Stderr, "bench:", n)
		notes = append(notes, n)
	}
	// timed runs one scenario on a fresh count.
	timed := func(fn func() error) (measured, error) {
		if err := resetScenario(s); err != nil {
			return measured{}, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return measured{}, err
		}
		return observe(s, start)
	}
	var tm timings

	// 1. Apply from empty, through the enforcing path.
	mEmpty, err := timed(func() (err error) { tm, err = pass(ctx, envDir, enforce); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("apply from empty: %w", err)
	}
	fEmpty := ApplyEmptyFloor(counts, SimLimits, Counts{LiveApps: b.Apps, LiveUsers: b.Users, LiveRoles: b.Roles})
	recEmpty := rec(ScenarioApplyEmpty, mEmpty, fEmpty, 2)
	dups, err := duplicates(s, size, b)
	if err != nil {
		return nil, nil, err
	}
	note(ScenarioApplyEmpty, mEmpty, fEmpty, "; "+tm.String()+"; "+dups)

	// 2. No-op plan.
	mNoop, err := timed(func() (err error) { tm, err = pass(ctx, envDir, plan); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("no-op plan: %w", err)
	}
	if tm.changes != 0 {
		return nil, nil, fmt.Errorf("no-op plan after apply has %d changes: %s", tm.changes, tm.summary)
	}
	if mNoop.writes != 0 {
		return nil, nil, fmt.Errorf("no-op plan made %d writes", mNoop.writes)
	}
	fNoop := NoopFloor(counts, SimLimits)
	recNoop := rec(ScenarioNoop, mNoop, fNoop, 0)
	note(ScenarioNoop, mNoop, fNoop, "; "+tm.String())
	var out []Record

	// 3. The list-only sequential client, same estate.
	if cfg.listOnly(size.Name) {
		var lres ListOnlyResult
		mList, err := timed(func() (err error) {
			lo := &ListOnly{Naive: Naive{APIMURL: s.APIMURL(), ISURL: s.ISURL(), User: "admin", Password: "admin"}}
			lres, err = lo.Run(ctx)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list-only client: %w", err)
		}
		if lres.Apps != size.Apps+b.Apps || lres.Subs != size.Subscriptions || lres.Users != size.Users+b.Users || lres.Keys != size.Apps {
			return nil, nil, fmt.Errorf("list-only client read %d apps, %d subscriptions, %d users, %d keys; want %d, %d, %d, %d",
				lres.Apps, lres.Subs, lres.Users, lres.Keys, size.Apps+b.Apps, size.Subscriptions, size.Users+b.Users, size.Apps)
		}
		r := rec(ScenarioListOnly, mList, fNoop, 0)
		out = append(out, r)
		note(ScenarioListOnly, mList, fNoop, "")
		sp := round(mList.wall.Seconds()/mNoop.wall.Seconds(), 1)
		recNoop.SpeedupVsListOnly = &sp
	} else {
		notes = append(notes, fmt.Sprintf("%s %s: not run (BENCH_LISTONLY_SIZES=%s)", size.Name, ScenarioListOnly, os.Getenv("BENCH_LISTONLY_SIZES")))
	}

	// 4. The naive sequential client, same estate (unless
	// BENCH_NAIVE_SIZES leaves this size out).
	if cfg.naive(size.Name) {
		var nres NaiveResult
		mNaive, err := timed(func() (err error) {
			nv := &Naive{APIMURL: s.APIMURL(), ISURL: s.ISURL(), User: "admin", Password: "admin"}
			nres, err = nv.Run(ctx)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("naive client: %w", err)
		}
		if nres.Apps != size.Apps+b.Apps || nres.Subs != size.Subscriptions || nres.Users != size.Users+b.Users {
			return nil, nil, fmt.Errorf("naive client read %d apps, %d subscriptions, %d users; want %d, %d, %d",
				nres.Apps, nres.Subs, nres.Users, size.Apps+b.Apps, size.Subscriptions, size.Users+b.Users)
		}
		r := rec(ScenarioNaive, mNaive, fNoop, 0)
		out = append(out, r)
		note(ScenarioNaive, mNaive, fNoop, "")
		sp := round(mNaive.wall.Seconds()/mNoop.wall.Seconds(), 1)
		recNoop.SpeedupVsNaive = &sp
	} else {
		notes = append(notes, fmt.Sprintf("%s %s: not run (BENCH_NAIVE_SIZES=%s)", size.Name, ScenarioNaive, os.Getenv("BENCH_NAIVE_SIZES")))
	}

	// 5. Apply of a 1% change set, through the enforcing path.
	mo.Change = true
	if err := WriteManifests(envDir, est, mo); err != nil {
		return nil, nil, err
	}
	m1, err := timed(func() (err error) { tm, err = pass(ctx, envDir, enforce); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("apply 1%%: %w", err)
	}
	want := ChangeSetSize(counts)
	if tm.changes != want {
		notes = append(notes, fmt.Sprintf("%s apply-1pct: the plan had %d changes, the change set is %d objects (%s)",
			size.Name, tm.changes, want, tm.summary))
	}
	f1 := ChangeFloor(counts, SimLimits)
	rec1 := rec(ScenarioApply1pct, m1, f1, 1)
	note(ScenarioApply1pct, m1, f1, "; "+tm.String())

	// 6. The daemon at steady state: passes with nothing changed.
	if cfg.daemon(size.Name) {
		r, n, err := runDaemon(ctx, s, envDir, popts, cfg, fNoop)
		if err != nil {
			return nil, nil, fmt.Errorf("daemon passes: %w", err)
		}
		rd := rec(ScenarioDaemon, r.slowest, fNoop, 0)
		rd.PeakRSSMiB = round(r.peakRSS, 1)
		out = append(out, rd)
		notes = append(notes, size.Name+" "+ScenarioDaemon+": "+n)
		fmt.Fprintln(os.Stderr, "bench:", notes[len(notes)-1])
	}

	if rss := s.PeakRSSMiB(); rss > 0 {
		notes = append(notes, fmt.Sprintf("%s: the simulator (child process) peaked at %.0f MiB RSS; wso2sync's figures exclude it", size.Name, rss))
	}
	return append([]Record{recNoop, recEmpty, rec1}, out...), notes, nil
}

// duplicates counts the simulator's objects by natural key after an apply
// from empty and fails unless each desired object exists exactly once.
func duplicates(s simHandle, size Size, b Builtins) (string, error) {
	st, err := s.State()
	if err != nil {
		return "", err
	}
	got := CountNaturalKeys(st)
	want := NaturalKeyCounts{Apps: size.Apps + b.Apps, Subscriptions: size.Subscriptions, Users: size.Users + b.Users}
	if got.Duplicates() != 0 || got.Apps != want.Apps || got.Subscriptions != want.Subscriptions || got.Users != want.Users {
		return "", fmt.Errorf("after apply from empty the simulator holds %+v, want %+v and no duplicates", got, want)
	}
	return fmt.Sprintf("by natural key: %d applications, %d subscriptions, %d users, 0 duplicates", got.Apps, got.Subscriptions, got.Users), nil
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
	// costs are the enforcing path's own costs (enforce passes only).
	costs *reconcile.EnforceCosts
	// validated and reused are the documents validated by CUE and taken
	// from the validation cache.
	validated, reused int
}

func (t timings) String() string {
	s := fmt.Sprintf("load+validate %.2fs, read+diff %.2fs, apply %.2fs, %.0f MiB / %d objects allocated",
		t.load.Seconds(), t.read.Seconds(), t.apply.Seconds(), t.allocMiB, t.allocObjects)
	if t.reused > 0 {
		s += fmt.Sprintf(", %d documents validated, %d from the cache", t.validated, t.reused)
	}
	if t.costs != nil {
		s += "; enforcing path: " + t.costs.String()
	}
	return s
}

// passOptions say how one bench pass runs.
type passOptions struct {
	providers   providers.Options
	concurrency int
	// enforce runs the pass `wso2sync apply --mode enforce --auto-approve`
	// runs (reconcile.Pass.Enforce: lock, journal, inventory, recovery,
	// plan under the lock, apply sealing every generated secret to the
	// environment's recipient); otherwise the pass only plans (with the
	// read-ahead, as `wso2sync plan` does).
	enforce bool
	// cache is the validation cache carried across passes (the daemon's);
	// nil for a cold pass.
	cache *spec.ValidationCache
	// onOpen is called once the pass's providers are open (before the
	// read finishes and the apply starts); nil for none.
	onOpen func(*providers.Providers)
}

// pass is one wso2sync pass over envDir through the one pass
// (internal/reconcile): load (validate), read and diff, and, when
// o.enforce, the enforcing apply (failing unless every step applied).
func pass(ctx context.Context, envDir string, o passOptions) (timings, error) {
	var t timings
	b0, o0 := Allocs()
	t0 := time.Now()
	ro := reconcile.Options{EnvDir: envDir, Providers: o.providers, ValidationCache: o.cache}
	if !o.enforce {
		ro.ReadAhead = func(*spec.Environment) bool { return true }
	}
	p, err := reconcile.Load(ctx, ro)
	if err != nil {
		if p != nil && len(p.Diagnostics) > 0 {
			return t, fmt.Errorf("%w: %v", err, p.Diagnostics[:min(len(p.Diagnostics), 3)])
		}
		return t, err
	}
	defer p.Close()
	if p.LoadStats != nil {
		t.validated, t.reused = p.LoadStats.Validated, p.LoadStats.Reused
	}
	if o.onOpen != nil && p.Providers != nil {
		o.onOpen(p.Providers)
	}
	t1 := time.Now()
	t.load = t1.Sub(t0)
	if o.enforce {
		var planned time.Time
		er, err := p.Enforce(ctx, reconcile.EnforceOptions{Command: "apply", Concurrency: o.concurrency,
			BeforeApply: func(plan *diff.Plan) error {
				planned = time.Now()
				t.changes = countChanges(plan)
				t.summary = fmt.Sprintf("%+v", plan.Summary)
				return nil
			}})
		if err != nil {
			return t, fmt.Errorf("%w (hint: %s)", err, providers.HintOf(err))
		}
		t.read = planned.Sub(t1)
		t.apply = time.Since(planned)
		t.costs = &er.Costs
		if res := er.Result; res != nil && res.ExitCode() != 0 {
			return t, fmt.Errorf("apply failed: %s\n%s", res.Summary(), firstLines(res.Report(), 20))
		}
	} else {
		plan, err := p.MakePlan(ctx, nil)
		if err != nil {
			return t, fmt.Errorf("%w (hint: %s)", err, providers.HintOf(err))
		}
		t.read = time.Since(t1)
		if f := os.Getenv("BENCH_HEAPPROFILE"); f != "" {
			// The live heap of a plan (desired, live, plan), for pprof.
			if hp, err := os.Create(f); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(hp)
				hp.Close()
			}
		}
		t.changes = countChanges(plan)
		t.summary = fmt.Sprintf("%+v", plan.Summary)
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
