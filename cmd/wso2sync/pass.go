package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
	"github.com/mattn/go-isatty"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/reconcile"
)

// Exit code of plan when the plan has changes (terraform's
// -detailed-exitcode).
const exitChanges = 2

// planFlags are the rendering flags plan and apply share.
type planFlags struct {
	format   string // text | markdown (--output json wins)
	markdown string // also write the Markdown view to this file
}

// Loading a pass: loadPass (secrets.go) loads the environment and opens
// its providers with the secrets wiring; Pass.MakePlan plans (with secret
// drift and rotations) and Pass.Enforce is the enforcing pass.

// loadInventory reads the environment's inventory (read-only use by plan).
func loadInventory(g *globals, p *reconcile.Pass) (*apply.Inventory, error) {
	inv, err := apply.LoadInventory(apply.StateDir(g.envDir), p.State.Name)
	if err != nil {
		return nil, &cliError{msg: err.Error(), hint: "the state directory " + apply.StateDir(g.envDir) + " belongs to another environment or is damaged", code: exitError}
	}
	return inv, nil
}

// renderPlan writes the plan in the chosen view to stdout, and the
// Markdown view to --markdown FILE when asked.
func renderPlan(g *globals, plan *diff.Plan, f planFlags) error {
	opts := diff.RenderOptions{Color: colour(g.stdout), BaseDir: baseDir(g.envDir)}
	var err error
	switch {
	case g.output == "json":
		err = diff.RenderJSON(g.stdout, plan, opts)
	case f.format == "markdown":
		err = diff.RenderMarkdown(g.stdout, plan, opts)
	case f.format == "" || f.format == "text":
		err = diff.RenderText(g.stdout, plan, opts)
	default:
		return &cliError{msg: fmt.Sprintf("unknown --format %q", f.format), hint: "use --format text or --format markdown", code: exitError}
	}
	if err != nil {
		return err
	}
	if f.markdown != "" {
		var b bytes.Buffer
		if err := diff.RenderMarkdown(&b, plan, opts); err != nil {
			return err
		}
		if err := renameio.WriteFile(f.markdown, b.Bytes(), 0o644); err != nil {
			return &cliError{msg: "writing " + f.markdown + ": " + err.Error(), code: exitError}
		}
	}
	return nil
}

// baseDir makes manifest paths in the plan relative to the working
// directory when they are below it.
func baseDir(envDir string) string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(envDir)
	if err != nil {
		return ""
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !filepath.IsAbs(rel) && len(rel) >= 2 && rel[:2] == ".." {
		return ""
	}
	return wd
}

// colour reports whether w is a terminal and NO_COLOR is unset.
func colour(w io.Writer) bool { return isTerminal(w) && os.Getenv("NO_COLOR") == "" }

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// callSummary is the last line of plan and apply.
func callSummary(p *reconcile.Pass) string {
	c := p.Providers.Calls()
	return fmt.Sprintf("reads %d, writes %d, retries %d", c.Reads, c.Writes, c.Retries)
}

// savedPlan is the file plan --out writes and apply --plan reads: the plan
// as data, with the hash of the live state it was computed from.
type savedPlan struct {
	Format      string     `json:"format"`
	Environment string     `json:"environment"`
	LiveHash    string     `json:"liveHash"`
	Plan        *diff.Plan `json:"plan"`
}

const savedPlanFormat = "wso2sync-plan/v1"

func writeSavedPlan(path string, plan *diff.Plan) error {
	b, err := json.MarshalIndent(savedPlan{Format: savedPlanFormat, Environment: plan.Environment,
		LiveHash: plan.LiveHash, Plan: plan}, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return &cliError{msg: "writing the plan: " + err.Error(), hint: "check that the directory of --out exists and is writable", code: exitError}
	}
	return nil
}

func readSavedPlan(path string) (*savedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &cliError{msg: "reading the plan: " + err.Error(), hint: "write one with 'wso2sync plan --out " + path + "'", code: exitError}
	}
	var sp savedPlan
	if err := json.Unmarshal(b, &sp); err != nil || sp.Format != savedPlanFormat || sp.Plan == nil {
		return nil, &cliError{msg: path + " is not a plan saved by 'wso2sync plan --out'", hint: "write one with 'wso2sync plan --out " + path + "'", code: exitError}
	}
	return &sp, nil
}

// samePlan compares two plans' changes as data (their JSON forms).
func samePlan(a, b *diff.Plan) bool {
	ja, err1 := json.Marshal(a.Changes)
	jb, err2 := json.Marshal(b.Changes)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}
