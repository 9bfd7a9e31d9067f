package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirSourceIgnoresOutputDirs: what a pass writes beside the manifests
// (sealed outputs) must not trigger the next pass, while a manifest edit
// still does.
func TestDirSourceIgnoresOutputDirs(t *testing.T) {
	dir := t.TempDir()
	// The output folder does not exist yet: the pass creates sealed/ and
	// sealed/dev, and neither creation is a manifest change.
	sealed := filepath.Join(dir, "sealed", "dev")
	src, err := NewDirSource(DirOptions{Dir: dir, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	src.IgnoreDirs([]string{sealed})
	changes := make(chan string, 16)
	ctx := t.Context()
	go func() { _ = src.Watch(ctx, func(reason string) { changes <- reason }) }()
	// Watch adds the tree asynchronously; give the watcher a moment by
	// writing until the first manifest change is seen.
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		if err := os.WriteFile(filepath.Join(dir, "apps.yaml"), []byte("# probe\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changes:
			seen = true
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no change reported for a manifest edit")
		}
	}
	if err := os.MkdirAll(sealed, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := os.WriteFile(filepath.Join(sealed, "app.PRODUCTION.age"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A late report of a probe (an earlier probe write, or one write's
	// events split over two debounce windows on a loaded machine) names
	// apps.yaml and is no failure; anything naming sealed/ is.
	quiet := time.After(300 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case r := <-changes:
			if strings.Contains(r, "sealed") {
				t.Fatalf("a write into the sealed outputs triggered a pass: %s", r)
			}
		case <-quiet:
			waiting = false
		}
	}
	// The edit goes to another file, so a late probe report cannot stand
	// in for it.
	if err := os.WriteFile(filepath.Join(dir, "users.yaml"), []byte("# edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline = time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case r := <-changes:
			if strings.Contains(r, "sealed") {
				t.Fatalf("a write into the sealed outputs triggered a pass: %s", r)
			}
			seen = strings.Contains(r, "users.yaml")
		case <-deadline:
			t.Fatal("a manifest edit after the ignored writes was not reported")
		}
	}
}
