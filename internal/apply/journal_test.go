package apply

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func readJournal(t *testing.T, dir string) []Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// crashedJournal is what a run killed mid-apply leaves: intents with and
// without results, a write interrupted by cancellation, and a last line
// torn by the crash.
const crashedJournal = `{"ts":"2026-01-02T10:00:00Z","run":"r1","seq":1,"kind":"Role","name":"readers","action":"create","phase":"intent"}
{"ts":"2026-01-02T10:00:01Z","run":"r1","seq":1,"kind":"Role","name":"readers","action":"create","phase":"done"}
{"ts":"2026-01-02T10:00:02Z","run":"r1","seq":2,"kind":"Application","name":"app-a","action":"create","phase":"intent"}
{"ts":"2026-01-02T10:00:02Z","run":"r1","seq":3,"kind":"Application","name":"app-b","action":"update","phase":"intent"}
{"ts":"2026-01-02T10:00:03Z","run":"r1","seq":3,"kind":"Application","name":"app-b","action":"update","phase":"unknown","error":"context canceled"}
{"ts":"2026-01-02T10:00:02Z","run":"r1","seq":4,"kind":"User","name":"bob","action":"delete","phase":"intent"}
{"ts":"2026-01-02T10:00:03Z","run":"r1","seq":4,"kind":"User","name":"bob","action":"delete","phase":"failed","error":"DELETE /Users/{id}: 500"}
{"ts":"2026-01-02T10:00:04Z","run":"r1","seq":5,"kind":"Subscription","name":"app-a:Pets 1.0","action":"create","phase":"intent"}
{"ts":"2026-01-02T10:00:04Z","run":"r1","seq":5,"kind":"Subscr`

