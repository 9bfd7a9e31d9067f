package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultConcurrency bounds the steps in flight inside one wave. It is
// separate from the transport's per-server limiter, which every HTTP call
// of a step also passes (and which backs off on 429): this bound keeps a
// wave of 20,000 users from starting 20,000 goroutines' worth of requests
// at once; the limiter keeps the servers healthy.
const DefaultConcurrency = 8

// RunOptions configure Run.
type RunOptions struct {
	// Concurrency bounds the steps in flight (DefaultConcurrency if < 1).
	Concurrency int
	// Journal, when set, records each write's intent before it and its
	// result after it.
	Journal *Journal
	// Inventory, when set, records the objects the run creates and forgets
	// the ones it deletes; it is saved after each wave.
	Inventory *Inventory
	// Progress, when set, is called for each step as it starts and ends.
	// Calls come from one goroutine, in order, so it needs no locking.
	Progress func(Event)
}

// EventType says what happened to a step.
type EventType string

const (
	EventStart   EventType = "start"
	EventApplied EventType = "applied"
	EventFailed  EventType = "failed"
	EventSkipped EventType = "not attempted"
	EventBlocked EventType = "blocked"
)

// Event reports progress of one step.
type Event struct {
	Type    EventType
	Ref     Ref
	Action  Action
	Message string // the failure's message or the reason for skipping
	Elapsed time.Duration
}

// node is a step being scheduled.
type node struct {
	index int
	step  *Step
	ref   Ref
	phase int // 0: creates, updates, replaces; 1: deletes
	wave  int // inside the phase; waves run one after the other
	deps  []*node
	// invalid is set for a step that cannot run at all (a plan bug).
	invalid string
	visit   int // 0 new, 1 on the DFS stack, 2 done
	res     StepResult
	done    bool
	// cause is the failed step a not-attempted step is waiting on.
	cause *node
	fatal bool // a journal write failed: stop launching
}

// Run applies the steps and reports what happened to each.
//
// Order: first every create, update, replace and rotate, level by level
// ascending (Level), then every delete, level by level descending. Applying
// before pruning is what Flux and Argo CD do, and it is what WSO2 needs:
// APIM refuses to delete a throttling policy or key manager that an
// application still uses, and it is the update of that application (in the
// first phase) that stops using it. The other order would only help when a
// deleted object frees a server-side name a created one needs, which cannot
// happen for objects identified by kind and name (the same name is an
// update or a replace). A replace is one step, delete then create, at its
// level in the first phase, so its dependents (at higher levels) follow it.
//
// A dependency on another step of the run pushes a step into a later wave
// of its phase when needed, so explicit edges are always honoured; a
// create that depends on a delete, or a cycle, fails the step as a plan
// bug. Inside a wave, steps run concurrently up to the bound. When a step
// fails, the steps that depend on it (transitively) are not attempted;
// every other step goes on. When ctx is canceled, no new step starts, the
// rest are not attempted, and writes in flight end with an unknown outcome
// that the journal keeps for the next run to resolve.
func Run(ctx context.Context, steps []Step, opts RunOptions) *Result {
	e := &executor{opts: opts, res: &Result{}}
	if e.opts.Concurrency < 1 {
		e.opts.Concurrency = DefaultConcurrency
	}
	nodes := plan(steps)
	for _, wave := range waves(nodes) {
		e.runWave(ctx, wave)
		e.saveInventory()
	}
	e.finish()
	return e.res
}

// plan builds the nodes and their waves.
func plan(steps []Step) []*node {
	nodes := make([]*node, len(steps))
	byRef := map[Ref][]*node{}
	for i := range steps {
		s := &steps[i]
		n := &node{index: i, step: s, ref: s.Ref()}
		if s.Action.isDelete() || s.Blocked != "" {
			n.phase = 1
		}
		switch l := Level(s.Kind); {
		case l < 0:
			n.invalid = fmt.Sprintf("internal error: kind %s has no apply level", s.Kind)
		case s.Do == nil:
			n.invalid = "internal error: the step has nothing to do"
		case n.phase == 1 && Protected(n.ref):
			n.invalid = fmt.Sprintf("refusing to delete %s: it is built in, and wso2sync never deletes built-in objects", n.ref)
		case n.phase == 1:
			n.wave = MaxLevel() - l
		default:
			n.wave = l
		}
		nodes[i] = n
		byRef[n.ref] = append(byRef[n.ref], n)
	}
	for _, n := range nodes {
		for _, r := range n.step.DependsOn {
			for _, d := range byRef[r] {
				if d == n {
					continue
				}
				if d.phase > n.phase {
					n.invalid = fmt.Sprintf("internal error: depends on %s, which is deleted after this step runs", d.ref)
					continue
				}
				n.deps = append(n.deps, d)
			}
		}
	}
	for _, n := range nodes {
		place(n)
	}
	return nodes
}

