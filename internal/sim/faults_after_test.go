package sim

import (
	"net/http"
	"testing"
	"time"
)

// appCount counts the applications the simulator holds, read from its
// state (not through the REST API under test).
func appCount(s *Sim, name string) int {
	n := 0
	for _, a := range s.Dump().APIM.Applications {
		if a.Name == name {
			n++
		}
	}
	return n
}

// TestFaultAfterCommit: the handler's change is made, then the client sees
// a 500, a reset or a timeout (the "write landed, client saw an error"
// case every retry path must survive).
func TestFaultAfterCommit(t *testing.T) {
	const route = "POST /api/am/devportal/v3/applications"
	cases := []struct {
		spec    string
		client  *http.Client
		wantErr bool // a transport error rather than a status
		status  int
		fault   string
	}{
		{spec: "route=" + route + ":after5xx=1", status: 500, fault: "after-5xx"},
		{spec: "route=" + route + ":afterreset=1", wantErr: true, fault: "after-reset"},
		{spec: "route=" + route + ":aftertimeout=1", client: &http.Client{Timeout: 300 * time.Millisecond}, wantErr: true, fault: "after-timeout"},
	}
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			s := Start(t, Options{})
			tok := apimToken(t, s, "apim:app_manage apim:subscribe")
			if err := s.Faults().SetSpec(c.spec); err != nil {
				t.Fatal(err)
			}
			client := c.client
			if client == nil {
				client = s.HTTPClient()
			}
			body := map[string]any{"name": "landed", "throttlingPolicy": "Unlimited"}
			r, err := try(client, "POST", s.APIMURL()+"/api/am/devportal/v3/applications", body, "Authorization", "Bearer "+tok)
			switch {
			case c.wantErr && err == nil:
				t.Fatalf("want a transport error, got %d %s", r.Status, r.Body)
			case !c.wantErr && (err != nil || r.Status != c.status || r.Header.Get(FaultHeader) != "5xx"):
				t.Fatalf("want %d with the fault header, got %v %d %v", c.status, err, r.Status, r.Header)
			}
			if n := appCount(s, "landed"); n != 1 {
				t.Fatalf("the write should have landed once, the simulator holds %d", n)
			}
			// The count is spent: the next request is answered normally
			// (409: the application exists, which is what a blind retry meets).
			r = call(t, s.HTTPClient(), "POST", s.APIMURL()+"/api/am/devportal/v3/applications", body, "Authorization", "Bearer "+tok)
			if r.Status != 409 {
				t.Fatalf("retry: %d %s", r.Status, r.Body)
			}
			st := s.Stats().APIM
			for deadline := time.Now().Add(5 * time.Second); st.Faults.AfterCommit < 1 && time.Now().Before(deadline); st = s.Stats().APIM {
				time.Sleep(10 * time.Millisecond)
			}
			if st.Faults.AfterCommit != 1 {
				t.Fatalf("afterCommit counter %+v", st.Faults)
			}
		})
	}
}

// TestFaultAfterCommitGlobalProbability: a global post-commit rule applies
// to every route, reads included (the read is served, then answered 500).
func TestFaultAfterCommitGlobal(t *testing.T) {
	s := Start(t, Options{})
	if err := s.Faults().SetSpec("apim.after5xx=1.0"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if r := call(t, nil, "GET", s.APIMURL()+pathAPIs, nil); r.Status != 500 {
			t.Fatalf("want 500, got %d", r.Status)
		}
	}
	if r := call(t, nil, "GET", s.ISURL()+pathWellKnown, nil); r.Status != 200 {
		t.Fatalf("IS is not covered by an apim rule: %d", r.Status)
	}
	if n := s.Stats().APIM.Faults.AfterCommit; n != 3 {
		t.Fatalf("afterCommit %d", n)
	}
	if got := s.Faults().Config().String(); got != "apim.after5xx=1.0" {
		t.Fatalf("round trip: %q", got)
	}
}
