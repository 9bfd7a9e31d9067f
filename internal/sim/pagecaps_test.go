package sim

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
)

// TestPageCaps checks each list family's silent page cap: set through
// Options and the control API, applied whatever limit/count is asked,
// restored by Reset; IS /applications is capped at 100 by default as the
// real server's MaximumItemsPerPage.
func TestPageCaps(t *testing.T) {
	s := Start(t, Options{PageCaps: simcore.PageCaps{SCIM: 3}})
	if _, err := GenerateEstate(s, EstateSize{APIs: 7, Users: 7}); err != nil {
		t.Fatal(err)
	}
	for i := range 105 {
		if _, err := s.IS().AddClient(is.ClientSeed{OAuthClient: simcore.OAuthClient{
			ClientID: fmt.Sprintf("capclient%06d", i), ClientName: fmt.Sprintf("cap_%d", i), GrantTypes: []string{"client_credentials"}}}); err != nil {
			t.Fatal(err)
		}
	}
	auth := basic("admin", "admin")
	count := func(u, key string, hdr ...string) (items int, total int) {
		t.Helper()
		r := call(t, nil, "GET", u, nil, hdr...)
		var m map[string]json.RawMessage
		if r.Status != 200 || json.Unmarshal(r.Body, &m) != nil {
			t.Fatalf("GET %s: %d %.200s", u, r.Status, r.Body)
		}
		var list []json.RawMessage
		_ = json.Unmarshal(m[key], &list)
		_ = json.Unmarshal(m["totalResults"], &total)
		return len(list), total
	}
	users := s.ISURL() + "/scim2/Users?count=100"
	apps := s.ISURL() + "/api/server/v1/applications?limit=1000"
	apis := s.APIMURL() + "/api/am/devportal/v3/apis?limit=100"

	if n, total := count(users, "Resources", "Authorization", auth); n != 3 || total < 8 {
		t.Errorf("SCIM with Options cap 3: %d users of %d", n, total)
	}
	if n, total := count(apps, "applications", "Authorization", auth); n != simcore.DefaultISApplicationsCap || total != 105 {
		t.Errorf("IS applications default cap: %d of %d, want %d", n, total, simcore.DefaultISApplicationsCap)
	}
	if n, _ := count(apis, "list"); n != 7 {
		t.Errorf("APIM without a cap: %d APIs, want 7", n)
	}

	r := call(t, nil, "PUT", s.APIMURL()+"/_sim/knobs", map[string]any{"pageCaps": map[string]int{"apim": 2, "scim": 5, "isApplications": 4}})
	if r.Status != 200 {
		t.Fatalf("PUT knobs: %d %s", r.Status, r.Body)
	}
	if n, _ := count(apis, "list"); n != 2 {
		t.Errorf("APIM cap 2: %d APIs", n)
	}
	if n, _ := count(users, "Resources", "Authorization", auth); n != 5 {
		t.Errorf("SCIM cap 5: %d users", n)
	}
	if n, _ := count(apps, "applications", "Authorization", auth); n != 4 {
		t.Errorf("IS applications cap 4: %d", n)
	}
	if n, _ := count(s.APIMURL()+"/api/am/devportal/v3/apis?limit=1", "list"); n != 1 {
		t.Errorf("a limit below the cap: %d APIs, want 1", n)
	}
	if r := call(t, nil, "PUT", s.APIMURL()+"/_sim/knobs", map[string]any{"pageCaps": map[string]int{"apim": -1}}); r.Status != 400 {
		t.Errorf("negative cap accepted: %d", r.Status)
	}
	r = call(t, nil, "GET", s.ISURL()+"/_sim/knobs", nil)
	var k KnobsConfig
	if json.Unmarshal(r.Body, &k) != nil || k.PageCaps != (simcore.PageCaps{APIM: 2, SCIM: 5, ISApplications: 4}) {
		t.Errorf("GET knobs: %s", r.Body)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := s.Knobs().PageCaps(); got != (simcore.PageCaps{SCIM: 3}) {
		t.Errorf("after Reset: %+v, want the Options' caps", got)
	}
}