// place moves n past every dependency of its own phase (depth first,
// memoised) and marks the step that closes a cycle as invalid.
func place(n *node) {
	if n.visit == 2 {
		return
	}
	n.visit = 1
	for _, d := range n.deps {
		if d.phase != n.phase {
			continue
		}
		if d.visit == 1 {
			n.invalid = fmt.Sprintf("internal error: dependency cycle: %s depends on %s, which depends on it", n.ref, d.ref)
			continue
		}
		place(d)
		n.wave = max(n.wave, d.wave+1)
	}
	n.visit = 2
}

// waves groups nodes by (phase, wave), each group in step order.
func waves(nodes []*node) [][]*node {
	sorted := slices.Clone(nodes)
	slices.SortStableFunc(sorted, func(a, b *node) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), cmp.Compare(a.wave, b.wave))
	})
	var out [][]*node
	for i, n := range sorted {
		if i == 0 || n.phase != sorted[i-1].phase || n.wave != sorted[i-1].wave {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], n)
	}
	return out
}

type executor struct {
	opts RunOptions
	res  *Result
	// stop, once set, is why no further step starts (a journal failure).
	stop     string
	invDirty bool
}

// runWave runs the steps of one wave with at most Concurrency in flight.
// Only this goroutine touches results and emits events; workers only run
// the write and its journal lines.
func (e *executor) runWave(ctx context.Context, wave []*node) {
	results := make(chan *node, len(wave))
	running := 0
	queue := wave
	for len(queue) > 0 || running > 0 {
		for len(queue) > 0 && running < e.opts.Concurrency {
			n := queue[0]
			queue = queue[1:]
			if !e.launchable(ctx, n) {
				continue
			}
			running++
			e.emit(Event{Type: EventStart, Ref: n.ref, Action: n.step.Action})
			go func() {
				e.exec(ctx, n)
				results <- n
			}()
		}
		if running == 0 {
			continue
		}
		n := <-results
		running--
		e.record(n)
	}
}

// launchable settles a step that must not run (and reports false).
func (e *executor) launchable(ctx context.Context, n *node) bool {
	switch {
	case n.step.Blocked != "":
		n.res = StepResult{Status: StatusBlocked, Message: n.step.Blocked}
	case n.invalid != "":
		n.res = StepResult{Status: StatusFailed, Err: errors.New(n.invalid), Message: n.invalid}
	case ctx.Err() != nil:
		e.res.Interrupted = true
		n.res = StepResult{Status: StatusNotAttempted, Message: "the apply was interrupted before this step"}
	case e.stop != "":
		n.res = StepResult{Status: StatusNotAttempted, Message: e.stop}
	default:
		for _, d := range n.deps {
			if d.res.Status == StatusApplied {
				continue
			}
			n.cause = d
			if d.cause != nil {
				n.cause = d.cause
			}
			msg := fmt.Sprintf("dependency %s failed", n.cause.ref)
			if n.cause != d {
				msg = fmt.Sprintf("dependency %s not attempted (%s failed)", d.ref, n.cause.ref)
			}
			n.res = StepResult{Status: StatusNotAttempted, Message: msg}
			break
		}
		if n.cause == nil {
			return true
		}
	}
	e.record(n)
	return false
}

