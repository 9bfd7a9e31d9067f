package daemon

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

func estateObject(e *Estate, kind, name string) (ObjectStatus, bool) {
	for _, k := range e.Kinds {
		if k.Kind != kind {
			continue
		}
		for _, o := range k.Objects {
			if o.Name == name {
				return o, true
			}
		}
	}
	return ObjectStatus{}, false
}

// TestEstateStatesAgainstTheSimulator: the real pass reports each state
// from what the servers did. A subscription an approval workflow holds
// (ON_HOLD) is pending approval; an application APIM refuses to create is
// failed with the server's message, and its subscription, which depends on
// it, blocked; the objects around them in sync.
func TestEstateStatesAgainstTheSimulator(t *testing.T) {
	s := startSimEnv(t, sim.Options{Middleware: func(server string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if server == "apim" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/applications") && r.ContentLength > 0 {
				body := make([]byte, r.ContentLength)
				_, _ = r.Body.Read(body)
				if strings.Contains(string(body), "refused-app") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, `{"code":400,"message":"Bad Request","description":"Application name refused by policy"}`)
					return
				}
				r.Body = http.NoBody
				r2 := r.Clone(r.Context())
				r2.Body = nopCloser{strings.NewReader(string(body))}
				next.ServeHTTP(w, r2)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	dir := t.TempDir()
	sub := func(app string) string {
		return fmt.Sprintf(`---
apiVersion: wso2sync/v1alpha1
kind: Subscription
metadata: {name: %[1]s--forex}
spec:
  application: %[1]s
  api: {name: ForexAPI, version: 1.0.0}
`, app)
	}
	writeFile(t, filepath.Join(dir, "wso2sync.yaml"), fmt.Sprintf(envFile, "enforce")+"  apis:\n    - {name: ForexAPI, version: 1.0.0, context: /forex}\n")
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("wf-app", "workflow")+appDoc("steady-app", "steady"))
	pass := reconcilePass(s)
	ctx := context.Background()
	if _, err := pass(ctx, PassRequest{Dir: dir, Log: testLogger(t)}); err != nil {
		t.Fatal(err)
	}

	// Subscriptions now wait for approval.
	s.Knobs().SetWorkflow(true)
	writeFile(t, filepath.Join(dir, "subs.yaml"), sub("wf-app"))
	if res, err := pass(ctx, PassRequest{Dir: dir, Log: testLogger(t)}); err != nil {
		t.Fatal(err, res.Errors)
	}
	s.Knobs().SetWorkflow(false)
	res, err := pass(ctx, PassRequest{Dir: dir, Mode: "dry-run", Log: testLogger(t)})
	if err != nil || res.Estate == nil {
		t.Fatalf("dry-run pass: %v %+v", err, res)
	}
	if o, _ := estateObject(res.Estate, "Subscription", "wf-app--forex"); o.State != StatePending || o.Message != "ON_HOLD" {
		t.Errorf("the subscription on hold: %+v, want pending-approval", o)
	}
	if o, _ := estateObject(res.Estate, "Application", "steady-app"); o.State != StateInSync || o.Source != "apps.yaml:10" {
		t.Errorf("steady-app: %+v, want in-sync at apps.yaml:10", o)
	}

	// APIM refuses an application: failed, and its subscription blocked.
	writeFile(t, filepath.Join(dir, "apps.yaml"), appDoc("wf-app", "workflow")+appDoc("steady-app", "steady")+appDoc("refused-app", "no"))
	writeFile(t, filepath.Join(dir, "subs.yaml"), sub("wf-app")+sub("refused-app"))
	res, err = pass(ctx, PassRequest{Dir: dir, Log: testLogger(t)})
	if err == nil || res.Estate == nil || res.FailedSteps != 1 {
		t.Fatalf("enforcing pass with a refused application: %v %+v", err, res)
	}
	if o, _ := estateObject(res.Estate, "Application", "refused-app"); o.State != StateFailed || !strings.Contains(o.Message, "refused by policy") || o.Action != "create" {
		t.Errorf("refused-app: %+v, want failed with the server's message", o)
	}
	if o, _ := estateObject(res.Estate, "Subscription", "refused-app--forex"); o.State != StateBlocked || o.Message == "" {
		t.Errorf("refused-app's subscription: %+v, want blocked", o)
	}
	if o, _ := estateObject(res.Estate, "Application", "steady-app"); o.State != StateInSync {
		t.Errorf("steady-app: %+v", o)
	}
	if c := res.Estate.Counts; c[StateFailed] != 1 || c[StateBlocked] != 1 || c[StatePending] != 1 {
		t.Errorf("counts %v", c)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
