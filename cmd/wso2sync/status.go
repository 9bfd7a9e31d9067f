package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/daemon"
	"github.com/wso2sync/wso2sync/internal/verify"
)

func newStatusCmd(g *globals) *cobra.Command {
	var url string
	var all bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running 'wso2sync run' daemon is doing",
		Long: `status asks a daemon's GET /status and prints what its status page shows:
the source and revision, readiness, the estate (counts by state, then every
object that is not in sync with its field diffs and manifest line, and the
unmanaged objects; --all lists the objects in sync too), the last pass
(trigger, plan, changes applied and failed, error and hint) and the recent
passes. --output json prints the daemon's JSON as is (its "estate" holds
every object).

Exit status: 0 the daemon answered, 1 it did not.`,
		Example: `  wso2sync status --url http://localhost:8080
  wso2sync status --url http://wso2sync.platform.svc:8080 -o json | jq .lastPass.result`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), g, url, all)
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "the daemon's base URL (its --listen address)")
	cmd.Flags().BoolVar(&all, "all", false, "list the objects in sync and every unmanaged object too")
	return cmd
}

func runStatus(ctx context.Context, g *globals, base string, all bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fail := func(msg string) error {
		return &cliError{msg: msg, hint: "check --url: it is the address the daemon was started with (--listen)", code: exitError}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/status", nil)
	if err != nil {
		return fail(err.Error())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(fmt.Sprintf("no daemon answers at %s: %v", base, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fail(err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Sprintf("%s/status answered %s", base, resp.Status))
	}
	if g.output == "json" {
		_, err := g.stdout.Write(body)
		return err
	}
	var st daemon.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fail(fmt.Sprintf("%s/status is not a wso2sync daemon's status: %v", base, err))
	}
	printStatus(g.stdout, st, time.Now(), all)
	return nil
}

func printStatus(w io.Writer, st daemon.Status, now time.Time, all bool) {
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := now.Sub(t).Round(time.Second)
		if d < time.Second {
			return "just now"
		}
		return daemon.HumanDuration(d) + " ago"
	}
	ready := "no"
	if st.Ready {
		ready = "yes"
	}
	head := "wso2sync " + st.Version
	if e := st.Estate; e != nil && e.Environment != "" {
		head += ", environment " + e.Environment
	}
	if !st.Started.IsZero() {
		head += ", up " + daemon.HumanDuration(now.Sub(st.Started).Round(time.Second))
	}
	fmt.Fprintln(w, head)
	fmt.Fprintf(w, "ready:     %s (%s)\n", ready, st.ReadyReason)
	fmt.Fprintf(w, "mode:      %s\n", cmpOr(st.Mode, "from the environment"))
	src := st.Source.Source + " " + st.Source.URL
	if st.Source.Ref != "" {
		src += " ref " + st.Source.Ref
	}
	if st.Source.Path != "" {
		src += " path " + st.Source.Path
	}
	fmt.Fprintf(w, "source:    %s\n", src)
	if r := revisionLine(st.Source); r != "" {
		fmt.Fprintf(w, "revision:  %s\n", r)
	}
	if st.Running != nil {
		fmt.Fprintf(w, "running:   pass %s (%s) since %s\n", st.Running.ID, st.Running.Reason, ago(st.Running.Start))
	}
	if !st.NextPass.IsZero() {
		fmt.Fprintf(w, "next pass: in %s (every %s)\n", daemon.HumanDuration(st.NextPass.Sub(now).Round(time.Second)), st.Interval)
	}
	if st.ConsecutiveFailures > 0 {
		fmt.Fprintf(w, "failures:  %d in a row\n", st.ConsecutiveFailures)
	}
	if st.LastSuccess != nil {
		fmt.Fprintf(w, "last good: %s (pass %s)\n", ago(st.LastSuccess.Start), st.LastSuccess.ID)
	}
	if v := st.LastVerify; v != nil && v.Report != nil {
		result := "passed"
		if v.Failed() {
			result = fmt.Sprintf("%d FAILED", v.Summary.Failed)
		}
		fmt.Fprintf(w, "verified:  %s, %d verified, %d skipped (after pass %s, %s)\n", result, v.Summary.Verified, v.Summary.Skipped, v.Pass, ago(v.Time))
		for _, c := range v.Checks {
			if c.Status == verify.Failed {
				fmt.Fprintf(w, "  x %s %s: %s\n", c.Kind, c.Name, c.Message)
				if c.Hint != "" {
					fmt.Fprintf(w, "    hint: %s\n", c.Hint)
				}
			}
		}
	}
	if e := st.Estate; e != nil {
		printEstate(w, e, ago, all)
	}
	if lp := st.LastPass; lp != nil {
		fmt.Fprintf(w, "\nlast pass %s: %s, %s, took %s (trigger: %s)\n", lp.ID, lp.Result, ago(lp.Start), lp.Duration, lp.Reason)
		if r := revisionLine(lp.Revision); r != "" {
			fmt.Fprintf(w, "  revision: %s\n", r)
		}
		p := lp.Plan
		if lp.Result == daemon.ResultSuccess || p.Changes()+p.NoOp > 0 {
			fmt.Fprintf(w, "  plan: %d to create, %d to update, %d to replace, %d to delete, %d unchanged\n", p.Create, p.Update, p.Replace, p.Delete, p.NoOp)
		}
		for _, k := range sortedKeys(lp.Applied) {
			for _, a := range sortedKeys(lp.Applied[k]) {
				fmt.Fprintf(w, "  applied: %s %s ×%d\n", k, a, lp.Applied[k][a])
			}
		}
		if lp.FailedSteps > 0 {
			fmt.Fprintf(w, "  failed: %d change(s)\n", lp.FailedSteps)
		}
		if lp.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", lp.Error)
		}
		if lp.Hint != "" {
			fmt.Fprintf(w, "  hint: %s\n", lp.Hint)
		}
		for _, e := range lp.Errors {
			fmt.Fprintf(w, "  - %s\n", e)
		}
		for _, e := range lp.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", e)
		}
	}
	if len(st.History) > 0 {
		fmt.Fprintln(w, "\nrecent passes:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PASS\tSTARTED\tTRIGGER\tREVISION\tRESULT\tPLANNED\tAPPLIED\tFAILED\tTOOK")
		for _, h := range st.History {
			planned := "-"
			if h.Planned {
				planned = fmt.Sprint(h.Changes)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", h.ID, ago(h.Start), h.Reason, cmpOr(h.Revision, "-"), h.Result, planned, h.Applied, h.Failed, h.Duration)
		}
		_ = tw.Flush()
		for _, h := range st.History {
			if h.Error == "" {
				continue
			}
			fmt.Fprintf(w, "  %s: %s\n", h.ID, h.Error)
			if h.Hint != "" {
				fmt.Fprintf(w, "    hint: %s\n", h.Hint)
			}
		}
	}
}

