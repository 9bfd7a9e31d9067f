package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/verify"
)

// jwtShape matches a compact JWS: header.payload.signature in base64url.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// exampleEnv are the variables the example environments reference.
var exampleEnv = map[string]string{
	"WSO2SYNC_ADMIN_USERNAME":            "admin",
	"WSO2SYNC_ADMIN_PASSWORD":            "admin",
	"WSO2SYNC_USER_ALICE_PASSWORD":       "Alice!pass1",
	"WSO2SYNC_USER_BOB_PASSWORD":         "Bob!pass12",
	"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": "rule-engine-secret-1",
	"WSO2SYNC_TRUSTSTORE_PASSWORD":       "changeit",
	"WSO2SYNC_AGE_IDENTITY":              "",
	verify.GatewayEnv:                    "",
}

// issuerBase is the IS base URL each example's WSO2IS key manager names
// as issuer: the simulator must write that iss for the gateway to accept
// its tokens (WSO2-API.md §5.25).
var issuerBase = map[string]string{
	"dev":     "https://localhost:9444",
	"staging": "https://is.staging.example.com",
	"prod":    "https://is.example.com",
}

// world is a simulator with its gateway, a copy of the examples, and an
// age identity the sealed outputs are sealed to.
type world struct {
	s        *sim.Sim
	envDir   string
	identity string
	pub      string
	trust    string
}

func newWorld(t *testing.T, env string) *world {
	t.Helper()
	for k, v := range exampleEnv {
		t.Setenv(k, v)
	}
	s := sim.Start(t, sim.Options{Seed: sim.DefaultEstate(), ISBaseURL: issuerBase[env]})
	if err := s.ListenGateway("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	copyTree(t, filepath.Join(filepath.Dir(file), "..", "..", "examples", "environments"), filepath.Join(dir, "envs"))
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &world{s: s, envDir: filepath.Join(dir, "envs", env), identity: keyFile, pub: id.Recipient().String(),
		trust: filepath.Join(dir, "trust")}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".wso2sync" || d.Name() == "sealed" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// load loads the environment against the simulator, sealing to the
// world's identity and opening with it.
func (w *world) load(t *testing.T) *reconcile.Pass {
	t.Helper()
	p, err := reconcile.Load(context.Background(), reconcile.Options{EnvDir: w.envDir, APIMURL: w.s.APIMURL(), ISURL: w.s.ISURL(),
		Trust:     reconcile.TrustOptions{Root: w.trust},
		Secrets:   reconcile.SecretOptions{Recipients: []string{w.pub}, Identity: w.identity},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond, MaxRetries: 2}})
	if err != nil {
		t.Fatalf("Load: %v %v", err, p.Diagnostics)
	}
	return p
}

// apply enforces the environment and fails the test unless every step
// applied.
func (w *world) apply(t *testing.T) {
	t.Helper()
	p := w.load(t)
	// Verification, not sealing: accept that generated secrets are not kept.
	res, err := p.Enforce(context.Background(), reconcile.EnforceOptions{AllowUnsealed: true})
	if err != nil {
		t.Fatalf("Enforce: %v", err)
	}
	if res.Result == nil || len(res.Result.Failed) > 0 || len(res.Result.NotAttempted) > 0 {
		t.Fatalf("apply: %+v", res.Result)
	}
}

func (w *world) verify(t *testing.T, o verify.Options) *verify.Report {
	t.Helper()
	if o.GatewayURL == "" {
		o.GatewayURL = w.s.GatewayURL()
	}
	rep, err := verify.Run(context.Background(), w.load(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// statuses maps "Kind name" to the status of each check.
func statuses(rep *verify.Report) map[string]verify.Status {
	m := map[string]verify.Status{}
	for _, c := range rep.Checks {
		m[c.Kind+" "+c.Name] = c.Status
	}
	return m
}

// wantAfterApply are the outcomes after an apply of the examples: every
// key verified but profile-client's (authorization_code only), every
// subscription through the gateway but profile-client's, both users.
func wantAfterApply() map[string]verify.Status {
	m := map[string]verify.Status{}
	for _, k := range []string{"forex-client/PRODUCTION/WSO2IS", "ledger-client/PRODUCTION/WSO2IS", "ledger-client/SANDBOX/WSO2IS",
		"payment-client/PRODUCTION/WSO2IS", "rule-engine-client/PRODUCTION/WSO2IS", "wallet-client/PRODUCTION/WSO2IS"} {
		m["ApplicationKey "+k] = verify.Verified
	}
	m["ApplicationKey profile-client/PRODUCTION/WSO2IS"] = verify.Skipped
	for _, s := range []string{"forex-client--forex", "ledger-client--ledger", "payment-client--payment", "payment-client--forex",
		"payment-client--ledger", "rule-engine-client--rule-engine", "rule-engine-client--payment", "wallet-client--wallet",
		"wallet-client--payment", "wallet-client--profile"} {
		m["Subscription "+s] = verify.Verified
	}
	m["Subscription profile-client--profile"] = verify.Skipped
	m["User alice"] = verify.Verified
	m["User bob"] = verify.Verified
	return m
}

// diffStatuses reports the checks whose status is not the wanted one.
func diffStatuses(t *testing.T, rep *verify.Report, want map[string]verify.Status) {
	t.Helper()
	got := statuses(rep)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s (%s)", k, got[k], w, message(rep, k))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected check %s: %s", k, got[k])
		}
	}
}

func message(rep *verify.Report, key string) string {
	for _, c := range rep.Checks {
		if c.Kind+" "+c.Name == key {
			return c.Message + " / " + c.Hint
		}
	}
	return "no such check"
}

// TestVerifyAfterApplyEveryExample: after an apply of each example
// environment, every key mints a verified token, every subscription passes
// the simulated gateway and both users sign in with their roles.
func TestVerifyAfterApplyEveryExample(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			w := newWorld(t, env)
			w.apply(t)
			rep := w.verify(t, verify.Options{Users: true})
			diffStatuses(t, rep, wantAfterApply())
			if rep.ExitCode() != 0 || rep.Summary.Verified != 18 || rep.Summary.Skipped != 2 {
				t.Errorf("summary %+v, exit %d", rep.Summary, rep.ExitCode())
			}
		})
	}
}

