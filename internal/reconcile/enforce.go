package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// This file is the one enforce sequence that `wso2sync apply`, `wso2sync
// rotate` and the daemon's pass share (DESIGN §1: the commands are thin
// over one pass; the daemon only decides when to run it):
//
//	Load (secrets wiring) → lock → journal → inventory → resolve an
//	interrupted run → MakePlan (live read, diff, secret drift and
//	rotations) → prune guard → BeforeApply → ApplySealed.

// Stage names the step of a pass that failed, so that callers can map a
// failure to their own message and hint (the CLI) or just report it.
type Stage string

// Stages of a pass.
const (
	StageSecrets   Stage = "secrets"   // seal recipients, sealed index
	StageLock      Stage = "lock"      // the environment's lock is held
	StageJournal   Stage = "journal"   // the journal cannot be opened
	StageInventory Stage = "inventory" // the inventory cannot be read
	StageRecover   Stage = "recover"   // resolving an interrupted run
	StageRead      Stage = "read"      // reading the live estate
	StageDeletes   Stage = "deletes"   // the prune guard refused
)

// StageError is a pass failure at a stage. Its message is the underlying
// error's, unchanged (an *apply.Error keeps its hint: errors.As finds it).
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

func stageError(s Stage, err error) error {
	if err == nil {
		return nil
	}
	return &StageError{Stage: s, Err: err}
}

// setUpSecrets is Load's secrets wiring: secret inputs ({env:}, {file:},
// {sealed:} opened with Secrets.Identity) resolve relative to the
// environment's folder, and every consumer secret the providers see goes to
// the sealer (in memory until an enforcing apply seals it), configured with
// the environment's recipients plus the run's.
func (p *Pass) setUpSecrets(po *providers.Options) error {
	p.wireSecrets(po, p.State.Environment)
	return p.configureSealer()
}

// wireSecrets is the part of setUpSecrets that needs only the Environment.
func (p *Pass) wireSecrets(po *providers.Options, env *spec.Environment) {
	so := &p.Options.Secrets
	if po.Resolve == nil {
		rules, err := spec.NewFileRules(p.Options.EnvDir, p.Options.Root, p.Options.AllowDirs)
		if err != nil {
			// Load reported it; read nothing outside the environment.
			rules = spec.FileRules{Root: filepath.Dir(env.Source.File)}
		}
		po.Resolve = providers.FromSecrets(secrets.NewResolver(secrets.ResolverOptions{
			BaseDir: filepath.Dir(env.Source.File), IdentityFile: so.Identity, Files: rules}))
	}
	if so.Sealer == nil {
		so.Sealer = &secrets.Sealer{}
	}
	capture := so.Sealer.Capture
	if next := po.OnSecret; next != nil {
		po.OnSecret = func(app, keyType, km, ck, secret string) {
			capture(app, keyType, km, ck, secret)
			next(app, keyType, km, ck, secret)
		}
	} else {
		po.OnSecret = capture
	}
}

// configureSealer is the part of setUpSecrets that needs the whole State.
func (p *Pass) configureSealer() error {
	so := &p.Options.Secrets
	return stageError(StageSecrets, so.Sealer.Configure(p.State, secrets.SealerOptions{
		Recipients: so.Recipients, APIMURL: p.Options.APIMURL, OutBase: so.OutBase,
		StateDir: cmpOr(p.Options.StateDir, apply.StateDir(p.Options.EnvDir))}))
}

// Secrets is the pass's secrets side (its sealer, once Load has run).
func (p *Pass) Secrets() *SecretOptions { return &p.Options.Secrets }

