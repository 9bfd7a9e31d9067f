package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// OwnedFunc adapts the inventory to diff.Options.Owned.
func (inv *Inventory) OwnedFunc() func(kind spec.Kind, name string) bool {
	return func(kind spec.Kind, name string) bool { return inv.Owned(Ref{Kind: kind, Name: name}) }
}

// Deletes returns the objects a plan deletes, for CheckDeletes: each
// delete and what the server deletes with it (an application's keys and
// subscriptions), which maxDeletes counts too.
func Deletes(p *diff.Plan) []Ref {
	var out []Ref
	for _, c := range p.Changes {
		if c.Action == diff.Delete {
			out = append(out, Ref{Kind: c.Kind, Name: c.Name})
			for _, r := range c.Cascade {
				out = append(out, Ref{Kind: r.Kind, Name: r.Name})
			}
		}
	}
	return out
}

// identity is a change's effect on the inventory.
func identity(c diff.Change) Identity {
	id := Identity{Key: c.Key, OldKey: c.OldKey}
	if c.Key == c.Name {
		id.Key = ""
	}
	for _, r := range c.Cascade {
		id.Cascade = append(id.Cascade, Ref{Kind: r.Kind, Name: cmpOr(r.Key, r.Name)})
	}
	return id
}

// Steps turns a plan's changes (NoOps left out) into steps: do binds a
// change to the provider call that performs it, and the dependencies come
// from the plan itself (Dependencies).
func Steps(p *diff.Plan, do func(diff.Change) func(context.Context) error) []Step {
	var out []Step
	for _, c := range p.Changes {
		if c.Action == diff.NoOp {
			continue
		}
		if c.Action == diff.Blocked {
			out = append(out, Step{Kind: c.Kind, Name: c.Name, Action: ActionDelete, Blocked: c.Reason,
				Do: func(context.Context) error { return fmt.Errorf("%s %s: blocked: %s", c.Kind, c.Name, c.Reason) }})
			continue
		}
		out = append(out, Step{
			Kind: c.Kind, Name: c.Name, Action: Action(c.Action),
			Do:        do(c),
			DependsOn: Dependencies(p, c),
			Identity:  identity(c),
		})
	}
	return out
}

// Dependencies derives what a change needs from the plan's values:
//
//   - a create, update or replace needs the objects its new value refers
//     to (refsOf), applications by their name in the plan whatever the
//     case: the keys and subscriptions of a replaced application, which
//     diff plans as creates (APIM deletes them with it), run after it;
//   - a delete of X needs every other change whose old value referred to X
//     to happen first: the deletes of its dependents (a subscription of a
//     deleted application) and the updates that stop using it (an
//     application moved off a tier that is removed).
//
// Only references to objects changed in the same run matter to Run; the
// others are in place already.
func Dependencies(p *diff.Plan, c diff.Change) []Ref {
	if c.Action != diff.Delete {
		refs := refsOf(c.Kind, c.Name, c.After)
		for i, r := range refs {
			// APIM names applications case-insensitively, and so may a
			// subscription's manifest: depend on the plan's own name, so a
			// subscription of a replaced application waits for it.
			if r.Kind == spec.KindApplication {
				for _, o := range p.Changes {
					if o.Kind == r.Kind && o.Name != r.Name && strings.EqualFold(o.Name, r.Name) {
						refs[i].Name = o.Name
						break
					}
				}
			}
		}
		return refs
	}
	self := Ref{Kind: c.Kind, Name: c.Name}
	var out []Ref
	for _, o := range p.Changes {
		if o.Action == diff.NoOp || (o.Kind == c.Kind && o.Name == c.Name) {
			continue
		}
		for _, r := range refsOf(o.Kind, o.Name, o.Before) {
			if r == self {
				out = append(out, Ref{Kind: o.Kind, Name: o.Name})
				break
			}
		}
	}
	return out
}

// refsOf lists the objects a value (diff's map of field path to value)
// refers to, by the manifest fields that name other objects.
func refsOf(kind spec.Kind, name string, value any) []Ref {
	m, _ := value.(map[string]any)
	var out []Ref
	add := func(k spec.Kind, v any) {
		for _, n := range strs(v) {
			if n != "" {
				out = append(out, Ref{Kind: k, Name: n})
			}
		}
	}
	switch kind {
	case spec.KindApplication:
		add(spec.KindThrottlingPolicy, m["spec.throttlingPolicy"])
	case KindApplicationKey:
		// "<application>/<KEYTYPE>/<keyManager>"
		if app, rest, ok := strings.Cut(name, "/"); ok {
			add(spec.KindApplication, app)
			if _, km, ok := strings.Cut(rest, "/"); ok {
				add(spec.KindKeyManager, km)
			}
		}
	case spec.KindSubscription:
		add(spec.KindApplication, m["spec.application"])
		add(spec.KindThrottlingPolicy, m["spec.throttlingPolicy"])
	case spec.KindUser:
		add(spec.KindRole, m["spec.roles"])
	case spec.KindCertificate:
		add(spec.KindThrottlingPolicy, m["spec.tier"])
		add(spec.KindKeyManager, m["spec.keyManager"])
	}
	return out
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
