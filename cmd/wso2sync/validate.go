package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the manifests of an environment without contacting any server",
		Long: `validate loads the environment in --env (its wso2sync.yaml, the folders it
includes and the manifests beside it), merges overlays, checks every document
against the schema and every reference between objects, and prints all
problems at once as file:line:col: message.

Exit status: 0 when valid (warnings allowed), 1 when there are errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			st, ds := spec.Load(cmd.Context(), g.envDir, g.loadOptions())
			rep := newValidateReport(g.envDir, st, ds)
			g.log.Debug("validated", "env", g.envDir, "files", rep.Summary.Files, "objects", rep.Summary.Objects,
				"errors", rep.Summary.Errors, "warnings", rep.Summary.Warnings, "duration", time.Since(start))
			if err := rep.write(g); err != nil {
				return err
			}
			if !rep.Valid {
				return &cliError{msg: "validation failed", code: exitError, reported: true}
			}
			return nil
		},
	}
}

// validateReport is the JSON form of validate's result (--output json).
type validateReport struct {
	Valid       bool             `json:"valid"`
	Environment string           `json:"environment"`
	Errors      []diagnosticJSON `json:"errors"`
	Warnings    []diagnosticJSON `json:"warnings"`
	Summary     validateSummary  `json:"summary"`

	diags spec.Diagnostics
}

type diagnosticJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

type validateSummary struct {
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Files    int            `json:"files"`
	Objects  int            `json:"objects"`
	Kinds    map[string]int `json:"kinds"`
}

func newValidateReport(dir string, st *spec.State, ds spec.Diagnostics) *validateReport {
	r := &validateReport{
		Valid:       !ds.HasErrors(),
		Environment: dir,
		Errors:      []diagnosticJSON{},
		Warnings:    []diagnosticJSON{},
		Summary:     validateSummary{Kinds: map[string]int{}},
		diags:       ds,
	}
	if st != nil {
		if st.Name != "" {
			r.Environment = st.Name
		}
		r.Summary.Files = len(st.Files)
		for k, n := range st.Count() {
			r.Summary.Kinds[string(k)] = n
			r.Summary.Objects += n
		}
	}
	for _, d := range ds {
		j := diagnosticJSON{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col, Field: d.Field, Message: d.Message, Hint: d.Hint}
		if d.Severity == spec.SeverityWarning {
			r.Warnings = append(r.Warnings, j)
		} else {
			r.Errors = append(r.Errors, j)
		}
	}
	r.Summary.Errors, r.Summary.Warnings = len(r.Errors), len(r.Warnings)
	return r
}

func (r *validateReport) write(g *globals) error {
	if g.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	for _, d := range r.diags {
		if _, err := fmt.Fprintln(g.stdout, d.String()); err != nil {
			return err
		}
	}
	s := r.Summary
	var err error
	if r.Valid {
		_, err = fmt.Fprintf(g.stdout, "valid: environment %q, %d objects in %d files, %s\n",
			r.Environment, s.Objects, s.Files, plural(s.Warnings, "warning"))
	} else {
		_, err = fmt.Fprintf(g.stdout, "invalid: environment %q, %s, %s\n",
			r.Environment, plural(s.Errors, "error"), plural(s.Warnings, "warning"))
	}
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
