package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// The optional 429 scenario (issue 10's target "apply from empty at L with
// 10% of calls answered 429 (Retry-After 1 s) converges with no
// duplicates; the limiter adapts"): BENCH_429=1 runs it after the four
// scenarios of each size, BENCH_429=only runs it alone. It is not a
// bench-results.json record (that file's scenarios are fixed); it is
// printed and written into its own section of BENCHMARKS.md.

// Default429Spec is the fault the scenario injects (BENCH_429_SPEC
// overrides it): 10% of calls answered 429 with Retry-After: 1.
const Default429Spec = "429=0.1@1s"

// maxFaultedPasses bounds the apply passes under faults: a step whose
// every attempt is answered 429 fails its pass, and the next pass (a new
// plan) picks it up.
const maxFaultedPasses = 3

// SampleEvery is the limiter sampling period.
const SampleEvery = 250 * time.Millisecond

// Markers of the 429 section of BENCHMARKS.md.
const (
	md429Begin = "<!-- bench:429:begin (written by BENCH_429=1 go run ./internal/bench) -->"
	md429End   = "<!-- bench:429:end -->"
)

// RateLimitResult is what the 429 scenario observed at one size.
type RateLimitResult struct {
	Size  string
	Spec  string
	Wall  time.Duration
	Calls int64 // simulator's count, every pass under faults
	// Injected429 is the simulator's count of injected 429s; RateLimited
	// and Retries are wso2sync's transport counters.
	Injected429, RateLimited, Retries int64
	// Passes is the number of apply passes until a plan had no change;
	// PassErrors are the failures of the passes before.
	Passes     int
	PassErrors []string
	Converged  bool
	Objects    NaturalKeyCounts
	Want       NaturalKeyCounts // desired totals (the estate + the built-ins)
	// NoopChanges is the change count of the plan after the faults are
	// cleared (0: empty); NoopCalls its calls.
	NoopChanges int
	NoopCalls   int64
	NoopSummary string
	APIM, IS    Trajectory
}

// NoDuplicates: every natural key once, and the totals are the desired.
func (r RateLimitResult) NoDuplicates() bool {
	return r.Objects.Duplicates() == 0 && r.Objects.Apps == r.Want.Apps && r.Objects.Subscriptions == r.Want.Subscriptions &&
		r.Objects.Users == r.Want.Users
}

// NaturalKeyCounts counts the simulator's objects and, per kind, the
// objects beyond the first with the same natural key (duplicates):
// applications by (owner, name), subscriptions by (application, API),
// users by (domain, userName).
type NaturalKeyCounts struct {
	Apps, Subscriptions, Users          int
	DupApps, DupSubscriptions, DupUsers int
}

// Duplicates is the total of the three duplicate counts.
func (n NaturalKeyCounts) Duplicates() int { return n.DupApps + n.DupSubscriptions + n.DupUsers }

// CountNaturalKeys counts st's applications, subscriptions and users by
// natural key.
func CountNaturalKeys(st sim.State) NaturalKeyCounts {
	var n NaturalKeyCounts
	dups := func(keys []string) int {
		seen := make(map[string]bool, len(keys))
		d := 0
		for _, k := range keys {
			if seen[k] {
				d++
			}
			seen[k] = true
		}
		return d
	}
	var keys []string
	for _, a := range st.APIM.Applications {
		keys = append(keys, a.Owner+"\x00"+a.Name)
	}
	n.Apps, n.DupApps = len(keys), dups(keys)
	keys = keys[:0]
	for _, s := range st.APIM.Subscriptions {
		keys = append(keys, s.ApplicationID+"\x00"+s.APIID)
	}
	n.Subscriptions, n.DupSubscriptions = len(keys), dups(keys)
	keys = keys[:0]
	for _, u := range st.IS.Users {
		keys = append(keys, strings.ToUpper(u.Domain)+"\x00"+u.UserName)
	}
	n.Users, n.DupUsers = len(keys), dups(keys)
	return n
}

// Trajectory is one limiter's Current() sampled every SampleEvery.
type Trajectory struct {
	Max     int
	Samples []int
}

// Points are the samples at n evenly spaced times (first and last
// included); all of them when there are fewer.
func (t Trajectory) Points(n int) []int {
	if len(t.Samples) <= n {
		return t.Samples
	}
	out := make([]int, n)
	for i := range n {
		out[i] = t.Samples[i*(len(t.Samples)-1)/(n-1)]
	}
	return out
}

