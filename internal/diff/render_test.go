package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const resolvedSecret = "hunter2-RESOLVED-SECRET"

// scenario is the testdata estate with one of each kind of change.
func scenario(t *testing.T) *Plan {
	t.Helper()
	desired := load(t, filepath.Join("testdata", "env"))
	live := serverForm(t, desired)
	app := func(name string) *spec.Application {
		for _, a := range live.Applications {
			if a.Metadata.Name == name {
				return a
			}
		}
		t.Fatalf("no live application %q", name)
		return nil
	}
	// update: a tier changed by hand in the DevPortal.
	app("payment-client").Spec.ThrottlingPolicy = "Unlimited"
	// replace: the forex key came from another key manager.
	app("forex-client").Spec.Keys[0].KeyManager = spec.ResidentKeyManager
	// delete (owned) and unmanaged (not owned) keys of declared apps.
	app("payment-client").Spec.Keys = append(app("payment-client").Spec.Keys,
		spec.ApplicationKey{KeyType: "SANDBOX", KeyManager: "WSO2IS", Mode: "CREATED", GrantTypes: []string{"client_credentials"}})
	app("profile-client").Spec.Keys = append(app("profile-client").Spec.Keys,
		spec.ApplicationKey{KeyType: "SANDBOX", KeyManager: "WSO2IS", Mode: "CREATED"})
	// create: an application (and its key) that is not there yet.
	var apps []*spec.Application
	for _, a := range live.Applications {
		if a.Metadata.Name != "rule-engine-client" {
			apps = append(apps, a)
		}
	}
	live.Applications = append(apps,
		&spec.Application{Object: spec.Object{Metadata: spec.Metadata{Name: "old-client"}},
			Spec: spec.ApplicationSpec{Owner: "admin", ThrottlingPolicy: "Unlimited",
				Keys: []spec.ApplicationKey{{KeyType: "PRODUCTION", KeyManager: "WSO2IS"}}}},
		&spec.Application{Object: spec.Object{Metadata: spec.Metadata{Name: "legacy-app"}},
			Spec: spec.ApplicationSpec{Owner: "admin", ThrottlingPolicy: "Unlimited"}})
	live.Subscriptions = append(live.Subscriptions, &spec.Subscription{
		Object: spec.Object{Metadata: spec.Metadata{Name: "old-client--forex"}},
		Spec:   spec.SubscriptionSpec{Application: "old-client", API: spec.APIRef{Name: "ForexAPI", Version: "1.0.0"}, ThrottlingPolicy: "Gold"}})
	for _, p := range live.ThrottlingPolicies {
		switch p.Metadata.Name {
		case "ServiceToService":
			p.Spec.Level = spec.LevelSubscription // replace
		case "Platinum":
			p.Spec.DefaultLimit.RequestCount.RequestCount = 4000 // update
		}
	}
	for _, km := range live.KeyManagers {
		if km.Metadata.Name == "Keycloak" {
			km.Spec.TokenEndpoint = "https://kc.example.com/realms/old/protocol/openid-connect/token"
		}
	}
	for _, u := range live.Users {
		if u.Metadata.Name == "bob" {
			u.Spec.Emails[0].Value = "bob@old.example.com"
		}
	}
	live.Users = append(live.Users, &spec.User{Object: spec.Object{Metadata: spec.Metadata{Name: "carol"}},
		Spec: spec.UserSpec{UserName: "carol"}})
	// replace: the endpoint certificate now holds another certificate.
	live.Certificates[0].Spec.Source.PEM = readPEM(t, &desired.Certificates[1].Object, "spec.source.file", "certs/wso2is.pem")

	// Ownership is by natural key (the subscription's is its application
	// and API, not its name).
	owned := map[string]bool{"old-client": true, "old-client/forexapi/1.0.0": true, "payment-client/SANDBOX/WSO2IS": true}
	return Compute(desired, live, Options{
		Prune: PruneOwned,
		Owned: func(_ spec.Kind, name string) bool { return owned[name] },
	})
}

