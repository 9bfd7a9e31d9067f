package diff

import (
	"encoding/json"
	"io"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// The JSON form of a plan (docs/plan-json.md). Structs, not maps, so the
// field order is fixed; every list is present (never null) so tools need
// no special cases.
type jsonPlan struct {
	Version     int          `json:"version"`
	Environment string       `json:"environment"`
	LiveHash    string       `json:"liveHash"`
	HasChanges  bool         `json:"hasChanges"`
	Summary     jsonSummary  `json:"summary"`
	Changes     []jsonChange `json:"changes"`
	Unmanaged   []jsonRef    `json:"unmanaged"`
	Warnings    []string     `json:"warnings"`
}

type jsonSummary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	NoOp    int `json:"noop"`
	Rotate  int `json:"rotate,omitempty"`
	Blocked int `json:"blocked,omitempty"`
}

type jsonChange struct {
	Kind      spec.Kind      `json:"kind"`
	Name      string         `json:"name"`
	Key       string         `json:"key,omitempty"`
	Action    Action         `json:"action"`
	Reason    string         `json:"reason"`
	Source    *jsonPos       `json:"source"`
	Sensitive bool           `json:"sensitive"`
	Fields    []jsonField    `json:"fields"`
	Before    map[string]any `json:"before"`
	After     map[string]any `json:"after"`
	// Cascade: what the server deletes with the object; BlockedBy: what
	// makes it refuse a blocked delete. Left out when empty.
	Cascade   []jsonRef `json:"cascade,omitempty"`
	BlockedBy []jsonRef `json:"blockedBy,omitempty"`
}

type jsonField struct {
	Path          string   `json:"path"`
	Before        any      `json:"before"`
	After         any      `json:"after"`
	Sensitive     bool     `json:"sensitive"`
	ForcesReplace bool     `json:"forcesReplace"`
	Source        *jsonPos `json:"source"`
}

type jsonPos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

type jsonRef struct {
	Kind   spec.Kind `json:"kind"`
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
}

// RenderJSON writes the plan as indented JSON (schema version 1).
func RenderJSON(w io.Writer, p *Plan, opts RenderOptions) error {
	out := jsonPlan{
		Version: p.Version, Environment: p.Environment, LiveHash: p.LiveHash, HasChanges: p.HasChanges(),
		Summary:   jsonSummary(p.Summary),
		Changes:   []jsonChange{},
		Unmanaged: []jsonRef{},
		Warnings:  append([]string{}, p.Warnings...),
	}
	for _, c := range p.Changes {
		jc := jsonChange{Kind: c.Kind, Name: c.Name, Key: c.Key, Action: c.Action, Reason: c.Reason, Source: opts.jsonPos(c.Source),
			Sensitive: c.Sensitive, Fields: []jsonField{}, Before: safeMap(c.Before), After: safeMap(c.After)}
		for _, f := range c.Fields {
			jf := jsonField{Path: f.Path,
				Before: fieldSafe(f.Path, f.Before, f.Sensitive), After: fieldSafe(f.Path, f.After, f.Sensitive),
				Sensitive: f.Sensitive, ForcesReplace: f.ForcesReplace, Source: opts.jsonPos(f.Source)}
			if f.Sensitive || isSecretKey(lastSegment(f.Path)) {
				// "sensitive": true and no value, digest or description.
				jf.Sensitive, jf.Before, jf.After = true, nil, nil
			}
			jc.Fields = append(jc.Fields, jf)
		}
		for _, r := range c.Cascade {
			jc.Cascade = append(jc.Cascade, jsonRef{Kind: r.Kind, Name: r.Name, Reason: r.Reason})
		}
		for _, r := range c.BlockedBy {
			jc.BlockedBy = append(jc.BlockedBy, jsonRef{Kind: r.Kind, Name: r.Name, Reason: r.Reason})
		}
		out.Changes = append(out.Changes, jc)
	}
	for _, u := range p.Unmanaged {
		out.Unmanaged = append(out.Unmanaged, jsonRef{Kind: u.Kind, Name: u.Name, Reason: u.Reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Values are data, not HTML: keep "<" and "&" readable.
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func (o RenderOptions) jsonPos(p spec.Position) *jsonPos {
	if !p.IsValid() {
		return nil
	}
	rel := o.where(spec.Position{File: p.File}) // relative file, no line
	return &jsonPos{File: rel, Line: p.Line, Col: p.Col}
}
