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
	ScenarioListOnly   = "list-only-noop-plan"
	ScenarioDaemon     = "daemon-20-noop-passes"
)

// Record is one line of bench-results.json: the fields issue 10 lists,
// and issue 17's floor time (FloorTimeS, WallPerFloorTime: wall ÷ floor
// time) and second baseline. The speed-ups are set on noop-plan records
// only (null elsewhere, and where the baseline did not run).
type Record struct {
	Size              string   `json:"size"`
	Scenario          string   `json:"scenario"`
	WallS             float64  `json:"wall_s"`
	Calls             int64    `json:"calls"`
	Floor             int64    `json:"floor"`
	FloorTimeS        float64  `json:"floor_time_s"`
	WallPerFloorTime  float64  `json:"wall_per_floor_time"`
	Writes            int64    `json:"writes"`
	PeakRSSMiB        float64  `json:"peak_rss_mib"`
	SpeedupVsNaive    *float64 `json:"speedup_vs_naive"`
	SpeedupVsListOnly *float64 `json:"speedup_vs_list_only"`
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
	fmt.Fprintln(tw, "size\tscenario\twall\tfloor time\twall/floor time\tcalls\tfloor\tcalls/floor\twrites\tRSS MiB\tvs naive\tvs list-only\t")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%.2fs\t%.2fs\t%.2f\t%d\t%d\t%s\t%d\t%.0f\t%s\t%s\t\n", r.Size, r.Scenario, r.WallS, r.FloorTimeS,
			r.WallPerFloorTime, r.Calls, r.Floor, ratio(r.Calls, r.Floor), r.Writes, r.PeakRSSMiB, speedup(r.SpeedupVsNaive, "-"),
			speedup(r.SpeedupVsListOnly, "-"))
	}
	tw.Flush()
}

// MarkdownTable renders the records for BENCHMARKS.md.
func MarkdownTable(recs []Record) string {
	var b strings.Builder
	b.WriteString("| size | scenario | wall | floor time | wall / floor time | calls | floor | calls/floor | writes | peak RSS MiB | speed-up vs naive | vs list-only |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range recs {
		fmt.Fprintf(&b, "| %s | %s | %.2f s | %.2f s | %.2f | %d | %d | %s | %d | %.0f | %s | %s |\n", r.Size, r.Scenario, r.WallS,
			r.FloorTimeS, r.WallPerFloorTime, r.Calls, r.Floor, ratio(r.Calls, r.Floor), r.Writes, r.PeakRSSMiB,
			speedup(r.SpeedupVsNaive, ""), speedup(r.SpeedupVsListOnly, ""))
	}
	return b.String()
}

func speedup(v *float64, none string) string {
	if v == nil {
		return none
	}
	return fmt.Sprintf("%.1f×", *v)
}
