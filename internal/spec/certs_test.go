package spec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCert makes a self-signed certificate valid until notAfter, and its
// private key PEM.
func testCert(t *testing.T, cn string, notAfter time.Time) (*x509.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter, DNSNames: []string{cn, "localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func indent(s string) string {
	return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ")
}

func TestCertificateChecks(t *testing.T) {
	now := fixedNow()
	good, key := testCert(t, "good", now.AddDate(1, 0, 0))
	soon, _ := testCert(t, "soon", now.AddDate(0, 0, 10))
	old, _ := testCert(t, "old", now.AddDate(0, 0, -1))
	keyBody := strings.Split(key, "\n")[1]

	doc := func(source string) string {
		return envHeader + "---\napiVersion: wso2sync/v1alpha1\nkind: Certificate\nmetadata: {name: c}\nspec:\n  usage: trust\n  source:\n" + source
	}
	pemField := func(p string) string { return "    pem: |\n" + indent(p) + "\n" }
	cases := []struct {
		name        string
		files       map[string]string
		wantErr     string
		wantWarn    string
		mustNotShow string
	}{
		{name: "good", files: map[string]string{"wso2sync.yaml": doc(pemField(string(EncodeCertPEM(good))))}},
		{name: "private key inline with a certificate", files: map[string]string{"wso2sync.yaml": doc(pemField(string(EncodeCertPEM(good)) + key))},
			wantErr: "holds a private key", mustNotShow: keyBody},
		{name: "private key alone inline", files: map[string]string{"wso2sync.yaml": doc(pemField(key))},
			wantErr: "spec.source.pem", mustNotShow: keyBody},
		{name: "private key in a file", files: map[string]string{"wso2sync.yaml": doc("    file: c.pem\n"), "c.pem": string(EncodeCertPEM(good)) + key},
			wantErr: "holds a private key", mustNotShow: keyBody},
		{name: "expired", files: map[string]string{"wso2sync.yaml": doc("    file: c.pem\n"), "c.pem": string(EncodeCertPEM(old))},
			wantErr: `certificate "CN=old" expired`},
		{name: "expiring", files: map[string]string{"wso2sync.yaml": doc("    file: c.pem\n"), "c.pem": string(EncodeCertPEM(soon))},
			wantWarn: `certificate "CN=soon" expires on`},
		{name: "expiring outside a shorter window", files: map[string]string{"wso2sync.yaml": strings.Replace(doc("    file: c.pem\n"), "  apis:", "  tls: {expiryWarningDays: 7}\n  apis:", 1), "c.pem": string(EncodeCertPEM(soon))},
			mustNotShow: "expires on"},
		{name: "pin matches", files: map[string]string{"wso2sync.yaml": doc("    file: c.pem\n    sha256: " + ColonFingerprint(CertFingerprint(good)) + "\n"), "c.pem": string(EncodeCertPEM(good))}},
		{name: "pin differs", files: map[string]string{"wso2sync.yaml": doc("    file: c.pem\n    sha256: " + CertFingerprint(soon) + "\n"), "c.pem": string(EncodeCertPEM(good))},
			wantErr: "the certificate's fingerprint is " + CertFingerprint(good)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := Load(t.Context(), writeTree(t, tc.files), LoadOptions{Now: fixedNow})
			out := render(ds)
			if tc.mustNotShow != "" && strings.Contains(out, tc.mustNotShow) {
				t.Fatalf("diagnostics echo the private key:\n%s", out)
			}
			switch {
			case tc.wantErr != "":
				if !ds.HasErrors() || !strings.Contains(render(ds.Errors()), tc.wantErr) {
					t.Fatalf("want error %q, got:\n%s", tc.wantErr, out)
				}
			case ds.HasErrors():
				t.Fatalf("unexpected errors:\n%s", out)
			}
			if tc.wantWarn != "" && !strings.Contains(out, tc.wantWarn) {
				t.Fatalf("want warning %q, got:\n%s", tc.wantWarn, out)
			}
		})
	}
}

func TestDescribeCert(t *testing.T) {
	c, _ := testCert(t, "wso2is", time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC))
	got := DescribeCert(c).String()
	for _, want := range []string{"subject CN=wso2is;", "issuer CN=wso2is;", "SANs wso2is, localhost;", "not after 2030-01-02", CertFingerprint(c)} {
		if !strings.Contains(got, want) {
			t.Errorf("%s: missing %q", got, want)
		}
	}
	if fp := CertFingerprint(c); NormFingerprint(ColonFingerprint(fp)) != fp {
		t.Errorf("colon form does not round-trip: %s", ColonFingerprint(fp))
	}
}
