package spec

import "fmt"

// Position is a place in a manifest file. Line and Col are 1-based; a zero
// Position means "no source" (e.g. a value filled in by a schema default).
type Position struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// IsValid reports whether p names a file.
func (p Position) IsValid() bool { return p.File != "" }

// String renders p as file:line:col, or file alone when the line is unknown.
func (p Position) String() string {
	switch {
	case p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}
