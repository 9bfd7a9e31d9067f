package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestTermProgressRenders: the spinner counts the objects read, the apply
// bar shows done/total with elapsed and remaining time, a step that failed
// leaves a line, and done clears the bar.
func TestTermProgressRenders(t *testing.T) {
	var b bytes.Buffer
	p := &termProgress{w: &b}
	p.objectsRead(5)
	time.Sleep(100 * time.Millisecond) // past the redraw throttle
	p.objectsRead(3)
	p.done()
	p.applying(2)
	ref := apply.Ref{Kind: spec.KindApplication, Name: "forex-client"}
	p.step(apply.Event{Type: apply.EventStart, Ref: ref, Action: apply.ActionCreate})
	p.step(apply.Event{Type: apply.EventApplied, Ref: ref, Action: apply.ActionCreate})
	p.step(apply.Event{Type: apply.EventFailed, Ref: ref, Action: apply.ActionUpdate, Message: "boom"})
	p.done()
	out := b.String()
	for _, want := range []string{"reading the live estate: 5 objects", "reading the live estate: 8 objects", "(0/2)",
		"Application/forex-client: update failed: boom\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(out) {
		t.Errorf("no [elapsed:remaining] in the apply bar:\n%q", out)
	}
	if p.bar != nil || p.spin != nil {
		t.Error("done left a bar")
	}
	// Reads after the plan (lookups during the apply) are not drawn.
	b.Reset()
	p.objectsRead(4)
	time.Sleep(150 * time.Millisecond)
	if b.Len() != 0 {
		t.Errorf("a read after done drew %q", b.String())
	}
}

// TestNoProgressWithoutTerminal: with stderr not a terminal (a file here,
// a pipe in CI) there is no renderer, and every hook falls back to what the
// commands did before: no read hook, apply events to the old callback.
func TestNoProgressWithoutTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newTermProgress(&globals{stderr: f})
	if p != nil {
		t.Fatal("a renderer for a non-terminal stderr")
	}
	if p.onRead() != nil {
		t.Error("a read hook without a terminal")
	}
	called := false
	p.steps(func(apply.Event) { called = true })(apply.Event{})
	if !called {
		t.Error("apply events do not reach the previous callback")
	}
	p.applying(3)
	p.done()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("wrote %d bytes to a non-terminal stderr", st.Size())
	}
}
