package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Modes of apply (spec.mode of the environment is the default).
const (
	modeDryRun  = "dry-run"
	modeEnforce = "enforce"
)

type applyFlags struct {
	planFlags
	mode         string
	autoApprove  bool
	planFile     string
	allowDeletes int
	concurrency  int
	// allowUnsealed accepts losing generated secrets with no recipient.
	allowUnsealed bool
	seal          sealFlags
	// rotate lists keys to rotate in this run (wso2sync rotate).
	rotate []reconcile.RotateRequest
	// verify runs 'wso2sync verify' after an enforcing apply.
	verify      bool
	verifyFlags verifyFlags
}

func newApplyCmd(g *globals) *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make an environment's servers match its manifests",
		Long: `apply plans as 'wso2sync plan' does and, in enforce mode, performs the
changes in dependency order (certificates → key managers, policies, roles →
applications, users → application keys → subscriptions; deletes bottom-up),
with a lock per environment, a journal of every write and an inventory of
what wso2sync created (only that is ever pruned).

The mode is the environment's spec.mode unless --mode says otherwise:
dry-run prints the plan and writes nothing; enforce applies it after a
confirmation (type 'yes' on a terminal, or pass --auto-approve).
--plan FILE applies a plan saved by 'wso2sync plan --out FILE', only if the
live state (and the manifests) are still what it was computed from.
Deletes beyond spec.prune.maxDeletes refuse the whole apply unless
--allow-deletes N allows at least that many. A plan that would generate
consumer secrets (new keys, rotations) with no seal recipient is refused
before any write, since APIM shows a generated secret only once: set
spec.seal.recipients or --seal-recipient, or pass --allow-unsealed-secrets.

Exit status: 0 everything applied (or nothing to do), 1 anything failed or
was refused.`,
		Example: `  wso2sync apply --env examples/environments/dev --mode dry-run
  wso2sync apply --env envs/prod --mode enforce --auto-approve
  wso2sync plan --env envs/prod --out prod.plan.json && wso2sync apply --env envs/prod --plan prod.plan.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "", "dry-run or enforce (default: the environment's spec.mode)")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking (for CI and scripts)")
	fl.StringVar(&f.planFile, "plan", "", "apply a plan saved by 'wso2sync plan --out' (refused if the live state changed)")
	fl.IntVar(&f.allowDeletes, "allow-deletes", 0, "allow up to N deletes in this run, beyond spec.prune.maxDeletes")
	fl.IntVar(&f.concurrency, "concurrency", apply.DefaultConcurrency, "writes in flight at once inside one level")
	fl.BoolVar(&f.allowUnsealed, "allow-unsealed-secrets", false, "apply even when consumer secrets would be generated with no seal recipient (they are then lost: neither printed nor stored)")
	fl.StringVar(&f.format, "format", "text", "view of the plan on stdout: text or markdown (--output json for JSON)")
	fl.StringVar(&f.markdown, "markdown", "", "also write the Markdown view of the plan to this file")
	f.seal.addRecipients(fl)
	f.seal.addIdentity(fl)
	fl.BoolVar(&f.verify, "verify", false, "after an enforcing apply, prove each credential works as 'wso2sync verify' does (exit 1 if a check fails)")
	f.verifyFlags.add(fl)
	return cmd
}

func runApply(ctx context.Context, g *globals, f applyFlags) error {
	g.progress = newTermProgress(g)
	defer g.progress.done()
	// A dry run only plans: its read can start during the load.
	p, err := loadPass(ctx, g, &f.seal, f.rotate, func(env *spec.Environment) bool {
		return cmpOr(f.mode, cmpOr(string(env.Spec.Mode), modeDryRun)) == modeDryRun
	})
	if err != nil {
		return err
	}
	env := p.State.Environment
	mode := f.mode
	if mode == "" {
		mode = cmpOr(string(env.Spec.Mode), modeDryRun)
	}
	if mode != modeDryRun && mode != modeEnforce {
		return &cliError{msg: fmt.Sprintf("unknown --mode %q", mode), hint: "use --mode dry-run or --mode enforce", code: exitError}
	}

	if mode == modeDryRun {
		inv, err := loadInventory(g, p)
		if err != nil {
			return err
		}
		plan, err := p.MakePlan(ctx, inv)
		g.progress.done()
		if err != nil {
			return passError(g, err)
		}
		if err := renderPlan(g, plan, f.planFlags); err != nil {
			return err
		}
		if g.output != "json" {
			fmt.Fprintf(g.stdout, "\ndry-run: nothing applied (mode %s; pass --mode enforce to apply)\n", mode)
		}
		if f.verify {
			fmt.Fprintf(g.stderr, "note: --verify runs after an enforcing apply; this dry run applied nothing (run 'wso2sync verify --env %s' to check the servers as they are)\n", g.envDir)
		}
		return nil
	}

	// Enforce: the pass the daemon runs too (reconcile.Pass.Enforce); this
	// command adds the rendering, the saved-plan check and the confirmation.
	var start time.Time
	res, err := p.Enforce(ctx, reconcile.EnforceOptions{Command: "apply", AllowDeletes: f.allowDeletes, AllowUnsealed: f.allowUnsealed,
		Concurrency: f.concurrency, Progress: g.progress.steps(progress(g)),
		OnStaleLock: func(st apply.LockInfo) {
			fmt.Fprintf(g.stderr, "note: took over a stale lock (pid %d on %s, %s)\n", st.PID, st.Host, st.Command)
		},
		OnRecovery: func(rec *apply.Recovery) { fmt.Fprintln(g.stderr, rec.Report()) },
		BeforeApply: func(plan *diff.Plan) error {
			g.progress.done()
			if err := checkSavedPlan(g, f.planFile, plan); err != nil {
				return err
			}
			if err := renderPlan(g, plan, f.planFlags); err != nil {
				return err
			}
			if plan.HasChanges() && !f.autoApprove && f.planFile == "" {
				if err := confirm(g); err != nil {
					return err
				}
			}
			start = time.Now()
			g.progress.applying(countChanges(plan))
			return nil
		}})
	g.progress.done()
	if err != nil {
		var se *reconcile.StageError
		if errors.As(err, &se) && se.Stage == reconcile.StageDeletes && res.Plan != nil {
			_ = renderPlan(g, res.Plan, f.planFlags)
		}
		return passError(g, err)
	}
	out := g.stdout
	if g.output == "json" {
		out = g.stderr
	}
	code := 0
	if res.Result != nil {
		fmt.Fprintln(out)
		fmt.Fprintf(out, "%s (%s, %s)\n", res.Result.Report(), callSummary(p), time.Since(start).Round(time.Millisecond))
		fmt.Fprintln(out, sealSummary(p))
		code = res.Result.ExitCode()
	}
	if f.verify && code == 0 {
		// Verify what the apply left (or found already converged).
		rep, err := runVerify(ctx, g, p, f.verifyFlags)
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
		if err := renderVerify(g, out, rep, f.format); err != nil {
			return err
		}
		code = rep.ExitCode()
	}
	if code != 0 {
		return &cliError{code: code, reported: true}
	}
	return nil
}

// checkSavedPlan refuses a plan saved by 'wso2sync plan --out' (--plan
// FILE) unless the live state and the manifests are still what it was
// computed from.
func checkSavedPlan(g *globals, file string, plan *diff.Plan) error {
	if file == "" {
		return nil
	}
	sp, err := readSavedPlan(file)
	if err != nil {
		return err
	}
	if sp.LiveHash != plan.LiveHash {
		return &cliError{msg: fmt.Sprintf("the live state changed since %s was planned", file),
			hint: "run 'wso2sync plan --env " + g.envDir + " --out " + file + "' again and review the new plan", code: exitError}
	}
	if !samePlan(sp.Plan, plan) {
		return &cliError{msg: fmt.Sprintf("the manifests changed since %s was planned", file),
			hint: "run 'wso2sync plan --env " + g.envDir + " --out " + file + "' again and review the new plan", code: exitError}
	}
	return nil
}

// countChanges is how many steps an apply of plan runs.
func countChanges(plan *diff.Plan) int {
	n := 0
	for _, c := range plan.Changes {
		if c.Action != diff.NoOp {
			n++
		}
	}
	return n
}

// confirm asks on a terminal; without one it refuses.
func confirm(g *globals) error {
	if !isTerminal(os.Stdin) {
		return &cliError{msg: "apply needs a confirmation and stdin is not a terminal",
			hint: "review the plan, then run again with --auto-approve (or apply a saved plan with --plan)", code: exitError}
	}
	fmt.Fprint(g.stderr, "\nDo you want to apply these changes? Only 'yes' is accepted: ")
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return &cliError{msg: "apply cancelled", code: exitError}
	}
	return nil
}

// progress reports each step: a line on a terminal, structured logs else.
func progress(g *globals) func(apply.Event) {
	tty := isTerminal(g.stderr)
	return func(e apply.Event) {
		if tty {
			switch e.Type {
			case apply.EventStart:
				fmt.Fprintf(g.stderr, "%s: %s…\n", e.Ref, e.Action)
			case apply.EventApplied:
				fmt.Fprintf(g.stderr, "%s: %s done (%s)\n", e.Ref, e.Action, e.Elapsed.Round(time.Millisecond))
			default:
				fmt.Fprintf(g.stderr, "%s: %s %s: %s\n", e.Ref, e.Action, e.Type, e.Message)
			}
			return
		}
		if e.Type == apply.EventStart {
			g.log.Debug("step", "event", string(e.Type), "object", e.Ref.String(), "action", string(e.Action))
			return
		}
		g.log.Info("step", "event", string(e.Type), "object", e.Ref.String(), "action", string(e.Action),
			"message", e.Message, "elapsed", e.Elapsed)
	}
}

func stateError(err error, hint string) error {
	if ae, ok := err.(*apply.Error); ok {
		return &cliError{msg: ae.Message, hint: ae.Hint, code: exitError}
	}
	return &cliError{msg: err.Error(), hint: hint, code: exitError}
}

func cmpOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
