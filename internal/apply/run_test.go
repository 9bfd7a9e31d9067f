package apply

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Creates and updates run level by level ascending, then deletes level by
// level descending, whatever order the steps come in.
func TestRunOrder(t *testing.T) {
	var r recorder
	steps := []Step{
		r.step(spec.KindSubscription, "sub", ActionCreate, nil),
		r.step(spec.KindUser, "old-user", ActionDelete, nil),
		r.step(spec.KindApplication, "app", ActionUpdate, nil),
		r.step(spec.KindCertificate, "old-cert", ActionDelete, nil),
		r.step(KindApplicationKey, "app/PRODUCTION/Resident Key Manager", ActionRotate, nil),
		r.step(spec.KindRole, "role", ActionCreate, nil),
		r.step(spec.KindSubscription, "old-sub", ActionDelete, nil),
		r.step(spec.KindTruststore, "ts", ActionUpdate, nil),
		r.step(spec.KindThrottlingPolicy, "old-tier", ActionDelete, nil),
		r.step(spec.KindKeyManager, "km", ActionReplace, nil),
		r.step(spec.KindUser, "alice", ActionCreate, nil),
	}
	res := Run(context.Background(), steps, RunOptions{Concurrency: 4})
	if res.ExitCode() != 0 || len(res.Applied) != len(steps) {
		t.Fatalf("want every step applied, got %s", res.Report())
	}
	got := r.order()
	// Rank each executed step: forward steps by level, deletes after all of
	// them by reverse level. The sequence must never go down.
	rank := func(x Ref) int {
		i := slices.IndexFunc(steps, func(s Step) bool { return s.Ref() == x })
		if steps[i].Action == ActionDelete {
			return 100 + MaxLevel() - Level(x.Kind)
		}
		return Level(x.Kind)
	}
	for i := 1; i < len(got); i++ {
		if rank(got[i]) < rank(got[i-1]) {
			t.Fatalf("%s ran after %s:\n%v", got[i], got[i-1], got)
		}
	}
}

func TestDeletesBottomUp(t *testing.T) {
	var r recorder
	steps := []Step{
		r.step(spec.KindCertificate, "c", ActionDelete, nil),
		r.step(spec.KindKeyManager, "km", ActionDelete, nil),
		r.step(spec.KindApplication, "app", ActionDelete, nil),
		r.step(KindApplicationKey, "app/SANDBOX/km", ActionDelete, nil),
		r.step(spec.KindSubscription, "sub", ActionDelete, nil),
	}
	Run(context.Background(), steps, RunOptions{Concurrency: 8})
	want := []Ref{
		ref(spec.KindSubscription, "sub"), ref(KindApplicationKey, "app/SANDBOX/km"),
		ref(spec.KindApplication, "app"), ref(spec.KindKeyManager, "km"), ref(spec.KindCertificate, "c"),
	}
	if got := r.order(); !slices.Equal(got, want) {
		t.Errorf("delete order\n got %v\nwant %v", got, want)
	}
}

// One step fails: its dependents (transitively) are not attempted, every
// independent step is applied, and the summary counts them right.
func TestPartialFailure(t *testing.T) {
	var r recorder
	km, appA := ref(spec.KindKeyManager, "km-a"), ref(spec.KindApplication, "app-a")
	steps := []Step{
		r.step(spec.KindKeyManager, "km-a", ActionCreate, errServer),
		r.step(spec.KindRole, "readers", ActionCreate, nil),
		r.step(spec.KindApplication, "app-a", ActionCreate, nil, km),
		r.step(spec.KindApplication, "app-b", ActionCreate, nil),
		r.step(spec.KindSubscription, "app-a:Pets 1.0", ActionCreate, nil, appA),
		r.step(spec.KindSubscription, "app-b:Pets 1.0", ActionCreate, nil, ref(spec.KindApplication, "app-b")),
	}
	var events []Event
	res := Run(context.Background(), steps, RunOptions{Progress: func(e Event) { events = append(events, e) }})

	if got, want := res.Summary(), "Apply complete: 3 applied, 1 failed, 2 not attempted."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if res.ExitCode() != 1 {
		t.Errorf("ExitCode() = %d, want 1", res.ExitCode())
	}
	wantApplied := []Ref{ref(spec.KindRole, "readers"), ref(spec.KindApplication, "app-b"), ref(spec.KindSubscription, "app-b:Pets 1.0")}
	if got := refs(res.Applied); !slices.Equal(got, wantApplied) {
		t.Errorf("applied = %v, want %v", got, wantApplied)
	}
	if len(res.Failed) != 1 || res.Failed[0].Ref != km || !errors.Is(res.Failed[0].Err, errServer) ||
		!strings.Contains(res.Failed[0].Message, "Key Manager already exists") {
		t.Errorf("failed = %+v, want km-a with the server's message", res.Failed)
	}
	wantSkipped := map[Ref]string{
		appA: "dependency KeyManager/km-a failed",
		ref(spec.KindSubscription, "app-a:Pets 1.0"): "dependency Application/app-a not attempted (KeyManager/km-a failed)",
	}
	for _, s := range res.NotAttempted {
		if want, ok := wantSkipped[s.Ref]; !ok || s.Message != want {
			t.Errorf("not attempted %s: %q, want %q", s.Ref, s.Message, want)
		}
		delete(wantSkipped, s.Ref)
	}
	if len(wantSkipped) > 0 {
		t.Errorf("missing from not attempted: %v", wantSkipped)
	}
	for _, x := range r.order() {
		if x == appA {
			t.Errorf("app-a ran although its key manager failed")
		}
	}
	// Every step ends in exactly one event; only the attempted ones start.
	ends, starts := map[Ref]int{}, 0
	for _, e := range events {
		if e.Type == EventStart {
			starts++
		} else {
			ends[e.Ref]++
		}
	}
	if starts != 4 || len(ends) != len(steps) {
		t.Errorf("events: %d starts (want 4), %d steps ended (want %d)", starts, len(ends), len(steps))
	}
	if rep := res.Report(); !strings.Contains(rep, "KeyManager/km-a (create): POST /key-managers") {
		t.Errorf("Report() lacks the failure:\n%s", rep)
	}
}

