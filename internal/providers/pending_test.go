package providers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
)

// TestReadPendingSameAsDesired: a Read that starts before the desired
// state is known (ReadOptions.Pending, resolved early, late or never)
// returns what a Read with Desired returns, and a failed Pending fails it.
func TestReadPendingSameAsDesired(t *testing.T) {
	_, st, p := startContract(t)
	ctx := context.Background()
	want, err := p.Read(ctx, providers.ReadOptions{Desired: st})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, delay := range []time.Duration{-1, 0, 50 * time.Millisecond} {
		d := providers.NewPending()
		if delay < 0 {
			d.Resolve(st, nil)
		} else {
			time.AfterFunc(delay, func() { d.Resolve(st, nil) })
		}
		got, err := p.Read(ctx, providers.ReadOptions{Pending: d})
		if err != nil {
			t.Fatalf("Read (pending %v): %v", delay, err)
		}
		if reconcile.LiveHash(got) != reconcile.LiveHash(want) {
			t.Errorf("pending %v: live state differs from the Read with Desired", delay)
		}
		if len(got.Keys) != len(want.Keys) || len(got.Subscriptions) != len(want.Subscriptions) {
			t.Errorf("pending %v: %d keys, %d subscriptions; want %d, %d", delay, len(got.Keys), len(got.Subscriptions), len(want.Keys), len(want.Subscriptions))
		}
	}
	d := providers.NewPending()
	boom := errors.New("load failed")
	d.Resolve(nil, boom)
	if _, err := p.Read(ctx, providers.ReadOptions{Pending: d}); !errors.Is(err, boom) {
		t.Errorf("Read with a failed Pending: err = %v, want %v", err, boom)
	}
}
