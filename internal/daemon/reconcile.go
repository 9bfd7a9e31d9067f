package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// ReconcileOptions configure the pass that `wso2sync run` uses.
type ReconcileOptions struct {
	// APIMURL and ISURL override the environment's URLs.
	APIMURL, ISURL string
	// AllowDirs are folders outside the source's root that manifests may
	// name files in (--allow-dir); the root is the checkout (git) or the
	// repository holding the folder (dir).
	AllowDirs []string
	// Providers is the base of the providers' options (transport tuning,
	// Resolve, OnSecret); Counter and Logger are set per pass.
	Providers providers.Options
	// Concurrency bounds the writes in flight inside one level.
	Concurrency int
	UserAgent   string
	// SealRecipients are the run's extra seal recipients (--seal-recipient,
	// $WSO2SYNC_SEAL_RECIPIENTS), added to the environment's
	// spec.seal.recipients: in enforce mode every generated or rotated
	// consumer secret is sealed to them before its step succeeds.
	SealRecipients []string
	// Identity is the age identity file that opens {sealed:} inputs
	// (--identity; empty: $WSO2SYNC_AGE_IDENTITY).
	Identity string
	// AllowUnsealed accepts that consumer secrets generated with no seal
	// recipient are lost (--allow-unsealed-secrets); without it an
	// enforcing pass refuses such a plan before any write.
	AllowUnsealed bool
	// Trust tunes the truststore files (--trust-root).
	Trust reconcile.TrustOptions
	// ValidationCache carries validated documents from pass to pass, so a
	// pass whose manifests did not change validates none of them again;
	// nil: Reconcile makes one (spec.DefaultValidationCacheSize).
	ValidationCache *spec.ValidationCache
	// Verify configures the verification run after an enforcing pass
	// that applied something (verify.go).
	Verify VerifyOptions
}

// Reconcile returns the PassFunc over internal/reconcile, the same pass
// `wso2sync plan` and `wso2sync apply --auto-approve` run: load and
// validate (invalid manifests: Invalid, nothing applied), read the live
// state, plan (with secret drift and rotations due), and in enforce mode
// reconcile.Pass.Enforce: take the environment's lock, resolve what an
// interrupted run left, check the prune guard and apply, sealing every
// generated or rotated secret, with the journal and inventory in the
// request's state directory.
func Reconcile(o ReconcileOptions) PassFunc {
	cache := o.ValidationCache
	if cache == nil {
		cache = spec.NewValidationCache(0)
	}
	return func(ctx context.Context, req PassRequest) (res PassResult, err error) {
		log := req.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		counter := &transport.Counter{}
		calls := &callCounter{}
		po := o.Providers
		po.Counter = counter
		po.Observer = calls
		po.Logger = log
		p, err := reconcile.Load(ctx, reconcile.Options{EnvDir: req.Dir, APIMURL: o.APIMURL, ISURL: o.ISURL, AllowDirs: o.AllowDirs,
			StateDir:  cmpOr(req.StateDir, apply.StateDir(req.Dir)),
			Providers: po, Logger: log, UserAgent: o.UserAgent, Trust: o.Trust,
			Secrets:         reconcile.SecretOptions{Recipients: o.SealRecipients, Identity: o.Identity, OutBase: req.OutputsDir},
			ValidationCache: cache,
			// A pass that only plans can read while the rest validates.
			ReadAhead: func(env *spec.Environment) bool {
				return cmpOr(req.Mode, string(env.Spec.Mode), string(spec.ModeDryRun)) != string(spec.ModeEnforce)
			}})
		if p != nil && p.LoadStats != nil {
			res.Validated, res.Reused = p.LoadStats.Validated, p.LoadStats.Reused
		}
		if p != nil && p.State != nil {
			res.WatchDirs = outside(req.Dir, p.State.Files)
			res.OutputDirs = p.Outputs()
			// Before any write: the source must know the pass's own
			// outputs when their change events arrive.
			if req.Writes != nil {
				req.Writes(res.OutputDirs)
			}
		}
		var le *reconcile.LoadError
		if errors.As(err, &le) {
			for _, d := range le.Diagnostics.Errors() {
				res.Errors = append(res.Errors, d.String())
			}
			return res, Invalid(err)
		}
		var se *reconcile.StageError
		if errors.As(err, &se) && se.Stage == reconcile.StageSecrets {
			// A bad seal recipient in the manifests: retrying cannot help.
			res.Errors = append(res.Errors, err.Error())
			return res, Invalid(err)
		}
		if err != nil {
			p.Close()
			return res, err
		}
		// The pass's connections end with it: a daemon making a pass a
		// minute would otherwise keep each pass's idle connections open
		// until the transport's idle timeout.
		defer p.Close()
		defer func() {
			res.Calls = calls.list()
			res.Retries = counter.Snapshot().Retries
			res.Concurrency = map[string]int{
				"apim": p.Providers.APIM.Transport().Limiter().Current(),
				"is":   p.Providers.IS.Transport().Limiter().Current(),
			}
		}()
		env := p.State.Environment
		mode := cmpOr(req.Mode, string(env.Spec.Mode), string(spec.ModeDryRun))
		res.Mode = mode
		res.Certificates = certificates(p.State)
		for _, d := range p.Diagnostics {
			if d.Severity != spec.SeverityError {
				res.Warnings = append(res.Warnings, d.String())
			}
		}
		stateDir := cmpOr(req.StateDir, apply.StateDir(req.Dir))

		if mode != string(spec.ModeEnforce) {
			inv, err := apply.LoadInventory(stateDir, p.State.Name)
			if err != nil {
				return res, err
			}
			plan, err := p.MakePlan(ctx, inv)
			if err != nil {
				return res, err
			}
			summarise(&res, plan)
			res.Estate = buildEstate(estateInput{plan: plan, pending: p.AwaitingApproval(), baseDir: req.Dir, mode: mode})
			return res, nil
		}
		er, err := p.Enforce(ctx, reconcile.EnforceOptions{StateDir: stateDir, Command: "run", Concurrency: o.Concurrency, AllowUnsealed: o.AllowUnsealed,
			Progress: func(e apply.Event) {
				if e.Type == apply.EventStart {
					log.Debug("step", "event", string(e.Type), "object", e.Ref.String(), "action", string(e.Action))
					return
				}
				log.Info("step", "event", string(e.Type), "object", e.Ref.String(), "action", string(e.Action),
					"message", e.Message, "elapsed", e.Elapsed)
			}})
		if er.Plan != nil {
			summarise(&res, er.Plan)
			in := estateInput{plan: er.Plan, result: er.Result, pending: p.AwaitingApproval(), baseDir: req.Dir, mode: mode}
			if se := (*reconcile.StageError)(nil); errors.As(err, &se) && se.Stage == reconcile.StageDeletes {
				in.deletesBlocked = err.Error()
			}
			res.Estate = buildEstate(in)
		}
		if err != nil {
			return res, err
		}
		r := er.Result
		if r == nil {
			return res, nil // nothing to do
		}
		res.Applied = map[string]map[string]int{}
		for _, s := range r.Applied {
			k := string(s.Ref.Kind)
			if res.Applied[k] == nil {
				res.Applied[k] = map[string]int{}
			}
			res.Applied[k][string(s.Action)]++
		}
		res.FailedSteps = len(r.Failed)
		for _, s := range r.Failed {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %s failed: %s", s.Ref, s.Action, s.Message))
		}
		for _, s := range r.NotAttempted {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %s not attempted: %s", s.Ref, s.Action, s.Message))
		}
		if r.Err != nil {
			res.Errors = append(res.Errors, r.Err.Error())
		}
		if len(r.Applied) > 0 {
			res.Verify = verifyPass(ctx, p, o.Verify, log)
		}
		if len(r.Failed) > 0 || r.Interrupted || r.Err != nil {
			if err := ctx.Err(); err != nil && r.Interrupted {
				return res, fmt.Errorf("%s: %w", r.Summary(), err)
			}
			return res, errors.New(r.Summary())
		}
		return res, nil
	}
}

