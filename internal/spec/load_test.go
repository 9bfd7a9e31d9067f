package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestDefaultsComeFromTheSchema(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"wso2sync.yaml": envHeader,
		"app.yaml": `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  keys:
    - {keyType: PRODUCTION, keyManager: Resident Key Manager}
---
apiVersion: wso2sync/v1alpha1
kind: User
metadata: {name: alice}
spec: {}
---
apiVersion: wso2sync/v1alpha1
kind: KeyManager
metadata: {name: Resident Key Manager}
spec: {type: default}
`,
	})
	st := mustLoad(t, dir)
	a := st.Application("a")
	if a.Spec.Owner != "admin" || a.Spec.ThrottlingPolicy != "Unlimited" || a.Spec.TokenType != "JWT" {
		t.Errorf("application defaults = %+v", a.Spec)
	}
	k := a.Spec.Keys[0]
	if k.Mode != KeyModeGenerate || k.ValidityPeriod != 3600 || !slices.Equal(k.GrantTypes, []string{"client_credentials"}) || !slices.Equal(k.Scopes, []string{"default"}) {
		t.Errorf("key defaults = %+v", k)
	}
	if u := st.Users[0]; u.Spec.UserName != "alice" || u.Spec.Domain != "PRIMARY" {
		t.Errorf("user defaults = %+v", u.Spec)
	}
	km := st.KeyManager(ResidentKeyManager)
	if !km.Spec.Enabled || !km.Spec.EnableOAuthAppCreation || km.Spec.EnableMapOAuthConsumerApps || km.Spec.TokenType != "DIRECT" || km.Spec.Permissions.PermissionType != "PUBLIC" {
		t.Errorf("key manager defaults = %+v", km.Spec)
	}
	e := st.Environment.Spec
	if e.Mode != ModeDryRun || e.Prune.Policy != "off" || e.Prune.MaxDeletes != 10 || e.Seal.OutDir != "" || e.TLS.InsecureSkipVerify {
		t.Errorf("environment defaults = %+v", e)
	}
	// A defaulted field has no position of its own: Pos falls back to its parent.
	if got, want := a.Pos("spec.owner"), a.Pos("spec"); got != want {
		t.Errorf("Pos(spec.owner) = %s, want the spec's %s", got, want)
	}
}

func TestOverlayMergesAndKeepsPositions(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"base/env.yaml": `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata: {name: base}
spec:
  apim: {url: https://base-apim}
  is: {url: https://base-is}
  prune: {policy: owned, maxDeletes: 7}
  apis: [{name: ForexAPI, version: 1.0.0}]
`,
		"base/app.yaml": `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  description: base
  attributes: {team: t, debug: "true"}
  groups: [one, two]
  keys:
    - {keyType: PRODUCTION, keyManager: Resident Key Manager}
`,
		"dev/wso2sync.yaml": `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  include: [../base]
  apim: {url: https://dev-apim}
  prune: {maxDeletes: 2}
`,
		"dev/app.yaml": `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  throttlingPolicy: 50PerMin
  attributes: {debug: null}
  groups: [three]
`,
	})
	st := mustLoad(t, dir+"/dev")
	env := st.Environment
	if env.Metadata.Name != "dev" || st.Name != "dev" {
		t.Errorf("environment name = %q/%q, want dev", env.Metadata.Name, st.Name)
	}
	if env.Spec.APIM.URL != "https://dev-apim" || env.Spec.IS.URL != "https://base-is" {
		t.Errorf("urls = %s %s", env.Spec.APIM.URL, env.Spec.IS.URL)
	}
	if env.Spec.Prune.Policy != "owned" || env.Spec.Prune.MaxDeletes != 2 {
		t.Errorf("maps merge: prune = %+v", env.Spec.Prune)
	}
	a := st.Application("a")
	if a.Spec.Description != "base" || a.Spec.ThrottlingPolicy != "50PerMin" {
		t.Errorf("merged spec = %+v", a.Spec)
	}
	if _, ok := a.Spec.Attributes["debug"]; ok || a.Spec.Attributes["team"] != "t" {
		t.Errorf("null removes, others stay: attributes = %v", a.Spec.Attributes)
	}
	if !slices.Equal(a.Spec.Groups, []string{"three"}) {
		t.Errorf("lists replace: groups = %v", a.Spec.Groups)
	}
	if len(a.Spec.Keys) != 1 {
		t.Errorf("keys not set by the overlay are kept: %v", a.Spec.Keys)
	}
	for field, want := range map[string]Position{
		"spec.throttlingPolicy": {File: "dev/app.yaml", Line: 5, Col: 3},
		"spec.description":      {File: "base/app.yaml", Line: 5, Col: 3},
		"spec.groups[0]":        {File: "dev/app.yaml", Line: 7, Col: 12},
		"spec.keys[0].keyType":  {File: "base/app.yaml", Line: 9, Col: 8},
	} {
		if got := rel(dir, a.Pos(field)); got != want {
			t.Errorf("Pos(%s) = %s, want %s", field, got, want)
		}
	}
	if got := rel(dir, a.Source); got != (Position{File: "base/app.yaml", Line: 1, Col: 1}) {
		t.Errorf("Source = %s, want the first declaration", got)
	}
}