// TestVerifyFindsSecretChangedBehindItsBack: a client secret regenerated
// in IS (its REST API, not wso2sync) fails exactly that key, with the
// token endpoint's answer and a hint; the key's subscription is skipped
// (no token), everything else still verifies.
func TestVerifyFindsSecretChangedBehindItsBack(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	ck := consumerKey(t, w.s, "forex-client", "PRODUCTION")
	appID, ok := w.s.IS().ClientApplicationID(ck)
	if !ok {
		t.Fatalf("no IS application for client %s", ck)
	}
	r := call(t, "POST", w.s.ISURL()+"/api/server/v1/applications/"+appID+"/inbound-protocols/oidc/regenerate-secret", nil, "admin", "admin", "")
	if r.status != 200 {
		t.Fatalf("regenerate-secret: %d %s", r.status, r.body)
	}

	rep := w.verify(t, verify.Options{})
	want := wantAfterApply()
	delete(want, "User alice")
	delete(want, "User bob")
	want["ApplicationKey forex-client/PRODUCTION/WSO2IS"] = verify.Failed
	want["Subscription forex-client--forex"] = verify.Skipped
	diffStatuses(t, rep, want)
	for _, c := range rep.Checks {
		if c.Status != verify.Failed {
			continue
		}
		if c.Code != "invalid_client" || !strings.Contains(c.Message, "401") || !strings.Contains(c.Hint, "changed in the key manager outside wso2sync") {
			t.Errorf("failure of %s: code %q, %s / %s", c.Name, c.Code, c.Message, c.Hint)
		}
	}
	if rep.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode())
	}
}