// MakePlan reads the live estate and plans, owning what inv lists (nil owns
// nothing), with the secret changes (drift against the sealed index,
// rotations due or asked for): the plan that `plan`, a dry run and an
// enforcing pass all show. Errors are *StageError (StageRead, StageSecrets).
func (p *Pass) MakePlan(ctx context.Context, inv *apply.Inventory) (*diff.Plan, error) {
	plan, err := p.compute(ctx, ownership{}.ofInventory(inv))
	if err != nil {
		return nil, stageError(StageRead, err)
	}
	if err := p.PlanSecrets(plan, &p.Options.Secrets); err != nil {
		return nil, stageError(StageSecrets, err)
	}
	if keys := p.GeneratedSecrets(plan); len(keys) > 0 && !p.Options.Secrets.Sealing() {
		plan.Warnings = append(plan.Warnings, (&UnsealedError{Keys: keys}).Error()+": an enforcing apply refuses this plan unless --allow-unsealed-secrets")
	}
	return plan, nil
}

// EnforceOptions configure Enforce.
type EnforceOptions struct {
	// StateDir holds the lock, journal and inventory; default
	// apply.StateDir(EnvDir).
	StateDir string
	// Command names the lock's holder ("apply", "run"); default "apply".
	Command string
	// AllowDeletes allows that many deletes beyond spec.prune.maxDeletes.
	AllowDeletes int
	// Concurrency bounds the writes in flight inside one level.
	Concurrency int
	// Progress reports each step (apply.RunOptions).
	Progress func(apply.Event)
	// OnStaleLock is told about a stale lock taken over; default: a
	// warning in the pass's log.
	OnStaleLock func(apply.LockInfo)
	// OnRecovery is told what an interrupted run left and how it was
	// resolved (only when there was something); default: the pass's log.
	OnRecovery func(*apply.Recovery)
	// AllowUnsealed accepts that consumer secrets generated with no seal
	// recipient are lost (--allow-unsealed-secrets); without it such a
	// plan is refused before any write (StageSecrets).
	AllowUnsealed bool
	// BeforeApply sees the plan once the prune guard passed, also when it
	// has no changes: the CLI renders it, checks a saved plan and asks for
	// a confirmation; the daemon records it. An error stops the pass
	// before any write and is returned as is.
	BeforeApply func(*diff.Plan) error
}

// EnforceResult is what Enforce saw and did.
type EnforceResult struct {
	// Plan is the plan computed under the lock (nil if the pass failed
	// before it); set also when the prune guard refused it.
	Plan *diff.Plan
	// Result is the apply's result; nil when nothing was applied (no
	// changes, or refused).
	Result *apply.Result
	// Recovery is what resolving an interrupted run found.
	Recovery *apply.Recovery
	// Costs are the time each stage of the pass took (for the bench and
	// the curious; the daemon's metrics do not use them).
	Costs EnforceCosts
}

// EnforceCosts are the stages of an enforcing pass, in the order they run:
// what the lock, the journal, the inventory and sealing add to a plain
// plan-and-apply.
type EnforceCosts struct {
	// Lock is taking the environment's lock; Journal opening the journal
	// (reading earlier runs); Inventory reading the inventory; Recover
	// resolving an interrupted run; Plan the live read and diff under the
	// lock; Apply the steps (journal lines and sealing included).
	Lock, Journal, Inventory, Recover, Plan, Apply time.Duration
	// JournalStats are the apply's journal lines and fsyncs.
	JournalStats apply.JournalStats
	// Sealed is the number of sealed files written and SealTime their
	// total time (encryption, the file and the index, fsyncs); steps seal
	// concurrently, so it can exceed its share of Apply.
	Sealed   int64
	SealTime time.Duration
}

