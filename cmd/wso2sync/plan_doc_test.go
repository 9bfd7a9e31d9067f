package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/diff"
)

// TestSavedPlanDoc: the saved-plan example of docs/plan-json.md decodes,
// field for field, into the types plan --out writes and apply --plan
// reads, and readSavedPlan accepts it: the docs and the file cannot drift.
func TestSavedPlanDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(doc), "### Saved plan example\n\n```json\n")
	example, _, _ = strings.Cut(example, "```")
	if !ok || example == "" {
		t.Fatal("docs/plan-json.md has no saved plan example")
	}
	if !strings.Contains(string(doc), "`"+savedPlanFormat+"`") {
		t.Errorf("docs/plan-json.md does not name the format %s", savedPlanFormat)
	}
	strict := func(v any) {
		t.Helper()
		dec := json.NewDecoder(strings.NewReader(example))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("docs/plan-json.md saved plan example: %v", err)
		}
	}
	var sp savedPlan
	strict(&sp)
	if sp.Format != savedPlanFormat || sp.Plan == nil || sp.LiveHash == "" || sp.LiveHash != sp.Plan.LiveHash ||
		sp.Environment != sp.Plan.Environment || sp.Plan.Version != diff.PlanVersion || len(sp.Plan.Changes) == 0 {
		t.Errorf("saved plan example: %+v", sp)
	}
	// Go's decoder matches names case-insensitively: check the exact key
	// names too, against what writeSavedPlan writes for the decoded plan.
	file := filepath.Join(t.TempDir(), "plan.json")
	if err := writeSavedPlan(file, sp.Plan); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(written) != example {
		t.Errorf("the example is not what plan --out writes for it:\n%s", written)
	}
	if _, err := readSavedPlan(file); err != nil {
		t.Errorf("readSavedPlan: %v", err)
	}
}

// TestPlanJSONDocSensitive: what docs/plan-json.md says of secrets is what
// RenderJSON does: a sensitive field has "sensitive": true and null before
// and after, and no digest of a secret is promised anywhere.
func TestPlanJSONDocSensitive(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "sha256:<16 hex>") || !strings.Contains(string(doc), "its `before` and `after` are `null`") {
		t.Error("docs/plan-json.md does not describe sensitive fields as rendered (no value, no digest)")
	}
	p := &diff.Plan{Version: diff.PlanVersion, Changes: []diff.Change{{Kind: "User", Name: "alice", Action: diff.Update, Sensitive: true,
		Fields: []diff.FieldDiff{{Path: "spec.password", Before: diff.SensitiveValue, After: diff.SensitiveValue, Sensitive: true}}}}}
	var b strings.Builder
	if err := diff.RenderJSON(&b, p, diff.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Changes []struct {
			Fields []map[string]any `json:"fields"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(b.String()), &out); err != nil {
		t.Fatal(err)
	}
	f := out.Changes[0].Fields[0]
	if f["sensitive"] != true || f["before"] != nil || f["after"] != nil {
		t.Errorf("sensitive field rendered as %v", f)
	}
}
