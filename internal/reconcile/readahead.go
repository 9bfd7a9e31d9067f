package reconcile

import (
	"context"
	"strings"
	"sync"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// readAhead is the live read Load starts once the Environment is valid
// (Options.ReadAhead), overlapping the validation of the other objects.
// The read gets the desired state through a providers.Pending, resolved
// when the Load succeeds; a failed Load cancels it.
type readAhead struct {
	prov    *providers.Providers
	openErr error
	desired *providers.Pending
	cancel  context.CancelFunc
	done    chan struct{}
	live    *providers.Live
	err     error
	gate    *secretGate
}

// startReadAhead opens the providers for env (with the secrets wiring that
// needs only the Environment) and starts reading. It runs inside
// spec.Load, on Load's goroutine.
func (p *Pass) startReadAhead(ctx context.Context, env *spec.Environment) {
	po := p.providerOptions()
	p.wireSecrets(&po, env)
	a := &readAhead{desired: providers.NewPending(), done: make(chan struct{})}
	// Secrets seen while the desired state is unknown may be of
	// applications it does not declare (read speculatively): hold them
	// until the read is taken.
	a.gate = &secretGate{next: po.OnSecret}
	po.OnSecret = a.gate.on
	p.ahead = a
	a.prov, a.openErr = providers.Open(ctx, env, po)
	if a.openErr != nil {
		close(a.done)
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	a.cancel = cancel
	go func() {
		defer close(a.done)
		a.live, a.err = a.prov.Read(rctx, providers.ReadOptions{Pending: a.desired, OnRead: p.Options.OnRead})
	}()
}

// dropReadAhead cancels the read started by Load, if any, and waits for it.
func (p *Pass) dropReadAhead() {
	a := p.ahead
	if a == nil {
		return
	}
	p.ahead = nil
	if a.cancel != nil {
		a.cancel()
	}
	a.desired.Resolve(nil, context.Canceled)
	<-a.done
	a.gate.release(nil)
}

// takeReadAhead returns the result of the read started by Load (nil, nil
// when there is none), once.
func (p *Pass) takeReadAhead(ctx context.Context) (*providers.Live, error) {
	a := p.ahead
	if a == nil {
		return nil, nil
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		p.dropReadAhead()
		return nil, ctx.Err()
	}
	p.ahead = nil
	a.cancel()
	if a.err != nil {
		a.gate.release(nil)
		return nil, a.err
	}
	apps := make(map[string]bool, len(p.State.Applications))
	for _, app := range p.State.Applications {
		apps[strings.ToLower(app.Metadata.Name)] = true
	}
	a.gate.release(apps)
	return a.live, nil
}

// secretGate holds the consumer secrets the providers report until
// release, then passes those of the given applications on (and every later
// one).
type secretGate struct {
	next func(app, keyType, km, ck, secret string)
	mu   sync.Mutex
	open bool
	held [][5]string
}

func (g *secretGate) on(app, keyType, km, ck, secret string) {
	g.mu.Lock()
	if !g.open {
		g.held = append(g.held, [5]string{app, keyType, km, ck, secret})
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	if g.next != nil {
		g.next(app, keyType, km, ck, secret)
	}
}

// release opens the gate, passing on the held secrets of apps (a nil map
// drops them all).
func (g *secretGate) release(apps map[string]bool) {
	g.mu.Lock()
	held := g.held
	g.held, g.open = nil, true
	g.mu.Unlock()
	if g.next == nil {
		return
	}
	for _, h := range held {
		if apps[strings.ToLower(h[0])] {
			g.next(h[0], h[1], h[2], h[3], h[4])
		}
	}
}
