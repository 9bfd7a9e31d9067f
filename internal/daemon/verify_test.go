package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestSignedCommitsOnly: with VerifyKeys, a signed commit is checked out;
// an unsigned one is refused as invalid and the signed one stays.
func TestSignedCommitsOnly(t *testing.T) {
	key, err := openpgp.NewEntity("ci", "", "ci@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := key.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()

	remote := newGitRemote(t)
	commit := func(content string, sign *openpgp.Entity) string {
		wt, _ := remote.repo.Worktree()
		writeFile(t, filepath.Join(remote.work, "env", "wso2sync.yaml"), content)
		if _, err := wt.Add("env/wso2sync.yaml"); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(content, &git.CommitOptions{SignKey: sign,
			Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		remote.push("main")
		return h.String()
	}
	signed := commit("signed", key)
	src, _ := NewGitSource(GitOptions{URL: remote.bare, Ref: "main", Path: "env", CacheDir: t.TempDir(), VerifyKeys: pub.String()})
	_, rev, err := src.Sync(t.Context())
	if err != nil || rev.Commit != signed {
		t.Fatalf("signed commit: %v %s", err, rev.Commit)
	}
	commit("unsigned", nil)
	dir, rev, err := src.Sync(t.Context())
	if !IsInvalid(err) || !strings.Contains(err.Error(), "not signed") || rev.Commit != signed {
		t.Fatalf("unsigned commit: %v, at %s", err, rev.Commit)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "wso2sync.yaml")); string(b) != "signed" {
		t.Errorf("worktree holds %q, want the signed commit's", b)
	}
	other, _ := openpgp.NewEntity("mallory", "", "m@example.com", nil)
	commit("signed by someone else", other)
	if _, rev, err = src.Sync(t.Context()); !IsInvalid(err) || rev.Commit != signed {
		t.Fatalf("foreign signature: %v, at %s", err, rev.Commit)
	}
}