// revisionLine is a revision for people: the commit with its author,
// message and forge link, or the folder's digest.
func revisionLine(r daemon.Revision) string {
	switch {
	case r.Commit != "":
		s := r.Short()
		if r.Author != "" {
			s += " by " + r.Author
		}
		if r.Message != "" {
			s += ": " + r.Message
		}
		if r.CommitURL != "" {
			s += " (" + r.CommitURL + ")"
		}
		return s
	case r.Digest != "":
		return fmt.Sprintf("folder content %s (%d files)", r.Digest, r.Files)
	}
	return ""
}

// stateMarks are the estate's markers, in the spirit of the plan's
// + ~ - (a terminal without colour still tells them apart).
var stateMarks = map[string]string{daemon.StateInSync: "=", daemon.StateDrifted: "~", daemon.StateBlocked: "!",
	daemon.StateFailed: "x", daemon.StatePending: "?"}

// printEstate prints the counts, then per kind every object that is not
// in sync (and, with all, those that are) with its field diffs and
// manifest line, then the unmanaged objects.
func printEstate(w io.Writer, e *daemon.Estate, ago func(time.Time) string, all bool) {
	var counts []string
	for _, c := range e.CountsInOrder() {
		counts = append(counts, fmt.Sprintf("%d %s", c.Count, daemon.StateLabel(c.State)))
	}
	counts = append(counts, fmt.Sprintf("%d unmanaged", e.Unmanaged))
	fmt.Fprintf(w, "\nestate (pass %s, %s, %s): %s\n", e.Pass, ago(e.Time), e.Mode, strings.Join(counts, ", "))
	hidden := 0
	for _, k := range e.Kinds {
		var shown []daemon.ObjectStatus
		for _, o := range k.Objects {
			if all || o.State != daemon.StateInSync || o.Corrected {
				shown = append(shown, o)
			} else {
				hidden++
			}
		}
		if len(shown) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s\n", k.Kind)
		for _, o := range shown {
			line := fmt.Sprintf("    %s %s: %s", stateMarks[o.State], o.Name, daemon.StateLabel(o.State))
			switch {
			case o.Corrected:
				line += " (corrected: " + o.Action + ")"
			case o.Action != "":
				line += " (" + o.Action + ")"
			}
			if o.Message != "" {
				line += ": " + o.Message
			}
			if o.Source != "" {
				line += "  # " + o.Source
			}
			fmt.Fprintln(w, line)
			for _, f := range o.Fields {
				fl := fmt.Sprintf("        %s: %s → %s", f.Path, f.Before, f.After)
				if f.Source != "" && f.Source != o.Source {
					fl += "  # " + f.Source
				}
				fmt.Fprintln(w, fl)
			}
		}
	}
	if hidden > 0 {
		fmt.Fprintf(w, "  (%d in sync not listed; --all lists them)\n", hidden)
	}
	if n := len(e.UnmanagedObjects); n > 0 {
		fmt.Fprintf(w, "  unmanaged (%d, left alone):\n", n)
		for i, u := range e.UnmanagedObjects {
			if i == 20 && !all {
				fmt.Fprintf(w, "    … and %d more (--all lists them)\n", n-i)
				break
			}
			fmt.Fprintf(w, "    %s %s: %s\n", u.Kind, u.Name, u.Reason)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
