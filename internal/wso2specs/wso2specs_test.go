package wso2specs

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredSpecsUnmodified recomputes the git blob id of every spec file
// and compares it with the provenance table in the folder's README: the files
// must stay byte-for-byte what WSO2 published (errata live in our code).
func TestVendoredSpecsUnmodified(t *testing.T) {
	t.Setenv(Env, "")
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([^ |]+\.yaml) \| ([0-9a-f]{40}) \| ([0-9]+) \|`)
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) == 0 {
		t.Fatal("no provenance rows in README.md")
	}
	listed := map[string]bool{}
	for _, r := range rows {
		name, want, size := r[1], r[2], r[3]
		listed[name] = true
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := fmt.Sprint(len(b)); got != size {
			t.Errorf("%s: %s bytes, provenance says %s", name, got, size)
		}
		if got := blobID(b); got != want {
			t.Errorf("%s: git blob %s, provenance says %s (the file was changed; put corrections in errata.go instead)", name, got, want)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") && !listed[e.Name()] {
			t.Errorf("%s has no provenance row in README.md", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "LICENSE")); err != nil {
		t.Errorf("licence text missing: %v", err)
	}
}

// blobID is what `git hash-object` prints for the content.
func blobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func TestDirEnvOverride(t *testing.T) {
	t.Setenv(Env, filepath.Join(t.TempDir(), "missing"))
	if _, err := Dir(); err == nil || !strings.Contains(err.Error(), Env) {
		t.Fatalf("want an error naming %s, got %v", Env, err)
	}
	d := t.TempDir()
	t.Setenv(Env, d)
	if got, err := Dir(); err != nil || got != d {
		t.Fatalf("Dir = %q, %v", got, err)
	}
}

func TestDirNotFound(t *testing.T) {
	t.Setenv(Env, "")
	t.Chdir(t.TempDir())
	if _, err := Dir(); err == nil || !strings.Contains(err.Error(), Rel) || !strings.Contains(err.Error(), Env) {
		t.Fatalf("want an error naming %s and %s, got %v", Rel, Env, err)
	}
}
