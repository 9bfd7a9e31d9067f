package contract

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSpecs(t *testing.T) {
	s, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) != len(SpecFiles) {
		t.Fatalf("loaded %d specs, want %d", len(s.Docs), len(SpecFiles))
	}
	// The DCR v1.1 file only loads because of its DedupKeys erratum.
	if _, err := loadSpecFile(filepath.Join(s.Dir, specISDCR), false); err == nil {
		t.Fatal("DCR v1.1 loaded without de-duplication: drop the DedupKeys erratum")
	}
	// The §7.21 fix turned client_name into a query parameter.
	op := opOf(s.Docs[specISDCR], "/register", "GET")
	if op == nil || op.Parameters.GetByInAndName("query", "client_name") == nil {
		t.Fatal("GET /register has no query parameter client_name after the fix")
	}
}

// TestErrataAreWellFormed: every entry names a loaded spec, an operation of
// it, a reason, and either a fix or a precise allowance.
func TestErrataAreWellFormed(t *testing.T) {
	s, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range Errata {
		doc := s.Docs[e.Spec]
		if doc == nil {
			t.Errorf("erratum %d: unknown spec %q", i, e.Spec)
			continue
		}
		if len(e.Reason) < 20 {
			t.Errorf("erratum %d: reason too short: %q", i, e.Reason)
		}
		if e.Fix != nil || e.DedupKeys {
			continue
		}
		if e.Phase != PhaseRequest && e.Phase != PhaseResponse {
			t.Errorf("erratum %d: phase %q", i, e.Phase)
		}
		if e.Match == "" {
			t.Errorf("erratum %d: no Match (a blanket allowance)", i)
		}
		if e.Op == "" {
			if !strings.Contains(e.Reason, "every") {
				t.Errorf("erratum %d: no Op, and the reason does not say it concerns every operation", i)
			}
			continue
		}
		method, path, _ := strings.Cut(e.Op, " ")
		found := false
		for p, pi := range doc.Paths.Map() {
			if strings.HasSuffix(path, p) && pi.GetOperation(method) != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("erratum %d: %s is not an operation of %s", i, e.Op, e.Spec)
		}
	}
}

func TestPathParams(t *testing.T) {
	rt := allRoutes()[0].Route
	rt.BasePath, rt.Path = "/api/am/devportal/v3", "/applications/{applicationId}/oauth-keys/{keyMappingId}"
	got, err := pathParams(rt, "/api/am/devportal/v3/applications/a%2Fb/oauth-keys/k1")
	if err != nil || got["applicationId"] != "a/b" || got["keyMappingId"] != "k1" {
		t.Fatalf("pathParams = %v, %v", got, err)
	}
	if _, err := pathParams(rt, "/api/am/devportal/v3/applications/a"); err == nil {
		t.Fatal("short path matched")
	}
	rt.BasePath, rt.Path = "/scim2", "/Users/{id}"
	if got, err := pathParams(rt, "/t/carbon.super/scim2/Users/u1"); err != nil || got["id"] != "u1" {
		t.Fatalf("tenant path: %v %v", got, err)
	}
}
