package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// gitRemote is a bare repository and a working clone that pushes to it.
type gitRemote struct {
	t    *testing.T
	bare string
	work string
	repo *git.Repository
}

func newGitRemote(t *testing.T) *gitRemote {
	t.Helper()
	main := plumbing.NewBranchReferenceName("main")
	g := &gitRemote{t: t, bare: filepath.Join(t.TempDir(), "estate.git"), work: t.TempDir()}
	if _, err := git.PlainInitWithOptions(g.bare, &git.PlainInitOptions{Bare: true, InitOptions: git.InitOptions{DefaultBranch: main}}); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainInitWithOptions(g.work, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: main}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{g.bare}}); err != nil {
		t.Fatal(err)
	}
	g.repo = repo
	return g
}

// commit writes files (path → content) and commits them on the current
// branch.
func (g *gitRemote) commit(msg string, files map[string]string) string {
	g.t.Helper()
	wt, err := g.repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	for p, c := range files {
		writeFile(g.t, filepath.Join(g.work, p), c)
		if _, err := wt.Add(p); err != nil {
			g.t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		g.t.Fatal(err)
	}
	return h.String()
}

func (g *gitRemote) checkout(branch string, create bool) {
	g.t.Helper()
	wt, _ := g.repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create}); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRemote) push(branch string) {
	g.t.Helper()
	spec := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
	if err := g.repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}}); err != nil {
		g.t.Fatal(err)
	}
}

func TestGitSourceAgainstTheSimulator(t *testing.T) {
	s := startSimEnv(t, sim.Options{})
	remote := newGitRemote(t)
	envDir := "environments/test"
	c1 := remote.commit("the environment", map[string]string{
		envDir + "/wso2sync.yaml": fmt.Sprintf(envFile, "enforce"),
		"README.md":               "estate\n",
	})
	remote.push("main")

	cache := t.TempDir()
	src, err := NewGitSource(GitOptions{URL: remote.bare, Ref: "main", Path: envDir, CacheDir: cache, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("hook-secret")
	d, base := startDaemon(t, Options{Source: src, Pass: reconcilePass(s), WebhookSecret: secret,
		Scheduler: SchedulerOptions{Interval: time.Hour}})
	lp := passAfter(t, d, 0, "the first pass")
	if lp.Result != ResultSuccess || lp.Revision.Commit != c1 || lp.Revision.Path != envDir {
		t.Fatalf("first pass: %+v", lp)
	}
	// The state lives beside the clone, not in it.
	if _, err := os.Stat(filepath.Join(cache, "state", "inventory.json")); err != nil {
		t.Logf("state dir: %v", err)
	}

	// Push a commit, then the webhook: applied at that commit.
	c2 := remote.commit("add an application", map[string]string{envDir + "/apps.yaml": appDoc("git-app-1", "from git")})
	remote.push("main")
	body := []byte(`{"ref":"refs/heads/main","after":"` + c2 + `"}`)
	n := len(d.Status().History)
	if code, msg := post(t, base+"/sync", body, Sign(secret, body)); code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", code, msg)
	}
	lp = passAfter(t, d, n, "the webhook's pass")
	if lp.Result != ResultSuccess || lp.Revision.Commit != c2 || lp.Revision.Message != "add an application" || lp.Reason != "webhook" {
		t.Fatalf("webhook pass: %+v", lp)
	}
	if _, ok := simApp(s, "git-app-1"); !ok {
		t.Fatal("git-app-1 not applied")
	}
	if st := d.Status(); st.Source.Commit != c2 {
		t.Errorf("status source %+v", st.Source)
	}

	// A bad signature: 401 and nothing happens.
	c3 := remote.commit("another application", map[string]string{envDir + "/apps.yaml": appDoc("git-app-1", "from git") + appDoc("git-app-2", "unsigned hook")})
	remote.push("main")
	n = len(d.Status().History)
	if code, _ := post(t, base+"/sync", body, Sign([]byte("wrong"), body)); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d, want 401", code)
	}
	if code, _ := post(t, base+"/sync", body, ""); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	time.Sleep(200 * time.Millisecond) // a pass would have started by now
	if len(d.Status().History) != n || d.Status().Running != nil {
		t.Fatal("a pass ran after a rejected webhook")
	}
	if _, ok := simApp(s, "git-app-2"); ok {
		t.Fatal("git-app-2 applied without a valid webhook")
	}

	// A commit on another branch is ignored: the push event for it is
	// not acted on, and a pass on main does not see it.
	remote.checkout("feature", true)
	remote.commit("feature work", map[string]string{envDir + "/apps.yaml": appDoc("feature-app", "not on main")})
	remote.push("feature")
	other := []byte(`{"ref":"refs/heads/feature"}`)
	code, msg := post(t, base+"/sync", other, Sign(secret, other))
	var resp map[string]any
	_ = json.Unmarshal([]byte(msg), &resp)
	if code != http.StatusAccepted || resp["result"] != "ignored" {
		t.Errorf("push to another branch: %d %s", code, msg)
	}
	n = len(d.Status().History)
	// A new delivery (the same one again would be a replay, 409).
	body3 := []byte(`{"ref":"refs/heads/main","after":"` + c3 + `"}`)
	if code, _ := post(t, base+"/sync", body3, Sign(secret, body3)); code != http.StatusAccepted {
		t.Fatal(code)
	}
	lp = passAfter(t, d, n, "the pass on main")
	if lp.Revision.Commit != c3 {
		t.Errorf("pass at %s, want main's head %s", lp.Revision.Commit, c3)
	}
	if _, ok := simApp(s, "feature-app"); ok {
		t.Error("a commit on another branch was applied")
	}
	if _, ok := simApp(s, "git-app-2"); !ok {
		t.Error("git-app-2 (main's head) not applied")
	}
}

