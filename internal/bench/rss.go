package main

import (
	"bufio"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
)

// PeakRSSMiB is the process's peak resident set (VmHWM in
// /proc/self/status) in MiB; 0 where /proc is missing. The simulator runs
// in a child process unless BENCH_SIM=inprocess (simproc.go), so the
// figure is wso2sync's own.
func PeakRSSMiB() float64 { return vmHWM("/proc/self/status") }

// RSSMiB is the process's resident set now (VmRSS), in MiB.
func RSSMiB() float64 { return statusMiB("/proc/self/status", "VmRSS:") }

// vmHWM reads VmHWM (MiB) from a /proc/<pid>/status file.
func vmHWM(path string) float64 { return statusMiB(path, "VmHWM:") }

// statusMiB reads a kB field of a /proc/<pid>/status file, in MiB.
func statusMiB(path, field string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, field); ok {
			fs := strings.Fields(v)
			if len(fs) == 0 {
				return 0
			}
			kb, err := strconv.ParseFloat(fs[0], 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// ResetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0: writing 5 to
// /proc/self/clear_refs), so that each size reports its own peak. It
// reports whether the reset worked.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// Allocs reads the cumulative heap allocations (bytes and objects) from
// runtime/metrics.
func Allocs() (bytes, objects uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		bytes = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		objects = s[1].Value.Uint64()
	}
	return bytes, objects
}