// exec performs one write between its journal lines. It runs on a worker
// goroutine and only writes n.res and n.fatal.
func (e *executor) exec(ctx context.Context, n *node) {
	j := e.opts.Journal
	start := time.Now()
	var seq int64
	if j != nil {
		var err error
		if seq, err = j.intent(n.ref, n.step.Identity, n.step.Action); err != nil {
			// Without the intent on disk a crash could hide this write, so it
			// is not made, and neither is any other.
			n.fatal = true
			msg := fmt.Sprintf("not applied: cannot journal the write: %v", err)
			n.res = StepResult{Status: StatusFailed, Err: err, Message: msg}
			return
		}
	}
	err := n.step.Do(ctx)
	n.res.Duration = time.Since(start)
	phase := PhaseDone
	switch {
	case err == nil:
		n.res.Status = StatusApplied
	case ctx.Err() != nil:
		// Canceled mid-call: the server may have done it anyway.
		phase = PhaseUnknown
		n.res.Status, n.res.Err, n.res.Unknown = StatusFailed, err, true
		n.res.Message = fmt.Sprintf("interrupted, outcome unknown (%v); the next run resolves it", err)
	default:
		phase = PhaseFailed
		n.res.Status, n.res.Err, n.res.Message = StatusFailed, err, err.Error()
	}
	if j != nil {
		if jerr := j.result(seq, n.ref, n.step.Action, phase, err); jerr != nil {
			// The write happened but its result is not on disk: the next run
			// sees a pending intent and resolves it; stop writing meanwhile.
			n.fatal = true
		}
	}
}

// record files a settled step into the result, the inventory and the
// progress stream.
func (e *executor) record(n *node) {
	n.done = true
	n.res.Ref, n.res.Action, n.res.index = n.ref, n.step.Action, n.index
	if n.fatal && e.stop == "" {
		e.stop = "not attempted: the journal could not be written (see the failure of " + n.ref.String() + ")"
		if n.res.Status == StatusApplied {
			e.res.Err = errors.Join(e.res.Err, fmt.Errorf("the result of %s could not be journaled", n.ref))
		}
	}
	ev := Event{Ref: n.ref, Action: n.step.Action, Message: n.res.Message, Elapsed: n.res.Duration}
	switch n.res.Status {
	case StatusApplied:
		ev.Type = EventApplied
		e.res.Applied = append(e.res.Applied, n.res)
		if inv := e.opts.Inventory; inv != nil {
			e.invDirty = true
			noteInventory(inv, n.ref, n.step.Identity, n.step.Action)
		}
	case StatusFailed:
		ev.Type = EventFailed
		e.res.Failed = append(e.res.Failed, n.res)
	case StatusBlocked:
		ev.Type = EventBlocked
		e.res.Blocked = append(e.res.Blocked, n.res)
	default:
		ev.Type = EventSkipped
		e.res.NotAttempted = append(e.res.NotAttempted, n.res)
	}
	e.emit(ev)
}

// noteInventory records the effect of a landed write on ownership: a
// create or replace owns the object under its key (labelled with its
// name), a replace that changed the key forgets the old one, and a delete
// forgets the object and everything the server deleted with it.
func noteInventory(inv *Inventory, r Ref, id Identity, a Action) {
	key := cmpOr(id.Key, r.Name)
	switch {
	case a.creates():
		if id.OldKey != "" && id.OldKey != key {
			inv.Remove(Ref{Kind: r.Kind, Name: id.OldKey})
		}
		inv.Record(r.Kind, key, r.Name, "")
	case a.isDelete():
		inv.Remove(Ref{Kind: r.Kind, Name: key})
	}
	if a == ActionReplace || a.isDelete() {
		for _, c := range id.Cascade {
			inv.Remove(c)
		}
	}
}

func (e *executor) emit(ev Event) {
	if e.opts.Progress != nil {
		e.opts.Progress(ev)
	}
}

// saveInventory checkpoints ownership after a wave. Writing it per wave
// rather than per write keeps a 20,000-object run linear; a crash between
// checkpoints loses nothing, since recovery replays the journal's done
// writes of a run that did not end.
func (e *executor) saveInventory() {
	if !e.invDirty {
		return
	}
	if err := e.opts.Inventory.Save(); err != nil {
		e.res.Err = errors.Join(e.res.Err, err)
		return
	}
	e.invDirty = false
}

// finish sorts the lists and closes the run in the journal once the
// inventory holds all its effects.
func (e *executor) finish() {
	for _, l := range [][]StepResult{e.res.Applied, e.res.Failed, e.res.NotAttempted, e.res.Blocked} {
		slices.SortFunc(l, func(a, b StepResult) int { return cmp.Compare(a.index, b.index) })
	}
	if j := e.opts.Journal; j != nil && e.res.Err == nil && e.stop == "" {
		if err := j.endRun(); err != nil {
			e.res.Err = err
		}
	}
}
