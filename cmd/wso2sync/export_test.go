package main

import (
	"bytes"
	"filippo.io/age"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/secrets"
)

// TestExportSeals: with a recipient, export seals the consumer secret of
// every application key into OUT/sealed/<env> (the identity opens them and
// they are the server's secrets); a mapped key refers to its sealed file;
// no secret appears in the output, the manifests or the index; the
// manifests are identical between two exports. Without a recipient the
// secrets are left out with a note.
func TestExportSeals(t *testing.T) {
	const canary = "CANARY-export-5d0e8b13"
	c := newCanaryEnv(t, canary)
	if code, out, errs := c.cli("apply", "--mode", "enforce", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", code, out, errs)
	}
	applied := c.sealedSecrets() // what the simulator returned, sealed by apply
	if len(applied) != 8 || applied["rule-engine-client/PRODUCTION (WSO2IS)"] != canary {
		t.Fatalf("apply sealed %d keys", len(applied))
	}

	// No recipient: nothing sealed, a note says how.
	t.Setenv(secrets.EnvRecipients, "")
	plain := filepath.Join(t.TempDir(), "plain")
	code, out, errs := c.cli("export", "--out", plain)
	if code != 0 || !strings.Contains(out, "consumer secrets of generated keys are not exported: pass --seal-recipient") {
		t.Fatalf("export without recipients: %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(plain, "sealed")); !os.IsNotExist(err) {
		t.Fatalf("export without recipients wrote sealed files: %v", err)
	}

	// With --seal-recipient.
	sealedOut := filepath.Join(t.TempDir(), "sealed-export")
	export := func() {
		t.Helper()
		code, out, errs := c.cli("export", "--out", sealedOut, "--seal-recipient", c.id.Recipient().String())
		if code != 0 || !strings.Contains(out, "consumer secrets of 8 application keys are sealed in sealed/dev") {
			t.Fatalf("export: %d\n%s\n%s", code, out, errs)
		}
	}
	export()
	store := secrets.NewStore(filepath.Join(sealedOut, "sealed", "dev"))
	ix, err := store.ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Entries) != 8 {
		t.Fatalf("export sealed %d keys, want 8", len(ix.Entries))
	}
	for _, e := range ix.Entries {
		cr, err := store.OpenFile(e.File, secrets.Identities{c.id})
		if err != nil {
			t.Fatal(err)
		}
		if got := cr.ConsumerSecret.Reveal(); got == "" || got != applied[e.Key().String()] {
			t.Errorf("%s: the exported secret is not the server's", e.Key())
		}
	}
	// The exported IS7 secret works at the simulator's IS token endpoint.
	fk := "forex-client/PRODUCTION (WSO2IS)"
	if c.isToken(c.sealedConsumerKey(fk), applied[fk]) != 200 {
		t.Error("the exported forex-client secret does not work at IS")
	}
	manifests := readManifests(t, sealedOut)
	if !strings.Contains(manifests["applications.yaml"], "sealed: sealed/dev/rule-engine-client.PRODUCTION.age") {
		t.Errorf("the mapped key does not refer to its sealed file:\n%s", manifests["applications.yaml"])
	}
	if !strings.Contains(manifests["wso2sync.yaml"], c.id.Recipient().String()) {
		t.Errorf("the exported environment does not name the recipient:\n%s", manifests["wso2sync.yaml"])
	}

	// No secret anywhere but in the age files.
	index, _ := os.ReadFile(filepath.Join(sealedOut, "sealed", "dev", "index.yaml"))
	for k, secret := range applied {
		if bytes.Contains(c.outputs.Bytes(), []byte(secret)) || bytes.Contains(index, []byte(secret)) {
			t.Errorf("the secret of %s is in the output or the index", k)
		}
		for name, m := range manifests {
			if strings.Contains(m, secret) {
				t.Errorf("the secret of %s is in %s", k, name)
			}
		}
	}

	// Exporting again gives identical manifests, and leaves every sealed
	// file and the index byte for byte as they were: nothing to commit
	// (age encryption is randomised, so they must not be rewritten).
	sealedDir := filepath.Join(sealedOut, "sealed", "dev")
	sealedFiles := func() map[string]string {
		out := map[string]string{}
		ents, _ := os.ReadDir(sealedDir)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(sealedDir, e.Name()))
			out[e.Name()] = string(b)
		}
		return out
	}
	firstSealed := sealedFiles()
	if len(firstSealed) != 9 {
		t.Fatalf("%d files in %s, want 8 sealed files and the index", len(firstSealed), sealedDir)
	}
	export()
	for name, b := range sealedFiles() {
		if b != firstSealed[name] {
			t.Errorf("re-export rewrote %s although its secret and recipients are unchanged", name)
		}
	}
	// Another recipient set rewrites every file (each to its new set).
	other, _ := age.GenerateX25519Identity()
	if code, out, errs := c.cli("export", "--out", sealedOut, "--seal-recipient", c.id.Recipient().String(), "--seal-recipient", other.Recipient().String()); code != 0 {
		t.Fatalf("export to two recipients: %d\n%s\n%s", code, out, errs)
	}
	for name, b := range sealedFiles() {
		if name != secrets.IndexFile && b == firstSealed[name] {
			t.Errorf("%s was not re-sealed to the new recipient set", name)
		}
	}
	if _, err := store.OpenFile("forex-client.PRODUCTION.age", secrets.Identities{other}); err != nil {
		t.Errorf("the added recipient cannot open the re-sealed file: %v", err)
	}
	export()
	for name, m := range readManifests(t, sealedOut) {
		if m != manifests[name] {
			t.Errorf("%s differs between two exports", name)
		}
	}
	if out, errs, code := runCLI(t, "validate", "--env", sealedOut); code != 0 {
		t.Errorf("validate the export: %d\n%s\n%s", code, out, errs)
	}
}

// readManifests reads the YAML files of an export, without the sealed dir.
func readManifests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "sealed" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
