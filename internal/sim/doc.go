// Package sim is wso2sim: the APIM 4.5 simulator (internal/sim/apim) and
// the IS 7.1 simulator (internal/sim/is) wired together and served on two
// listeners, behind fault injection (latency, 5xx, 429 bursts, connection
// resets), a per-server concurrency cap, counters, a bounded request log
// and the /_sim/ control API.
//
// Tests use Start (or contract.Start, which also validates every exchange
// against the official specs); `wso2sync sim` uses Serve; benchmarks use
// GenerateEstate. The seed format, the --faults syntax and the control API
// are documented in README.md beside this file.
package sim
