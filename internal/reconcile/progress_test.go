package reconcile

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestProgressReportsReadsAndSteps: a pass tells Options.OnRead how many
// live objects it read, which after the apply equals what the simulator
// holds of the kinds a plan reads (counted from its own records), and
// ApplyOptions.Progress sees one start and one end per change.
func TestProgressReportsReadsAndSteps(t *testing.T) {
	s := startSim(t, sim.Options{})
	var read atomic.Int64
	trustRoot := t.TempDir()
	loadCounting := func() *Pass {
		read.Store(0)
		p, err := Load(context.Background(), Options{EnvDir: exampleDir("dev"), APIMURL: s.APIMURL(), ISURL: s.ISURL(),
			Trust:     TrustOptions{Root: trustRoot},
			Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, MaxRetries: 2},
			OnRead:    func(n int) { read.Add(int64(n)) }})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := loadCounting()
	plan := compute(t, p, nil)
	if read.Load() == 0 {
		t.Fatal("OnRead was never called")
	}
	changes := 0
	for _, c := range plan.Changes {
		if c.Action != diff.NoOp {
			changes++
		}
	}
	var starts, ends atomic.Int64
	res := p.Apply(context.Background(), plan, ApplyOptions{Progress: func(e apply.Event) {
		switch e.Type {
		case apply.EventStart:
			starts.Add(1)
		default:
			ends.Add(1)
		}
	}})
	if res.ExitCode() != 0 {
		t.Fatal(res.Report())
	}
	if starts.Load() != int64(changes) || ends.Load() != int64(changes) {
		t.Errorf("progress saw %d starts and %d ends for %d changes", starts.Load(), ends.Load(), changes)
	}

	p = loadCounting()
	if plan := compute(t, p, nil); plan.HasChanges() {
		t.Fatalf("not converged:\n%s", render(t, plan))
	}
	st := s.Dump()
	desired := map[string]bool{}
	for _, a := range p.State.Applications {
		desired[a.Metadata.Name] = true
	}
	want := len(st.APIM.KeyManagers) + len(st.APIM.ApplicationPolicies) + len(st.APIM.SubscriptionPolicies) +
		len(st.APIM.Applications) + len(st.APIM.EndpointCertificates) + len(st.IS.Users) + len(st.IS.Roles)
	appName := map[string]string{}
	for _, a := range st.APIM.Applications {
		appName[a.ApplicationID] = a.Name
	}
	for _, k := range st.APIM.KeyMappings {
		if desired[appName[k.ApplicationID]] {
			want++
		}
	}
	for _, sub := range st.APIM.Subscriptions {
		if desired[appName[sub.ApplicationID]] {
			want++
		}
	}
	if got := read.Load(); got != int64(want) {
		t.Errorf("OnRead counted %d objects; the simulator holds %d of the kinds read", got, want)
	}
}
