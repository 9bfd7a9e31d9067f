//go:build race

package audit_test

// raceEnabled: the race detector slows the model test about tenfold, so
// under -race its default is a shorter run; make test runs the full 300
// steps in a second, race-free invocation (Makefile).
const raceEnabled = true
