package spec

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// A file of 20,000 subscriptions (issue 10's L estate in one file) is
// within the node limits, while an alias bomb of a few hundred bytes is
// still refused quickly.
func TestNodeLimits(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "---\napiVersion: wso2sync/v1alpha1\nkind: Subscription\nmetadata:\n  name: sub-%05d\nspec:\n  application: app-%05d\n  api: {name: api-%04d, version: v1}\n  throttlingPolicy: Unlimited\n", i, i/4, i%200)
	}
	dir := t.TempDir()
	l := &loader{ctx: context.Background(), sink: &diagSink{}, loaded: map[string]bool{}}
	docs := l.parseBytes(filepath.Join(dir, "subscriptions.yaml"), []byte(b.String()))
	if l.sink.ds.HasErrors() || len(docs) != 20000 {
		t.Fatalf("%d documents, diagnostics %v", len(docs), l.sink.ds[:min(3, len(l.sink.ds))])
	}

	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := range 9 {
		prev := string(rune('a' + i))
		next := string(rune('a' + i + 1))
		bomb += next + ": &" + next + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
	}
	l = &loader{ctx: context.Background(), sink: &diagSink{}, loaded: map[string]bool{}}
	l.parseBytes(filepath.Join(dir, "bomb.yaml"), []byte(bomb))
	if !l.sink.ds.HasErrors() || !strings.Contains(l.sink.ds[0].Message, "too large") {
		t.Errorf("alias bomb: %v", l.sink.ds)
	}
	// Refused quickly means refused after bounded work: the conversion
	// stops at maxAliasNodes expanded nodes, not after the 10^10 the bomb
	// expands to. (Counted, not timed: a wall-clock limit failed under
	// -race on a loaded machine.)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(bomb), &doc); err != nil {
		t.Fatal(err)
	}
	c := &converter{file: "bomb.yaml"}
	if _, err := c.convert(&doc, 0); !errors.Is(err, errTooLarge) {
		t.Fatalf("converting the bomb: %v, want errTooLarge", err)
	}
	if c.aliased > maxAliasNodes+1 || c.count > maxAliasNodes+200 {
		t.Errorf("the bomb was refused after converting %d nodes (%d from aliases): the cap is %d", c.count, c.aliased, maxAliasNodes)
	}
}