// String is the compact series: min/max, the share of samples below the
// maximum and 10 evenly spaced values.
func (t Trajectory) String() string {
	if len(t.Samples) == 0 {
		return "no samples"
	}
	lo, hi, below, sum := t.Samples[0], t.Samples[0], 0, 0
	for _, v := range t.Samples {
		lo, hi = min(lo, v), max(hi, v)
		if v < t.Max {
			below++
		}
		sum += v
	}
	pts := fmt.Sprint(t.Points(10))
	return fmt.Sprintf("max %d; min %d, max seen %d, mean %.1f, %d/%d samples below max; at 10 evenly spaced times: %s",
		t.Max, lo, hi, float64(sum)/float64(len(t.Samples)), below, len(t.Samples), strings.Trim(pts, "[]"))
}

// sampler samples the limiters of the providers it is attached to.
type sampler struct {
	mu         sync.Mutex
	apim, is   *transport.Limiter
	apimT, isT Trajectory
	stop       chan struct{}
	done       chan struct{}
}

func startSampler(every time.Duration) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tk.C:
				s.sample()
			}
		}
	}()
	return s
}

// attach makes the sampler follow p's limiters (each pass opens new ones).
func (s *sampler) attach(p *providers.Providers) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.APIM != nil {
		s.apim = p.APIM.Transport().Limiter()
		s.apimT.Max = s.apim.Max()
	}
	if p.IS != nil {
		s.is = p.IS.Transport().Limiter()
		s.isT.Max = s.is.Max()
	}
}

func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apim != nil {
		s.apimT.Samples = append(s.apimT.Samples, s.apim.Current())
	}
	if s.is != nil {
		s.isT.Samples = append(s.isT.Samples, s.is.Current())
	}
}

func (s *sampler) finish() (apim, is Trajectory) {
	close(s.stop)
	<-s.done
	s.sample() // the value at the end
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apimT, s.isT
}

// latencySpec is the simulator's base fault configuration (its latency).
func latencySpec(cfg Config) string {
	if cfg.Latency <= 0 {
		return "none"
	}
	return fmt.Sprintf("latency=%s", cfg.Latency)
}

// Run429 runs the 429 scenario for one size on a fresh simulator: apply
// from empty with the fault on (again while a pass fails, up to
// maxFaultedPasses), then the faults cleared and a no-op plan; then the
// simulator's objects are counted by natural key.
func Run429(ctx context.Context, size Size, cfg Config) (RateLimitResult, error) {
	r := RateLimitResult{Size: size.Name, Spec: cfg.Spec429}
	s, err := startSim(ctx, cfg, size.APIs)
	if err != nil {
		return r, err
	}
	defer s.Close()
	est, err := sim.DescribeEstate(size.EstateSize())
	if err != nil {
		return r, err
	}
	b := s.Builtins()
	r.Want = NaturalKeyCounts{Apps: size.Apps + b.Apps, Subscriptions: size.Subscriptions, Users: size.Users + b.Users}
	dir, err := os.MkdirTemp("", "wso2sync-bench-429-"+size.Name+"-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	envDir := filepath.Join(dir, "env")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return r, err
	}
	if err := WriteManifests(envDir, est, ManifestOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), Issuer: s.Issuer(),
		Recipient: id.Recipient().String()}); err != nil {
		return r, err
	}
	faults := cfg.Spec429
	if base := latencySpec(cfg); base != "none" {
		faults = base + "," + faults
	}
	if err := s.SetFaults(faults); err != nil {
		return r, err
	}
	if err := resetScenario(s); err != nil {
		return r, err
	}
	counter := &transport.Counter{}
	popts := providers.Options{Concurrency: cfg.ServerConcurrency, Timeout: 2 * time.Minute, Counter: counter}
	smp := startSampler(SampleEvery)
	start := time.Now()
	for r.Passes < maxFaultedPasses && !r.Converged {
		r.Passes++
		// The enforcing path (lock, journal, inventory, sealing), as
		// `wso2sync apply --mode enforce` runs it.
		if _, err := pass(ctx, envDir, passOptions{providers: popts, concurrency: cfg.applyConcurrency(), enforce: true,
			onOpen: smp.attach}); err != nil {
			r.PassErrors = append(r.PassErrors, fmt.Sprintf("pass %d: %s", r.Passes, firstLines(err.Error(), 3)))
			continue
		}
		// This pass applied its whole plan; the no-op plan below (faults
		// off) checks that nothing is left.
		r.Converged = true
	}
	r.Wall = time.Since(start)
	r.APIM, r.IS = smp.finish()
	m, err := observe(s, start)
	if err != nil {
		return r, err
	}
	r.Calls = m.calls
	st, err := s.Stats()
	if err != nil {
		return r, err
	}
	r.Injected429 = st.APIM.Faults.Status429 + st.IS.Faults.Status429
	cc := counter.Snapshot()
	r.RateLimited, r.Retries = cc.RateLimited, cc.Retries

	// Faults cleared: the plan must be empty.
	if err := s.SetFaults(latencySpec(cfg)); err != nil {
		return r, err
	}
	if err := resetScenario(s); err != nil {
		return r, err
	}
	start = time.Now()
	popts.Counter = nil
	tm, err := pass(ctx, envDir, passOptions{providers: popts, concurrency: cfg.applyConcurrency()})
	if err != nil {
		return r, fmt.Errorf("no-op plan after the 429 apply: %w", err)
	}
	mn, err := observe(s, start)
	if err != nil {
		return r, err
	}
	r.NoopChanges, r.NoopCalls, r.NoopSummary = tm.changes, mn.calls, tm.summary
	state, err := s.State()
	if err != nil {
		return r, err
	}
	r.Objects = CountNaturalKeys(state)
	return r, nil
}

