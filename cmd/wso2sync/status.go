package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/daemon"
)

func newStatusCmd(g *globals) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running 'wso2sync run' daemon is doing",
		Long: `status asks a daemon's GET /status and prints it for people: the source and
revision, readiness, the last pass (result, plan, changes applied, drift,
errors, unmanaged objects) and the recent passes. --output json prints the
daemon's JSON as is.

Exit status: 0 the daemon answered, 1 it did not.`,
		Example: `  wso2sync status --url http://localhost:8080
  wso2sync status --url http://wso2sync.platform.svc:8080 -o json | jq .lastPass.result`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), g, url)
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "the daemon's base URL (its --listen address)")
	return cmd
}

func runStatus(ctx context.Context, g *globals, base string) error {
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
	printStatus(g.stdout, st, time.Now())
	return nil
}

func printStatus(w io.Writer, st daemon.Status, now time.Time) {
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	}
	ready := "no"
	if st.Ready {
		ready = "yes"
	}
	fmt.Fprintf(w, "wso2sync %s, up since %s\n", st.Version, ago(st.Started))
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
	if st.Source.Commit != "" {
		fmt.Fprintf(w, "revision:  %s %s\n", st.Source.Short(), st.Source.Message)
	}
	if st.Running != nil {
		fmt.Fprintf(w, "running:   pass %s (%s) since %s\n", st.Running.ID, st.Running.Reason, ago(st.Running.Start))
	}
	if !st.NextPass.IsZero() {
		fmt.Fprintf(w, "next pass: in %s (interval %s)\n", st.NextPass.Sub(now).Round(time.Second), st.Interval)
	}
	if st.ConsecutiveFailures > 0 {
		fmt.Fprintf(w, "failures:  %d in a row\n", st.ConsecutiveFailures)
	}
	if st.LastSuccess != nil {
		fmt.Fprintf(w, "last good: %s (pass %s)\n", ago(st.LastSuccess.Start), st.LastSuccess.ID)
	}
	if lp := st.LastPass; lp != nil {
		fmt.Fprintf(w, "\nlast pass %s: %s, %s, took %s (%s)\n", lp.ID, lp.Result, ago(lp.Start), lp.Duration, lp.Reason)
		if lp.Revision.Commit != "" {
			fmt.Fprintf(w, "  at %s\n", lp.Revision.Short())
		}
		p := lp.Plan
		fmt.Fprintf(w, "  plan: %d to create, %d to update, %d to replace, %d to delete, %d unchanged\n", p.Create, p.Update, p.Replace, p.Delete, p.NoOp)
		for _, k := range sortedKeys(lp.Applied) {
			for _, a := range sortedKeys(lp.Applied[k]) {
				fmt.Fprintf(w, "  applied: %s %s ×%d\n", k, a, lp.Applied[k][a])
			}
		}
		for _, k := range sortedKeys(lp.Drift) {
			fmt.Fprintf(w, "  drift: %s ×%d\n", k, lp.Drift[k])
		}
		if lp.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", lp.Error)
		}
		for _, e := range lp.Errors {
			fmt.Fprintf(w, "  - %s\n", e)
		}
		for _, e := range lp.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", e)
		}
		if len(lp.Unmanaged) > 0 {
			fmt.Fprintf(w, "  unmanaged (%d):", len(lp.Unmanaged))
			for _, u := range lp.Unmanaged {
				fmt.Fprintf(w, " %s/%s", u.Kind, u.Name)
			}
			fmt.Fprintln(w)
		}
	}
	if len(st.History) > 1 {
		fmt.Fprintln(w, "\nrecent passes:")
		for _, h := range st.History {
			commit := h.Commit
			if len(commit) > 12 {
				commit = commit[:12]
			}
			fmt.Fprintf(w, "  %s  %-8s %-9s %-12s changes %d, applied %d, %s  (%s)\n", h.ID, ago(h.Start), h.Result, commit, h.Changes, h.Applied, h.Duration, h.Reason)
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
