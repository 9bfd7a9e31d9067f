package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultEstate(t *testing.T) {
	e := DefaultEstate()
	want := map[string]string{
		"ForexAPI": "/forex", "LedgerAPI": "/ledger", "PaymentAPI": "/payment",
		"ProfileAPI": "/profile", "RuleEngineAPI": "/rule-engine", "WalletAPI": "/wallet",
	}
	if len(e.APIs) != len(want) {
		t.Fatalf("default seed has %d APIs, want %d", len(e.APIs), len(want))
	}
	for _, a := range e.APIs {
		if want[a.Name] != a.Context || a.Version != "1.0.0" || a.Status != "PUBLISHED" {
			t.Errorf("API %+v: want context %q, v1, PUBLISHED", a, want[a.Name])
		}
	}
	if len(e.Applications)+len(e.Users)+len(e.Roles) != 0 {
		t.Errorf("default seed should only hold APIs: %+v", e)
	}
}

func TestParseEstate(t *testing.T) {
	good := `
apis:
  - {name: A, version: v1, context: /a}
  - {name: A, version: v2, context: /a, status: created}
applications:
  - name: App1
    throttlingPolicy: 10PerMin
    subscriptions:
      - {api: A, version: v1, tier: Gold}
users:
  - {userName: alice, password: "S3cret!pass", emails: [alice@example.com]}
roles:
  - {displayName: readers, users: [alice], permissions: [internal_login]}
`
	e, err := ParseEstate([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.APIs) != 2 || e.Applications[0].Subscriptions[0].Tier != "Gold" || e.Roles[0].Users[0] != "alice" {
		t.Fatalf("parsed %+v", e)
	}

	bad := map[string]string{
		"apis: [{name: A, version: v1, context: a}]":                                       "context must start with /",
		"apis: [{name: A, context: /a}]":                                                   "version is required",
		"apis: [{name: A, version: v1, context: /a, status: LIVE}]":                        "status",
		"apis: [{name: A, version: v1, context: /a}, {name: a, version: v1, context: /b}]": "duplicate API",
		"apis: [{name: A, version: v1, context: /a, colour: red}]":                         "colour",
		"applications: [{name: X, subscriptions: [{api: Nope}]}]":                          "not in the seed",
		"applications: [{name: ' X'}]":                                                     "surrounding blanks",
		"users: [{userName: bob}, {userName: PRIMARY/Bob}]":                                "duplicate user",
		"roles: [{displayName: r}, {displayName: R}]":                                      "duplicate role",
	}
	for doc, want := range bad {
		_, err := ParseEstate([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEstate(%s) error = %v, want %q", doc, err, want)
		}
	}

	p := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(p, []byte("apis: [{name: A, version: v1, context: a}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadEstateFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("LoadEstateFile error %v should name the file", err)
	}
}

func TestDescribeEstate(t *testing.T) {
	e, err := DescribeEstate(EstateSize{Apps: 5, Subscriptions: 12, Users: 7, Roles: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.APIs) != 3 { // ceil(12/5)
		t.Fatalf("APIs = %d, want 3", len(e.APIs))
	}
	subs := 0
	for _, a := range e.Applications {
		seen := map[string]bool{}
		for _, s := range a.Subscriptions {
			if seen[s.API] {
				t.Fatalf("%s subscribes twice to %s", a.Name, s.API)
			}
			seen[s.API] = true
		}
		subs += len(a.Subscriptions)
	}
	if subs != 12 {
		t.Fatalf("subscriptions = %d, want 12", subs)
	}
	if e.Applications[0].Name != "app-00001" || e.Users[6].UserName != "user-00007" || e.Roles[2].DisplayName != "role-0003" {
		t.Fatalf("names: %s %s %s", e.Applications[0].Name, e.Users[6].UserName, e.Roles[2].DisplayName)
	}
	members := 0
	for _, r := range e.Roles {
		members += len(r.Users)
	}
	if members != 7 {
		t.Fatalf("role members = %d, want 7", members)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("generated estate does not validate: %v", err)
	}
	again, _ := DescribeEstate(EstateSize{Apps: 5, Subscriptions: 12, Users: 7, Roles: 3})
	if len(again.Applications) != 5 || again.Applications[4].Subscriptions[0] != e.Applications[4].Subscriptions[0] {
		t.Fatal("DescribeEstate is not deterministic")
	}
	if _, err := DescribeEstate(EstateSize{Apps: 2, Subscriptions: 5, APIs: 2}); err == nil {
		t.Fatal("want error: 3 subscriptions per app over 2 APIs")
	}
	if _, err := DescribeEstate(EstateSize{Subscriptions: 1}); err == nil {
		t.Fatal("want error: subscriptions without apps")
	}
}
