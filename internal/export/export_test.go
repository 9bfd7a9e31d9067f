package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/export"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/providertest"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestExportRoundTrip applies the example estate to the simulator,
// exports it, checks the files against golden copies, validates the
// export as an environment, and exports again for identical bytes.
func TestExportRoundTrip(t *testing.T) {
	s, st, p := providertest.ApplyExample(t, sim.Options{})
	ctx := context.Background()
	out := t.TempDir()
	run := func() *export.Result {
		t.Helper()
		live, err := p.Read(ctx, providers.ReadOptions{})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		res, err := export.Write(live, export.Options{Environment: st.Environment, OutDir: out})
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		return res
	}
	first := run()
	for _, n := range first.Notes {
		t.Logf("note: %s", n)
	}
	want := map[spec.Kind]int{spec.KindKeyManager: 1, spec.KindThrottlingPolicy: 2, spec.KindApplication: 6,
		spec.KindSubscription: 11, spec.KindUser: 2, spec.KindRole: 3, spec.KindCertificate: 0}
	for k, n := range want {
		if first.Counts[k] != n {
			t.Errorf("%s: %d exported, want %d", k, first.Counts[k], n)
		}
	}

	// Golden files (regenerate with WSO2SYNC_UPDATE=1).
	for _, name := range first.Order {
		got := first.Files[name]
		if name == spec.EnvironmentFile {
			got = bytes.ReplaceAll(got, []byte(s.APIMURL()), []byte("APIM_URL"))
			got = bytes.ReplaceAll(got, []byte(s.ISURL()), []byte("IS_URL"))
			var lines []string
			for _, l := range strings.Split(string(got), "\n") {
				if strings.Contains(l, "caBundle:") {
					l = "    caBundle: CA_BUNDLE"
				}
				lines = append(lines, l)
			}
			got = []byte(strings.Join(lines, "\n"))
		}
		golden := filepath.Join("testdata", "golden", name)
		if os.Getenv("WSO2SYNC_UPDATE") != "" {
			providertest.WriteFile(t, golden, got)
			continue
		}
		exp, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with WSO2SYNC_UPDATE=1)", err)
		}
		if !bytes.Equal(got, exp) {
			t.Errorf("%s differs from %s:\n%s", name, golden, got)
		}
	}

	// The export is a valid environment.
	if _, err := os.Stat(filepath.Join(out, "wso2sync.yaml")); err != nil {
		t.Fatal(err)
	}
	// The export names the example's CA bundle where it is (outside the
	// temporary folder, which is no repository): allow that folder, as
	// --allow-dir would (files are confined to the root, spec.FileRules).
	lst, ds := spec.Load(ctx, out, spec.LoadOptions{AllowDirs: []string{providertest.ExampleDir("dev")}})
	if ds.HasErrors() {
		t.Fatalf("validating the export: %v", ds)
	}
	if len(lst.Applications) != 6 || len(lst.Subscriptions) != 11 || lst.Application("profile-client").Spec.Keys[0].CallbackURL == "" {
		t.Errorf("reloaded export: %d apps, %d subs", len(lst.Applications), len(lst.Subscriptions))
	}
	// Exported values match what was declared (for the fields export writes).
	if a, b := lst.Application("payment-client"), st.Application("payment-client"); a.Spec.Attributes["costCentre"] != b.Spec.Attributes["costCentre"] ||
		a.Spec.Keys[0].AdditionalProperties["ext_application_token_lifetime"] != "900" || a.Spec.ThrottlingPolicy != "ServiceToService" {
		t.Errorf("payment-client exported as %+v", a.Spec)
	}

	// Exporting twice gives identical bytes.
	second := run()
	for _, name := range first.Order {
		if !bytes.Equal(first.Files[name], second.Files[name]) {
			t.Errorf("%s differs between two exports", name)
		}
	}

	// Built-ins only on request (Unlimited once: names are unique per
	// kind); kinds narrow the files.
	live, err := p.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindKeyManager, spec.KindThrottlingPolicy}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := export.Render(live, export.Options{Kinds: []spec.Kind{spec.KindKeyManager, spec.KindThrottlingPolicy}, IncludeBuiltin: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[spec.KindKeyManager] != 2 || res.Counts[spec.KindThrottlingPolicy] != 14 || len(res.Order) != 2 {
		t.Errorf("with built-ins: %v %v", res.Counts, res.Order)
	}
	if !bytes.Contains(res.Files["key-managers.yaml"], []byte("name: Resident Key Manager")) {
		t.Errorf("no Resident Key Manager:\n%s", res.Files["key-managers.yaml"])
	}
}
