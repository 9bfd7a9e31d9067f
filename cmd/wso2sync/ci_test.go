package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// repoFile reads a file by its path from the repository root.
func repoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lintWorkflow runs actionlint (without shellcheck/pyflakes, which are
// outside programs) on a workflow and returns its findings.
func lintWorkflow(t *testing.T, path string, src []byte, project *actionlint.Project) []*actionlint.Error {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(path, src, project)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestGitHubWorkflowLints: the example workflow passes actionlint as
// shipped, and again with `uses: ./` pointing at this repository's
// action.yml, so the inputs it passes are the ones the action declares.
func TestGitHubWorkflowLints(t *testing.T) {
	const wf = "examples/ci/github/wso2sync.yml"
	src := repoFile(t, wf)
	for _, e := range lintWorkflow(t, wf, src, nil) {
		t.Errorf("%s", e.Error())
	}

	const remote = "uses: wso2sync/wso2sync@main"
	if !bytes.Contains(src, []byte(remote)) {
		t.Fatalf("%s does not use the action as %q", wf, remote)
	}
	root := t.TempDir()
	for _, d := range []string{".git", ".github/workflows"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "action.yml"), repoFile(t, "action.yml"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := bytes.ReplaceAll(src, []byte(remote), []byte("uses: ./"))
	path := filepath.Join(root, ".github", "workflows", "wso2sync.yml")
	if err := os.WriteFile(path, local, 0o644); err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lintWorkflow(t, path, local, proj) {
		t.Errorf("with the local action.yml: %s", e.Error())
	}
}

// TestActionlintCatchesMistakes makes sure the check above can fail: an
// input the action does not declare and a bad expression are reported.
func TestActionlintCatchesMistakes(t *testing.T) {
	src := repoFile(t, "examples/ci/github/wso2sync.yml")
	bad := bytes.Replace(src, []byte("          command: plan\n"), []byte("          comand: plan\n          note: ${{ matrix.nope }}\n"), 1)
	errs := lintWorkflow(t, "bad.yml", bad, nil)
	if len(errs) == 0 {
		t.Fatal("actionlint found nothing in a workflow with an undefined matrix property")
	}
}

// TestCIRecipesUseRealFlags: every `wso2sync …` command line in the CI
// examples, the action and the docs names a real command and real flags,
// so the recipes cannot drift from the CLI.
func TestCIRecipesUseRealFlags(t *testing.T) {
	files := []string{"action.yml", "examples/ci/github/wso2sync.yml", "examples/ci/gitlab/.gitlab-ci.yml",
		"docs/ci.md", "docs/daemon.md", "docs/real-servers.md", "deploy/compose/README.md", "scripts/e2e.sh"}
	n := 0
	for _, f := range files {
		md, inFence := strings.HasSuffix(f, ".md"), false
		for i, line := range strings.Split(string(repoFile(t, f)), "\n") {
			// Commands, not prose: code blocks of Markdown, and lines
			// that are not comments elsewhere.
			trim := strings.TrimSpace(line)
			if md && strings.HasPrefix(trim, "```") {
				inFence = !inFence
				continue
			}
			if (md && !inFence) || (!md && strings.HasPrefix(trim, "#")) {
				continue
			}
			for _, inv := range invocations(line) {
				n++
				if err := checkInvocation(inv); err != "" {
					t.Errorf("%s:%d: %s\n\t%s", f, i+1, err, strings.TrimSpace(line))
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d wso2sync command lines found", n)
	}
}

var invocationRe = regexp.MustCompile(`(?:^|[\s"'(` + "`" + `/])wso2sync\s+([a-z][a-z-]*(?:\s.*)?)$`)

// invocations returns the argument words of each `wso2sync SUBCOMMAND …`
// on a line, up to the end of that shell command.
func invocations(line string) [][]string {
	var out [][]string
	for _, part := range regexp.MustCompile(`\|\||&&|[|;]`).Split(line, -1) {
		m := invocationRe.FindStringSubmatch(part)
		if m == nil || strings.Contains(part, "wso2sync/wso2sync") || strings.Contains(part, "cmd/wso2sync") {
			continue
		}
		var words []string
		for _, w := range strings.Fields(m[1]) {
			if strings.HasPrefix(w, "#") || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") || w == "\\" {
				break
			}
			words = append(words, strings.Trim(w, "`\"'[]()"))
		}
		out = append(out, words)
	}
	return out
}

// checkInvocation resolves the subcommand and looks up each --flag.
func checkInvocation(words []string) string {
	root := newRootCmd(&globals{})
	cmd, rest, err := root.Find(words)
	if err != nil || cmd == root {
		return "unknown command: wso2sync " + strings.Join(words, " ")
	}
	for _, w := range rest {
		if !strings.HasPrefix(w, "--") || w == "--" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		if cmd.Flag(name) == nil {
			return "wso2sync " + cmd.Name() + " has no flag --" + name
		}
	}
	return ""
}

// TestGitLabRecipe: the GitLab example is valid YAML whose jobs have a
// script, plan on merge requests, apply only from the default branch with
// one resource group per environment, and keep the state directory.
func TestGitLabRecipe(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(repoFile(t, "examples/ci/gitlab/.gitlab-ci.yml"), &doc); err != nil {
		t.Fatal(err)
	}
	job := func(name string) map[string]any {
		j, ok := doc[name].(map[string]any)
		if !ok {
			t.Fatalf("no job %q", name)
		}
		// Resolve one level of extends (enough for this file).
		for ext := j["extends"]; ext != nil; {
			base, ok := doc[ext.(string)].(map[string]any)
			if !ok {
				t.Fatalf("%s extends unknown %v", name, ext)
			}
			merged := map[string]any{}
			for k, v := range base {
				merged[k] = v
			}
			for k, v := range j {
				merged[k] = v
			}
			ext = base["extends"]
			delete(merged, "extends")
			j = merged
		}
		return j
	}
	text := func(v any) string { b, _ := yaml.Marshal(v); return string(b) }
	for _, env := range []string{"staging", "prod"} {
		p, a := job("plan:"+env), job("apply:"+env)
		if !strings.Contains(text(p["script"]), "wso2sync plan") || !strings.Contains(text(p["rules"]), "merge_request_event") {
			t.Errorf("plan:%s: want a wso2sync plan script on merge requests", env)
		}
		if !strings.Contains(text(p["script"]), `"$rc" -ne 2`) {
			t.Errorf("plan:%s: exit 2 (changes) must not fail the job", env)
		}
		if a["resource_group"] != "wso2sync-"+env {
			t.Errorf("apply:%s: resource_group = %v, want wso2sync-%s", env, a["resource_group"], env)
		}
		if !strings.Contains(text(a["rules"]), "CI_DEFAULT_BRANCH") || !strings.Contains(text(a["script"]), "--mode enforce --auto-approve") {
			t.Errorf("apply:%s: want an enforce apply from the default branch", env)
		}
		if !strings.Contains(text(a["cache"]), ".wso2sync") || !strings.Contains(text(a["after_script"]), "sealed") {
			t.Errorf("apply:%s: want the state dir cached and the sealed outputs kept", env)
		}
	}
}
