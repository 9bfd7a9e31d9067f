package trust

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
	"github.com/wso2sync/wso2sync/internal/testtools"
)

const keytoolHint = "a JRE provides it: Debian's default-jre-headless"

// keytool runs the JDK's keytool; without one the test skips, or fails in CI.
func keytool(t *testing.T, args ...string) string {
	t.Helper()
	kt := testtools.Require(t, "keytool", keytoolHint)
	out, err := exec.Command(kt, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKeytoolReadsWhatWeWrite: keytool lists the entries wso2sync wrote,
// with the fingerprints the plan shows.
func TestKeytoolReadsWhatWeWrite(t *testing.T) {
	testtools.Require(t, "keytool", keytoolHint)
	c, _ := newCert(t, "wso2is")
	ca, _ := newCert(t, "jvm-ca")
	for _, typ := range []string{TypeJKS, TypePKCS12} {
		t.Run(typ, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ts")
			storeWith(t, p, typ, "jvm-ca-pass", Entry{"jvm-ca", ca})
			if _, err := Write(Desired{Path: p, Type: typ, Password: "jvm-ca-pass", Entries: []Entry{{"wso2is", c}}}, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
			out := keytool(t, "-list", "-v", "-keystore", p, "-storepass", "jvm-ca-pass", "-storetype", typ)
			for _, want := range []string{"Alias name: wso2is", "Alias name: jvm-ca", spec.ColonFingerprint(spec.CertFingerprint(c)), "trustedCertEntry"} {
				if !strings.Contains(out, want) {
					t.Errorf("keytool -list lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestWeReadWhatKeytoolWrote: a store keytool made (import, and a private
// key entry it generated) is read by alias, updated, and keeps the key.
func TestWeReadWhatKeytoolWrote(t *testing.T) {
	testtools.Require(t, "keytool", keytoolHint)
	c, _ := newCert(t, "wso2is")
	n, _ := newCert(t, "new")
	for _, typ := range []string{TypeJKS, TypePKCS12} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			pemPath := filepath.Join(dir, "is.pem")
			writeFile(t, pemPath, spec.EncodeCertPEM(c))
			p := filepath.Join(dir, "ts")
			keytool(t, "-importcert", "-noprompt", "-alias", "WSO2IS", "-file", pemPath, "-keystore", p, "-storepass", "changeit", "-storetype", typ)
			s, err := ReadFile(p, "changeit")
			if err != nil {
				t.Fatal(err)
			}
			if got := aliases(s); !slices.Equal(got, []string{"wso2is"}) || s.Get("wso2is") == nil || string(s.Get("wso2is").Raw) != string(c.Raw) {
				t.Fatalf("read %v (unnamed %d)", got, len(s.Unnamed()))
			}
			if typ != TypeJKS {
				return
			}
			// A key pair entry in a JKS survives our rewrite.
			keytool(t, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-dname", "CN=server", "-keystore", p,
				"-storepass", "changeit", "-keypass", "changeit", "-storetype", typ)
			if _, err := Write(Desired{Path: p, Type: typ, Password: "changeit", Entries: []Entry{{"other", n}}}, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
			out := keytool(t, "-list", "-keystore", p, "-storepass", "changeit", "-storetype", typ)
			for _, want := range []string{"server, ", "PrivateKeyEntry", "wso2is, ", "other, "} {
				if !strings.Contains(out, want) {
					t.Errorf("after our write keytool -list lacks %q:\n%s", want, out)
				}
			}
			if _, err := os.Stat(p + BackupSuffix); err != nil {
				t.Error("no backup:", err)
			}
		})
	}
}
