package sim

import (
	"encoding/json"
	"testing"
	"time"
)

func TestGenerateEstate(t *testing.T) {
	size := EstateSize{Apps: 20000, Subscriptions: 80000, Users: 20000, Roles: 20}
	if testing.Short() || raceEnabled {
		size = EstateSize{Apps: 2000, Subscriptions: 8000, Users: 2000, Roles: 20}
	}
	s := Start(t, Options{})
	before := s.Dump()
	// How long generation takes is for the scale bench (make bench) to
	// measure: a wall-clock budget here failed on a loaded machine.
	start := time.Now()
	e, err := GenerateEstate(s, size)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("generated %d apps, %d subscriptions, %d users in %v", size.Apps, size.Subscriptions, size.Users, took)
	want, _ := DescribeEstate(size)
	bw, _ := json.Marshal(want)
	be, _ := json.Marshal(e)
	if string(bw) != string(be) {
		t.Fatal("GenerateEstate's description differs from DescribeEstate")
	}
	d := s.Dump()
	if got := len(d.APIM.Applications) - len(before.APIM.Applications); got != size.Apps {
		t.Errorf("applications added %d, want %d", got, size.Apps)
	}
	if got := len(d.APIM.Subscriptions); got != size.Subscriptions {
		t.Errorf("subscriptions %d, want %d", got, size.Subscriptions)
	}
	if got := len(d.IS.Users) - len(before.IS.Users); got != size.Users {
		t.Errorf("users added %d, want %d", got, size.Users)
	}
	if got := len(d.IS.Roles) - len(before.IS.Roles); got != size.Roles {
		t.Errorf("roles added %d, want %d", got, size.Roles)
	}
	// The applications are visible over REST to the admin, paged.
	tok := apimToken(t, s, "apim:subscribe")
	r := call(t, nil, "GET", s.APIMURL()+"/api/am/devportal/v3/applications?query=app-0000&limit=5", nil,
		"Authorization", "Bearer "+tok)
	var list struct {
		Count      int `json:"count"`
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &list) != nil || list.Count != 5 || list.Pagination.Total != 9 {
		t.Fatalf("GET /applications?query=app-0000: %d %.300s", r.Status, r.Body)
	}
}