func TestGitSourceRefs(t *testing.T) {
	remote := newGitRemote(t)
	c1 := remote.commit("one", map[string]string{"env/wso2sync.yaml": "one"})
	remote.push("main")
	c2 := remote.commit("two", map[string]string{"env/wso2sync.yaml": "two"})
	remote.push("main")
	// A tag on the first commit.
	if _, err := remote.repo.CreateTag("v1", plumbing.NewHash(c1), &git.CreateTagOptions{
		Tagger: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}, Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := remote.repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"refs/tags/v1:refs/tags/v1"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ref, want, content string }{
		{"main", c2, "two"},
		{"refs/heads/main", c2, "two"},
		{"v1", c1, "one"},
		{c1, c1, "one"},
		{c1[:10], c1, "one"},
	} {
		t.Run(c.ref, func(t *testing.T) {
			src, err := NewGitSource(GitOptions{URL: remote.bare, Ref: c.ref, Path: "env", CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			dir, rev, err := src.Sync(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rev.Commit != c.want {
				t.Errorf("commit %s, want %s", rev.Commit, c.want)
			}
			b, err := os.ReadFile(filepath.Join(dir, "wso2sync.yaml"))
			if err != nil || string(b) != c.content {
				t.Errorf("content %q %v, want %q", b, err, c.content)
			}
		})
	}
	// An unreachable remote keeps the last checkout.
	src, _ := NewGitSource(GitOptions{URL: remote.bare, Ref: "main", Path: "env", CacheDir: t.TempDir()})
	if _, _, err := src.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	moved := remote.bare + ".away"
	if err := os.Rename(remote.bare, moved); err != nil {
		t.Fatal(err)
	}
	dir, rev, err := src.Sync(t.Context())
	if err == nil || rev.Commit != c2 {
		t.Errorf("sync with the remote gone: %v, commit %s", err, rev.Commit)
	}
	if b, rerr := os.ReadFile(filepath.Join(dir, "wso2sync.yaml")); rerr != nil || string(b) != "two" {
		t.Errorf("the last checkout was lost: %q %v", b, rerr)
	}
	if err := os.Rename(moved, remote.bare); err != nil {
		t.Fatal(err)
	}

	src, _ = NewGitSource(GitOptions{URL: remote.bare, Ref: "nope", CacheDir: t.TempDir()})
	if _, _, err := src.Sync(t.Context()); err == nil {
		t.Error("an unknown ref synced")
	}
	if _, err := NewGitSource(GitOptions{URL: remote.bare, Path: "../x", CacheDir: t.TempDir()}); err == nil {
		t.Error("a path outside the repository was accepted")
	}
	if got := RedactURL("https://user:tok@example.com/org/repo.git"); got != "https://example.com/org/repo.git" {
		t.Errorf("RedactURL: %s", got)
	}
}

// TestGitPoll: with a poll interval, a pushed commit triggers a pass
// without a webhook.
func TestGitPoll(t *testing.T) {
	remote := newGitRemote(t)
	remote.commit("one", map[string]string{"env/wso2sync.yaml": "one"})
	remote.push("main")
	src, _ := NewGitSource(GitOptions{URL: remote.bare, Ref: "main", Path: "env", CacheDir: t.TempDir(), PollInterval: 50 * time.Millisecond})
	rec := newRecorder()
	d, _ := startDaemon(t, Options{Source: src, Pass: rec.pass, Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	c2 := remote.commit("two", map[string]string{"env/wso2sync.yaml": "two"})
	remote.push("main")
	req := rec.wait(t, "the poll's pass")
	if !strings.HasPrefix(req.Reason, "git: main at ") || req.Revision.Commit != c2 {
		t.Errorf("pass %q at %s, want the new commit %s", req.Reason, req.Revision.Commit, c2)
	}
	b, _ := os.ReadFile(filepath.Join(req.Dir, "wso2sync.yaml"))
	if string(b) != "two" {
		t.Errorf("worktree %q", b)
	}
	waitFor(t, "pass recorded", 5*time.Second, func() bool { return len(d.Status().History) == 2 })
	rec.none(t, 300*time.Millisecond) // no further passes: the ref did not move
}
