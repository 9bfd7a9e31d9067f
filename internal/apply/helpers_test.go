package apply

import (
	"context"
	"errors"
	"sync"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// recorder records the order in which steps ran.
type recorder struct {
	mu  sync.Mutex
	ran []Ref
}

func (r *recorder) order() []Ref {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Ref(nil), r.ran...)
}

// step returns a step that records itself and fails with err (if any).
func (r *recorder) step(kind spec.Kind, name string, action Action, err error, deps ...Ref) Step {
	ref := Ref{kind, name}
	return Step{Kind: kind, Name: name, Action: action, DependsOn: deps, Do: func(context.Context) error {
		r.mu.Lock()
		r.ran = append(r.ran, ref)
		r.mu.Unlock()
		return err
	}}
}

func ref(kind spec.Kind, name string) Ref { return Ref{kind, name} }

// errServer stands in for a transport.APIError.
var errServer = errors.New("POST /key-managers (KeyManager km-a): 409 Conflict: Key Manager already exists [900100]")

func refs(rs []StepResult) []Ref {
	var out []Ref
	for _, r := range rs {
		out = append(out, r.Ref)
	}
	return out
}
