package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/trust"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TrustOptions tune how truststores (local JVM files, not REST objects) are
// read, written and followed by their restart action.
type TrustOptions struct {
	// Root, when set, re-roots truststore paths under it, as DESTDIR
	// does: an absolute path P becomes Root/P, a relative one is first
	// resolved against its manifest and made absolute. Plan and apply
	// then work on copies (the demo against the simulator,
	// tests), so restart actions do not run: the servers do not read
	// those files (the plan says so), and the record of the aliases
	// wso2sync owns is kept in Root too.
	Root string
	// Restart runs a restart action (trust.Restart if nil).
	Restart func(context.Context, *spec.RestartAction) error
	// Now is the clock for new entries' creation times (time.Now if nil).
	Now func() time.Time
}

// trustRun is the truststore state of one Apply: how many truststore
// changes of the plan still have to run per restart action, and whether
// one of them wrote its file, so that each action runs once, after the
// last truststore that names it.
type trustRun struct {
	mu      sync.Mutex
	pending map[string]int
	changed map[string]bool
	own     *trust.Ownership
}

// stateDir is where the ownership record of the truststores' aliases
// lives: the environment's state directory, or Root when the truststores
// are re-rooted copies (their record belongs with them).
func (p *Pass) stateDir() string {
	if r := p.Options.Trust.Root; r != "" {
		return r
	}
	return apply.StateDir(p.Options.EnvDir)
}

// truststorePath is where a truststore's file is for this pass.
func (p *Pass) truststorePath(t *spec.Truststore) string {
	path := trust.Path(t)
	if r := p.Options.Trust.Root; r != "" {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return filepath.Join(r, path)
	}
	return path
}

// readTruststores adds the declared truststores' files, as far as the diff
// compares them, to the live state.
func (p *Pass) readTruststores(ctx context.Context, live *providers.Live) error {
	if len(p.State.Truststores) == 0 {
		return nil
	}
	own, err := trust.LoadOwnership(p.stateDir())
	if err != nil {
		return err
	}
	for _, t := range p.State.Truststores {
		pw, err := p.secret(ctx, &t.Spec.Password)
		if err != nil {
			return fmt.Errorf("truststore %s: spec.password: %w", t.Metadata.Name, err)
		}
		path := p.truststorePath(t)
		l, err := trust.Live(t, path, pw, trust.Stale(t, path, own))
		if err != nil {
			return fmt.Errorf("truststore %s: %s: %w", t.Metadata.Name, path, err)
		}
		if l != nil {
			live.State.Truststores = append(live.State.Truststores, l)
		}
	}
	slices.SortFunc(live.State.Truststores, func(a, b *spec.Truststore) int { return strings.Compare(a.Metadata.Name, b.Metadata.Name) })
	return nil
}

// annotateTruststores completes the plan's truststore changes: an entry
// wso2sync wrote and no longer declares is removed (the diff compares only
// declared entries); each change gets a field per certificate it writes
// (spec.entries[alias].certificate: subject, issuer, SANs, not-after,
// fingerprint) and a "restart" field naming the action that will follow.
func (p *Pass) annotateTruststores(ctx context.Context, plan *diff.Plan) {
	own, _ := trust.LoadOwnership(p.stateDir())
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Kind != spec.KindTruststore {
			continue
		}
		t := find(p.State.Truststores, c.Name)
		if t == nil {
			continue
		}
		path := p.truststorePath(t)
		if l := find(p.Live.State.Truststores, c.Name); l != nil {
			for _, a := range trust.Stale(t, path, own) {
				for _, e := range l.Spec.Entries {
					if e.Alias != a {
						continue
					}
					c.Fields = append(c.Fields, diff.FieldDiff{Path: "spec.entries[" + a + "]", Before: e.SHA256, Source: t.Source})
					if c.Action == diff.NoOp {
						c.Action, c.Reason = diff.Update, "no longer declared; wso2sync wrote it: "+a
					}
				}
			}
		}
		if c.Action == diff.NoOp {
			continue
		}
		// The plan shows what each written entry will hold and the restart
		// that follows, as fields of the change (every view renders them).
		var extra []diff.FieldDiff
		for _, f := range c.Fields {
			alias, ok := strings.CutPrefix(f.Path, "spec.entries[")
			if !ok || f.After == nil {
				continue
			}
			alias = strings.TrimSuffix(alias, "]")
			if d := p.entryDetails(ctx, t, alias); d != "" {
				extra = append(extra, diff.FieldDiff{Path: f.Path + ".certificate", After: d, Source: f.Source})
			}
		}
		if a := t.RestartOf(); a != nil {
			note := trust.DescribeRestart(a) + " will run once, after the truststores that name it"
			if p.Options.Trust.Root != "" {
				note = trust.DescribeRestart(a) + " is skipped: truststores are re-rooted under " + p.Options.Trust.Root
			}
			extra = append(extra, diff.FieldDiff{Path: "restart", After: note, Source: t.Pos("spec.restart")})
		}
		c.Fields = append(c.Fields, extra...)
	}
	plan.Recount()
}

