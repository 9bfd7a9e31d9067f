// Package testtools lets interop tests depend on outside programs (age,
// keytool, chromium) without ever skipping silently in CI: where the CI
// environment variable is set, as every CI system sets it, a missing program
// fails the test; on a developer machine it skips with how to install it.
package testtools

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (the CI variable is set and
// not "false"/"0"), where every interop test must run.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Require returns the path of the program name, or ends the test: a failure
// in CI, a skip elsewhere. hint says how to get it (a Debian package).
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" not found ("+hint+")")
	return ""
}

// Missing ends a test whose prerequisite (described by why) is absent: it
// fails in CI and skips elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s; CI is set, so this interop test may not be skipped (.ci/run installs it)", why)
		return
	}
	t.Skip(why)
}