// TestVerifyFindsSubscriptionRemovedBehindItsBack: a subscription deleted
// through the DevPortal REST API fails exactly that pair at the gateway
// (403 900908), naming the subscription.
func TestVerifyFindsSubscriptionRemovedBehindItsBack(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	st := w.s.Dump().APIM
	var appID, apiID, subID string
	for _, a := range st.Applications {
		if a.Name == "payment-client" {
			appID = a.ApplicationID
		}
	}
	for _, a := range st.APIs {
		if a.Name == "LedgerAPI" {
			apiID = a.ID
		}
	}
	for _, s := range st.Subscriptions {
		if s.ApplicationID == appID && s.APIID == apiID {
			subID = s.SubscriptionID
		}
	}
	if subID == "" {
		t.Fatal("payment-client is not subscribed to LedgerAPI after apply")
	}
	tok := devportalToken(t, w.s)
	if r := call(t, "DELETE", w.s.APIMURL()+"/api/am/devportal/v3/subscriptions/"+subID, nil, "", "", tok); r.status != 200 {
		t.Fatalf("DELETE subscription: %d %s", r.status, r.body)
	}

	rep := w.verify(t, verify.Options{})
	want := wantAfterApply()
	delete(want, "User alice")
	delete(want, "User bob")
	want["Subscription payment-client--ledger"] = verify.Failed
	diffStatuses(t, rep, want)
	for _, c := range rep.Checks {
		if c.Name == "payment-client--ledger" {
			if c.Code != "900908" || !strings.Contains(c.Message, "403") || !strings.Contains(c.Hint, "subscription payment-client--ledger") {
				t.Errorf("failure: code %q, %s / %s", c.Code, c.Message, c.Hint)
			}
		}
	}

	// The three views say the same.
	var text, md, js bytes.Buffer
	if err := verify.RenderText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if err := verify.RenderMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := verify.RenderJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "✗ payment-client--ledger: failed: GET ") || !strings.Contains(text.String(), "Verify: 15 verified, 1 failed, 2 skipped") {
		t.Errorf("text view:\n%s", text.String())
	}
	if !strings.Contains(md.String(), "| ✗ | Subscription | `payment-client--ledger` |") {
		t.Errorf("markdown view:\n%s", md.String())
	}
	var doc struct {
		Format  string
		Summary verify.Summary
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc.Format != verify.Format || doc.Summary.Failed != 1 {
		t.Errorf("json view: %v %s", err, js.String())
	}
	// No token or secret reaches any view.
	for _, b := range []string{text.String(), md.String(), js.String()} {
		// A JWT is three base64url parts joined by dots, the first starting
		// "eyJ" ({"): a random consumer key may hold "eyJ" but no dots.
		if jwtShape.MatchString(b) || strings.Contains(b, "rule-engine-secret-1") {
			t.Errorf("a view holds a token or a secret:\n%s", b)
		}
	}
}

// TestVerifyFindsIssuerMismatch: IS writes an iss that is not the key
// manager's issuer (the Docker hostname mismatch of WSO2-API.md §5.25):
// every token fails its issuer check, and the gateway refuses each one
// (401 900901), so every subscription fails too.
func TestVerifyFindsIssuerMismatch(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	// The dev key manager says https://localhost:9444/oauth2/token; make
	// the manifests say something else, as a stale issuer would.
	km := filepath.Join(filepath.Dir(w.envDir), "base", "key-managers.yaml")
	b, err := os.ReadFile(km)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("issuer: https://localhost:9444/oauth2/token"), []byte("issuer: https://wso2is:9443/oauth2/token"), 1)
	if err := os.WriteFile(km, b, 0o644); err != nil {
		t.Fatal(err)
	}
	w.apply(t) // APIM now holds the stale issuer too
	rep := w.verify(t, verify.Options{})
	for _, c := range rep.Checks {
		switch {
		case c.Name == "profile-client/PRODUCTION/WSO2IS" || c.Name == "profile-client--profile":
			if c.Status != verify.Skipped {
				t.Errorf("%s: %s", c.Name, c.Status)
			}
		case c.Kind == verify.KindKey:
			if c.Status != verify.Failed || c.Code != "issuer" || !strings.Contains(c.Hint, "§5.25") {
				t.Errorf("%s: %s %s %s / %s", c.Name, c.Status, c.Code, c.Message, c.Hint)
			}
		case c.Kind == verify.KindSubscription:
			if c.Status != verify.Failed || c.Code != "900901" || !strings.Contains(c.Message, "401") {
				t.Errorf("%s: %s %s %s", c.Name, c.Status, c.Code, c.Message)
			}
		}
	}
}

