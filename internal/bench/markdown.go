package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Markers delimit the generated part of BENCHMARKS.md.
const (
	mdBegin = "<!-- bench:results:begin (written by go run ./internal/bench) -->"
	mdEnd   = "<!-- bench:results:end -->"
)

// Machine describes the host: nproc, memory (free -h) and CPU model.
func Machine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- nproc: %d (GOMAXPROCS %d), %s/%s, %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if cpu := cpuModel(); cpu != "" {
		fmt.Fprintf(&b, "- CPU: %s\n", cpu)
	}
	if out, err := exec.Command("free", "-h").Output(); err == nil {
		b.WriteString("- memory (`free -h`):\n\n```\n" + strings.TrimRight(string(out), "\n") + "\n```\n")
	}
	return b.String()
}

// LoadAverage is the first three fields of /proc/loadavg.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// UpdateMarkdown replaces the generated section of path (between the
// markers) with the latest table, the per-scenario notes and the machine.
// A file without the markers gets the section appended.
func UpdateMarkdown(path string, recs []Record, notes []string, cfg Config) error {
	var sec strings.Builder
	sec.WriteString(mdBegin + "\n")
	fmt.Fprintf(&sec, "Latest run: %s, latency %s per call, server concurrency cap %d (wso2sync's client limit set to the same).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cfg.Latency, cfg.ServerConcurrency)
	sec.WriteString(MarkdownTable(recs))
	sec.WriteString("\nMachine:\n\n" + Machine())
	fmt.Fprintf(&sec, "- load average (1, 5, 15 min; /proc/loadavg) at the start of the run: %s; at the end: %s (the machine is shared: other processes' load is in every timing)\n",
		cfg.LoadAtStart, LoadAverage())
	if len(notes) > 0 {
		sec.WriteString("\nWhere the calls went (simulator route counters, busiest first):\n\n")
		for _, n := range notes {
			sec.WriteString("- " + n + "\n")
		}
	}
	sec.WriteString(mdEnd + "\n")
	return replaceSection(path, mdBegin, mdEnd, sec.String())
}

// replaceSection replaces the part of path from begin to end (markers
// included) with sec, or appends sec when the markers are missing.
func replaceSection(path, begin, end, sec string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i >= 0 && j > i {
		s = s[:i] + sec + strings.TrimPrefix(s[j+len(end):], "\n")
	} else {
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += sec
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
