package spec

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Severity orders diagnostics: errors fail a command, warnings do not.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// MarshalText makes Severity read as "error"/"warning" in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one problem found in the manifests.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Pos      Position `json:"-"`
	// Field is the dotted path inside the document (spec.keys[0].keyType),
	// empty when the problem is about a whole document or file.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// String renders the stable one-line form `file:line:col: message`,
// followed by an indented `hint: ...` line when there is a hint. Warnings
// carry a "warning: " prefix before the message.
func (d Diagnostic) String() string {
	var b strings.Builder
	if d.Pos.IsValid() {
		b.WriteString(d.Pos.String())
		b.WriteString(": ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString("\n  hint: ")
		b.WriteString(d.Hint)
	}
	return b.String()
}

// Diagnostics is a list of problems; the zero value is an empty list.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == SeverityError })
}

// Errors returns the error diagnostics.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns the warning diagnostics.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, then message, so output is
// stable whatever order the checks ran in.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// diagSink collects diagnostics during one Load.
type diagSink struct{ ds Diagnostics }

func (s *diagSink) errAt(pos Position, field, msg, hint string) {
	s.ds = append(s.ds, Diagnostic{Severity: SeverityError, Pos: pos, Field: capText(field), Message: capText(msg), Hint: capText(hint)})
}

func (s *diagSink) warnAt(pos Position, field, msg, hint string) {
	s.ds = append(s.ds, Diagnostic{Severity: SeverityWarning, Pos: pos, Field: capText(field), Message: capText(msg), Hint: capText(hint)})
}

// maxMessage bounds a diagnostic's text. Messages quote values through
// Truncate; this is the backstop for one that quotes a long key or path
// the manifest's author chose (a 1 MB field name), so no diagnostic can
// flood a terminal or a CI log.
const maxMessage = 4 * MaxQuoted

func capText(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + groupThousands(maxMessage) + " of " + groupThousands(len(s)) + " bytes)"
}
