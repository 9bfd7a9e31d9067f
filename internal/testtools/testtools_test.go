package testtools

import (
	"testing"
)

// fakeTB records how a test ended without ending the real one.
type fakeTB struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }
func (f *fakeTB) Skip(...any)           { f.skipped = true }

func TestRequireMissingFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	f := &fakeTB{TB: t}
	Require(f, "no-such-program-wso2sync", "apt-get install nothing")
	if !f.failed || f.skipped {
		t.Fatalf("in CI a missing tool must fail, not skip: failed=%v skipped=%v", f.failed, f.skipped)
	}
}

func TestRequireMissingSkipsOutsideCI(t *testing.T) {
	for _, v := range []string{"", "false", "0"} {
		t.Setenv("CI", v)
		f := &fakeTB{TB: t}
		Require(f, "no-such-program-wso2sync", "apt-get install nothing")
		if f.failed || !f.skipped {
			t.Fatalf("CI=%q: want a skip, got failed=%v skipped=%v", v, f.failed, f.skipped)
		}
	}
}

func TestRequireFound(t *testing.T) {
	t.Setenv("CI", "true")
	f := &fakeTB{TB: t}
	if p := Require(f, "go", "the Go toolchain"); p == "" || f.failed || f.skipped {
		t.Fatalf("go should be found: %q failed=%v skipped=%v", p, f.failed, f.skipped)
	}
}
