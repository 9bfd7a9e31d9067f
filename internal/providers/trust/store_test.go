package trust

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestStoreRoundTrip(t *testing.T) {
	a, _ := newCert(t, "wso2is")
	b, _ := newCert(t, "jvm-ca")
	for _, typ := range []string{TypeJKS, TypePKCS12} {
		t.Run(typ, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ts")
			storeWith(t, p, typ, "changeit", Entry{"WSO2IS", a}, Entry{"jvm-ca", b})
			s, err := ReadFile(p, "changeit")
			if err != nil {
				t.Fatal(err)
			}
			if s.Type != typ {
				t.Errorf("type %s, want %s", s.Type, typ)
			}
			if got := aliases(s); !slices.Equal(got, []string{"jvm-ca", "wso2is"}) {
				t.Errorf("aliases %v", got)
			}
			if !bytes.Equal(s.Get("wso2is").Raw, a.Raw) || len(s.Unnamed()) != 0 {
				t.Error("wso2is does not hold its certificate")
			}
			if _, err := ReadFile(p, "wrong-password"); err == nil || !strings.Contains(err.Error(), "password is wrong") {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

func TestWriteKeepsWhatItDoesNotOwn(t *testing.T) {
	ca, _ := newCert(t, "jvm-ca")
	is1, _ := newCert(t, "wso2is")
	is2, _ := newCert(t, "wso2is-renewed")
	old, _ := newCert(t, "old")
	for _, typ := range []string{TypeJKS, TypePKCS12} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "client-truststore")
			storeWith(t, p, typ, "wso2carbon", Entry{"jvm-ca", ca}, Entry{"manual", old})
			own, err := LoadOwnership(filepath.Join(dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(p)

			// First write: adds wso2is and a second owned alias.
			res, err := Write(Desired{Path: p, Type: typ, Password: "wso2carbon", Entries: []Entry{{"wso2is", is1}, {"extra", old}}}, own, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Added, []string{"wso2is", "extra"}) || res.Backup != p+BackupSuffix {
				t.Fatalf("first write: %+v", res)
			}
			if bak, _ := os.ReadFile(p + BackupSuffix); !bytes.Equal(bak, before) {
				t.Error("the backup is not the previous file")
			}

			// Same again: nothing written.
			st1, _ := os.Stat(p)
			res, err = Write(Desired{Path: p, Type: typ, Password: "wso2carbon", Entries: []Entry{{"wso2is", is1}, {"extra", old}}}, own, time.Now())
			if err != nil || res.Changed() {
				t.Fatalf("second write changed: %+v %v", res, err)
			}
			if st2, _ := os.Stat(p); !st2.ModTime().Equal(st1.ModTime()) {
				t.Error("an unchanged truststore was rewritten")
			}

			// Renewal, and "extra" no longer declared: updated and removed;
			// jvm-ca and manual (never owned) stay.
			res, err = Write(Desired{Path: p, Type: typ, Password: "wso2carbon", Entries: []Entry{{"wso2is", is2}}}, own, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Updated, []string{"wso2is"}) || !slices.Equal(res.Removed, []string{"extra"}) {
				t.Fatalf("third write: %+v", res)
			}
			s, err := ReadFile(p, "wso2carbon")
			if err != nil {
				t.Fatal(err)
			}
			if got := aliases(s); !slices.Equal(got, []string{"jvm-ca", "manual", "wso2is"}) {
				t.Errorf("aliases after: %v", got)
			}
			if !bytes.Equal(s.Get("wso2is").Raw, is2.Raw) {
				t.Error("wso2is not renewed")
			}
			// The record survives a reload.
			own2, _ := LoadOwnership(filepath.Join(dir, "state"))
			if got := own2.Aliases(p); !slices.Equal(got, []string{"wso2is"}) {
				t.Errorf("owned %v", got)
			}
		})
	}
}

func TestWriteCreatesAndConverts(t *testing.T) {
	c, _ := newCert(t, "wso2is")
	p := filepath.Join(t.TempDir(), "new", "ts.p12")
	res, err := Write(Desired{Path: p, Type: "PKCS12", Password: "changeit", Entries: []Entry{{"wso2is", c}}}, nil, time.Now())
	if err != nil || res.Backup != "" || !res.Changed() {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = Write(Desired{Path: p, Type: "JKS", Password: "changeit", Entries: []Entry{{"wso2is", c}}}, nil, time.Now())
	if err != nil || !res.Converted {
		t.Fatalf("%+v %v", res, err)
	}
	if s, err := ReadFile(p, "changeit"); err != nil || s.Type != TypeJKS || s.Get("wso2is") == nil {
		t.Fatalf("%v %v", s, err)
	}
}

func TestLegacyPKCS12IsNotRewritten(t *testing.T) {
	c, _ := newCert(t, "jvm-ca")
	w, _ := newCert(t, "wso2is")
	data, err := pkcs12.LegacyRC2.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{Cert: c, FriendlyName: "jvm-ca"}}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "legacy.p12")
	writeFile(t, p, data)
	s, err := ReadFile(p, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Unnamed()) != 1 {
		t.Fatalf("legacy entries: %d named, %d unnamed", len(s.Entries()), len(s.Unnamed()))
	}
	if _, found := s.FindFingerprint(spec.CertFingerprint(c)); !found {
		t.Error("legacy certificate not found by fingerprint")
	}
	_, err = Write(Desired{Path: p, Type: "PKCS12", Password: "changeit", Entries: []Entry{{"wso2is", w}}}, nil, time.Now())
	if err == nil || !strings.Contains(err.Error(), "legacy") {
		t.Fatalf("rewriting a legacy PKCS#12 with foreign entries: %v", err)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(after, data) {
		t.Error("the legacy file was changed")
	}
}

func TestLive(t *testing.T) {
	c, _ := newCert(t, "wso2is")
	ca, _ := newCert(t, "jvm-ca")
	dir := t.TempDir()
	ts := &spec.Truststore{Object: spec.Object{Kind: spec.KindTruststore, Metadata: spec.Metadata{Name: "apim"},
		Source: spec.Position{File: filepath.Join(dir, "trust.yaml")}}}
	ts.Spec.Path = "stores/client-truststore.jks"
	ts.Spec.Type = "JKS"
	ts.Spec.Entries = []spec.TruststoreEntry{{Alias: "WSO2IS", File: "is.pem"}}

	l, err := Live(ts, Path(ts), "changeit", nil)
	if err != nil || l != nil {
		t.Fatalf("missing file: %v %v", l, err)
	}
	p := filepath.Join(dir, "stores", "client-truststore.jks")
	if Path(ts) != p {
		t.Fatalf("path %s, want %s (relative to the manifest)", Path(ts), p)
	}
	storeWith(t, p, TypeJKS, "changeit", Entry{"wso2is", c}, Entry{"jvm-ca", ca}, Entry{"old", ca})
	l, err = Live(ts, p, "changeit", []string{"old"})
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.TruststoreEntry{{Alias: "old", SHA256: spec.CertFingerprint(ca)}, {Alias: "wso2is", SHA256: spec.CertFingerprint(c)}}
	if l.Metadata.Name != "apim" || l.Spec.Path != ts.Spec.Path || l.Spec.Type != TypeJKS || !slices.Equal(l.Spec.Entries, want) {
		t.Errorf("live: %+v", l.Spec)
	}
	if _, err := Live(ts, p, "nope", nil); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("wrong password: %v", err)
	}
}