func render(t *testing.T, p *Plan, f func(*bytes.Buffer, *Plan, RenderOptions) error, opts RenderOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b, p, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func text(b *bytes.Buffer, p *Plan, o RenderOptions) error     { return RenderText(b, p, o) }
func jsonOut(b *bytes.Buffer, p *Plan, o RenderOptions) error  { return RenderJSON(b, p, o) }
func markdown(b *bytes.Buffer, p *Plan, o RenderOptions) error { return RenderMarkdown(b, p, o) }

func TestRenderersGolden(t *testing.T) {
	p := scenario(t)
	p.LiveHash = "sha256:0123456789abcdef"
	opts := RenderOptions{BaseDir: "testdata"}
	golden(t, "plan.txt", render(t, p, text, opts))
	golden(t, "plan-color.txt", render(t, p, text, RenderOptions{BaseDir: "testdata", Color: true}))
	golden(t, "plan.json", render(t, p, jsonOut, opts))
	golden(t, "plan.md", render(t, p, markdown, opts))

	empty := Compute(load(t, filepath.Join("testdata", "env")), serverForm(t, load(t, filepath.Join("testdata", "env"))), Options{})
	golden(t, "empty.txt", render(t, empty, text, opts))
	golden(t, "empty.md", render(t, empty, markdown, opts))
}

func TestScenarioActions(t *testing.T) {
	p := scenario(t)
	want := map[string]Action{
		"ThrottlingPolicy/ServiceToService":                   Replace,
		"ThrottlingPolicy/Platinum":                           Update,
		"KeyManager/Keycloak":                                 Update,
		"Application/payment-client":                          Update,
		"Application/rule-engine-client":                      Create,
		"Application/old-client":                              Delete,
		"ApplicationKey/forex-client/PRODUCTION/WSO2IS":       Replace,
		"ApplicationKey/rule-engine-client/PRODUCTION/WSO2IS": Create,
		"ApplicationKey/payment-client/SANDBOX/WSO2IS":        Delete,
		"User/bob":            Update,
		"Certificate/backend": Replace,
	}
	got := map[string]Action{}
	for _, c := range p.Changes {
		if c.Action != NoOp {
			got[string(c.Kind)+"/"+c.Name] = c.Action
		}
	}
	for k, a := range want {
		if got[k] != a {
			t.Errorf("%s: %q, want %q", k, got[k], a)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d changes, want %d:\n%s", len(got), len(want), describe(p))
	}
	// old-client's key and subscription are deleted with the application,
	// not planned apart: they are its cascade.
	for _, c := range p.Changes {
		if strings.HasPrefix(c.Name, "old-client/") || strings.HasPrefix(c.Name, "old-client--") {
			t.Errorf("dependent of a deleted application planned: %s", c.Name)
		}
		if c.Kind == spec.KindApplication && c.Name == "old-client" {
			var got []string
			for _, r := range c.Cascade {
				got = append(got, string(r.Kind)+"/"+r.Name+" "+r.Key)
			}
			want := []string{"ApplicationKey/old-client/PRODUCTION/WSO2IS old-client/PRODUCTION/WSO2IS",
				"Subscription/old-client--forex old-client/forexapi/1.0.0"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("cascade of old-client = %q, want %q", got, want)
			}
		}
	}
	wantUnmanaged := []Ref{
		{Kind: spec.KindApplication, Name: "legacy-app", Reason: "not created by wso2sync"},
		{Kind: spec.KindUser, Name: "carol", Reason: "not created by wso2sync"},
		{Kind: KindApplicationKey, Name: "profile-client/SANDBOX/WSO2IS", Reason: "not created by wso2sync"},
	}
	if len(p.Unmanaged) != len(wantUnmanaged) {
		t.Fatalf("unmanaged = %v, want %v", p.Unmanaged, wantUnmanaged)
	}
	for i, u := range wantUnmanaged {
		if p.Unmanaged[i] != u {
			t.Errorf("unmanaged[%d] = %v, want %v", i, p.Unmanaged[i], u)
		}
	}
	if s := p.Summary; s != (Summary{Create: 2, Update: 4, Replace: 3, Delete: 2, NoOp: s.NoOp}) || s.NoOp == 0 {
		t.Errorf("summary = %+v", s)
	}
}

// No renderer may print a secret: neither a resolved secret value nor a
// plain one written into a free-form connector property.
func TestRenderersPrintNoSecret(t *testing.T) {
	p := scenario(t)
	raw := []string{resolvedSecret, "hunter2-RAW-SECRET-VALUE"}
	outputs := map[string][]byte{
		"text":     render(t, p, text, RenderOptions{}),
		"json":     render(t, p, jsonOut, RenderOptions{}),
		"markdown": render(t, p, markdown, RenderOptions{}),
	}
	for name, out := range outputs {
		for _, s := range raw {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s output contains the secret %q", name, s)
			}
		}
	}
	// No renderer shows a digest of a secret: a dictionary reverses a
	// plain hash of a weak one. Sensitive values read "(sensitive value)".
	sum := sha256.Sum256([]byte(resolvedSecret))
	for name, out := range outputs {
		for _, d := range []string{hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:8])} {
			if bytes.Contains(out, []byte(d)) {
				t.Errorf("%s output contains a digest of the secret", name)
			}
		}
		if !bytes.Contains(out, []byte(SensitiveValue)) && name != "json" {
			t.Errorf("%s output does not say (sensitive value)", name)
		}
	}
}