// WriteRateLimit prints the results.
func WriteRateLimit(w io.Writer, rs []RateLimitResult) {
	for _, r := range rs {
		fmt.Fprintln(w, r.Lines())
	}
}

// Lines renders one result (Markdown list items, also readable as text).
func (r RateLimitResult) Lines() string {
	var b strings.Builder
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "**no**"
	}
	fmt.Fprintf(&b, "- **%s**, faults `%s`: wall %.2f s, %d calls, %d 429s received (simulator injected %d), %d retries, %d apply pass(es), converged %s\n",
		r.Size, r.Spec, r.Wall.Seconds(), r.Calls, r.RateLimited, r.Injected429, r.Retries, r.Passes, yes(r.Converged))
	for _, e := range r.PassErrors {
		fmt.Fprintf(&b, "  - %s\n", strings.ReplaceAll(e, "\n", " / "))
	}
	fmt.Fprintf(&b, "  - objects by natural key: %d applications (want %d, %d duplicates), %d subscriptions (want %d, %d duplicates), %d users (want %d, %d duplicates): no duplicates %s\n",
		r.Objects.Apps, r.Want.Apps, r.Objects.DupApps, r.Objects.Subscriptions, r.Want.Subscriptions, r.Objects.DupSubscriptions,
		r.Objects.Users, r.Want.Users, r.Objects.DupUsers, yes(r.NoDuplicates()))
	fmt.Fprintf(&b, "  - no-op plan afterwards (faults cleared): %d changes, %d calls: empty %s\n", r.NoopChanges, r.NoopCalls, yes(r.NoopChanges == 0))
	fmt.Fprintf(&b, "  - APIM limiter (every %s): %s\n", SampleEvery, r.APIM)
	fmt.Fprintf(&b, "  - IS limiter (every %s): %s", SampleEvery, r.IS)
	return b.String()
}

// UpdateRateLimitMarkdown replaces the 429 section of path.
func UpdateRateLimitMarkdown(path string, rs []RateLimitResult, cfg Config) error {
	var sec strings.Builder
	sec.WriteString(md429Begin + "\n")
	fmt.Fprintf(&sec, "Latest run: %s, latency %s per call, server concurrency cap %d (wso2sync's client limit set to the same).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cfg.Latency, cfg.ServerConcurrency)
	for _, r := range rs {
		sec.WriteString(r.Lines() + "\n")
	}
	fmt.Fprintf(&sec, "\nApply passes through the enforcing path (lock, journal, inventory, sealing). Load average at the start: %s; at the end: %s.\n",
		cfg.LoadAtStart, LoadAverage())
	sec.WriteString(md429End + "\n")
	return replaceSection(path, md429Begin, md429End, sec.String())
}
