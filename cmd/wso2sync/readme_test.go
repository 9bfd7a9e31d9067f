package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// readmeMarker precedes the README's "To try by hand" block.
const readmeMarker = "<!-- The block below is run as is by cmd/wso2sync/readme_test.go"

// readmeHandRun returns the shell block that follows readmeMarker in
// README.md.
func readmeHandRun(readme string) (string, error) {
	i := strings.Index(readme, readmeMarker)
	if i < 0 {
		return "", fmt.Errorf("README.md lacks the marker %q", readmeMarker)
	}
	rest := readme[i:]
	const open = "\n```sh\n"
	j := strings.Index(rest, open)
	if j < 0 {
		return "", fmt.Errorf("no ```sh block after the marker")
	}
	rest = rest[j+len(open):]
	k := strings.Index(rest, "\n```\n")
	if k < 0 {
		return "", fmt.Errorf("the ```sh block after the marker is not closed")
	}
	return rest[:k+1], nil
}

// TestReadmeHandRun runs the README's "To try by hand" block, taken from
// README.md so the two cannot drift apart, with bash in a directory laid
// out like a fresh clone (examples/, no bin/), against the simulator it
// starts itself. Only the simulator's two addresses are swapped for free
// ones, and `make build` links the binary under test as bin/wso2sync. It
// checks the outcome from outside: the plan, the apply, the empty plan
// after, that nothing restarts, that the files are inside the environment
// folder, and (with keytool) that the truststore holds the IS certificate.
func TestReadmeHandRun(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block, err := readmeHandRun(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"127.0.0.1:9443", "127.0.0.1:9444"} {
		if n := strings.Count(block, addr); n < 2 {
			t.Fatalf("the README block names %s %d times; the test swaps it for a free address where the simulator listens and where wso2sync connects, so it must appear in both:\n%s", addr, n, block)
		}
	}
	script := `# The README's hand-run block (see readme_test.go).
cpdir $EXAMPLES examples/environments
chmod 755 shim/make
env PATH=$WORK/shim${:}$PATH
exec bash -c 'sed "s/127.0.0.1:9443/$APIM_ADDR/g; s/127.0.0.1:9444/$IS_ADDR/g" handrun.sh > run.sh && bash run.sh'
stdout '^Plan: 34 to create, 1 to update, 0 to replace, 0 to delete\.$'
stdout '^Apply complete: 35 applied, 0 failed, 0 not attempted\.'
stdout '^No changes\. The live estate matches the manifests\.$'
! stdout 'restart'
! stderr '"level":"ERROR"|error:'
exists examples/environments/dev/.wso2sync/inventory.json
exists examples/environments/dev/truststores/wso2am-client-truststore.jks
exists examples/environments/dev/truststores/wso2is-client-truststore.jks
[exec:keytool] exec keytool -list -keystore examples/environments/dev/truststores/wso2am-client-truststore.jks -storepass wso2carbon -storetype JKS
[exec:keytool] stdout '^wso2is, .*trustedCertEntry'
[exec:keytool] stdout '7B:B1:44:C2:76:0C:7A:B1'

-- shim/make --
#!/bin/sh
# Stands in for the Makefile's build target: bin/wso2sync is the binary
# under test (make demo covers the real target).
[ "$1" = build ] || { echo "make shim: only 'make build' is expected, got: $*" >&2; exit 1; }
mkdir -p bin && ln -sf "$(command -v wso2sync)" bin/wso2sync
-- handrun.sh --
` + block
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "readme_handrun.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, scriptParams(t, dir))
}

func TestReadmeHandRunExtract(t *testing.T) {
	got, err := readmeHandRun("intro\n" + readmeMarker + " -->\n```sh\na\nb\n```\nafter\n")
	if err != nil || got != "a\nb\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := readmeHandRun("no marker"); err == nil {
		t.Fatal("a README without the marker must be an error")
	}
}
