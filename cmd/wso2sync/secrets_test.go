package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/secrets"
)

const secretsEnv = `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata:
  name: mini
spec:
  apim: {url: https://localhost:9443}
  is: {url: https://localhost:9444}
  credentials:
    username: {env: WSO2SYNC_ADMIN_USERNAME}
    password: {env: WSO2SYNC_ADMIN_PASSWORD}
  seal:
    recipients: [RECIPIENT]
`

const secretsApp = `apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: forex-client
spec:
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      rotate: {every: 90d}
`

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestSecretsCommands(t *testing.T) {
	a, _ := age.GenerateX25519Identity()
	b, _ := age.GenerateX25519Identity()
	dir := t.TempDir()
	keyA := filepath.Join(dir, "a.txt")
	keyB := filepath.Join(dir, "b.txt")
	os.WriteFile(keyA, []byte(a.String()+"\n"), 0o600)
	os.WriteFile(keyB, []byte(b.String()+"\n"), 0o600)
	env := filepath.Join(dir, "env")
	os.MkdirAll(env, 0o755)
	os.WriteFile(filepath.Join(env, "wso2sync.yaml"), []byte(strings.Replace(secretsEnv, "RECIPIENT", a.Recipient().String(), 1)), 0o644)
	os.WriteFile(filepath.Join(env, "app.yaml"), []byte(secretsApp), 0o644)
	t.Setenv(secrets.EnvIdentity, "")
	t.Setenv(secrets.EnvRecipients, "")

	out, errs, code := runCLI(t, "secrets", "list", "--env", env)
	if code != 0 || !strings.Contains(out, "nothing sealed") {
		t.Fatalf("list empty: %d %s %s", code, out, errs)
	}
	// Seal as apply does.
	rs, _ := secrets.ParseRecipients([]string{a.Recipient().String()})
	st := secrets.NewStore(filepath.Join(env, "sealed", "mini"))
	key, err := secrets.LoadMACKey(filepath.Join(env, ".wso2sync"))
	if err != nil {
		t.Fatal(err)
	}
	st.Key = key
	if _, err := st.Seal(secrets.Credential{Application: "forex-client", KeyType: "PRODUCTION", KeyManager: "Resident Key Manager",
		ConsumerKey: "ck", ConsumerSecret: secrets.NewValue("CANARY-cli")}, rs); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "secrets", "list", "--env", env)
	if code != 0 || !strings.Contains(out, "forex-client") || !strings.Contains(out, "  sealed  ") || strings.Contains(out, "CANARY") || strings.Contains(out, "hmac-sha256") {
		t.Fatalf("list: %s", out)
	}
	out, _, code = runCLI(t, "secrets", "list", "--env", env, "-o", "json")
	if code != 0 || !strings.Contains(out, `"state": "sealed"`) || strings.Contains(out, "hmac-sha256") {
		t.Fatalf("list json: %s", out)
	}
	_, errs, code = runCLI(t, "secrets", "open", "forex-client", "--env", env)
	if code != 1 || !strings.Contains(errs, "no identity given") || !strings.Contains(errs, "hint: pass --identity") {
		t.Fatalf("open without identity: %s", errs)
	}
	out, _, code = runCLI(t, "secrets", "open", "forex-client", "--env", env, "--identity", keyA, "--field", "consumerSecret")
	if code != 0 || out != "CANARY-cli\n" {
		t.Fatalf("open --field: %q", out)
	}
	out, _, code = runCLI(t, "secrets", "open", "forex-client", "--key-type", "production", "--env", env, "--identity", keyA)
	if code != 0 || !strings.Contains(out, "consumerSecret: CANARY-cli") {
		t.Fatalf("open: %q", out)
	}
	_, errs, code = runCLI(t, "secrets", "open", "forex-client", "--env", env, "--identity", keyB)
	if code != 1 || !strings.Contains(errs, "not sealed to this identity") {
		t.Fatalf("open as b: %s", errs)
	}
	// Reseal adding b for one run; then b opens it.
	out, errs, code = runCLI(t, "secrets", "reseal", "--env", env, "--identity", keyA, "--seal-recipient", b.Recipient().String())
	if code != 0 || !strings.Contains(out, "resealed 1 file") {
		t.Fatalf("reseal: %s %s", out, errs)
	}
	t.Setenv(secrets.EnvIdentity, keyB)
	out, _, code = runCLI(t, "secrets", "open", "forex-client", "--env", env, "--field", "consumerKey")
	if code != 0 || out != "ck\n" {
		t.Fatalf("open as b after reseal: %q", out)
	}
	_, errs, code = runCLI(t, "secrets", "reseal", "--env", env, "--seal-recipient", "AGE-SECRET-KEY-1XYZ")
	if code != 1 || strings.Contains(errs, "AGE-SECRET-KEY-1XYZ") {
		t.Fatalf("bad recipient: %s", errs)
	}
}