func TestSchemaErrorsPointAtTheYAML(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"wso2sync.yaml": envHeader,
		"app.yaml": `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  tokenType: JWTX
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      validityPeriod: "soon"
`,
	})
	_, ds := load(t, dir)
	want := map[string]Position{
		"spec.tokenType":              {File: "app.yaml", Line: 5, Col: 3},
		"spec.keys[0].validityPeriod": {File: "app.yaml", Line: 9, Col: 7},
	}
	for _, d := range ds {
		p, ok := want[d.Field]
		if !ok {
			t.Errorf("unexpected diagnostic %s (field %s)", d, d.Field)
			continue
		}
		if got := rel(dir, d.Pos); got != p {
			t.Errorf("%s at %s, want %s", d.Field, got, p)
		}
		if strings.Contains(d.Pos.File, ".cue") || strings.Contains(d.Message, ".cue") {
			t.Errorf("diagnostic points at the schema: %s", d)
		}
		delete(want, d.Field)
	}
	for f := range want {
		t.Errorf("no diagnostic for %s", f)
	}
}

func TestReferenceChecks(t *testing.T) {
	km := `apiVersion: wso2sync/v1alpha1
kind: KeyManager
metadata: {name: IS}
spec:
  type: custom
  enableOAuthAppCreation: false
  availableGrantTypes: [client_credentials]
---
apiVersion: wso2sync/v1alpha1
kind: ThrottlingPolicy
metadata: {name: Sub1}
spec:
  level: subscription
  defaultLimit: {requestCount: {timeUnit: min, unitTime: 1, requestCount: 5}}
`
	tests := []struct {
		name, doc string
		want      []string // substrings of the expected error messages, in order
	}{
		{"tier of the wrong level", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec: {throttlingPolicy: Sub1}
`, []string{`throttling policy "Sub1" is a subscription tier, not a application tier`}},
		{"key manager refuses app creation and a grant", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  keys:
    - {keyType: PRODUCTION, keyManager: IS, grantTypes: [password]}
`, []string{`does not allow OAuth app creation`, `grant type "password" is not in the availableGrantTypes`}},
		{"map mode without enableMapOAuthConsumerApps", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  keys:
    - {keyType: PRODUCTION, keyManager: IS, mode: map, clientId: c, clientSecret: {env: X}}
`, []string{`does not allow mapping existing clients`}},
		{"duplicate key and bad callback", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  keys:
    - {keyType: SANDBOX, keyManager: Resident Key Manager, callbackUrl: "not a url"}
    - {keyType: SANDBOX, keyManager: Resident Key Manager, callbackUrl: "regexp=(a|b"}
`, []string{`callbackUrl "not a url" is not an absolute URL`, `SANDBOX key for key manager "Resident Key Manager" is declared twice`, `invalid regular expression`}},
		{"same subscription twice", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec: {}
---
apiVersion: wso2sync/v1alpha1
kind: Subscription
metadata: {name: s1}
spec: {application: a, api: {name: ForexAPI, version: 1.0.0}, throttlingPolicy: Sub1}
---
apiVersion: wso2sync/v1alpha1
kind: Subscription
metadata: {name: s2}
spec: {application: a, api: {name: ForexAPI, version: 1.0.0}}
`, []string{`is subscribed to ForexAPI 1.0.0 twice`}},
		{"same user twice, case-insensitively", `apiVersion: wso2sync/v1alpha1
kind: User
metadata: {name: alice}
spec: {}
---
apiVersion: wso2sync/v1alpha1
kind: User
metadata: {name: alice2}
spec: {userName: Alice}
`, []string{`user PRIMARY/Alice is also declared by User "alice"`}},
		{"certificate sources", `apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: c1}
spec: {usage: trust, source: {url: "https://x/cert"}}
---
apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: c2}
spec: {usage: keyManager, keyManager: Nope, source: {}}
---
apiVersion: wso2sync/v1alpha1
kind: Certificate
metadata: {name: c3}
spec: {usage: client, api: {name: ForexAPI, version: "9"}, tier: Sub1, source: {pem: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}}
`, []string{`needs its sha256 fingerprint`, `unknown key manager "Nope"`, `spec.source: no certificate source`, `API ForexAPI 9 is not in the environment's API catalogue`, `no PEM certificate found`}},
		{"fields that cannot be managed", `apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: a}
spec:
  tokenType: OAUTH
  keys:
    - {keyType: SANDBOX, keyManager: Resident Key Manager, scopes: [read, write]}
    - {keyType: PRODUCTION, keyManager: Resident Key Manager, scopes: [default]}
`, []string{`tokenType OAUTH cannot be managed`, `scopes cannot be managed`}},
		{"resident key manager type", `apiVersion: wso2sync/v1alpha1
kind: KeyManager
metadata: {name: Resident Key Manager}
spec: {type: WSO2-IS}
`, []string{`has type "default", not "WSO2-IS"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"wso2sync.yaml": envHeader, "km.yaml": km, "doc.yaml": tt.doc})
			_, ds := load(t, dir)
			errs := ds.Errors()
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(tt.want), render(errs))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Message, w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Message, w)
				}
				if errs[i].Pos.Line == 0 {
					t.Errorf("error %d has no line: %s", i, errs[i])
				}
			}
		})
	}
}

func TestURLOverride(t *testing.T) {
	dir := writeTree(t, map[string]string{"wso2sync.yaml": envHeader})
	st, ds := Load(t.Context(), dir, LoadOptions{APIMURL: "https://other:9443", ISURL: "not-a-url"})
	if st.Environment != nil {
		t.Fatal("an invalid override must fail the environment")
	}
	if len(ds) != 1 || ds[0].Pos.File != "--is-url" || ds[0].Field != "spec.is.url" {
		t.Fatalf("diagnostics = %s", render(ds))
	}
	st = nil
	st, ds = Load(t.Context(), dir, LoadOptions{APIMURL: "https://other:9443"})
	if ds.HasErrors() || st.Environment.Spec.APIM.URL != "https://other:9443" {
		t.Errorf("override not applied: %s %v", render(ds), st.Environment)
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{Pos: Position{File: "a.yaml", Line: 3, Col: 5}, Message: "unknown field \"x\"", Hint: "did you mean \"y\"?"}
	if got, want := d.String(), "a.yaml:3:5: unknown field \"x\"\n  hint: did you mean \"y\"?"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	d = Diagnostic{Severity: SeverityWarning, Pos: Position{File: "a.yaml", Line: 1, Col: 1}, Message: "m"}
	if got, want := d.String(), "a.yaml:1:1: warning: m"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestSuggest(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"throtlingPolicy", "throttlingPolicy"},
		{"KEYTYPE", "keyType"},
		{"colour", ""},
	} {
		got, _ := suggest(tt.in, []string{"throttlingPolicy", "keyType", "keys"})
		if got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein = %d, want 3", d)
	}
}

func TestCallbackURL(t *testing.T) {
	for in, ok := range map[string]bool{
		"https://app.example.com/cb":         true,
		"http://localhost:8080/callback":     true,
		"regexp=(https://a/cb|https://b/cb)": true,
		"regexp=(":                           false,
		"/relative":                          false,
		"app.example.com":                    false,
	} {
		if got := checkCallbackURL(in) == ""; got != ok {
			t.Errorf("checkCallbackURL(%q) ok = %v, want %v", in, got, ok)
		}
	}
}
