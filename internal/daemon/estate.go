package daemon

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// States of a managed object in Estate, as /status, the page and
// `wso2sync status` name them.
const (
	// StateInSync: the live object matches its manifest (also after this
	// pass corrected it: ObjectStatus.Corrected).
	StateInSync = "in-sync"
	// StateDrifted: the plan would change it (dry-run, or an enforcing
	// pass that stopped before applying).
	StateDrifted = "drifted"
	// StateBlocked: the change was not attempted: a delete the server
	// would refuse (the plan's Blocked), a step it depends on failed, or
	// the prune guard refused the deletes.
	StateBlocked = "blocked"
	// StateFailed: applying the change failed.
	StateFailed = "failed"
	// StatePending: an approval workflow holds it back (APIM §5.3).
	StatePending = "pending-approval"
)

// States lists the states in the order the counts show them.
var States = []string{StateInSync, StateDrifted, StateBlocked, StateFailed, StatePending}

// Estate is every object the manifests manage, with its state, as the
// plan of one pass (the same data the text/JSON/Markdown plan views
// render) and its apply saw it, plus the live objects nothing manages.
type Estate struct {
	// Pass is the pass that saw it, at Time: a later pass that failed
	// before planning leaves this estate in place.
	Pass string    `json:"pass"`
	Time time.Time `json:"time"`
	// Environment is the environment's metadata.name.
	Environment string `json:"environment"`
	Mode        string `json:"mode"`
	// Counts by state (every state present, zero or not), and unmanaged.
	Counts    map[string]int `json:"counts"`
	Unmanaged int            `json:"unmanagedCount"`
	// Kinds in apply order (diff.KindOrder), only those with objects.
	Kinds []KindStatus `json:"kinds"`
	// UnmanagedObjects are live objects no manifest declares, which
	// wso2sync leaves alone, with why.
	UnmanagedObjects []UnmanagedObject `json:"unmanaged"`
}

// KindStatus is the managed objects of one kind, by name.
type KindStatus struct {
	Kind    string         `json:"kind"`
	Objects []ObjectStatus `json:"objects"`
}

// ObjectStatus is one managed object.
type ObjectStatus struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Action is what the plan does to it (create, update, replace,
	// delete, rotate); empty when in sync.
	Action string `json:"action,omitempty"`
	// Corrected: this (enforcing) pass applied Action and the object is
	// now in sync; Fields say what was corrected.
	Corrected bool `json:"corrected,omitempty"`
	// Reason is the plan's why ("drift: spec.description").
	Reason string `json:"reason,omitempty"`
	// Source is the manifest's file:line, relative to the environment
	// directory; SourceURL its line on the forge (git sources on a known
	// host).
	Source    string `json:"source,omitempty"`
	SourceURL string `json:"sourceURL,omitempty"`
	// Message is the failure, what blocked it or the workflow's state.
	Message string        `json:"message,omitempty"`
	Fields  []FieldStatus `json:"fields,omitempty"`
}

// FieldStatus is one differing field, as the text plan prints it
// (secrets only redacted).
type FieldStatus struct {
	Path          string `json:"path"`
	Before        string `json:"before"`
	After         string `json:"after"`
	Source        string `json:"source,omitempty"`
	ForcesReplace bool   `json:"forcesReplace,omitempty"`
}

// UnmanagedObject is a live object left alone.
type UnmanagedObject struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

// estateInput is what one pass knows.
type estateInput struct {
	plan *diff.Plan
	// result is the apply's (nil: nothing applied).
	result *apply.Result
	// pending are the objects a workflow holds back.
	pending []diff.Ref
	// deletesBlocked is why the prune guard refused the deletes ("": it
	// did not).
	deletesBlocked string
	baseDir        string
	mode           string
}

// maxValue caps a field value on the page (a certificate's PEM).
const maxValue = 300

