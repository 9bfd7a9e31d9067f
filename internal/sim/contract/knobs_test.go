package contract

import (
	"net/url"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// TestWorkflowKnob switches approval workflows on through the control API
// and checks the pending states of WSO2-API.md §5.3, validated against the
// specs.
func TestWorkflowKnob(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: sim.DefaultEstate()})
	e.do("PUT", e.s.APIMURL()+"/_sim/knobs", map[string]any{"workflow": true}).want(t, 200)
	if !e.s.Knobs().Workflow() {
		t.Fatal("knob not set")
	}
	app := e.apim("POST", dp+"/applications", map[string]any{"name": "pending-app",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)
	if app["status"] != "CREATED" {
		t.Fatalf("app under a creation workflow: status %v, want CREATED", app["status"])
	}
	appID := str(app["applicationId"])
	apis := list(e.apim("GET", dp+"/apis", nil).want(t, 200).obj(t), "list")
	sub := e.apim("POST", dp+"/subscriptions", map[string]any{"applicationId": appID,
		"apiId": find(apis, "name", "LedgerAPI")["id"], "throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)
	if sub["status"] != "ON_HOLD" {
		t.Fatalf("subscription under a workflow: status %v, want ON_HOLD", sub["status"])
	}
	wf := e.apim("DELETE", dp+"/applications/"+appID, nil).want(t, 202).obj(t)
	if wf["workflowStatus"] != "CREATED" {
		t.Fatalf("delete under a workflow: %v", wf)
	}
	// A second delete while the first is pending: 409.
	e.apim("DELETE", dp+"/applications/"+appID, nil).want(t, 409)

	e.do("PUT", e.s.APIMURL()+"/_sim/knobs", map[string]any{"workflow": false}).want(t, 200)
	if app := e.apim("POST", dp+"/applications", map[string]any{"name": "direct-app",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t); app["status"] != "APPROVED" {
		t.Fatalf("without workflow: %v", app["status"])
	}
}

// TestSearchLagKnob: APIs created under a search lag are readable by id
// at once but stay out of lists until the lag has passed (§5.1).
func TestSearchLagKnob(t *testing.T) {
	clock := simcore.NewManualClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, sim.Options{Clock: clock})
	e.token()
	e.do("PUT", e.s.ISURL()+"/_sim/knobs", map[string]any{"searchLag": "30s"}).want(t, 200)
	e.do("PUT", e.s.ISURL()+"/_sim/knobs", map[string]any{"searchLag": "soon"}).want(t, 400)
	apiID, err := e.s.APIM().AddAPI(apim.APISeed{Name: "LateAPI", Version: "v1", Context: "/late"})
	if err != nil {
		t.Fatal(err)
	}
	q := dp + "/apis?query=" + url.QueryEscape(`name:"LateAPI"`)
	if n := len(list(e.apim("GET", q, nil).want(t, 200).obj(t), "list")); n != 0 {
		t.Fatal("the new API is listed already")
	}
	e.apim("GET", dp+"/apis/"+apiID, nil).want(t, 200)
	clock.Advance(30 * time.Second)
	if n := len(list(e.apim("GET", q, nil).want(t, 200).obj(t), "list")); n != 1 {
		t.Fatalf("after the lag: %d APIs listed, want 1", n)
	}
}

// TestFaultsAgainstTheContract: injected faults come before the validator
// (they are not WSO2's), and the control API drives them.
func TestFaultsAgainstTheContract(t *testing.T) {
	e := newEnv(t, sim.Options{RandSeed: 3})
	e.do("PUT", e.s.APIMURL()+"/_sim/faults", "route=GET /api/am/devportal/v3/applications:429=2@3s",
		"Content-Type", "text/plain").want(t, 200)
	for range 2 {
		r := e.apim("GET", dp+"/applications", nil).want(t, 429)
		if r.Header.Get("Retry-After") != "3" || r.Header.Get(sim.FaultHeader) != "429" {
			t.Fatalf("429 headers %v", r.Header)
		}
	}
	e.apim("GET", dp+"/applications", nil).want(t, 200)
	// Token expiry through the control API: 401, then a new token works.
	e.do("POST", e.s.APIMURL()+"/_sim/expire-tokens", nil).want(t, 204)
	e.apim("GET", dp+"/applications", nil).want(t, 401)
	e.tok = ""
	e.apim("GET", dp+"/applications", nil).want(t, 200)
	st := e.s.Stats().APIM
	if got := st.RouteStatuses["GET "+dp+"/applications"]; got[429] != 2 || got[401] != 1 || got[200] != 2 {
		t.Fatalf("route statuses %v", got)
	}
}
