package diff

import (
	"path/filepath"
	"testing"
)

// A freshly applied estate plans empty: the manifests against the forms
// the servers answer with after applying them.
func TestFreshlyAppliedEstatePlansEmpty(t *testing.T) {
	dirs := []string{filepath.Join("testdata", "env")}
	for _, env := range []string{"dev", "staging", "prod"} {
		dirs = append(dirs, filepath.Join("..", "..", "examples", "environments", env))
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			desired := load(t, dir)
			live := serverForm(t, desired)
			p := Compute(desired, live, Options{Prune: PruneOwned, Owned: ownAll})
			if p.HasChanges() || len(p.Unmanaged) > 0 || len(p.Warnings) > 0 {
				t.Fatalf("plan is not empty:\n%s%v", describe(p), p.Warnings)
			}
			if p.Summary.NoOp == 0 || p.Summary.NoOp != len(p.Changes) {
				t.Errorf("summary %+v for %d changes", p.Summary, len(p.Changes))
			}
			if p.SummaryLine() != "No changes. The live estate matches the manifests." {
				t.Errorf("summary line %q", p.SummaryLine())
			}
		})
	}
}
