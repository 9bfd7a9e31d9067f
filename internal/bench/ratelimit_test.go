package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
)

func TestCountNaturalKeys(t *testing.T) {
	var st sim.State
	st.APIM.Applications = []apim.Application{
		{ApplicationID: "1", Owner: "admin", Name: "app-1"},
		{ApplicationID: "2", Owner: "admin", Name: "app-2"},
		{ApplicationID: "3", Owner: "admin", Name: "app-1"}, // duplicate
		{ApplicationID: "4", Owner: "alice", Name: "app-1"}, // another owner: not a duplicate
	}
	st.APIM.Subscriptions = []apim.Subscription{
		{SubscriptionID: "a", ApplicationID: "1", APIID: "x"},
		{SubscriptionID: "b", ApplicationID: "1", APIID: "y"},
		{SubscriptionID: "c", ApplicationID: "1", APIID: "x"}, // duplicate
		{SubscriptionID: "d", ApplicationID: "1", APIID: "x"}, // duplicate
		{SubscriptionID: "e", ApplicationID: "2", APIID: "x"},
	}
	st.IS.Users = []is.UserState{
		{ID: "u1", UserName: "bob", Domain: "PRIMARY"},
		{ID: "u2", UserName: "bob", Domain: "primary"}, // duplicate
		{ID: "u3", UserName: "bob", Domain: "OTHER"},
	}
	got := CountNaturalKeys(st)
	want := NaturalKeyCounts{Apps: 4, Subscriptions: 5, Users: 3, DupApps: 1, DupSubscriptions: 2, DupUsers: 1}
	if got != want || got.Duplicates() != 4 {
		t.Fatalf("CountNaturalKeys = %+v, want %+v", got, want)
	}
	r := RateLimitResult{Objects: got, Want: NaturalKeyCounts{Apps: 4, Subscriptions: 5, Users: 3}}
	if r.NoDuplicates() {
		t.Error("NoDuplicates with duplicates")
	}
	r.Objects = NaturalKeyCounts{Apps: 4, Subscriptions: 5, Users: 2}
	if r.NoDuplicates() {
		t.Error("NoDuplicates with a user missing")
	}
	r.Objects = r.Want
	if !r.NoDuplicates() {
		t.Error("not NoDuplicates with the desired counts")
	}
}

func TestTrajectory(t *testing.T) {
	tr := Trajectory{Max: 16}
	if tr.String() != "no samples" {
		t.Errorf("empty: %q", tr.String())
	}
	for i := range 19 {
		tr.Samples = append(tr.Samples, 16-i%16)
	}
	// 19 samples, 10 points at i*18/9 = 0, 2, …, 18.
	if got, want := tr.Points(10), []int{16, 14, 12, 10, 8, 6, 4, 2, 16, 14}; !slices.Equal(got, want) {
		t.Errorf("Points = %v, want %v", got, want)
	}
	if got := (Trajectory{Samples: []int{3, 4}}).Points(10); !slices.Equal(got, []int{3, 4}) {
		t.Errorf("short Points = %v", got)
	}
	s := tr.String()
	for _, w := range []string{"max 16;", "min 1,", "max seen 16", "17/19 samples below max", "16 14 12 10 8 6 4 2 16 14"} {
		if !strings.Contains(s, w) {
			t.Errorf("String() = %q, lacks %q", s, w)
		}
	}
}

// TestReplaceSection: the 429 section and the results section replace
// their own markers' content and leave the rest alone.
func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	if err := os.WriteFile(path, []byte("head\n"+mdBegin+"\nold table\n"+mdEnd+"\nmiddle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(path, md429Begin, md429End, md429Begin+"\nfirst\n"+md429End+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(path, md429Begin, md429End, md429Begin+"\nsecond\n"+md429End+"\n"); err != nil {
		t.Fatal(err)
	}
	want := "head\n" + mdBegin + "\nold table\n" + mdEnd + "\nmiddle\n" + md429Begin + "\nsecond\n" + md429End + "\n"
	if got := string(mustRead(t, path)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