// Inside a wave, exactly Concurrency steps are in flight at once.
func TestConcurrencyBound(t *testing.T) {
	const bound, n = 3, 12
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a failsafe, not a synchronisation
	defer cancel()
	var inflight, peak, started atomic.Int32
	full := make(chan struct{})
	var steps []Step
	for i := range n {
		steps = append(steps, Step{Kind: spec.KindUser, Name: string(rune('a' + i)), Action: ActionCreate, Do: func(ctx context.Context) error {
			defer inflight.Add(-1)
			c := inflight.Add(1)
			for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
			}
			if started.Add(1) == bound {
				close(full)
			}
			select {
			case <-full: // the first `bound` steps wait until all of them run at once
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		}})
	}
	// The scheduler's own view, from its events: a step is in flight from
	// its start event to its end event. The first `bound` steps cannot end
	// before all of them started, so a scheduler that launched one too many
	// would show it here deterministically.
	var open, schedPeak int
	res := Run(ctx, steps, RunOptions{Concurrency: bound, Progress: func(e Event) {
		if e.Type == EventStart {
			open++
			schedPeak = max(schedPeak, open)
		} else {
			open--
		}
	}})
	if len(res.Applied) != n {
		t.Fatalf("%s", res.Report())
	}
	if peak.Load() != bound || schedPeak != bound {
		t.Errorf("peak concurrency %d (scheduler %d), want %d", peak.Load(), schedPeak, bound)
	}
}

// Cancelling stops new steps; the write in flight has an unknown outcome.
func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r recorder
	steps := []Step{
		{Kind: spec.KindRole, Name: "first", Action: ActionCreate, Do: func(ctx context.Context) error {
			cancel() // Ctrl-C while the write is in flight
			return ctx.Err()
		}},
		r.step(spec.KindRole, "second", ActionCreate, nil),
		r.step(spec.KindApplication, "app", ActionCreate, nil),
	}
	res := Run(ctx, steps, RunOptions{Concurrency: 1})
	if len(r.order()) != 0 {
		t.Errorf("steps ran after cancel: %v", r.order())
	}
	if !res.Interrupted || len(res.Failed) != 1 || !res.Failed[0].Unknown || len(res.NotAttempted) != 2 {
		t.Fatalf("got %s", res.Report())
	}
	want := "Apply interrupted: 0 applied, 1 failed, 2 not attempted. 1 interrupted write has an unknown outcome; the next run resolves it."
	if res.Summary() != want {
		t.Errorf("Summary() = %q, want %q", res.Summary(), want)
	}
}

// Explicit dependencies are honoured even against the levels' grain: a
// step moves to a later wave of its phase.
func TestDependencyMovesStepLater(t *testing.T) {
	var r recorder
	tier := ref(spec.KindThrottlingPolicy, "Platinum")
	steps := []Step{
		// A client certificate names a subscription tier.
		r.step(spec.KindCertificate, "partner", ActionCreate, nil, tier),
		r.step(spec.KindRole, "b", ActionCreate, nil, ref(spec.KindRole, "a")),
		r.step(spec.KindThrottlingPolicy, "Platinum", ActionCreate, nil),
		r.step(spec.KindRole, "a", ActionCreate, nil),
	}
	Run(context.Background(), steps, RunOptions{Concurrency: 8})
	got := r.order()
	before := func(a, b Ref) bool { return slices.Index(got, a) < slices.Index(got, b) }
	if !before(tier, ref(spec.KindCertificate, "partner")) || !before(ref(spec.KindRole, "a"), ref(spec.KindRole, "b")) {
		t.Errorf("dependencies not honoured: %v", got)
	}
}