// entryDetails describes the certificate a declared entry will hold:
// subject, issuer, SANs and not-after for local sources (the entry's own
// field shows the fingerprint); the URL and its pin for URL sources (the
// plan fetches nothing).
func (p *Pass) entryDetails(ctx context.Context, t *spec.Truststore, alias string) string {
	for i, e := range t.Spec.Entries {
		if !strings.EqualFold(e.Alias, alias) {
			continue
		}
		src := spec.CertSource{URL: e.URL, SHA256: e.SHA256}
		if e.Certificate != "" {
			if c := p.State.Certificate(e.Certificate); c != nil {
				src = c.Spec.Source
			}
		}
		if src.URL != "" {
			return "from " + src.URL + ", pinned " + spec.NormFingerprint(src.SHA256)
		}
		c, err := trust.Sources{Desired: p.State}.Entry(ctx, t, i)
		if err != nil {
			return err.Error()
		}
		return spec.DescribeCert(c).Summary()
	}
	return ""
}

// trustBegin counts the plan's truststore changes per restart action.
func (p *Pass) trustBegin(plan *diff.Plan) {
	r := &trustRun{pending: map[string]int{}, changed: map[string]bool{}}
	for _, c := range plan.Changes {
		if c.Kind != spec.KindTruststore || c.Action == diff.NoOp || c.Action == diff.Delete {
			continue
		}
		if t := find(p.State.Truststores, c.Name); t != nil {
			if k := trust.RestartKey(t.RestartOf()); k != "" {
				r.pending[k]++
			}
		}
	}
	p.mu.Lock()
	p.trust = r
	p.mu.Unlock()
}

// truststore writes a declared truststore's file (only wso2sync's own
// aliases change), then, if it is the last truststore of the plan with its
// restart action and any of them changed a file, runs that action once.
func (p *Pass) truststore(ctx context.Context, c diff.Change) (err error) {
	t := find(p.State.Truststores, c.Name)
	if t == nil {
		return notFound(c, "desired")
	}
	p.mu.Lock()
	if p.trust == nil {
		p.trust = &trustRun{pending: map[string]int{}, changed: map[string]bool{}}
	}
	r := p.trust
	p.mu.Unlock()
	action := t.RestartOf()
	key := trust.RestartKey(action)
	changed := false
	defer func() {
		if key == "" {
			return
		}
		r.mu.Lock()
		r.pending[key]--
		r.changed[key] = r.changed[key] || changed
		last := r.pending[key] <= 0 && r.changed[key]
		if last {
			r.changed[key] = false
		}
		r.mu.Unlock()
		if !last || p.Options.Trust.Root != "" {
			return
		}
		if rerr := p.restart(ctx, action); rerr != nil {
			p.log.Error("restart failed after a truststore change", "truststore", c.Name, "restart", trust.DescribeRestart(action), "error", rerr)
			if err == nil {
				err = fmt.Errorf("truststore %s was written, but %w; run it by hand: the JVM reads its truststore only at start-up", c.Name, rerr)
			}
			return
		}
		p.log.Info("restarted after a truststore change", "truststore", c.Name, "restart", trust.DescribeRestart(action))
	}()

	pw, err := p.secret(ctx, &t.Spec.Password)
	if err != nil {
		return fmt.Errorf("truststore %s: spec.password: %w", c.Name, err)
	}
	r.mu.Lock()
	if r.own == nil {
		if r.own, err = trust.LoadOwnership(p.stateDir()); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	own := r.own
	r.mu.Unlock()
	now := time.Now
	if p.Options.Trust.Now != nil {
		now = p.Options.Trust.Now
	}
	res, err := trust.Apply(ctx, t, p.truststorePath(t), pw, trust.Sources{Desired: p.State}, own, now())
	changed = res.Changed()
	if err != nil {
		return err
	}
	if changed {
		p.log.Info("truststore written", "truststore", c.Name, "result", res.String())
	}
	return nil
}

// trustEnd runs the restart actions whose truststores changed but whose
// last truststore step never ran (not attempted after a failure it
// depended on), so a written file is never left without its restart. A
// failed restart is added to the result as a failed step.
func (p *Pass) trustEnd(ctx context.Context, res *apply.Result) {
	p.mu.Lock()
	r := p.trust
	p.mu.Unlock()
	if r == nil || p.Options.Trust.Root != "" {
		return
	}
	r.mu.Lock()
	var due []*spec.RestartAction
	for _, t := range p.State.Truststores {
		a := t.RestartOf()
		k := trust.RestartKey(a)
		if k != "" && r.changed[k] {
			r.changed[k] = false
			due = append(due, a)
		}
	}
	r.mu.Unlock()
	for _, a := range due {
		err := ctx.Err()
		if err == nil {
			err = p.restart(ctx, a)
		}
		if err != nil {
			res.Failed = append(res.Failed, apply.StepResult{Ref: apply.Ref{Kind: spec.KindTruststore, Name: "restart: " + trust.DescribeRestart(a)},
				Action: apply.ActionUpdate, Status: apply.StatusFailed, Err: err,
				Message: err.Error() + "; a truststore was written but its restart did not run: run it by hand (the JVM reads its truststore only at start-up)"})
		}
	}
}

func (p *Pass) restart(ctx context.Context, a *spec.RestartAction) error {
	if f := p.Options.Trust.Restart; f != nil {
		return f(ctx, a)
	}
	return trust.Restart(ctx, a, trust.RestartOptions{Dir: p.Options.EnvDir})
}