func buildEstate(in estateInput) *Estate {
	type ref struct {
		kind spec.Kind
		name string
	}
	steps := map[ref]apply.StepResult{}
	if r := in.result; r != nil {
		for _, list := range [][]apply.StepResult{r.Applied, r.Failed, r.NotAttempted} {
			for _, s := range list {
				steps[ref{s.Ref.Kind, s.Ref.Name}] = s
			}
		}
	}
	pending := map[ref]string{}
	for _, p := range in.pending {
		pending[ref{p.Kind, p.Name}] = p.Reason
	}
	ro := diff.RenderOptions{BaseDir: in.baseDir}
	e := &Estate{Environment: in.plan.Environment, Mode: in.mode, Counts: map[string]int{}, Kinds: []KindStatus{}, UnmanagedObjects: []UnmanagedObject{}}
	for _, s := range States {
		e.Counts[s] = 0
	}
	for _, c := range in.plan.Changes {
		o := ObjectStatus{Name: c.Name, State: StateInSync, Reason: c.Reason, Source: ro.Where(c.Source)}
		if c.Action != diff.NoOp {
			o.Action = string(c.Action)
			o.State = StateDrifted
			for _, f := range c.Fields {
				before, after := f.Printable()
				if sensitive(f) {
					// Not even the plan's fingerprint: a page is read by
					// more people than a plan, and an unkeyed hash of a
					// weak secret is a dictionary lookup away.
					before, after = "(sensitive)", "(sensitive value changed)"
				}
				o.Fields = append(o.Fields, FieldStatus{Path: f.Path, Before: clip(before), After: clip(after),
					Source: ro.Where(f.Source), ForcesReplace: f.ForcesReplace})
			}
		} else {
			o.Reason = ""
		}
		if s, ok := steps[ref{c.Kind, c.Name}]; ok {
			switch s.Status {
			case apply.StatusApplied:
				o.State, o.Corrected = StateInSync, true
			case apply.StatusFailed:
				o.State, o.Message = StateFailed, s.Message
			case apply.StatusNotAttempted:
				o.State, o.Message = StateBlocked, s.Message
			}
		} else if c.Action == diff.Delete && in.deletesBlocked != "" {
			o.State, o.Message = StateBlocked, in.deletesBlocked
		} else if c.Action == diff.Blocked {
			o.Action = string(diff.Delete)
			o.State, o.Message = StateBlocked, blockedMessage(c)
		}
		if why, ok := pending[ref{c.Kind, c.Name}]; ok && o.State == StateInSync && !o.Corrected {
			o.State, o.Message = StatePending, why
		}
		e.Counts[o.State]++
		if n := len(e.Kinds); n == 0 || e.Kinds[n-1].Kind != string(c.Kind) {
			e.Kinds = append(e.Kinds, KindStatus{Kind: string(c.Kind)})
		}
		k := &e.Kinds[len(e.Kinds)-1]
		k.Objects = append(k.Objects, o)
	}
	for _, u := range in.plan.Unmanaged {
		e.UnmanagedObjects = append(e.UnmanagedObjects, UnmanagedObject{Kind: string(u.Kind), Name: u.Name, Reason: u.Reason})
	}
	e.Unmanaged = len(e.UnmanagedObjects)
	return e
}

// sensitive reports a field whose values are secrets: marked so by the
// plan, or holding the plan's redacted form of one.
func sensitive(f diff.FieldDiff) bool {
	_, rb := f.Before.(diff.Redacted)
	_, ra := f.After.(diff.Redacted)
	return f.Sensitive || rb || ra
}

// blockedMessage is why the server would refuse a delete, with what
// holds the object ("in use by: Application/web, Application/mobile").
func blockedMessage(c diff.Change) string {
	msg := c.Reason
	if len(c.BlockedBy) > 0 {
		var by []string
		for _, r := range c.BlockedBy {
			by = append(by, string(r.Kind)+"/"+r.Name)
		}
		msg = strings.TrimSpace(msg + " (in use by: " + strings.Join(by, ", ") + ")")
	}
	return msg
}

func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxValue {
		return s
	}
	return string(r[:maxValue]) + "…"
}

// Total is the number of managed objects.
func (e *Estate) Total() int {
	n := 0
	for _, k := range e.Kinds {
		n += len(k.Objects)
	}
	return n
}

// OutOfSync lists the objects that are not in sync, in plan order.
func (e *Estate) OutOfSync() []ObjectRef {
	var out []ObjectRef
	for _, k := range e.Kinds {
		for _, o := range k.Objects {
			if o.State != StateInSync {
				out = append(out, ObjectRef{Kind: k.Kind, Name: o.Name})
			}
		}
	}
	return out
}

// CountsInOrder are the non-zero counts in States order, for one line.
func (e *Estate) CountsInOrder() []StateCount {
	var out []StateCount
	for _, s := range States {
		if n := e.Counts[s]; n > 0 || s == StateInSync {
			out = append(out, StateCount{State: s, Count: n})
		}
	}
	return out
}

// StateCount is one state's count.
type StateCount struct {
	State string
	Count int
}

// StateLabel is a state for people ("in sync", "pending approval").
func StateLabel(s string) string {
	switch s {
	case StateInSync:
		return "in sync"
	case StatePending:
		return "pending approval"
	}
	return s
}

// linkSources links each object's manifest line to the forge, for a git
// source on a known host (the file is relative to the environment folder,
// which is rev.Path in the repository).
func linkSources(e *Estate, rev Revision) {
	if rev.Source != "git" || rev.Commit == "" {
		return
	}
	e.Kinds = slices.Clone(e.Kinds)
	for i := range e.Kinds {
		objs := slices.Clone(e.Kinds[i].Objects)
		e.Kinds[i].Objects = objs
		for j := range objs {
			file, line := splitSource(objs[j].Source)
			if file == "" {
				continue
			}
			objs[j].SourceURL = fileURL(rev.URL, rev.Commit, path.Join(rev.Path, file), line)
		}
	}
}

// splitSource splits "file:line" (the line is 0 when absent).
func splitSource(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, 0
	}
	return s[:i], n
}
