package apply

import (
	"context"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Ref names one object: its kind and its name as in the manifest.
type Ref struct {
	Kind spec.Kind `json:"kind"`
	Name string    `json:"name"`
}

func (r Ref) String() string { return string(r.Kind) + "/" + r.Name }

// Action is what a step does to its object. The values match the plan's
// actions, so a change's action converts with Action(c.Action).
type Action string

const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	// ActionReplace deletes the object and creates it again in one step
	// (WSO2 names are unique, so the new object cannot exist beside the old
	// one). It runs with creates and updates, top-down.
	ActionReplace Action = "replace"
	ActionDelete  Action = "delete"
	// ActionRotate renews server-generated credentials; it orders like an
	// update.
	ActionRotate Action = "rotate"
)

// isDelete reports whether a runs in the bottom-up delete phase.
func (a Action) isDelete() bool { return a == ActionDelete }

// creates reports whether a leaves behind an object wso2sync created.
func (a Action) creates() bool { return a == ActionCreate || a == ActionReplace }

// Identity is what a write does to ownership: the keys the inventory
// records and forgets for it. The journal keeps it with the write's intent,
// so recovery replays the same effect.
type Identity struct {
	// Key is the object's natural key (spec, one definition per kind);
	// "" means the name.
	Key string `json:"key,omitempty"`
	// OldKey is, for a replace that changes the object's identity (a
	// subscription moved to another API), the key of the object it deletes.
	OldKey string `json:"oldKey,omitempty"`
	// Cascade lists what the server deletes with the object (an
	// application's keys and subscriptions), by kind and key.
	Cascade []Ref `json:"cascade,omitempty"`
}

// Step is one write of an apply: a planned change bound to the provider
// call that performs it.
type Step struct {
	Kind   spec.Kind
	Name   string
	Action Action
	// Do performs the write. Its error should carry the server's message
	// (transport.APIError does); it must not contain secret values, since it
	// is printed and journaled.
	Do func(ctx context.Context) error
	// DependsOn names the objects this step needs. A step whose dependency
	// is part of the same run waits for it (in a later wave if need be) and
	// is not attempted when it fails; a dependency with no step in the run
	// is taken as already in place. For creates and updates these are the
	// objects it refers to (an Application's tier and key managers, a
	// Subscription's application, a User's roles); for deletes, the steps
	// that must happen first (the deletes of its dependents, or the update
	// that stops a dependent from using it).
	DependsOn []Ref
	// Identity is the write's effect on the inventory.
	Identity Identity
	// Blocked, when set, is why the server would refuse this delete (the
	// plan's pre-flight): the step is never attempted and the run fails.
	Blocked string
}

// Ref returns the step's object.
func (s *Step) Ref() Ref { return Ref{Kind: s.Kind, Name: s.Name} }
