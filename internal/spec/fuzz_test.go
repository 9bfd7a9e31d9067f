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
	// Compiling the schema dominates a small input's cost; the fuzz
	// function runs sequentially within a worker, so one is shared.
	v, err := newValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		file := filepath.Join(dir, EnvironmentFile)
		l := &loader{ctx: context.Background(), sink: &diagSink{}, loaded: map[string]bool{}, validator: v}
		docs := l.parseBytes(file, data)
		l.layers = []*layer{{dir: dir, docs: docs}}
		st := l.build(dir, LoadOptions{Now: fixedNow})
		if st == nil {
			t.Fatal("build returned no State")
		}
		for _, d := range l.sink.ds {
			if d.Message == "" {
				t.Errorf("diagnostic without a message: %+v", d)
			}
			if d.Pos.File != "" && !strings.HasPrefix(d.Pos.File, dir) {
				t.Errorf("diagnostic points outside the input: %s", d)
			}
			_ = d.String()
		}
		if !l.sink.ds.HasErrors() && st.Environment == nil {
			t.Error("no errors but no Environment")
		}
	})
}