func (c EnforceCosts) String() string {
	return fmt.Sprintf("lock %s, journal open %s, inventory %s, recovery %s, plan %s, apply %s (journal: %d lines, %d fsyncs taking %s; %d sealed files taking %s)",
		round(c.Lock), round(c.Journal), round(c.Inventory), round(c.Recover), round(c.Plan), round(c.Apply),
		c.JournalStats.Lines, c.JournalStats.Syncs, round(c.JournalStats.SyncTime), c.Sealed, round(c.SealTime))
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Enforce is the enforcing pass: take the environment's lock, open the
// journal and the inventory, resolve what an interrupted run left, read the
// live state and plan (MakePlan), check the prune guard, call BeforeApply,
// and apply with the secrets wiring (ApplySealed: generated and rotated
// secrets are sealed before their step succeeds). Failures before the apply
// are *StageError (or BeforeApply's error); a failed step is in
// Result, not in the error. The result is never nil.
func (p *Pass) Enforce(ctx context.Context, o EnforceOptions) (*EnforceResult, error) {
	res := &EnforceResult{}
	// A read done before the lock (and the recovery) may be stale.
	p.dropReadAhead()
	stateDir := cmpOr(o.StateDir, apply.StateDir(p.Options.EnvDir))
	c := &res.Costs
	t := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d = now.Sub(t)
		t = now
	}
	lock, err := apply.Acquire(stateDir, cmpOr(o.Command, "apply"))
	lap(&c.Lock)
	if err != nil {
		return res, stageError(StageLock, err)
	}
	defer lock.Release()
	if st := lock.Stale(); st != nil {
		if o.OnStaleLock != nil {
			o.OnStaleLock(*st)
		} else {
			p.log.Warn("took over a stale lock", "pid", st.PID, "host", st.Host, "command", st.Command)
		}
	}
	t = time.Now() // the stale-lock report is the caller's
	j, err := apply.OpenJournal(stateDir, apply.JournalOptions{})
	lap(&c.Journal)
	if err != nil {
		return res, stageError(StageJournal, err)
	}
	defer j.Close()
	inv, err := apply.LoadInventory(stateDir, p.State.Name)
	lap(&c.Inventory)
	if err != nil {
		return res, stageError(StageInventory, err)
	}
	// Resolve what an interrupted run left before reading the live state.
	rec, err := apply.Resolve(ctx, j, inv, p.Resolver())
	lap(&c.Recover)
	if err != nil {
		return res, stageError(StageRecover, err)
	}
	res.Recovery = rec
	if !rec.Empty() {
		if o.OnRecovery != nil {
			o.OnRecovery(rec)
		} else {
			p.log.Info("recovered an interrupted run", "report", rec.Report())
		}
	}
	t = time.Now() // the recovery report is the caller's
	plan, err := p.MakePlan(ctx, inv)
	lap(&c.Plan)
	if err != nil {
		return res, err
	}
	res.Plan = plan
	// A version-1 inventory was re-keyed by MakePlan: keep that.
	if err := inv.Save(); err != nil {
		return res, stageError(StageInventory, err)
	}
	desired := 0
	for _, n := range p.State.Count() {
		desired += n
	}
	if _, err := apply.CheckDeletes(apply.Deletes(plan), desired, p.State.Environment.Spec.Prune.MaxDeletes, o.AllowDeletes); err != nil {
		return res, stageError(StageDeletes, err)
	}
	if !o.AllowUnsealed {
		if err := p.CheckUnsealed(plan); err != nil {
			return res, stageError(StageSecrets, err)
		}
	}
	if n, err := p.Options.Secrets.Sealer.Migrate(); err != nil {
		return res, stageError(StageSecrets, err)
	} else if n > 0 {
		p.log.Info("replaced unkeyed fingerprints in the sealed index by keyed ones", "entries", n)
	}
	if o.BeforeApply != nil {
		if err := o.BeforeApply(plan); err != nil {
			return res, err
		}
	}
	if !plan.HasChanges() {
		return res, nil
	}
	t = time.Now()
	seal0 := p.sealStats()
	j0 := j.Stats()
	res.Result = p.ApplySealed(ctx, plan, ApplyOptions{Concurrency: o.Concurrency, Journal: j, Inventory: inv,
		Progress: o.Progress}, &p.Options.Secrets)
	lap(&c.Apply)
	j1 := j.Stats()
	c.JournalStats = apply.JournalStats{Lines: j1.Lines - j0.Lines, Syncs: j1.Syncs - j0.Syncs, SyncTime: j1.SyncTime - j0.SyncTime}
	seal1 := p.sealStats()
	c.Sealed, c.SealTime = seal1.n-seal0.n, seal1.d-seal0.d
	return res, nil
}