// TestVerifySkipsWithoutIdentity: without an identity, generated keys are
// skipped with the reason; the mapped key (secret by reference) still
// verifies.
func TestVerifySkipsWithoutIdentity(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	w.identity = ""
	rep := w.verify(t, verify.Options{})
	for _, c := range rep.Checks {
		if c.Kind != verify.KindKey {
			continue
		}
		switch {
		case c.Name == "rule-engine-client/PRODUCTION/WSO2IS":
			if c.Status != verify.Verified {
				t.Errorf("mapped key: %s %s", c.Status, c.Message)
			}
		case c.Name == "profile-client/PRODUCTION/WSO2IS":
		case c.Status != verify.Skipped || !strings.Contains(c.Message, "no identity"):
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Message)
		}
	}
	if rep.ExitCode() != 0 {
		t.Errorf("skips must not fail: %+v", rep.Summary)
	}
}

// consumerKey reads an application key's consumer key from the
// simulator's state.
func consumerKey(t *testing.T, s *sim.Sim, app, keyType string) string {
	t.Helper()
	st := s.Dump().APIM
	for _, a := range st.Applications {
		if a.Name != app {
			continue
		}
		for _, k := range st.KeyMappings {
			if k.ApplicationID == a.ApplicationID && k.KeyType == keyType {
				return k.ConsumerKey
			}
		}
	}
	t.Fatalf("no %s key for %s", keyType, app)
	return ""
}

type response struct {
	status int
	body   string
}

func call(t *testing.T, method, u string, form url.Values, user, pass, bearer string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b)}
}

// devportalToken registers a DCR client and gets a password-grant token
// with apim:subscribe, as the seed's toolkit does.
func devportalToken(t *testing.T, s *sim.Sim) string {
	t.Helper()
	reg, _ := json.Marshal(map[string]any{"callbackUrl": "https://localhost/cb", "clientName": "behind-its-back",
		"owner": "admin", "grantType": "password refresh_token", "saasApp": true})
	req, _ := http.NewRequest("POST", s.APIMURL()+"/client-registration/v0.17/register", bytes.NewReader(reg))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ ClientID, ClientSecret string }
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	r := call(t, "POST", s.APIMURL()+"/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"admin"},
		"password": {"admin"}, "scope": {"apim:subscribe"}}, c.ClientID, c.ClientSecret, "")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// TestVerifyOpaqueTokenByIntrospection: a client switched to opaque
// ("Default") tokens in IS is verified by introspection, and the gateway
// accepts its opaque token too.
func TestVerifyOpaqueTokenByIntrospection(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	reg := w.s.ISURL() + "/api/identity/oauth2/dcr/v1.1/register/rule_engine_prod_client"
	r := call(t, "GET", reg, nil, "admin", "admin", "")
	var client map[string]any
	if err := json.Unmarshal([]byte(r.body), &client); r.status != 200 || err != nil {
		t.Fatalf("GET client: %d %s", r.status, r.body)
	}
	body, _ := json.Marshal(map[string]any{"client_name": client["client_name"], "grant_types": client["grant_types"],
		"token_type_extension": "Default"})
	req, _ := http.NewRequest("PUT", reg, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT client: %v %v", err, resp)
	}
	resp.Body.Close()

	rep := w.verify(t, verify.Options{})
	got := map[string]verify.Check{}
	for _, c := range rep.Checks {
		got[c.Name] = c
	}
	k := got["rule-engine-client/PRODUCTION/WSO2IS"]
	if k.Status != verify.Verified || !strings.Contains(k.Message, "opaque, active at "+w.s.ISURL()+"/oauth2/introspect") {
		t.Errorf("opaque key: %s %s / %s", k.Status, k.Message, k.Hint)
	}
	if s := got["rule-engine-client--payment"]; s.Status != verify.Verified || !strings.Contains(s.Message, "→ 200") {
		t.Errorf("gateway with an opaque token: %s %s", s.Status, s.Message)
	}
	if strings.Contains(k.Message, "JWT") {
		t.Errorf("the opaque token was taken for a JWT: %s", k.Message)
	}
}

