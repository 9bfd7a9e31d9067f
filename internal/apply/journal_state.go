package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/renameio/v2/maybe"
)

// Pending is a write of an earlier run whose intent is on disk but whose
// result is not: the process died (or was interrupted) while it was in
// flight, so it may or may not have landed.
type Pending struct {
	Run    string
	Seq    int64
	Time   time.Time // when the intent was written
	Ref    Ref
	Action Action
	// Identity is the write's effect on the inventory, as its intent said.
	Identity Identity
}

func (p Pending) String() string {
	return fmt.Sprintf("%s %s (run %s, %s)", p.Action, p.Ref, p.Run, p.Time.Format(time.RFC3339))
}

// RunReport sums up an earlier run that did not end.
type RunReport struct {
	Run     string
	Started time.Time
	// Applied and Failed count the writes with a result; Unknown those
	// without one.
	Applied, Failed, Unknown int
}

func (r RunReport) String() string {
	return fmt.Sprintf("run %s (started %s) did not finish: %d applied, %d failed, %d with unknown outcome",
		r.Run, r.Started.Format(time.RFC3339), r.Applied, r.Failed, r.Unknown)
}

// runState is what the journal says about one run.
type runState struct {
	id      string
	started time.Time
	ended   bool
	intents []Entry
	results map[int64]Phase // the last conclusive result of each write
}

// pending lists the run's intents without a conclusive result.
func (r *runState) pending() []Entry {
	var out []Entry
	for _, e := range r.intents {
		if _, ok := r.results[e.Seq]; !ok {
			out = append(out, e)
		}
	}
	return out
}

// runs folds the entries into runs, in order of first appearance. Callers
// hold j.mu.
func (j *Journal) runs() []*runState {
	var out []*runState
	by := map[string]*runState{}
	for _, e := range j.entries {
		r := by[e.Run]
		if r == nil {
			r = &runState{id: e.Run, started: e.Time, results: map[int64]Phase{}}
			by[e.Run] = r
			out = append(out, r)
		}
		switch e.Phase {
		case PhaseIntent:
			r.intents = append(r.intents, e)
		case PhaseDone, PhaseFailed, PhaseSettled:
			r.results[e.Seq] = e.Phase
		case PhaseEnd:
			r.ended = true
		}
	}
	return out
}

// Recover returns the writes of earlier runs whose outcome is unknown, in
// the order they were sent. Resolve settles them.
func (j *Journal) Recover() []Pending {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Pending
	for _, r := range j.runs() {
		if r.id == j.run {
			continue
		}
		for _, e := range r.pending() {
			out = append(out, Pending{Run: e.Run, Seq: e.Seq, Time: e.Time, Ref: e.Ref(), Action: e.Action, Identity: e.Identity})
		}
	}
	return out
}

// Interrupted reports the earlier runs that did not end (killed, crashed,
// or unable to save the inventory), so the next run can say what happened.
func (j *Journal) Interrupted() []RunReport {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []RunReport
	for _, r := range j.runs() {
		if r.id == j.run || r.ended {
			continue
		}
		rep := RunReport{Run: r.id, Started: r.started}
		for _, e := range r.intents {
			switch r.results[e.Seq] {
			case PhaseDone:
				rep.Applied++
			case PhaseFailed:
				rep.Failed++
			default:
				rep.Unknown++
			}
		}
		out = append(out, rep)
	}
	return out
}

// landed returns the intents of earlier, unended runs that are known to
// have landed: their effect on the inventory may not have been saved.
func (j *Journal) landed() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	for _, r := range j.runs() {
		if r.id == j.run || r.ended {
			continue
		}
		for _, e := range r.intents {
			if r.results[e.Seq] == PhaseDone {
				out = append(out, e)
			}
		}
	}
	return out
}

// compact rewrites the journal keeping every run that is still needed (not
// ended, or with a write of unknown outcome) and the last keep ended runs
// for the record; older runs are dropped, as are unreadable lines. The file
// is replaced atomically, so a crash leaves either the old or the new one.
// Callers hold j.mu with the file closed.
func (j *Journal) compact() error {
	runs := j.runs()
	keep := map[string]bool{}
	ended := 0
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		switch {
		case !r.ended || len(r.pending()) > 0:
			keep[r.id] = true
		case ended < j.keep:
			keep[r.id] = true
			ended++
		}
	}
	if len(keep) == len(runs) && j.skipped == 0 {
		return nil
	}
	var buf bytes.Buffer
	var kept []Entry
	for _, e := range j.entries {
		if !keep[e.Run] {
			continue
		}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		kept = append(kept, e)
	}
	if err := maybe.WriteFile(j.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("journal: compacting %s: %w", j.path, err)
	}
	j.entries, j.skipped = kept, 0
	return nil
}
