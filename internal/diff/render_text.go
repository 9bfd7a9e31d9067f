package diff

import (
	"bufio"
	"fmt"
	"io"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiFaint  = "\x1b[2m"
)

// RenderText writes the terminal view of a plan: changes grouped by kind
// with Terraform's markers (+ create, ~ update in-place, -/+ replace,
// - delete), field diffs with their manifest positions, unmanaged objects
// and warnings as notes, and the summary line last.
func RenderText(w io.Writer, p *Plan, opts RenderOptions) error {
	t := &textWriter{w: bufio.NewWriter(w), color: opts.Color, opts: opts}
	if p.Environment != "" {
		t.linef("%s", t.paint(ansiBold, fmt.Sprintf("wso2sync plan for environment %q", p.Environment)))
		t.linef("")
	}
	for _, g := range groups(p) {
		t.linef("%s", t.paint(ansiBold, string(g.kind)))
		for _, c := range g.changes {
			t.change(c)
		}
		t.linef("")
	}
	if n := len(p.Unmanaged); n > 0 {
		t.linef("Unmanaged (left alone, %d):", n)
		for i, u := range p.Unmanaged {
			if i == opts.maxUnmanaged() {
				t.linef("  … and %d more (the JSON plan lists all)", n-i)
				break
			}
			t.linef("  %s %q: %s", u.Kind, u.Name, u.Reason)
		}
		t.linef("")
	}
	for _, warn := range p.Warnings {
		t.linef("%s %s", t.paint(ansiYellow, "Warning:"), warn)
	}
	if len(p.Warnings) > 0 {
		t.linef("")
	}
	t.linef("%s", t.paint(ansiBold, p.SummaryLine()))
	return t.w.Flush()
}

type textWriter struct {
	w     *bufio.Writer
	color bool
	opts  RenderOptions
}

func (t *textWriter) linef(format string, args ...any) {
	fmt.Fprintf(t.w, format+"\n", args...)
}

func (t *textWriter) paint(code, s string) string {
	if !t.color {
		return s
	}
	return code + s + ansiReset
}

func actionColor(a Action) string {
	switch a {
	case Create:
		return ansiGreen
	case Update:
		return ansiYellow
	}
	return ansiRed
}

// comment renders a trailing "# file:line" (faint), or nothing.
func (t *textWriter) comment(s string) string {
	if s == "" {
		return ""
	}
	return "  " + t.paint(ansiFaint, "# "+s)
}

func (t *textWriter) change(c Change) {
	head := fmt.Sprintf("%s: %s", c.Name, label(c.Action))
	if c.Action == Replace || c.Action == Delete || c.Action == Rotate || c.Action == Blocked {
		head += " (" + c.Reason + ")"
	}
	t.linef("  %s %s%s", t.paint(actionColor(c.Action), marker(c.Action)), head, t.comment(t.opts.where(c.Source)))
	for _, f := range c.Fields {
		before := formatValue(fieldSafe(f.Path, f.Before, f.Sensitive))
		after := formatValue(fieldSafe(f.Path, f.After, f.Sensitive))
		switch c.Action {
		case Create:
			t.linef("      %s %s: %s", t.paint(ansiGreen, "+"), f.Path, after)
		case Delete, Blocked:
			t.linef("      %s %s: %s", t.paint(ansiRed, "-"), f.Path, before)
		default:
			note := t.opts.where(f.Source)
			if f.ForcesReplace {
				note = join(note, "forces replacement")
			}
			if f.Sensitive || isSecretKey(lastSegment(f.Path)) {
				// Changed or not is all a plan says of a secret.
				t.linef("      %s %s: %s%s", t.paint(ansiYellow, "~"), f.Path, SensitiveChanged, t.comment(note))
				continue
			}
			t.linef("      %s %s: %s → %s%s", t.paint(ansiYellow, "~"), f.Path, before, after, t.comment(note))
		}
	}
	for _, n := range notes(c) {
		t.linef("      %s %s", t.paint(ansiRed, "!"), n)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