// TestVerifyGatewayUnreachable: a gateway nobody answers at fails every
// subscription that had a token, with the connection error and a hint
// naming the setting; the key checks are unaffected.
func TestVerifyGatewayUnreachable(t *testing.T) {
	w := newWorld(t, "dev")
	w.apply(t)
	rep := w.verify(t, verify.Options{GatewayURL: "http://127.0.0.1:1"})
	for _, c := range rep.Checks {
		switch {
		case c.Kind == verify.KindKey && c.Name != "profile-client/PRODUCTION/WSO2IS":
			if c.Status != verify.Verified {
				t.Errorf("%s: %s %s", c.Name, c.Status, c.Message)
			}
		case c.Kind == verify.KindSubscription && c.Name != "profile-client--profile":
			if c.Status != verify.Failed || !strings.Contains(c.Message, "http://127.0.0.1:1/") || !strings.Contains(c.Hint, "--gateway-url") {
				t.Errorf("%s: %s %s / %s", c.Name, c.Status, c.Message, c.Hint)
			}
		}
	}
	if rep.Summary.Failed != 10 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

// TestVerifyWithPEMCertificate: a key manager that names IS's signing
// certificate as PEM (instead of its JWKS URL) verifies with it, and the
// gateway validates with the same PEM; a PEM of another key fails every
// token's signature check and the gateway refuses them (900901).
func TestVerifyWithPEMCertificate(t *testing.T) {
	w := newWorld(t, "dev")
	km := filepath.Join(filepath.Dir(w.envDir), "base", "key-managers.yaml")
	setPEM := func(pem []byte) {
		t.Helper()
		b, err := os.ReadFile(km)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, "  certificates:\n")
		j := strings.Index(s, "  availableGrantTypes:")
		if i < 0 || j < i {
			t.Fatal("no certificates block in key-managers.yaml")
		}
		block := "  certificates:\n    type: PEM\n    value: |\n"
		for _, l := range strings.Split(strings.TrimSpace(string(pem)), "\n") {
			block += "      " + l + "\n"
		}
		if err := os.WriteFile(km, []byte(s[:i]+block+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setPEM(w.s.IS().PublicCertPEM())
	w.apply(t)
	rep := w.verify(t, verify.Options{})
	for _, c := range rep.Checks {
		if c.Name == "forex-client/PRODUCTION/WSO2IS" && (c.Status != verify.Verified || !strings.Contains(c.Message, "verified with the PEM certificate")) {
			t.Errorf("PEM: %s %s / %s", c.Status, c.Message, c.Hint)
		}
		if c.Name == "forex-client--forex" && c.Status != verify.Verified {
			t.Errorf("gateway with a PEM key manager: %s %s", c.Status, c.Message)
		}
	}

	other := sim.Start(t, sim.Options{})
	setPEM(other.IS().PublicCertPEM())
	w.apply(t)
	rep = w.verify(t, verify.Options{})
	for _, c := range rep.Checks {
		if c.Name == "forex-client/PRODUCTION/WSO2IS" && (c.Status != verify.Failed || c.Code != "signature") {
			t.Errorf("foreign PEM: %s %s %s", c.Status, c.Code, c.Message)
		}
		if c.Name == "forex-client--forex" && (c.Status != verify.Failed || c.Code != "900901") {
			t.Errorf("gateway with a foreign PEM: %s %s %s", c.Status, c.Code, c.Message)
		}
	}
}