// A raw value that somehow reached a sensitive field is still not printed.
func TestRenderersGuardSensitiveFields(t *testing.T) {
	p := &Plan{Version: 1, Changes: []Change{{
		Kind: spec.KindUser, Name: "alice", Action: Update, Reason: "drift",
		Before: map[string]any{"spec.password": "raw-before-secret"},
		After:  map[string]any{"spec.password": "raw-after-secret"},
		Fields: []FieldDiff{{Path: "spec.password", Before: "raw-before-secret", After: "raw-after-secret", Sensitive: true},
			{Path: "spec.additionalProperties.client_secret", After: "raw-unflagged-secret"}},
	}}, Summary: Summary{Update: 1}}
	for name, f := range map[string]func(*bytes.Buffer, *Plan, RenderOptions) error{"text": text, "json": jsonOut, "markdown": markdown} {
		out := render(t, p, f, RenderOptions{})
		if bytes.Contains(out, []byte("raw-")) {
			t.Errorf("%s printed a raw value:\n%s", name, out)
		}
	}
}

// The JSON plan marks a sensitive field "sensitive": true and gives no
// before or after: no value, digest or description a tool could misuse.
func TestJSONSensitiveFields(t *testing.T) {
	out := render(t, scenario(t), jsonOut, RenderOptions{})
	var doc struct {
		Changes []struct {
			Fields []struct {
				Path      string `json:"path"`
				Before    any    `json:"before"`
				After     any    `json:"after"`
				Sensitive bool   `json:"sensitive"`
			} `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range doc.Changes {
		for _, f := range c.Fields {
			if !f.Sensitive {
				continue
			}
			n++
			if f.Before != nil || f.After != nil {
				t.Errorf("%s: sensitive field with before %v, after %v", f.Path, f.Before, f.After)
			}
		}
	}
	if n == 0 {
		t.Fatal("the scenario has no sensitive field")
	}
}

func TestJSONShape(t *testing.T) {
	out := render(t, scenario(t), jsonOut, RenderOptions{})
	var doc struct {
		Version int `json:"version"`
		Summary struct {
			Create, Replace int
		} `json:"summary"`
		Changes []struct {
			Action string `json:"action"`
			Fields []struct {
				ForcesReplace bool `json:"forcesReplace"`
			} `json:"fields"`
		} `json:"changes"`
		Unmanaged []json.RawMessage `json:"unmanaged"`
		Warnings  []string          `json:"warnings"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || doc.Summary.Create != 2 || doc.Summary.Replace != 3 || doc.Warnings == nil {
		t.Errorf("unexpected document head: %+v", doc)
	}
	replaces := 0
	for _, c := range doc.Changes {
		for _, f := range c.Fields {
			if f.ForcesReplace && c.Action == "replace" {
				replaces++
				break
			}
		}
	}
	if replaces != 3 {
		t.Errorf("%d replace changes carry a forcing field, want 3", replaces)
	}
	// The documented example must decode, field for field, into the
	// structs RenderJSON writes: the docs and the encoder cannot drift.
	docBytes, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(docBytes), "## Example\n\n```json\n")
	example, _, _ = strings.Cut(example, "```")
	if !ok || example == "" {
		t.Fatal("docs/plan-json.md has no JSON example")
	}
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	var ex jsonPlan
	if err := dec.Decode(&ex); err != nil {
		t.Fatalf("docs/plan-json.md example: %v", err)
	}
	if ex.Version != PlanVersion || len(ex.Changes) == 0 {
		t.Errorf("docs example: version %d, %d changes", ex.Version, len(ex.Changes))
	}
}
