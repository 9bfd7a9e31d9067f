package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Options configure a pass.
type Options struct {
	// EnvDir is the environment directory (holds wso2sync.yaml).
	EnvDir string
	// APIMURL and ISURL override the environment's URLs.
	APIMURL, ISURL string
	// Root and AllowDirs confine the files the manifests name
	// (spec.LoadOptions).
	Root      string
	AllowDirs []string
	// StateDir is the environment's state directory (it holds the key of
	// the sealed index's fingerprints); default apply.StateDir(EnvDir).
	StateDir string
	// Providers is the base of the providers' options (transport tuning,
	// counter, OnSecret); URLs, Logger and UserAgent are filled in.
	Providers providers.Options
	Logger    *slog.Logger
	UserAgent string
	// Trust tunes the truststore files (truststores.go).
	Trust TrustOptions
	// Secrets are the run's seal recipients and identity; Load builds the
	// secret resolver and the sealer from them (enforce.go).
	Secrets SecretOptions
	// ReadAhead, if set and true for the loaded Environment, has Load start
	// the live read as soon as the Environment is valid, while the other
	// objects validate; the first Compute uses that read (readahead.go).
	// Enforce discards it (it reads under its lock). Set it only when a
	// Compute follows the Load.
	ReadAhead func(*spec.Environment) bool
	// ValidationCache, if set, carries validated documents from one Load
	// to the next (the daemon's passes): unchanged documents are not
	// validated again.
	ValidationCache *spec.ValidationCache
	// OnRead, if set, is told as live objects are read (n more), for a
	// progress display; called concurrently (providers.ReadOptions.OnRead).
	OnRead func(n int)
}

// Pass is one load → read → plan of an environment.
type Pass struct {
	Options     Options
	State       *spec.State
	Diagnostics spec.Diagnostics
	Providers   *providers.Providers
	Live        *providers.Live
	Plan        *diff.Plan
	// LoadStats say how many documents Load validated and how many it
	// took from Options.ValidationCache.
	LoadStats *spec.LoadStats

	// ids holds the server ids of objects created during Apply, by kind and
	// name, on top of Live.IDs.
	mu    sync.Mutex
	ids   map[spec.Kind]map[string]string
	log   *slog.Logger
	trust *trustRun // the truststore step of the running Apply
	// members batches the role memberships of the running Apply's user
	// steps (members.go); nil outside Apply.
	members *memberBatches
	// ahead is the read started by Load (Options.ReadAhead), until the
	// first Compute takes it.
	ahead *readAhead
	// orphans maps an application key's plan name to the client_id of
	// its orphaned IS client, which its create removes first (halfstates.go).
	orphans map[string]string
	// identities open sealed credentials (verify.go), loaded once.
	identities    secrets.Identities
	identitiesErr error
	// sealed and sealNanos count the seals of this pass and their time
	// (EnforceCosts).
	sealed, sealNanos atomic.Int64
}

// LoadError is a manifest problem: Diagnostics says what.
type LoadError struct {
	Dir         string
	Diagnostics spec.Diagnostics
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("the manifests in %s have %d error(s)", e.Dir, len(e.Diagnostics.Errors()))
}

