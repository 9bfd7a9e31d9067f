package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Outcome is what a resolver found about a pending write.
type Outcome int

const (
	// OutcomeUnknown: the resolver cannot tell and it does not matter (an
	// update or rotate: the next plan compares with the live state anyway).
	OutcomeUnknown Outcome = iota
	// OutcomeLanded: the write took effect (a create: the object exists,
	// found by its natural key; a delete: it is gone).
	OutcomeLanded
	// OutcomeNotLanded: the write did not take effect.
	OutcomeNotLanded
)

func (o Outcome) String() string {
	switch o {
	case OutcomeLanded:
		return "took effect"
	case OutcomeNotLanded:
		return "did not take effect"
	}
	return "unknown"
}

// Resolver finds out whether a pending write landed, typically by looking
// the object up by its natural key (kind and name) on the server. An error
// means it could not look (server unreachable).
type Resolver func(ctx context.Context, p Pending) (Outcome, error)

// Resolution is a pending write and what the resolver found.
type Resolution struct {
	Pending
	Outcome Outcome
}

// Recovery is what Resolve found and did.
type Recovery struct {
	// Interrupted are earlier runs that did not end.
	Interrupted []RunReport
	// Resolved are the writes of unknown outcome, resolved.
	Resolved []Resolution
	// Replayed counts landed writes of interrupted runs folded into the
	// inventory.
	Replayed int
}

// Empty reports whether there was nothing to recover.
func (r *Recovery) Empty() bool { return len(r.Interrupted) == 0 && len(r.Resolved) == 0 }

// Report says what happened to the earlier runs, one line each, for the
// user (empty when there was nothing to recover).
func (r *Recovery) Report() string {
	var b strings.Builder
	for _, run := range r.Interrupted {
		b.WriteString(run.String())
		b.WriteByte('\n')
	}
	for _, res := range r.Resolved {
		fmt.Fprintf(&b, "  %s %s, interrupted: %s\n", res.Action, res.Ref, res.Outcome)
	}
	return b.String()
}

// Resolve settles what earlier runs left behind, before this run plans:
//
//  1. writes known to have landed in runs that did not end are folded into
//     the inventory (it is saved per wave, so the last wave's may be
//     missing);
//  2. each write of unknown outcome goes to resolve; a create found by its
//     natural key is recorded as done and owned, so the plan (which reads
//     the live state afterwards) sees it and does not create it twice;
//  3. the inventory is saved and the earlier runs are closed in the
//     journal.
//
// If the resolver cannot look (an error) for any write, Resolve returns an
// *Error and the caller must not apply: creating again could duplicate an
// object that did land. Everything else is already recorded, so running
// again picks up where this stopped.
func Resolve(ctx context.Context, j *Journal, inv *Inventory, resolve Resolver) (*Recovery, error) {
	rec := &Recovery{Interrupted: j.Interrupted()}
	pending := j.Recover()
	if rec.Empty() && len(pending) == 0 {
		return rec, nil
	}
	for _, e := range j.landed() {
		if inv != nil {
			noteInventory(inv, e.Ref(), e.Identity, e.Action)
		}
		rec.Replayed++
	}
	var failed []string
	var errs []error
	for _, p := range pending {
		out, err := OutcomeUnknown, error(nil)
		switch {
		case resolve == nil:
			err = errors.New("no resolver")
		case ctx.Err() != nil:
			err = ctx.Err()
		default:
			out, err = resolve(ctx, p)
		}
		if err != nil {
			failed = append(failed, p.Ref.String())
			errs = append(errs, fmt.Errorf("%s %s: %w", p.Action, p.Ref, err))
			continue
		}
		ph, msg := PhaseSettled, "outcome unknown; left to the next plan"
		switch out {
		case OutcomeLanded:
			ph, msg = PhaseDone, ""
		case OutcomeNotLanded:
			ph, msg = PhaseFailed, "did not take effect (found by lookup after an interruption)"
		}
		if err := j.settle(p, ph, msg); err != nil {
			return rec, err
		}
		if out == OutcomeLanded && inv != nil {
			noteInventory(inv, p.Ref, p.Identity, p.Action)
		}
		rec.Resolved = append(rec.Resolved, Resolution{Pending: p, Outcome: out})
	}
	if inv != nil {
		if err := inv.Save(); err != nil {
			return rec, err
		}
	}
	if len(failed) > 0 {
		return rec, &Error{
			Message: fmt.Sprintf("cannot tell whether %d %s of an interrupted run took effect (%s): %v",
				len(failed), plural(len(failed), "write", "writes"), strings.Join(failed, ", "), errors.Join(errs...)),
			Hint: "nothing was applied; check that the servers are reachable and run again",
		}
	}
	for _, run := range rec.Interrupted {
		if err := j.endEarlier(run.Run); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