func summarise(res *PassResult, plan *diff.Plan) {
	s := plan.Summary
	res.Plan = PlanSummary{Create: s.Create, Update: s.Update, Replace: s.Replace, Delete: s.Delete, NoOp: s.NoOp}
	for _, c := range plan.Changes {
		if c.Action == diff.NoOp {
			continue
		}
		if res.Drift == nil {
			res.Drift = map[string]int{}
		}
		res.Drift[string(c.Kind)]++
	}
	for _, u := range plan.Unmanaged {
		res.Unmanaged = append(res.Unmanaged, ObjectRef{Kind: string(u.Kind), Name: u.Name})
	}
	res.Warnings = append(res.Warnings, plan.Warnings...)
}

// certificates are the expiries of the certificates whose PEM the
// manifests hold (inline or in a file).
func certificates(st *spec.State) []Certificate {
	var out []Certificate
	for _, c := range st.Certificates {
		data := []byte(c.Spec.Source.PEM)
		if f := c.Spec.Source.File; f != "" {
			b, err := spec.ReadRegular(f, c.ResolvePath("spec.source.file", f), spec.MaxPEMFile)
			if err != nil {
				continue
			}
			data = b
		}
		if len(data) == 0 {
			continue
		}
		certs, err := spec.ParseCertsPEM(data)
		if err != nil || len(certs) == 0 {
			continue
		}
		out = append(out, Certificate{Name: c.Metadata.Name, NotAfter: certs[0].NotAfter.UTC()})
	}
	return out
}

// outside returns the folders of files that are not under dir (bases an
// environment includes).
func outside(dir string, files []string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		d, err := filepath.Abs(filepath.Dir(f))
		if err != nil || seen[d] {
			continue
		}
		seen[d] = true
		if rel, err := filepath.Rel(abs, d); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// callCounter counts API calls by server and status.
type callCounter struct {
	mu sync.Mutex
	m  map[[2]string]int64
}

// ObserveRequest counts one HTTP attempt (transport.Observer); status 0
// is an attempt without a response.
func (c *callCounter) ObserveRequest(e transport.RequestEvent) {
	c.add(e.Server, strconv.Itoa(e.Status))
}

func (c *callCounter) add(server, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]int64{}
	}
	c.m[[2]string{server, status}]++
}

func (c *callCounter) list() []CallCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CallCount, 0, len(c.m))
	for k, n := range c.m {
		out = append(out, CallCount{Server: k[0], Status: k[1], Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Server != out[j].Server {
			return out[i].Server < out[j].Server
		}
		return out[i].Status < out[j].Status
	})
	return out
}
