package diff

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// RenderOptions are shared by the renderers; each uses what applies to it.
type RenderOptions struct {
	// Color adds ANSI colours to the text view; the CLI sets it on a TTY.
	Color bool
	// BaseDir, when set, makes manifest paths relative to it
	// (environments/dev/applications.yaml rather than an absolute path).
	BaseDir string
	// MaxUnmanaged caps the unmanaged objects listed by the text and
	// Markdown views (an IS with 20,000 users has as many); 0 means 20.
	// JSON always lists all.
	MaxUnmanaged int
}

func (o RenderOptions) maxUnmanaged() int {
	if o.MaxUnmanaged > 0 {
		return o.MaxUnmanaged
	}
	return 20
}

// where renders a position as file:line (relative to BaseDir), or "".
func (o RenderOptions) where(p spec.Position) string {
	if !p.IsValid() {
		return ""
	}
	file := p.File
	if o.BaseDir != "" {
		if rel, err := filepath.Rel(o.BaseDir, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	file = filepath.ToSlash(file)
	if p.Line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, p.Line)
}

// Where renders a position as file:line, relative to BaseDir ("" for
// none): how every view names the manifest behind a change.
func (o RenderOptions) Where(p spec.Position) string { return o.where(p) }

// Printable is a field's before and after values as the text view prints
// them, secrets only as their redacted form: other views of the plan (the
// daemon's status page, `wso2sync status`) show exactly this.
func (f FieldDiff) Printable() (before, after string) {
	return formatValue(fieldSafe(f.Path, f.Before, f.Sensitive)), formatValue(fieldSafe(f.Path, f.After, f.Sensitive))
}

// marker is the Terraform-style prefix of an action.
func marker(a Action) string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	case Rotate:
		return "±"
	case Blocked:
		return "!"
	}
	return " "
}

// label says what an action does, as the text view prints it.
func label(a Action) string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update in-place"
	case Replace:
		return "replace"
	case Delete:
		return "delete"
	case Rotate:
		return "rotate secret"
	case Blocked:
		return "delete blocked, not attempted"
	}
	return "no change"
}

// group is the non-NoOp changes of one kind, in plan order.
type group struct {
	kind    spec.Kind
	changes []Change
}

func groups(p *Plan) []group {
	var out []group
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		if len(out) == 0 || out[len(out)-1].kind != c.Kind {
			out = append(out, group{kind: c.Kind})
		}
		out[len(out)-1].changes = append(out[len(out)-1].changes, c)
	}
	return out
}

// SummaryLine is the last line of the text view.
func (p *Plan) SummaryLine() string {
	if !p.HasChanges() {
		return "No changes. The live estate matches the manifests."
	}
	s := p.Summary
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete", s.Create, s.Update, s.Replace, s.Delete)
	if s.Rotate > 0 {
		line += fmt.Sprintf(", %d to rotate", s.Rotate)
	}
	if n := p.Cascaded(); n > 0 {
		line += fmt.Sprintf(" (+%d deleted with them)", n)
	}
	if s.Blocked > 0 {
		line += fmt.Sprintf("; %d blocked", s.Blocked)
	}
	return line + "."
}

// Cascaded counts what the plan's deletes remove with them.
func (p *Plan) Cascaded() int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == Delete {
			n += len(c.Cascade)
		}
	}
	return n
}

// notes are the lines a renderer prints under a change: what the server
// deletes with it and what blocks it.
func notes(c Change) []string {
	var out []string
	for _, r := range c.Cascade {
		out = append(out, fmt.Sprintf("also deletes %s %s (%s)", r.Kind, r.Name, r.Reason))
	}
	for _, r := range c.BlockedBy {
		out = append(out, fmt.Sprintf("blocked by %s %s (%s)", r.Kind, r.Name, r.Reason))
	}
	return out
}

// fieldSafe is the value a renderer may print for a field: sensitive
// fields (and anything whose name looks like a secret) only as Redacted.
func fieldSafe(path string, v any, sensitive bool) any {
	return safe(v, sensitive || isSecretKey(lastSegment(path)))
}

func lastSegment(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return strings.TrimSuffix(path[i+1:], "]")
	}
	return path
}

// safeMap guards a Before/After map the same way.
func safeMap(m any) map[string]any {
	in, _ := m.(map[string]any)
	if in == nil {
		return nil
	}
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = fieldSafe(k, v, false)
	}
	return out
}
