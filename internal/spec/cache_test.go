package spec

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const cacheApps = `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: payments}
spec:
  description: pays
  keys:
    - {keyType: PRODUCTION, keyManager: Resident Key Manager}
---
apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: billing}
spec: {throttlingPolicy: "10PerMin"}
`

// TestValidationCache: a Load whose documents did not change takes them
// all from the cache and yields the same State (defaults included, with
// this Load's positions); an edited document is validated again, an
// invalid one is never cached, and the cache keeps only what the latest
// Load used.
func TestValidationCache(t *testing.T) {
	dir := writeTree(t, map[string]string{"wso2sync.yaml": envHeader, "apps.yaml": cacheApps})
	c := NewValidationCache(0)
	loadC := func() (*State, Diagnostics, LoadStats) {
		t.Helper()
		var stats LoadStats
		st, ds := Load(context.Background(), dir, LoadOptions{Now: fixedNow, Cache: c, Stats: &stats})
		if st == nil {
			t.Fatalf("no State: %v", ds)
		}
		return st, ds, stats
	}
	cold, ds, s1 := loadC()
	if ds.HasErrors() || s1.Validated != 3 || s1.Reused != 0 || c.Len() != 3 {
		t.Fatalf("first load: %v, %+v, cache %d", ds, s1, c.Len())
	}
	warm, ds, s2 := loadC()
	if ds.HasErrors() || s2.Validated != 0 || s2.Reused != 3 {
		t.Fatalf("second load: %v, %+v", ds, s2)
	}
	if !reflect.DeepEqual(cold, warm) {
		t.Errorf("the cached State differs from the validated one:\n%+v\n%+v", cold.Applications[0], warm.Applications[0])
	}
	if warm.Application("payments") == cold.Application("payments") {
		t.Error("two Loads share one object")
	}
	if got := warm.Application("payments").Spec.Keys[0].ValidityPeriod; got != 3600 {
		t.Errorf("a default from the schema is lost from the cache: validityPeriod %d", got)
	}

	// Move the documents down two lines and edit one: positions follow the
	// file, the edited document is validated again.
	edited := "# moved\n\n" + strings.Replace(cacheApps, "description: pays", "description: owes", 1)
	if err := os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	st, ds, s3 := loadC()
	if ds.HasErrors() || s3.Validated != 1 || s3.Reused != 2 {
		t.Fatalf("after an edit: %v, %+v", ds, s3)
	}
	if p := st.Application("billing").Source; p.Line != cold.Application("billing").Source.Line+2 {
		t.Errorf("a cached document keeps its old position: %v", p)
	}
	if st.Application("payments").Spec.Description != "owes" {
		t.Errorf("the edit is lost: %q", st.Application("payments").Spec.Description)
	}
	if c.Len() != 3 {
		t.Errorf("the cache holds %d documents after the edit, want 3 (the old version dropped)", c.Len())
	}

	// An invalid document is reported on every Load, never cached.
	bad := strings.Replace(cacheApps, `throttlingPolicy: "10PerMin"`, `tokenType: BEARER`, 1)
	if err := os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, ds, _ := loadC()
		if !ds.HasErrors() || !strings.Contains(render(ds), "tokenType") {
			t.Fatalf("load %d of an invalid document: %s", i+1, render(ds))
		}
	}
}

// TestValidationCacheBound: the cache never holds more than its maximum;
// what does not fit is validated every time.
func TestValidationCacheBound(t *testing.T) {
	dir := writeTree(t, map[string]string{"wso2sync.yaml": envHeader, "apps.yaml": cacheApps})
	c := NewValidationCache(2)
	for i := range 2 {
		var stats LoadStats
		if _, ds := Load(context.Background(), dir, LoadOptions{Now: fixedNow, Cache: c, Stats: &stats}); ds.HasErrors() {
			t.Fatal(ds)
		}
		if c.Len() > 2 || stats.Validated+stats.Reused != 3 || (i == 1 && stats.Reused != 2) {
			t.Errorf("load %d: cache %d, %+v", i+1, c.Len(), stats)
		}
	}
}