func writeCrashed(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(crashedJournal), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRecoverReportsUnknownOutcomes(t *testing.T) {
	dir := writeCrashed(t)
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Skipped() != 1 {
		t.Errorf("Skipped() = %d, want 1 (the torn line)", j.Skipped())
	}
	var got []string
	for _, p := range j.Recover() {
		got = append(got, string(p.Action)+" "+p.Ref.String())
	}
	want := []string{"create Application/app-a", "update Application/app-b", "create Subscription/app-a:Pets 1.0"}
	if !slices.Equal(got, want) {
		t.Errorf("Recover() = %v, want %v", got, want)
	}
	runs := j.Interrupted()
	if len(runs) != 1 || runs[0].Run != "r1" || runs[0].Applied != 1 || runs[0].Failed != 1 || runs[0].Unknown != 3 {
		t.Errorf("Interrupted() = %+v", runs)
	}
	if s := runs[0].String(); !strings.Contains(s, "1 applied, 1 failed, 3 with unknown outcome") {
		t.Errorf("report %q", s)
	}

	// Lines appended after the torn one are readable.
	if _, err := j.intent(ref(spec.KindRole, "x"), Identity{}, ActionCreate); err != nil {
		t.Fatal(err)
	}
	if lines := readJournalLenient(t, dir); lines[len(lines)-1].Name != "x" {
		t.Errorf("the new line was glued to the torn one: %+v", lines[len(lines)-1])
	}
}

// readJournalLenient skips unreadable lines (the torn one).
func readJournalLenient(t *testing.T, dir string) []Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, l := range bytes.Split(b, []byte("\n")) {
		var e Entry
		if json.Unmarshal(l, &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// The resolver looks the unknown writes up: a create that landed is owned
// and done (so it is not created twice), one that did not is failed, an
// update is left to the plan; the landed writes of the crashed run reach
// the inventory, and the next run finds nothing left to recover.
func TestResolveConverges(t *testing.T) {
	dir := writeCrashed(t)
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	rec, err := Resolve(context.Background(), j, inv, func(_ context.Context, p Pending) (Outcome, error) {
		asked = append(asked, p.Ref.String())
		switch p.Ref.Name {
		case "app-a":
			return OutcomeLanded, nil
		case "app-a:Pets 1.0":
			return OutcomeNotLanded, nil
		}
		return OutcomeUnknown, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 3 || rec.Replayed != 1 || len(rec.Resolved) != 3 || len(rec.Interrupted) != 1 {
		t.Errorf("asked %v; recovery %+v", asked, rec)
	}
	if !strings.Contains(rec.Report(), "create Application/app-a, interrupted: took effect") {
		t.Errorf("Report():\n%s", rec.Report())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	saved, err := LoadInventory(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range map[Ref]bool{
		ref(spec.KindRole, "readers"):                true,  // done before the crash
		ref(spec.KindApplication, "app-a"):           true,  // found by lookup
		ref(spec.KindSubscription, "app-a:Pets 1.0"): false, // did not land
		ref(spec.KindApplication, "app-b"):           false, // an update creates nothing
		ref(spec.KindUser, "bob"):                    false,
	} {
		if saved.Owned(r) != want {
			t.Errorf("Owned(%s) = %v, want %v", r, !want, want)
		}
	}

	next, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if p, i := next.Recover(), next.Interrupted(); len(p) != 0 || len(i) != 0 {
		t.Errorf("after Resolve: pending %v, interrupted %v", p, i)
	}
}

// A lookup that fails refuses the apply and leaves the writes pending.
func TestResolveLookupFails(t *testing.T) {
	dir := writeCrashed(t)
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("dial tcp: connection refused")
	_, err = Resolve(context.Background(), j, nil, func(_ context.Context, p Pending) (Outcome, error) {
		if p.Action == ActionCreate {
			return OutcomeUnknown, down
		}
		return OutcomeUnknown, nil
	})
	var ae *Error
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "cannot tell whether 2 writes") || ae.Hint == "" {
		t.Fatalf("err = %v", err)
	}
	j.Close()
	again, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := len(again.Recover()); n != 2 {
		t.Errorf("%d writes pending after a failed lookup, want 2", n)
	}
	if n := len(again.Interrupted()); n != 1 {
		t.Errorf("the crashed run was closed although its writes are unresolved")
	}
}

// A process killed between intent and result leaves a pending write.
func TestKilledMidWriteIsPending(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	never, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(never); <-done })
	go func() {
		defer close(done)
		Run(context.Background(), []Step{{Kind: spec.KindApplication, Name: "a", Action: ActionCreate, Do: func(context.Context) error {
			close(started)
			<-never // the process dies here
			return nil
		}}}, RunOptions{Journal: j})
	}()
	<-started

	// The next process reads the file as the dead one left it.
	next, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	p := next.Recover()
	if len(p) != 1 || p[0].Ref != ref(spec.KindApplication, "a") || p[0].Action != ActionCreate || p[0].Run != j.Run() {
		t.Errorf("Recover() = %v", p)
	}
}

// Compaction keeps the last runs and any run still needed.
func TestJournalCompaction(t *testing.T) {
	dir := t.TempDir()
	// A crashed run, then five clean ones.
	if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(strings.SplitAfter(crashedJournal, "\n")[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	var runs []string
	for i := range 5 {
		j, err := OpenJournal(dir, JournalOptions{KeepRuns: 2})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, j.Run())
		var r recorder
		Run(context.Background(), []Step{r.step(spec.KindRole, string(rune('a'+i)), ActionUpdate, nil)}, RunOptions{Journal: j})
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, e := range readJournal(t, dir) {
		seen[e.Run] = true
	}
	want := map[string]bool{"r1": true, runs[3]: true, runs[4]: true}
	if len(seen) != len(want) {
		t.Errorf("runs kept: %v, want %v", seen, want)
	}
	for r := range want {
		if !seen[r] {
			t.Errorf("run %s was dropped", r)
		}
	}
}

// Journal lines hold identities and outcomes, nothing else.
func TestJournalFields(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	Run(context.Background(), []Step{r.step(spec.KindUser, "alice", ActionCreate, errServer)}, RunOptions{Journal: j})
	j.Close()
	b, _ := os.ReadFile(filepath.Join(dir, JournalFile))
	allowed := []string{"ts", "run", "seq", "kind", "name", "action", "phase", "error", "by"}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			if !slices.Contains(allowed, k) {
				t.Errorf("journal line has field %q: %s", k, l)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, JournalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode: %v %v", fi, err)
	}
}

// TestJournalGroupCommit: lines written by concurrent steps are all on
// disk when their writes return, and they share fsyncs rather than
// taking one each in turn.
func TestJournalGroupCommit(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 32
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ref(spec.KindApplication, fmt.Sprintf("app-%02d", i))
			seq, err := j.intent(r, Identity{}, ActionCreate)
			if err == nil {
				err = j.result(seq, r, ActionCreate, PhaseDone, nil)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := j.Stats()
	j.syncMu.Lock()
	synced := j.synced
	j.syncMu.Unlock()
	if st.Lines != 2*writers || synced != st.Lines {
		t.Errorf("%d lines written, %d synced; want %d both", st.Lines, synced, 2*writers)
	}
	if st.Syncs < 1 || st.Syncs > st.Lines {
		t.Errorf("%d fsyncs for %d lines", st.Syncs, st.Lines)
	}
	t.Logf("%d lines, %d fsyncs", st.Lines, st.Syncs)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenJournal(dir, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := len(again.entries); n != 2*writers {
		t.Errorf("reopened journal holds %d lines, want %d", n, 2*writers)
	}
}
