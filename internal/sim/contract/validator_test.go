package contract

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestValidatorCatchesViolations tampers with the simulator's answers
// behind the validator and checks that each kind of breach is reported.
func TestValidatorCatchesViolations(t *testing.T) {
	specs, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(specs, nil)
	tamper := func(server string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/throttling-policies/application"):
				// An undeclared status.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTeapot)
				_, _ = w.Write([]byte(`{"code":418,"message":"teapot"}`))
			case strings.HasSuffix(r.URL.Path, "/apis") && r.Method == "GET":
				// A body that breaks the schema (count must be an integer).
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"count":"six","list":[]}`))
			case strings.HasSuffix(r.URL.Path, "/applications") && r.Method == "POST":
				// Accepting a request the spec rejects (no name).
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"applicationId":"x","name":"x","throttlingPolicy":"Unlimited"}`))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
	s := sim.Start(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return v.Middleware(server, tamper(server, next))
	}})
	e := &env{t: t, s: s, v: v}
	e.do("GET", s.APIMURL()+dp+"/throttling-policies/application", nil)
	e.do("GET", s.APIMURL()+dp+"/apis", nil)
	e.apim("POST", dp+"/applications", map[string]any{"throttlingPolicy": "Unlimited"})
	e.do("GET", s.ISURL()+"/oauth2/jwks", nil) // no spec: counted, not validated

	want := map[string]string{
		"GET " + dp + "/throttling-policies/{policyLevel}": "status is not supported",
		"GET " + dp + "/apis":                              "count",
		"POST " + dp + "/applications":                     "server answered 201 to a request the spec rejects",
	}
	got := v.Violations()
	for op, frag := range want {
		found := false
		for _, x := range got {
			if x.Op == op && strings.Contains(x.Err, frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("no violation %q for %s in %v", frag, op, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d violations, want %d: %v", len(got), len(want), got)
	}
}
