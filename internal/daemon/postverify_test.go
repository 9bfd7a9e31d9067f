package daemon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/sim"
	verifier "github.com/wso2sync/wso2sync/internal/verify"
)

// TestVerifyAfterEnforcingPass: the daemon's first enforcing pass of the
// dev example applies everything and then verifies it (keys through IS,
// subscriptions through the simulated gateway); the report is in the
// pass, in /status (lastVerify) and in the wso2sync_verify_* metrics. A
// pass that changes nothing does not verify again.
func TestVerifyAfterEnforcingPass(t *testing.T) {
	for k, v := range map[string]string{"WSO2SYNC_USER_ALICE_PASSWORD": "Alice!pass1", "WSO2SYNC_USER_BOB_PASSWORD": "Bob!pass12",
		"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": "rule-engine-secret-1", "WSO2SYNC_TRUSTSTORE_PASSWORD": "changeit",
		"WSO2SYNC_AGE_IDENTITY": "", "WSO2SYNC_GATEWAY_URL": ""} {
		t.Setenv(k, v)
	}
	// The dev key manager's issuer is https://localhost:9444/oauth2/token.
	s := startSimEnv(t, sim.Options{ISBaseURL: "https://localhost:9444"})
	if err := s.ListenGateway("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	copyExamples(t, filepath.Join(filepath.Dir(file), "..", "..", "examples", "environments"), filepath.Join(root, "envs"))
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(root, "key.txt")
	writeFile(t, keyFile, id.String()+"\n")
	dir := filepath.Join(root, "envs", "dev")
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 100 * time.Millisecond, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pass := Reconcile(ReconcileOptions{APIMURL: s.APIMURL(), ISURL: s.ISURL(), UserAgent: "wso2sync-test",
		SealRecipients: []string{id.Recipient().String()}, Identity: keyFile,
		Trust:  reconcile.TrustOptions{Root: filepath.Join(root, "trust")},
		Verify: VerifyOptions{GatewayURL: s.GatewayURL(), Users: true},
		Providers: providers.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
			RetryAfterCap: 200 * time.Millisecond, Timeout: 10 * time.Second, MaxRetries: 2}})
	d, base := startDaemon(t, Options{Source: src, Pass: pass, Scheduler: SchedulerOptions{Interval: time.Hour}})
	lp := passAfter(t, d, 0, "the first pass")
	if lp.Result != ResultSuccess || lp.Verify == nil {
		t.Fatalf("first pass: %s %v, verify %v", lp.Result, lp.Errors, lp.Verify)
	}
	if sum := lp.Verify.Summary; sum.Verified != 18 || sum.Failed != 0 || sum.Skipped != 2 {
		t.Fatalf("verify summary %+v: %+v", sum, lp.Verify.Checks)
	}

	code, body := get(t, base+"/status")
	var st struct {
		LastVerify *struct {
			Pass    string
			Summary struct{ Verified, Failed int }
			Checks  []struct{ Kind, Name, Status string }
		} `json:"lastVerify"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.LastVerify == nil ||
		st.LastVerify.Pass != lp.ID || st.LastVerify.Summary.Verified != 18 || len(st.LastVerify.Checks) != 20 {
		t.Fatalf("/status lastVerify: %d %v %s", code, err, body)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`wso2sync_verify_runs_total{result="passed"} 1`,
		`wso2sync_verify_checks{kind="Subscription",status="verified"} 10`,
		`wso2sync_verify_checks{kind="ApplicationKey",status="skipped"} 1`,
		`wso2sync_verify_checks{kind="User",status="verified"} 2`,
		`wso2sync_verify_checks{kind="ApplicationKey",status="failed"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	_, page := get(t, base+"/")
	if !strings.Contains(page, `<tr id="verify"><th>Verification</th><td><span class="badge in-sync">passed</span> 18 verified, 2 skipped, after pass `+lp.ID) {
		t.Errorf("the status page shows no verification:\n%s", page)
	}
	if strings.Contains(body+metrics+page, "eyJ") {
		t.Error("a token reached /status, /metrics or the page")
	}

	// A pass with nothing to apply does not verify; the last report stays.
	n := len(d.Status().History)
	d.Trigger("check")
	lp2 := passAfter(t, d, n, "the second pass")
	if lp2.Result != ResultSuccess || lp2.Verify != nil {
		t.Fatalf("second pass: %s, verify %v", lp2.Result, lp2.Verify)
	}
	if lv := d.Status().LastVerify; lv == nil || lv.Pass != lp.ID {
		t.Fatalf("lastVerify after a no-op pass: %+v", lv)
	}
}

func copyExamples(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if de.IsDir() {
			if de.Name() == ".wso2sync" || de.Name() == "sealed" {
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

// TestPageListsFailedChecks: the page names each failed check with its
// message and hint (escaped), and only the failed ones.
func TestPageListsFailedChecks(t *testing.T) {
	rep := &verifier.Report{Summary: verifier.Summary{Verified: 1, Failed: 1}, Checks: []verifier.Check{
		{Kind: verifier.KindKey, Name: "forex-client/PRODUCTION/WSO2IS", Status: verifier.Verified, Message: "ok"},
		{Kind: verifier.KindSubscription, Name: "payment-client--ledger", Status: verifier.Failed,
			Message: "GET /ledger/1.0.0/health → 403 900908 <Resource forbidden>", Hint: "subscription payment-client--ledger is missing"},
	}}
	var b strings.Builder
	if err := pageTemplate.Execute(&b, Status{LastVerify: &VerifyStatus{Pass: "p7", Time: time.Now(), Report: rep}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`<span class="badge failed">1 failed</span> 1 verified, 0 skipped, after pass p7`,
		`<li data-verify="Subscription payment-client--ledger">Subscription <code>payment-client--ledger</code>: GET /ledger/1.0.0/health → 403 900908 &lt;Resource forbidden&gt;`,
		`hint: subscription payment-client--ledger is missing`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-verify="ApplicationKey`) {
		t.Error("the page lists a verified check as failed")
	}
}
