package contract

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/wso2sync/wso2sync/internal/sim/apim"
)

// TestStrictBodiesMatchSpec: the properties the APIM simulator accepts in
// each strictly checked body (apim.BodyFields) are exactly those the 4.5
// spec declares for the operation's request schema, so the simulator
// refuses what APIM's Jackson binding refuses and nothing more.
func TestStrictBodiesMatchSpec(t *testing.T) {
	specs, err := LoadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]string{}
	for _, rt := range allRoutes() {
		routes[rt.Pattern()] = rt.Spec
	}
	for pattern, fields := range apim.BodyFields {
		spec, ok := routes[pattern]
		if !ok {
			t.Errorf("%s: not a served route", pattern)
			continue
		}
		method, full, _ := strings.Cut(pattern, " ")
		var path string
		for _, base := range []string{apim.AdminBase, apim.DevportalBase, apim.PublisherBase} {
			if p, ok := strings.CutPrefix(full, base); ok {
				path = p
			}
		}
		op := opOf(specs.Docs[spec], path, method)
		if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
			t.Errorf("%s: no request body in %s", pattern, spec)
			continue
		}
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			t.Errorf("%s: no JSON request schema", pattern)
			continue
		}
		s := mt.Schema.Value
		if s.Items != nil && s.Items.Value != nil { // an array of objects
			s = s.Items.Value
		}
		want := map[string]bool{}
		schemaProps(s, want)
		var declared []string
		for k := range want {
			declared = append(declared, k)
		}
		sort.Strings(declared)
		got := slices.Sorted(slices.Values(fields))
		if !slices.Equal(got, declared) {
			t.Errorf("%s: simulator accepts %v, the spec declares %v", pattern, got, declared)
		}
	}
}

func schemaProps(s *openapi3.Schema, out map[string]bool) {
	for k := range s.Properties {
		out[k] = true
	}
	for _, a := range s.AllOf {
		if a.Value != nil {
			schemaProps(a.Value, out)
		}
	}
}

// evidenceForms are the accepted ways an erratum cites its evidence: a
// WSO2-API.md section, a file of one of WSO2's source repositories, or —
// for a defect of the spec file alone — the spec file and operation.
var evidenceForms = regexp.MustCompile(`^(WSO2-API\.md §\d|` +
	`(wso2|wso2-extensions)/(carbon-apimgt|identity-inbound-auth-oauth|identity-api-server|charon|product-apim-tooling) \S+/\S+|` +
	`spec: \S+\.yaml (GET|POST|PUT|PATCH|DELETE) /)`)

// TestErrataCiteEvidence: every erratum and quirk the simulator relies on
// says where the behaviour is shown.
func TestErrataCiteEvidence(t *testing.T) {
	for i, e := range Errata {
		if e.Evidence == "" {
			t.Errorf("erratum %d (%s %s %q): no Evidence", i, e.Spec, e.Op, e.Match)
			continue
		}
		if !evidenceForms.MatchString(e.Evidence) {
			t.Errorf("erratum %d (%s %s): Evidence %q is neither a WSO2-API.md section, a WSO2 source file nor a spec location",
				i, e.Spec, e.Op, e.Evidence)
		}
		if strings.HasPrefix(e.Evidence, "spec: ") && !strings.Contains(e.Evidence, e.Spec) {
			t.Errorf("erratum %d: spec evidence %q names another spec than %s", i, e.Evidence, e.Spec)
		}
	}
}
