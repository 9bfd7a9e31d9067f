package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// A Resident Key Manager application added to the example estate: its
// secret can rotate through APIM (the examples' keys all use WSO2IS, where
// APIM's regenerate-secret rotates nothing).
const residentApp = `apiVersion: wso2sync/v1alpha1
kind: Application
metadata:
  name: canary-client
spec:
  keys:
    - keyType: PRODUCTION
      keyManager: Resident Key Manager
      grantTypes: [client_credentials]
`

type canaryEnv struct {
	t       *testing.T
	dir     string
	idFile  string
	id      *age.X25519Identity
	sim     *sim.Sim
	outputs bytes.Buffer // every byte any command printed
}

func newCanaryEnv(t *testing.T, canary string) *canaryEnv {
	id, _ := age.GenerateX25519Identity()
	c := &canaryEnv{t: t, id: id}
	for k, v := range map[string]string{
		"WSO2SYNC_ADMIN_USERNAME": "admin", "WSO2SYNC_ADMIN_PASSWORD": "admin",
		"WSO2SYNC_USER_ALICE_PASSWORD": "Alice!pass1", "WSO2SYNC_USER_BOB_PASSWORD": "Bob!pass12",
		// The mapped key's client secret is the canary input.
		"WSO2SYNC_RULE_ENGINE_CLIENT_SECRET": canary, "NO_COLOR": "1",
		"WSO2SYNC_TRUSTSTORE_PASSWORD": "changeit", "WSO2SYNC_TRUST_ROOT": t.TempDir(),
		secrets.EnvRecipients: id.Recipient().String(), secrets.EnvIdentity: "",
	} {
		t.Setenv(k, v)
	}
	c.sim = sim.Start(t, sim.Options{Seed: sim.DefaultEstate()})
	envs := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "environments"), envs)
	c.dir = filepath.Join(envs, "dev")
	// Keep the Resident Key Manager enabled for canary-client's key.
	kmFile := filepath.Join(envs, "base", "key-managers.yaml")
	km, _ := os.ReadFile(kmFile)
	km = bytes.Replace(km, []byte("  type: default\n  enabled: false"), []byte("  type: default\n  enabled: true"), 1)
	os.WriteFile(kmFile, km, 0o644)
	if err := os.WriteFile(filepath.Join(c.dir, "canary.yaml"), []byte(residentApp), 0o644); err != nil {
		t.Fatal(err)
	}
	c.idFile = filepath.Join(t.TempDir(), "key.txt")
	os.WriteFile(c.idFile, []byte(id.String()+"\n"), 0o600)
	return c
}

func (c *canaryEnv) cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	args = append(args, "--env", c.dir, "--apim-url", c.sim.APIMURL(), "--is-url", c.sim.ISURL(), "--log-level", "debug")
	code := run(context.Background(), args, &out, &errb)
	c.outputs.Write(out.Bytes())
	c.outputs.Write(errb.Bytes())
	return code, out.String(), errb.String()
}

// sealedSecrets opens every sealed file: the server-generated secrets.
// sealedDir is where the dev environment's sealed outputs go by default
// (sealed/<environment name>).
func (c *canaryEnv) sealedDir() string { return filepath.Join(c.dir, "sealed", "dev") }

func (c *canaryEnv) sealedSecrets() map[string]string {
	s := secrets.NewStore(c.sealedDir())
	ix, err := s.ReadIndex()
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ix.Entries {
		cr, err := s.OpenFile(e.File, secrets.Identities{c.id})
		if err != nil {
			c.t.Fatal(err)
		}
		if c.key().Compare(e.Fingerprint, cr.ConsumerSecret) != secrets.Same {
			c.t.Fatalf("%s: sealed secret does not match the index", e.File)
		}
		out[e.Key().String()] = cr.ConsumerSecret.Reveal()
	}
	return out
}

// key is the environment's fingerprint key (in its state directory).
func (c *canaryEnv) key() secrets.MACKey {
	k, err := secrets.LoadMACKey(filepath.Join(c.dir, ".wso2sync"))
	if err != nil {
		c.t.Fatal(err)
	}
	return k
}

// sealedConsumerKey is the consumer key sealed for a key ("app/TYPE (KM)").
func (c *canaryEnv) sealedConsumerKey(key string) string {
	s := secrets.NewStore(c.sealedDir())
	ix, err := s.ReadIndex()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range ix.Entries {
		if e.Key().String() == key {
			cr, err := s.OpenFile(e.File, secrets.Identities{c.id})
			if err != nil {
				c.t.Fatal(err)
			}
			return cr.ConsumerKey
		}
	}
	c.t.Fatalf("%s is not sealed", key)
	return ""
}

