package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim"
)

func TestPages(t *testing.T) {
	for _, c := range []struct {
		n, p int
		want int64
	}{{0, 100, 1}, {1, 100, 1}, {100, 100, 1}, {101, 100, 2}, {5001, 100, 51}, {20000, 0, 1}, {0, 0, 1}} {
		if got := pages(c.n, c.p); got != c.want {
			t.Errorf("pages(%d, %d) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}

func TestFloors(t *testing.T) {
	// 4 apps with 3, 3, 2, 0 subscriptions over 3 APIs; 250 users (+1
	// admin), 2 roles (+3 system roles); APIM unbounded, SCIM 100.
	c := Counts{KeyManagers: 1, Apps: 4, Keys: 4, SubsPerApp: []int{3, 3, 2, 0}, SubsPerAPI: []int{3, 3, 2},
		Users: 250, Roles: 2, LiveApps: 5, LiveUsers: 251, LiveRoles: 5}
	l := Limits{APIMPage: 0, SCIMPage: 100}
	noop := NoopFloor(c, l)
	// auth 2 + KMs (1+1) + apps 1 + keys 4 + subs min(4, 1+3) = 4 + users 3 + roles 1
	if got := noop.Total(); got != 2+2+1+4+4+3+1 {
		t.Errorf("noop floor = %d (%s)", got, noop)
	}
	// With a page of 2 per call: apps ceil(5/2)=3; subs per app 2+2+1+1=6
	// vs per API ceil(3/2)=2 + 2+2+1 = 7 → 6.
	noop2 := NoopFloor(c, Limits{APIMPage: 2, SCIMPage: 100})
	if got := noop2.Total(); got != 2+2+3+4+6+3+1 {
		t.Errorf("noop floor (page 2) = %d (%s)", got, noop2)
	}
	// Many apps over few APIs: listing per API wins.
	c2 := c
	c2.SubsPerApp = []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	c2.SubsPerAPI = []int{5, 5}
	c2.Apps = 10
	if f := ReadFloor(c2, l, true); f[len(f)-3].Calls != 3 || f[len(f)-3].Kind != "subscriptions" {
		t.Errorf("subscriptions term = %+v, want 3 (per API)", f[len(f)-3])
	}
	empty := ApplyEmptyFloor(c, l, Counts{LiveApps: 1, LiveUsers: 1, LiveRoles: 3})
	// auth 2 + KM list 1 + apps 1 + users 1 + roles 1 + APIs 1 + writes (1+4+4+8+250+2)
	if got := empty.Total(); got != 2+1+1+1+1+1+(1+4+4+8+250+2) {
		t.Errorf("apply-empty floor = %d (%s)", got, empty)
	}
	// 1% of 4 apps, 8 subscriptions and 250 users: 1 + 1 + 3 writes.
	if got := ChangeFloor(c, l).Total(); got != noop.Total()+5 {
		t.Errorf("change floor = %d", got)
	}
	// Floor time: the busier server's calls over the cap plus the
	// sequential calls. APIM: noop minus users and roles = 13 calls; IS 4.
	if got, want := FloorTime(noop, 0, 20*time.Millisecond, 4), 13*20*time.Millisecond/4+3*20*time.Millisecond; got != want {
		t.Errorf("floor time = %s, want %s", got, want)
	}
	if noop.Server(ServerAPIM)+noop.Server(ServerIS) != noop.Total() {
		t.Errorf("floor terms without a server: %+v", noop)
	}
	// apply-empty: IS writes 252 + 2 reads dominate: 254/4 calls + (3+2) sequential.
	if got, want := FloorTime(empty, 2, 20*time.Millisecond, 4), 254*20*time.Millisecond/4+5*20*time.Millisecond; got != want {
		t.Errorf("apply-empty floor time = %s, want %s", got, want)
	}
	est, err := sim.DescribeEstate(sim.EstateSize{APIs: 10, Apps: 50, Subscriptions: 200, Users: 50, Roles: 5})
	if err != nil {
		t.Fatal(err)
	}
	cs := CountsOf(est, Builtins{Apps: 1, Users: 1})
	if cs.Subscriptions() != 200 || len(cs.SubsPerAPI) != 10 || ChangeSetSize(cs) != 1+2+1 {
		t.Errorf("counts of S: %d subscriptions, %d APIs, change set %d", cs.Subscriptions(), len(cs.SubsPerAPI), ChangeSetSize(cs))
	}
}

func TestSizes(t *testing.T) {
	got, err := ParseSizes(" s, XL ")
	if err != nil || len(got) != 2 || got[0].Name != "S" || got[1].Apps != 20000 || got[1].Subscriptions != 80000 {
		t.Fatalf("ParseSizes = %+v, %v", got, err)
	}
	if def, _ := ParseSizes(""); len(def) != 2 || def[1].Name != "M" {
		t.Errorf("default sizes = %+v", def)
	}
	if _, err := ParseSizes("XXL"); err == nil {
		t.Error("XXL accepted")
	}
}

// TestNaive runs the naive client against a tiny generated estate.
func TestNaive(t *testing.T) {
	s := sim.Start(t, sim.Options{MaxSCIMCount: 100})
	size := sim.EstateSize{APIs: 3, Apps: 30, Subscriptions: 60, Users: 30, Roles: 2}
	if _, err := sim.GenerateEstate(s, size); err != nil {
		t.Fatal(err)
	}
	dump := s.Dump()
	apps, users, roles := len(dump.APIM.Applications), len(dump.IS.Users), len(dump.IS.Roles)
	tiers := len(dump.APIM.ApplicationPolicies) + len(dump.APIM.SubscriptionPolicies)
	kms := len(dump.APIM.KeyManagers)
	s.ResetCounters()
	n := &Naive{APIMURL: s.APIMURL(), ISURL: s.ISURL(), User: "admin", Password: "admin"}
	r, err := n.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Apps != apps || r.Subs != 60 || r.Users != users || r.Roles != roles || r.Policies != tiers || r.KeyManagers != kms {
		t.Fatalf("naive read %+v; want %d apps, 60 subscriptions, %d users, %d roles, %d tiers, %d KMs", r, apps, users, roles, tiers, kms)
	}
	// 2 auth + KMs (1 + each) + tiers (2 + each) + apps (ceil(apps/25)
	// pages + 3 per app: details, keys, subscriptions with ≤ 25 each) +
	// each subscription + users and roles (ceil((n+1)/25) pages + each).
	want := int64(2 + 1 + kms + 2 + tiers + (apps+24)/25 + 3*apps + 60 + (users/25 + 1) + users + (roles/25 + 1) + roles)
	if r.Calls != want {
		t.Errorf("naive made %d calls, want %d", r.Calls, want)
	}
	if st := s.Stats(); st.Total() != r.Calls {
		t.Errorf("simulator counted %d calls, the naive client %d", st.Total(), r.Calls)
	}
}

// TestRecordFields: bench-results.json records have exactly the fields
// issue 10 lists.
func TestRecordFields(t *testing.T) {
	sp := 30.0
	recs := []Record{{Size: "S", Scenario: ScenarioNoop, SpeedupVsNaive: &sp}, {Size: "S", Scenario: ScenarioNaive}}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := WriteJSON(path, recs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	b := mustRead(t, path)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"calls", "floor", "floor_time_s", "latency_ms", "peak_rss_mib", "scenario", "server_concurrency", "size",
		"speedup_vs_list_only", "speedup_vs_naive", "wall_per_floor_time", "wall_s", "writes"}
	for _, rec := range got {
		var keys []string
		for k := range rec {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("record fields %v, want %v", keys, want)
		}
	}
	if got[0]["speedup_vs_naive"] != 30.0 || got[1]["speedup_vs_naive"] != nil {
		t.Errorf("speedup_vs_naive: %v, %v", got[0]["speedup_vs_naive"], got[1]["speedup_vs_naive"])
	}
	for _, s := range []string{ScenarioNoop, ScenarioApplyEmpty, ScenarioApply1pct, ScenarioNaive} {
		if s != "noop-plan" && s != "apply-empty" && s != "apply-1pct" && s != "naive-noop-plan" {
			t.Errorf("scenario %q", s)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMain lets the test binary serve as the simulator child process of
// the smoke run (simproc.go re-executes the running binary).
func TestMain(m *testing.M) {
	if conf := os.Getenv(simChildEnv); conf != "" {
		runSimChild(conf)
		return
	}
	os.Exit(m.Run())
}

// TestSmokeS runs the whole bench at size S once, as `make bench` does
// but writing no figures, so that the harness cannot rot: every scenario
// with its checks (the apply from empty converges with no duplicate, the
// no-op plan plans and writes nothing, both baselines read the whole
// estate, the 1% change set is applied, the daemon's passes over unchanged
// manifests validate nothing again). No timing is checked.
func TestSmokeS(t *testing.T) {
	for k, v := range Env {
		t.Setenv(k, v)
	}
	cfg := Config{Latency: time.Millisecond, ServerConcurrency: 16, DaemonPasses: 5}
	recs, notes, err := RunSize(context.Background(), Sizes[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Record{}
	for _, r := range recs {
		got[r.Scenario] = r
	}
	for _, s := range []string{ScenarioNoop, ScenarioApplyEmpty, ScenarioApply1pct, ScenarioNaive, ScenarioListOnly, ScenarioDaemon} {
		r, ok := got[s]
		if !ok {
			t.Errorf("no %s record", s)
			continue
		}
		if r.Calls < r.Floor || r.Floor == 0 || r.FloorTimeS <= 0 || r.WallPerFloorTime <= 0 {
			t.Errorf("%s: %d calls, floor %d, floor time %.3f s, wall/floor time %.2f", s, r.Calls, r.Floor, r.FloorTimeS, r.WallPerFloorTime)
		}
	}
	if n := got[ScenarioNoop]; n.Writes != 0 || n.SpeedupVsNaive == nil || n.SpeedupVsListOnly == nil {
		t.Errorf("no-op plan record: %+v", n)
	}
	if w := got[ScenarioApplyEmpty].Writes; w < 361 {
		t.Errorf("apply from empty made %d writes, want at least the 361 objects", w)
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{"0 duplicates", "sealed files", "fsyncs", "validated: 307 in pass 1, at most 0"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
}
