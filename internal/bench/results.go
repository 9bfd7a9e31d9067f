package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Scenarios of issue 10.
const (
	ScenarioNoop       = "noop-plan"
	ScenarioApplyEmpty = "apply-empty"
	ScenarioApply1pct  = "apply-1pct"
	ScenarioNaive      = "naive-noop-plan"
)

// Record is one line of bench-results.json: exactly the fields issue 10
// lists. SpeedupVsNaive is set on noop-plan records only (null elsewhere).
type Record struct {
	Size              string   `json:"size"`
	Scenario          string   `json:"scenario"`
	WallS             float64  `json:"wall_s"`
	Calls             int64    `json:"calls"`
	Floor             int64    `json:"floor"`
	Writes            int64    `json:"writes"`
	PeakRSSMiB        float64  `json:"peak_rss_mib"`
	SpeedupVsNaive    *float64 `json:"speedup_vs_naive"`
	LatencyMS         float64  `json:"latency_ms"`
	ServerConcurrency int      `json:"server_concurrency"`
}

// WriteJSON writes the records as an indented JSON list.
func WriteJSON(path string, recs []Record) error {
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func ratio(calls, floor int64) string {
	if floor == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(calls)/float64(floor))
}

// WriteTable prints the records as an aligned table.
func WriteTable(w io.Writer, recs []Record) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tscenario\twall\tcalls\tfloor\tcalls/floor\twrites\tRSS MiB\tspeed-up\t")
	for _, r := range recs {
		sp := "-"
		if r.SpeedupVsNaive != nil {
			sp = fmt.Sprintf("%.1f×", *r.SpeedupVsNaive)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2fs\t%d\t%d\t%s\t%d\t%.0f\t%s\t\n", r.Size, r.Scenario, r.WallS, r.Calls, r.Floor,
			ratio(r.Calls, r.Floor), r.Writes, r.PeakRSSMiB, sp)
	}
	tw.Flush()
}

// MarkdownTable renders the records for BENCHMARKS.md.
func MarkdownTable(recs []Record) string {
	var b strings.Builder
	b.WriteString("| size | scenario | wall | calls | floor | calls/floor | writes | peak RSS MiB | speed-up vs naive |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range recs {
		sp := ""
		if r.SpeedupVsNaive != nil {
			sp = fmt.Sprintf("%.1f×", *r.SpeedupVsNaive)
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f s | %d | %d | %s | %d | %.0f | %s |\n", r.Size, r.Scenario, r.WallS, r.Calls,
			r.Floor, ratio(r.Calls, r.Floor), r.Writes, r.PeakRSSMiB, sp)
	}
	return b.String()
}