// daemonPass runs `wso2sync run --mode enforce` in-process until its first
// pass has ended, collects its logs and its /status, /metrics and / pages
// into outputs, and stops it as SIGTERM would.
func (c *canaryEnv) daemonPass() {
	t := c.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"run", "--env", c.dir, "--listen", addr, "--mode", "enforce", "--interval", "1h",
			"--apim-url", c.sim.APIMURL(), "--is-url", c.sim.ISURL(), "--log-level", "debug", "--log-format", "json"}, &stdout, &stderr)
	}()
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	type status struct {
		Running  any `json:"running"`
		LastPass *struct {
			Result string `json:"result"`
			Error  string `json:"error"`
		} `json:"lastPass"`
	}
	var st status
	for {
		st = status{}
		if resp, err := http.Get(url + "/status"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if json.Unmarshal(b, &st) == nil && st.LastPass != nil && st.Running == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pass of wso2sync run ended; logs:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.LastPass.Result != "success" {
		t.Fatalf("the daemon's pass: %s %s", st.LastPass.Result, st.LastPass.Error)
	}
	for _, p := range []string{"/status", "/metrics", "/"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.outputs.Write(b)
	}
	cancel()
	select {
	case n := <-code:
		if n != 0 {
			t.Errorf("wso2sync run: exit %d; logs:\n%s", n, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("wso2sync run did not stop")
	}
	c.outputs.WriteString(stdout.String())
	c.outputs.WriteString(stderr.String())
}

// isToken asks IS /oauth2/token for a client_credentials token and
// returns the status.
func (c *canaryEnv) isToken(clientID, secret string) int {
	req, _ := http.NewRequest("POST", c.sim.ISURL()+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res, err := c.sim.HTTPClient().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestCanary runs validate, plan, apply (enforce), rotate, export and the
// secrets commands against the simulator with debug logs and a canary
// input secret; no secret (the canary, nor any server-generated consumer
// secret, before or after rotation) appears in any output or file but the
// sealed ones.
func TestCanary(t *testing.T) {
	const canary = "CANARY-rule-engine-9c41d7e2"
	c := newCanaryEnv(t, canary)
	work := t.TempDir()
	must := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := c.cli(args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, want, out, errs)
		}
		return out
	}
	must(0, "validate")
	must(exitChanges, "plan", "--out", filepath.Join(work, "plan.json"), "--markdown", filepath.Join(work, "plan.md"))
	must(exitChanges, "plan", "-o", "json", "--log-format", "json")
	out := must(0, "apply", "--mode", "enforce", "--auto-approve", "--log-format", "json")
	if !strings.Contains(out, "sealed outputs: 8 key(s)") {
		t.Fatalf("apply did not seal every key:\n%s", out)
	}
	before := c.sealedSecrets()
	if len(before) != 8 {
		t.Fatalf("sealed %d keys", len(before))
	}
	if before["rule-engine-client/PRODUCTION (WSO2IS)"] != canary {
		t.Fatalf("the mapped key's sealed secret is not the canary input")
	}
	must(0, "plan") // sealed = live: nothing to do

	// Rotation through APIM (Resident KM) is a planned change.
	out = must(0, "rotate", "canary-client", "--mode", "dry-run")
	if !strings.Contains(out, "± canary-client/PRODUCTION/Resident Key Manager: rotate secret (rotation requested (wso2sync rotate))") {
		t.Fatalf("rotate plan:\n%s", out)
	}
	must(0, "rotate", "canary-client", "--auto-approve")
	after := c.sealedSecrets()
	k := "canary-client/PRODUCTION (Resident Key Manager)"
	if after[k] == before[k] || after[k] == "" {
		t.Fatal("the secret did not rotate")
	}
	must(0, "plan")
	// With the IS 7 key manager the secret rotates in IS (APIM's
	// regenerate-secret rotates nothing there, WSO2-API §5.15): the old
	// secret stops working at IS /oauth2/token, the new sealed one works.
	fk := "forex-client/PRODUCTION (WSO2IS)"
	forexID := c.sealedConsumerKey(fk)
	if c.isToken(forexID, before[fk]) != 200 {
		t.Fatal("the IS7 key's secret does not work before rotation")
	}
	must(0, "rotate", "forex-client", "--auto-approve")
	afterIS := c.sealedSecrets()
	if afterIS[fk] == before[fk] || afterIS[fk] == "" {
		t.Fatal("the IS7 key's secret did not rotate")
	}
	if code := c.isToken(forexID, before[fk]); code != 401 {
		t.Fatalf("the old IS7 secret: token status %d, want 401", code)
	}
	if code := c.isToken(forexID, afterIS[fk]); code != 200 {
		t.Fatalf("the new IS7 secret: token status %d, want 200", code)
	}
	must(0, "plan")

	// One pass of the daemon (wso2sync run, enforce, debug logs): the same
	// enforce path, so a key it generates is sealed too (to
	// WSO2SYNC_SEAL_RECIPIENTS), and /status, /metrics and / carry no secret.
	if err := os.WriteFile(filepath.Join(c.dir, "daemon-client.yaml"),
		[]byte(strings.ReplaceAll(residentApp, "canary-client", "daemon-client")), 0o644); err != nil {
		t.Fatal(err)
	}
	c.daemonPass()
	afterRun := c.sealedSecrets()
	dk := "daemon-client/PRODUCTION (Resident Key Manager)"
	if len(afterRun) != 9 || afterRun[dk] == "" {
		t.Fatalf("the daemon did not seal daemon-client's key: %d sealed", len(afterRun))
	}
	for k, v := range afterIS {
		if afterRun[k] != v {
			t.Errorf("the daemon pass changed the sealed secret of %s", k)
		}
	}
	must(0, "plan")
	must(0, "export", "--out", filepath.Join(work, "export"))
	must(0, "secrets", "list")
	must(0, "secrets", "list", "-o", "json")

	// Every byte written outside the sealed files. hay holds what nobody
	// needs a fingerprint in (outputs, plans, logs, state); index holds
	// the sealed index, which may hold keyed fingerprints but no digest.
	var hay, index bytes.Buffer
	hay.Write(c.outputs.Bytes())
	walk := func(roots ...string) {
		for _, root := range roots {
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(p)
					if d.Name() == secrets.IndexFile { // the environment's and the export's
						index.Write(b)
					} else {
						hay.Write(b)
					}
				}
				return nil
			})
		}
	}
	walk(work, filepath.Join(c.dir, ".wso2sync"), filepath.Join(c.sealedDir(), secrets.IndexFile))
	if index.Len() < 100 {
		t.Fatalf("no index collected (%d bytes)", index.Len())
	}
	if hay.Len() < 1000 {
		t.Fatalf("too little output collected (%d bytes)", hay.Len())
	}
	leaks := map[string]string{"canary": canary}
	for k, v := range before {
		leaks["before "+k] = v
	}
	for k, v := range after {
		leaks["after "+k] = v
	}
	for k, v := range afterIS {
		leaks["after IS rotation "+k] = v
	}
	for k, v := range afterRun {
		leaks["after the daemon pass "+k] = v
	}
	key := c.key()
	checked := 0
	for what, v := range leaks {
		if bytes.Contains(hay.Bytes(), []byte(v)) {
			t.Errorf("%s leaked", what)
		}
		// Digests a dictionary reverses: nowhere, the index included.
		for form, d := range digests(v) {
			checked++
			if bytes.Contains(hay.Bytes(), []byte(d)) || bytes.Contains(index.Bytes(), []byte(d)) {
				t.Errorf("%s leaked as its %s", what, form)
			}
		}
		// Keyed fingerprints: only in the index, never in an output.
		mac := key.Sum(v)
		if bytes.Contains(hay.Bytes(), []byte(mac)) || bytes.Contains(hay.Bytes(), []byte(mac[strings.LastIndex(mac, ":")+1:])) {
			t.Errorf("%s leaked as its keyed fingerprint", what)
		}
	}
	if checked < 10*len(leaks) {
		t.Fatalf("checked %d digests of %d secrets", checked, len(leaks))
	}
	// The sealed files themselves hold none in clear.
	ents, _ := os.ReadDir(c.sealedDir())
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(c.sealedDir(), e.Name()))
		for what, v := range leaks {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s in clear in %s", what, e.Name())
			}
		}
	}
}