// Plan bugs fail the step (and so its dependents) rather than run it.
func TestInvalidSteps(t *testing.T) {
	var r recorder
	steps := []Step{
		r.step(spec.KindApplication, "DefaultApplication", ActionDelete, nil),
		r.step(spec.KindRole, "x", ActionCreate, nil, ref(spec.KindRole, "y")),
		r.step(spec.KindRole, "y", ActionCreate, nil, ref(spec.KindRole, "x")),
		r.step(spec.KindUser, "bob", ActionCreate, nil, ref(spec.KindRole, "gone")),
		r.step(spec.KindRole, "gone", ActionDelete, nil),
		{Kind: spec.KindEnvironment, Name: "dev", Action: ActionUpdate, Do: func(context.Context) error { return nil }},
		{Kind: spec.KindRole, Name: "nothing", Action: ActionCreate},
	}
	res := Run(context.Background(), steps, RunOptions{})
	if len(r.order()) != 1 || r.order()[0] != ref(spec.KindRole, "gone") {
		t.Errorf("ran %v, want only the delete of Role/gone", r.order())
	}
	msgs := map[Ref]string{}
	for _, s := range append(res.Failed, res.NotAttempted...) {
		msgs[s.Ref] = s.Message
	}
	for r, want := range map[Ref]string{
		ref(spec.KindApplication, "DefaultApplication"): "never deletes built-in objects",
		ref(spec.KindRole, "y"):                         "dependency cycle",
		ref(spec.KindRole, "x"):                         "dependency Role/y failed",
		ref(spec.KindUser, "bob"):                       "deleted after this step runs",
		ref(spec.KindEnvironment, "dev"):                "no apply level",
		ref(spec.KindRole, "nothing"):                   "nothing to do",
	} {
		if !strings.Contains(msgs[r], want) {
			t.Errorf("%s: %q, want it to mention %q", r, msgs[r], want)
		}
	}
}

// The journal brackets every write and the inventory follows creates and
// deletes; a clean run ends, leaving nothing to recover.
func TestRunJournalsAndOwns(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	inv.Add(ref(spec.KindRole, "old"), "")
	var r recorder
	res := Run(context.Background(), []Step{
		r.step(spec.KindRole, "new", ActionCreate, nil),
		r.step(spec.KindRole, "old", ActionDelete, nil),
		r.step(spec.KindRole, "broken", ActionCreate, errServer),
	}, RunOptions{Journal: j, Inventory: inv})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	lines := readJournal(t, dir)
	var phases []string
	for _, e := range lines {
		phases = append(phases, e.Name+":"+string(e.Phase))
	}
	for _, want := range []string{"new:intent", "new:done", "old:intent", "old:done", "broken:intent", "broken:failed", ":end"} {
		if !slices.Contains(phases, want) {
			t.Errorf("journal lacks %s: %v", want, phases)
		}
	}
	if i, k := slices.Index(phases, "new:intent"), slices.Index(phases, "new:done"); i > k {
		t.Errorf("result before intent: %v", phases)
	}
	if e := lines[slices.Index(phases, "broken:failed")]; !strings.Contains(e.Error, "409 Conflict") {
		t.Errorf("failure line lacks the server message: %+v", e)
	}

	again, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Owned(ref(spec.KindRole, "new")) || again.Owned(ref(spec.KindRole, "old")) || again.Owned(ref(spec.KindRole, "broken")) {
		t.Errorf("inventory after the run: %+v", again.Objects())
	}
	j2, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if p, i := j2.Recover(), j2.Interrupted(); len(p) != 0 || len(i) != 0 {
		t.Errorf("a clean run left pending %v, interrupted %v", p, i)
	}
}

// A run without writes leaves no trace in the journal.
func TestRunWithoutWritesLeavesNoLines(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	Run(context.Background(), nil, RunOptions{Journal: j})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := readJournal(t, dir); len(lines) != 0 {
		t.Errorf("journal has %d lines, want none", len(lines))
	}
}

// Only the scheduler goroutine calls Progress (the race detector checks).
func TestProgressIsSerial(t *testing.T) {
	var steps []Step
	var r recorder
	for i := range 50 {
		steps = append(steps, r.step(spec.KindUser, string(rune('A'+i)), ActionCreate, nil))
	}
	count := 0 // unsynchronised on purpose: -race fails if Progress runs concurrently
	last := map[Ref]EventType{}
	Run(context.Background(), steps, RunOptions{Concurrency: 8, Progress: func(e Event) {
		if prev, ok := last[e.Ref]; ok && (prev != EventStart || e.Type == EventStart) {
			t.Errorf("%s: %s after %s", e.Ref, e.Type, prev)
		}
		last[e.Ref] = e.Type
		count++
	}})
	if count != 100 {
		t.Errorf("%d events, want 100", count)
	}
}
