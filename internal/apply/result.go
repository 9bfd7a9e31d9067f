package apply

import (
	"fmt"
	"strings"
	"time"
)

// Status is how a step ended.
type Status string

const (
	StatusApplied      Status = "applied"
	StatusFailed       Status = "failed"
	StatusNotAttempted Status = "not attempted"
	// StatusBlocked: a delete the server would refuse, never attempted.
	StatusBlocked Status = "blocked"
)

// StepResult is the outcome of one step.
type StepResult struct {
	Ref    Ref
	Action Action
	Status Status
	// Err is the error of a failed step (nil otherwise).
	Err error
	// Message is the server's message for a failed step, and the reason for
	// a step that was not attempted.
	Message string
	// Unknown is set for a write interrupted by cancellation: it may or may
	// not have landed; the journal keeps it pending and the next run
	// resolves it.
	Unknown  bool
	Duration time.Duration

	index int // position in the steps given to Run, for a stable order
}

// Result is the outcome of a Run. Each list is in the order the steps were
// given.
type Result struct {
	Applied, Failed, NotAttempted []StepResult
	// Blocked are the deletes the plan's pre-flight found the server would
	// refuse; none was attempted.
	Blocked []StepResult
	// Interrupted is set when the context was canceled before every step
	// was attempted.
	Interrupted bool
	// Err is a bookkeeping failure (journal or inventory) that may leave the
	// state dir behind the estate; the next run's recovery catches up.
	Err error
}

// unknown counts the interrupted writes.
func (r *Result) unknown() int {
	n := 0
	for _, f := range r.Failed {
		if f.Unknown {
			n++
		}
	}
	return n
}

// Summary is the last line of an apply, e.g.
// "Apply complete: 12 applied, 1 failed, 3 not attempted."
func (r *Result) Summary() string {
	verb := "complete"
	if r.Interrupted {
		verb = "interrupted"
	}
	s := fmt.Sprintf("Apply %s: %d applied, %d failed, %d not attempted.", verb, len(r.Applied), len(r.Failed), len(r.NotAttempted))
	if n := len(r.Blocked); n > 0 {
		s = fmt.Sprintf("Apply %s: %d applied, %d failed, %d not attempted, %d blocked.", verb, len(r.Applied), len(r.Failed), len(r.NotAttempted), n)
	}
	switch n := r.unknown(); n {
	case 0:
	case 1:
		s += " 1 interrupted write has an unknown outcome; the next run resolves it."
	default:
		s += fmt.Sprintf(" %d interrupted writes have an unknown outcome; the next run resolves them.", n)
	}
	return s
}

// Report lists every failed and not attempted step with its message, then
// the summary.
func (r *Result) Report() string {
	var b strings.Builder
	section := func(title string, rs []StepResult) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, s := range rs {
			fmt.Fprintf(&b, "  %s (%s): %s\n", s.Ref, s.Action, s.Message)
		}
	}
	section("Blocked (not attempted: the server would refuse)", r.Blocked)
	section("Failed", r.Failed)
	section("Not attempted", r.NotAttempted)
	if r.Err != nil {
		fmt.Fprintf(&b, "State: %v\n", r.Err)
	}
	b.WriteString(r.Summary())
	return b.String()
}

// ExitCode is 0 when every step was applied and 1 otherwise: a failure, a
// step left out because of one, an interruption or a bookkeeping error.
func (r *Result) ExitCode() int {
	if len(r.Failed) > 0 || len(r.NotAttempted) > 0 || len(r.Blocked) > 0 || r.Err != nil {
		return 1
	}
	return 0
}