// TestRotationCrash: the secret is regenerated on the server but cannot be
// sealed (as if killed between the two). The run fails loudly naming the
// key, the old sealed file is intact, and the next run re-seals the live
// value, so access is never lost. Both places a secret rotates: APIM
// (Resident KM) and IS (the IS 7 key manager).
func TestRotationCrash(t *testing.T) {
	for _, tc := range []struct{ name, app, km string }{
		{"resident", "canary-client", "Resident Key Manager"},
		{"is7", "forex-client", "WSO2IS"},
	} {
		t.Run(tc.name, func(t *testing.T) { testRotationCrash(t, tc.app, tc.km) })
	}
}

func testRotationCrash(t *testing.T, app, km string) {
	c := newCanaryEnv(t, "CANARY-crash-1")
	must := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errs := c.cli(args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, want, out, errs)
		}
		return out, errs
	}
	must(0, "apply", "--mode", "enforce", "--auto-approve")
	k := app + "/PRODUCTION (" + km + ")"
	old := c.sealedSecrets()[k]
	clientID := c.sealedConsumerKey(k)
	file := filepath.Join(c.sealedDir(), app+".PRODUCTION.age")
	oldBytes, _ := os.ReadFile(file)

	// Make the seal fail after the server rotated: the temp file cannot
	// be renamed over a non-empty directory.
	tmp := file + ".saved"
	os.Rename(file, tmp)
	os.MkdirAll(filepath.Join(file, "x"), 0o755)
	out, errs := must(1, "rotate", app, "--auto-approve", "--log-format", "json")
	if !strings.Contains(out+errs, "was rotated on the server") || !strings.Contains(out+errs, app) {
		t.Fatalf("no loud failure:\n%s\n%s", out, errs)
	}
	os.RemoveAll(file)
	os.Rename(tmp, file)
	if b, _ := os.ReadFile(file); !bytes.Equal(b, oldBytes) {
		t.Fatal("the old sealed file changed")
	}
	ix, _ := secrets.NewStore(c.sealedDir()).ReadIndex()
	if e := ix.Lookup(app, "PRODUCTION"); len(e) != 1 || e[0].Rotating == nil {
		t.Fatalf("no rotating mark: %+v", e)
	}
	journal, _ := os.ReadFile(filepath.Join(c.dir, ".wso2sync", "journal.jsonl"))
	if !bytes.Contains(journal, []byte(app+"/PRODUCTION/"+km)) || !bytes.Contains(journal, []byte("rotate")) {
		t.Fatalf("the journal does not name the rotated key:\n%s", journal)
	}
	if km != spec.ResidentKeyManager && c.isToken(clientID, old) != 401 {
		t.Fatal("the secret did not rotate in IS")
	}

	// The next plan shows the re-seal; apply recovers.
	out, _ = must(exitChanges, "plan")
	if !strings.Contains(out, "~ spec.keys[PRODUCTION/"+km+"].consumerSecret (sealed): (sensitive value changed)") {
		t.Fatalf("plan after the crash:\n%s", out)
	}
	out, _ = must(exitChanges, "plan", "-o", "json")
	if !strings.Contains(out, "an interrupted rotation left a new live secret") {
		t.Fatalf("plan after the crash:\n%s", out)
	}
	must(0, "apply", "--mode", "enforce", "--auto-approve")
	now := c.sealedSecrets()[k]
	if now == old || now == "" {
		t.Fatal("the new live secret was not re-sealed")
	}
	if km != spec.ResidentKeyManager && c.isToken(clientID, now) != 200 {
		t.Fatal("the re-sealed IS secret does not work at IS /oauth2/token")
	}
	must(0, "plan")
}

// digests are the forms in which a secret's unkeyed digest could appear:
// hex of SHA-256 (whole, and the 16-digit prefix wso2sync once printed),
// SHA-1, MD5 and SHA-512, upper and lower case, and base64 of SHA-256.
func digests(v string) map[string]string {
	s256 := sha256.Sum256([]byte(v))
	s1 := sha1.Sum([]byte(v))
	m5 := md5.Sum([]byte(v))
	s512 := sha512.Sum512([]byte(v))
	out := map[string]string{
		"sha256":        hex.EncodeToString(s256[:]),
		"sha256 prefix": hex.EncodeToString(s256[:8]),
		"sha1":          hex.EncodeToString(s1[:]),
		"md5":           hex.EncodeToString(m5[:]),
		"sha512 prefix": hex.EncodeToString(s512[:16]),
		"sha256 base64": base64.StdEncoding.EncodeToString(s256[:]),
		"sha256 b64url": base64.RawURLEncoding.EncodeToString(s256[:]),
	}
	for k, d := range out {
		if !strings.Contains(k, "base64") && !strings.Contains(k, "b64") {
			out[k+" upper"] = strings.ToUpper(d)
		}
	}
	return out
}
