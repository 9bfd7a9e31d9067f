package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/wso2sync/wso2sync/internal/apply"
)

// termProgress draws the progress of plan and apply on a terminal's stderr
// (github.com/schollz/progressbar): a spinner counting the live objects
// read, then a bar of the changes applied with an ETA. The pass reports
// (reconcile.Options.OnRead, the apply events); this only renders. Where
// stderr is not a terminal there is none (nil), and the output is what it
// always was.
type termProgress struct {
	w    io.Writer
	mu   sync.Mutex
	spin *progressbar.ProgressBar // while reading
	bar  *progressbar.ProgressBar // while applying
	read int                      // live objects read so far
	// planned is set once the plan is made: later reads (lookups during
	// the apply) are not the estate's read and are not shown.
	planned bool
}

// newTermProgress returns the renderer for g's stderr, or nil when it is
// not a terminal.
func newTermProgress(g *globals) *termProgress {
	if !isTerminal(g.stderr) {
		return nil
	}
	return &termProgress{w: g.stderr}
}

// onRead is reconcile.Options.OnRead (nil without a terminal).
func (t *termProgress) onRead() func(int) {
	if t == nil {
		return nil
	}
	return t.objectsRead
}

func (t *termProgress) objectsRead(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.planned {
		return
	}
	if t.spin == nil {
		// A spinner: how many objects the servers hold is not known
		// before they are read, so the count is in the description.
		t.spin = progressbar.NewOptions(-1, t.options("reading the live estate")...)
	}
	t.read += n
	t.spin.Describe(fmt.Sprintf("reading the live estate: %d objects", t.read))
	_ = t.spin.Add(n)
}

func (t *termProgress) options(desc string, extra ...progressbar.Option) []progressbar.Option {
	return append([]progressbar.Option{
		progressbar.OptionSetWriter(t.w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSpinnerType(14),
		// No redraw goroutine (it would outlive the bar): redraws come
		// with the reports.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionThrottle(80 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
	}, extra...)
}

// done stops and clears the spinner or bar, before the plan or a message
// is printed; reads after it are not shown.
func (t *termProgress) done() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.planned = true
	for _, b := range []**progressbar.ProgressBar{&t.spin, &t.bar} {
		if *b != nil {
			_ = (*b).Exit()
			_ = (*b).Clear()
			*b = nil
		}
	}
}

// applying starts the bar of an apply of n changes.
func (t *termProgress) applying(n int) {
	if t == nil || n == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bar = progressbar.NewOptions(n, t.options("applying", progressbar.OptionShowCount())...)
	_ = t.bar.RenderBlank()
}

// steps is apply's progress callback: on a terminal the bar (with a line
// that stays for each step that did not apply), else fallback.
func (t *termProgress) steps(fallback func(apply.Event)) func(apply.Event) {
	if t == nil {
		return fallback
	}
	return t.step
}

func (t *termProgress) step(e apply.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar == nil {
		return
	}
	switch e.Type {
	case apply.EventStart:
		t.bar.Describe("applying " + e.Ref.String())
	case apply.EventApplied:
		_ = t.bar.Add(1)
	default: // failed, not attempted, blocked: keep a line above the bar
		_ = t.bar.Clear()
		fmt.Fprintf(t.w, "%s: %s %s: %s\n", e.Ref, e.Action, e.Type, e.Message)
		_ = t.bar.Add(1)
	}
}
