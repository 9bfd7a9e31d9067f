package reconcile

import (
	"context"
	"fmt"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// ApplyOptions configure Apply (see apply.RunOptions).
type ApplyOptions struct {
	Concurrency int
	Journal     *apply.Journal
	Inventory   *apply.Inventory
	Progress    func(apply.Event)
}

// Apply performs the plan's changes through the providers without sealing
// (tests, benchmarks: nothing is written beside the manifests). It is
// ApplySealed without secrets, so there is one apply path; Enforce is the
// pass that seals.
func (p *Pass) Apply(ctx context.Context, plan *diff.Plan, o ApplyOptions) *apply.Result {
	return p.ApplySealed(ctx, plan, o, nil)
}

// Do binds a change to the provider calls that perform it.
func (p *Pass) Do(c diff.Change) func(context.Context) error {
	var f func(context.Context, diff.Change) error
	switch c.Kind {
	case spec.KindKeyManager:
		f = p.keyManager
	case spec.KindThrottlingPolicy:
		f = p.policy
	case spec.KindApplication:
		f = p.application
	case diff.KindApplicationKey:
		f = p.key
	case spec.KindSubscription:
		f = p.subscription
	case spec.KindUser:
		f = p.user
	case spec.KindRole:
		f = p.role
	case spec.KindCertificate:
		f = p.certificate
	case spec.KindTruststore:
		f = p.truststore
	default:
		return func(context.Context) error { return fmt.Errorf("%s %s: kind not supported by apply", c.Kind, c.Name) }
	}
	return func(ctx context.Context) error { return f(ctx, c) }
}

// notFound is the error of a change whose object the desired or live state
// lacks (a plan bug or a stale plan).
func notFound(c diff.Change, where string) error {
	return fmt.Errorf("%s %s: not found in the %s state (re-run plan)", c.Kind, c.Name, where)
}

func find[T interface{ Name() string }](list []T, name string) T {
	var zero T
	for _, x := range list {
		if x.Name() == name {
			return x
		}
	}
	return zero
}
