package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envHeader is a valid environment file body to build test estates on.
const envHeader = `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata:
  name: test
spec:
  apim: {url: https://localhost:9443}
  is: {url: https://localhost:9444}
  apis:
    - {name: ForexAPI, version: 1.0.0}
`

// writeTree writes files (path → content) under a new temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load loads dir/sub and fails the test on a nil State.
func load(t *testing.T, dir string) (*State, Diagnostics) {
	t.Helper()
	st, ds := Load(context.Background(), dir, LoadOptions{Now: fixedNow})
	if st == nil {
		t.Fatalf("Load returned no State: %v", ds)
	}
	return st, ds
}

// mustLoad loads and fails on any error diagnostic.
func mustLoad(t *testing.T, dir string) *State {
	t.Helper()
	st, ds := load(t, dir)
	if ds.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", render(ds))
	}
	return st
}

func render(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// rel makes diagnostic files relative to dir for comparisons.
func rel(dir string, p Position) Position {
	if r, err := filepath.Rel(dir, p.File); err == nil {
		p.File = r
	}
	return p
}