// Load loads and validates the environment and opens its providers (no
// request yet). A *LoadError carries the diagnostics.
func Load(ctx context.Context, o Options) (*Pass, error) {
	p := &Pass{Options: o, log: o.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.LoadStats = &spec.LoadStats{}
	lo := spec.LoadOptions{APIMURL: o.APIMURL, ISURL: o.ISURL, Root: o.Root, AllowDirs: o.AllowDirs,
		Cache: o.ValidationCache, Stats: p.LoadStats}
	if o.ReadAhead != nil {
		lo.OnEnvironment = func(env *spec.Environment) {
			if o.ReadAhead(env) {
				p.startReadAhead(ctx, env)
			}
		}
	}
	st, ds := spec.Load(ctx, o.EnvDir, lo)
	p.State, p.Diagnostics = st, ds
	if ds.HasErrors() || st == nil || st.Environment == nil {
		p.dropReadAhead()
		return p, &LoadError{Dir: o.EnvDir, Diagnostics: ds}
	}
	if a := p.ahead; a != nil {
		// The providers are open and reading; what is left of
		// setUpSecrets needs the whole State.
		if err := p.configureSealer(); err != nil {
			p.dropReadAhead()
			return p, err
		}
		if a.openErr != nil {
			p.dropReadAhead()
			return p, a.openErr
		}
		p.Providers = a.prov
		a.desired.Resolve(st, nil)
		return p, nil
	}
	po := p.providerOptions()
	if err := p.setUpSecrets(&po); err != nil {
		return p, err
	}
	prov, err := providers.Open(ctx, st.Environment, po)
	if err != nil {
		return p, err
	}
	p.Providers = prov
	return p, nil
}

// Close ends the pass: a read started by Load and not taken is cancelled
// and the providers' idle connections are closed. A long-running caller
// (the daemon) calls it after each pass; nil-safe.
func (p *Pass) Close() {
	if p == nil {
		return
	}
	if a := p.ahead; a != nil && a.prov != p.Providers {
		defer a.prov.CloseIdle()
	}
	p.dropReadAhead()
	p.Providers.CloseIdle()
}

// providerOptions are Options.Providers with the URLs, Logger and
// UserAgent filled in.
func (p *Pass) providerOptions() providers.Options {
	o := p.Options
	po := o.Providers
	po.APIMURL, po.ISURL = o.APIMURL, o.ISURL
	if po.Logger == nil {
		po.Logger = o.Logger
	}
	if po.UserAgent == "" {
		po.UserAgent = o.UserAgent
	}
	return po
}

// Compute reads the live estate and computes the plan; owned is the
// inventory's OwnedFunc (nil owns nothing), asked by kind and natural key.
// It can be called again (after an apply, to check convergence).
func (p *Pass) Compute(ctx context.Context, owned func(spec.Kind, string) bool) (*diff.Plan, error) {
	return p.compute(ctx, ownership{owned: owned})
}

// ownership is what a plan knows of the inventory.
type ownership struct {
	owned func(spec.Kind, string) bool
	label func(spec.Kind, string) string
	// migrate, if set, gives a version-1 inventory's entries their keys
	// once the live state is read (apply.Inventory.Migrate).
	migrate func(keyOf func(spec.Kind, string) (string, bool)) int
}

func (o ownership) ofInventory(inv *apply.Inventory) ownership {
	if inv == nil {
		return o
	}
	o.owned = inv.OwnedFunc()
	o.label = func(k spec.Kind, key string) string { return inv.Label(apply.Ref{Kind: k, Name: key}) }
	o.migrate = inv.Migrate
	return o
}

// ownsUndeclaredApp reports whether live holds an owned application the
// manifests no longer declare (whose keys and subscriptions a read narrowed
// to the declared applications would have missed).
func (p *Pass) ownsUndeclaredApp(live *providers.Live, owned func(spec.Kind, string) bool) bool {
	if owned == nil {
		return false
	}
	for _, a := range live.State.Applications {
		if p.State.Application(a.Metadata.Name) == nil && owned(spec.KindApplication, a.Key()) {
			return true
		}
	}
	return false
}

func (p *Pass) compute(ctx context.Context, own ownership) (*diff.Plan, error) {
	if p.Providers == nil {
		return nil, errors.New("reconcile: providers not open")
	}
	live, err := p.takeReadAhead(ctx)
	if err == nil && live != nil && own.migrate != nil {
		own.migrate(diff.NameKeys(p.State, live.State))
	}
	if err == nil && live != nil && p.ownsUndeclaredApp(live, own.owned) {
		// The read ahead did not know the inventory: read again with it.
		live = nil
	}
	if live == nil && err == nil {
		live, err = p.Providers.Read(ctx, providers.ReadOptions{Desired: p.State, Owned: own.owned, OnRead: p.Options.OnRead})
	}
	if err != nil {
		return nil, err
	}
	if own.migrate != nil {
		if left := own.migrate(diff.NameKeys(p.State, live.State)); left > 0 {
			p.log.Warn("inventory entries of an older wso2sync not matched to an object yet; kept, and tried again next run", "entries", left)
		}
	}
	if err := p.readTruststores(ctx, live); err != nil {
		return nil, err
	}
	p.Live = live
	p.mu.Lock()
	p.ids = map[spec.Kind]map[string]string{}
	p.mu.Unlock()
	env := p.State.Environment
	plan := diff.Compute(p.State, live.State, diff.Options{
		Prune: env.Spec.Prune.Policy,
		Owned: own.owned,
		Label: own.label,
	})
	if err := p.findHalfStates(ctx, plan); err != nil {
		return nil, err
	}
	if diff.NeedsPreflight(plan) {
		apis, err := p.Providers.APIM.APIs.List(ctx)
		if err != nil {
			return nil, err
		}
		uses := make([]diff.APIUse, 0, len(apis))
		for _, a := range apis {
			uses = append(uses, diff.APIUse{Name: a.Name, Version: a.Version, Tiers: a.ThrottlingPolicies})
		}
		diff.Preflight(plan, live.State, uses)
	}
	p.annotateTruststores(ctx, plan)
	plan.LiveHash = LiveHash(live)
	p.Plan = plan
	return plan, nil
}

// LiveHash is the sha256 of a canonical JSON form of the live state with
// its server ids: a saved plan applies only while it still matches.
func LiveHash(l *providers.Live) string {
	type idEntry struct{ Kind, Name, ID string }
	var ids []idEntry
	for k, m := range l.IDs {
		for n, id := range m {
			ids = append(ids, idEntry{string(k), n, id})
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i].Kind != ids[j].Kind {
			return ids[i].Kind < ids[j].Kind
		}
		return ids[i].Name < ids[j].Name
	})
	st := *l.State
	st.Dir, st.Files = "", nil
	// encoding/json sorts map keys; slices are sorted by the providers.
	b, err := json.Marshal(struct {
		State *spec.State
		IDs   []idEntry
	}{&st, ids})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// id returns the server id of an object: created in this run, else live.
func (p *Pass) id(kind spec.Kind, name string) string {
	p.mu.Lock()
	id := p.ids[kind][name]
	p.mu.Unlock()
	if id != "" {
		return id
	}
	if p.Live != nil {
		return p.Live.ID(kind, name)
	}
	return ""
}

func (p *Pass) setID(kind spec.Kind, name, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = map[spec.Kind]map[string]string{}
	}
	if p.ids[kind] == nil {
		p.ids[kind] = map[string]string{}
	}
	p.ids[kind][name] = id
}

// secret resolves a secret reference (empty for a nil or zero one).
func (p *Pass) secret(ctx context.Context, ref *spec.SecretRef) (string, error) {
	if ref == nil || ref.IsZero() {
		return "", nil
	}
	return p.Providers.Resolve(ctx, *ref)
}
