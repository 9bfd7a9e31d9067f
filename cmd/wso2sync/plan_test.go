package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// TestPlanApplyExitCodes runs the real commands in process against a
// simulator: plan exits 2 with changes, apply applies, plan exits 0 with
// none, and a wrong password is exit 1 with a hint.
func TestPlanApplyExitCodes(t *testing.T) {
	for k, v := range map[string]string{
		"WSO2SYNC_ADMIN_USERNAME": "admin", "WSO2SYNC_ADMIN_PASSWORD": "admin",
		"WSO2SYNC_USER_ALICE_PASSWORD": "Alice!pass1", "WSO2SYNC_USER_BOB_PASSWORD": "Bob!pass12",
		"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": "rule-engine-secret-1", "NO_COLOR": "1",
		"WSO2SYNC_TRUSTSTORE_PASSWORD": "changeit", "WSO2SYNC_TRUST_ROOT": t.TempDir(),
	} {
		t.Setenv(k, v)
	}
	s := sim.Start(t, sim.Options{Seed: sim.DefaultEstate()})
	envs := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "environments"), envs)
	dev := filepath.Join(envs, "dev")
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args = append(args, "--env", dev, "--apim-url", s.APIMURL(), "--is-url", s.ISURL(), "--log-level", "warn")
		code := run(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := cli("plan"); code != exitChanges || !strings.Contains(out, "Plan: 34 to create") {
		t.Fatalf("plan: exit %d, want 2\n%s\n%s", code, out, errs)
	}
	if code, out, errs := cli("apply", "--mode", "enforce", "--auto-approve", "--allow-unsealed-secrets"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errs)
	}
	before := s.Stats()
	if code, out, errs := cli("plan"); code != 0 || !strings.Contains(out, "No changes.") {
		t.Fatalf("second plan: exit %d, want 0\n%s\n%s", code, out, errs)
	}
	if code, out, _ := cli("apply", "--mode", "enforce", "--auto-approve"); code != 0 || !strings.Contains(out, "No changes.") {
		t.Fatalf("second apply: exit %d\n%s", code, out)
	}
	if b, a := estateWrites(before), estateWrites(s.Stats()); a != b {
		t.Fatalf("the second run wrote %d times", a-b)
	}
	t.Setenv("WSO2SYNC_ADMIN_PASSWORD", "Not-the-Passw0rd")
	if code, _, errs := cli("plan"); code != exitError || !strings.Contains(errs, "admin credentials") || strings.Contains(errs, "Not-the-Passw0rd") {
		t.Fatalf("bad password: exit %d\n%s", code, errs)
	}
}

// estateWrites counts the writes to the estate: every non-GET request but
// authentication (each CLI run registers a DCR client and gets a token).
func estateWrites(st sim.Stats) int64 {
	var n int64
	for _, ss := range []sim.ServerStats{st.APIM, st.IS} {
		for route, c := range ss.Routes {
			if strings.HasPrefix(route, "GET ") || route == "POST /client-registration/v0.17/register" || route == "POST /oauth2/token" {
				continue
			}
			n += c
		}
	}
	return n
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
