package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through parsing, overlay merging, the
// schema and the reference checks. It must never panic, and whatever it
// reports must be renderable with a position inside the input.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "environments", "*", "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("apiVersion: wso2sync/v1alpha1\nkind: Environment\nmetadata: {name: x}\nspec: {apim: {url: 1}}\n---\n- 1\n"))
	// Secret references and includes, hostile and not: the fuzzer mutates
	// paths, forms and nesting from here (issue 15).
	env := "apiVersion: wso2sync/v1alpha1\nkind: Environment\nmetadata: {name: x}\nspec:\n  apim: {url: \"https://a.example\"}\n  is: {url: \"https://i.example\"}\n"
	for _, extra := range []string{
		"  include: [../base]\n  credentials: {username: {env: U}, password: {file: ../base/pw.txt}}\n",
		"  include: [/etc, ../../.., ../base/../base]\n",
		"  credentials: {username: {file: /etc/passwd}, password: {file: ../../../../../../etc/shadow}}\n",
		"  credentials: {username: {sealed: ../base/pw.txt#consumerKey}, password: {env: \"Pasted S3cret!\"}}\n",
		"  credentials: {username: {file: /dev/zero}, password: {sealed: link}}\n",
		"  credentials: {username: !!binary aGk=, password: {file: pw, env: X}}\n",
		"  include: [link, ../base/link]\n  tls: {caBundle: ../base/pw.txt}\n",
	} {
		f.Add([]byte(env + extra))
	}
	// Compiling the schema dominates a small input's cost; the fuzz
	// function runs sequentially within a worker, so one is shared.
	v, err := newValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// root/env/wso2sync.yaml is the input; root/base holds a manifest
		// and a secret file; root/env/link leads out of the root.
		root := t.TempDir()
		dir := filepath.Join(root, "env")
		base := filepath.Join(root, "base")
		for _, d := range []string{dir, base} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		file := filepath.Join(dir, EnvironmentFile)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(base, "roles.yaml"), []byte("apiVersion: wso2sync/v1alpha1\nkind: Role\nmetadata: {name: r}\nspec: {}\n"), 0o644)
		os.WriteFile(filepath.Join(base, "pw.txt"), []byte(fuzzSecret), 0o600)
		os.Symlink("/etc", filepath.Join(dir, "link"))
		rules, err := NewFileRules(dir, root, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := &loader{ctx: context.Background(), sink: &diagSink{}, loaded: map[string]bool{}, validator: v, rules: rules}
		l.loadDir(dir, nil, Position{})
		st := l.build(dir, LoadOptions{Now: fixedNow})
		if st == nil {
			t.Fatal("build returned no State")
		}
		for _, f := range l.files {
			if !Within(f, root) {
				t.Errorf("loaded a manifest outside the root: %s", f)
			}
		}
		for _, d := range l.sink.ds {
			if d.Message == "" {
				t.Errorf("diagnostic without a message: %+v", d)
			}
			if d.Pos.File != "" && !strings.HasPrefix(d.Pos.File, root) && !strings.HasPrefix(d.Pos.File, "--") {
				t.Errorf("diagnostic points outside the input: %s", d)
			}
			if strings.Contains(d.String(), fuzzSecret) {
				t.Errorf("a diagnostic shows the content of a secret file: %s", d)
			}
			if len(d.Message) > 4*MaxQuoted+64 {
				t.Errorf("a diagnostic of %d bytes", len(d.Message))
			}
		}
		if !l.sink.ds.HasErrors() && st.Environment == nil {
			t.Error("no errors but no Environment")
		}
	})
}

// fuzzSecret is the content of the secret file FuzzLoad plants: the loader
// only checks secret files, never reads them, so no diagnostic shows it.
const fuzzSecret = "FUZZ-SECRET-CONTENT-7f3a"
