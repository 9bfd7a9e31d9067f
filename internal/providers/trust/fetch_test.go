package trust

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func TestFetchPinned(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	leaf := srv.Certificate()
	good := spec.CertFingerprint(leaf)

	c, err := Fetch(t.Context(), srv.URL+"/some/path", spec.ColonFingerprint(good), FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if spec.CertFingerprint(c) != good {
		t.Fatal("fetched another certificate")
	}

	other, _ := newCert(t, "other")
	_, err = Fetch(t.Context(), srv.URL, spec.CertFingerprint(other), FetchOptions{})
	var pe *PinError
	if !errors.As(err, &pe) {
		t.Fatalf("pin mismatch: %v", err)
	}
	// The error shows what was presented, so the user can pin it after
	// checking; and it never names the wrong certificate as trusted.
	if !strings.Contains(err.Error(), good) || !strings.Contains(err.Error(), spec.CertFingerprint(other)) || pe.Hint() == "" {
		t.Errorf("error does not show the fingerprints: %v", err)
	}

	if _, err := Fetch(t.Context(), srv.URL, "", FetchOptions{}); err == nil {
		t.Error("no pin: fetched anyway (trust on first use)")
	}
	if _, err := Fetch(t.Context(), strings.Replace(srv.URL, "https", "http", 1), good, FetchOptions{}); err == nil {
		t.Error("http:// accepted")
	}
}

// TestApplyURLSourceRefusesOnPinMismatch: a truststore entry from a URL
// whose certificate is not the pinned one leaves the file untouched.
func TestApplyURLSourceRefusesOnPinMismatch(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	ts := &spec.Truststore{Object: spec.Object{Kind: spec.KindTruststore, Metadata: spec.Metadata{Name: "apim"},
		Source: spec.Position{File: filepath.Join(dir, "trust.yaml")}}}
	ts.Spec.Path = "client-truststore.jks"
	ts.Spec.Entries = []spec.TruststoreEntry{{Alias: "wso2is", URL: srv.URL, SHA256: strings.Repeat("ab", 32)}}
	if _, err := Apply(t.Context(), ts, Path(ts), "changeit", Sources{}, nil, time.Now()); err == nil || !strings.Contains(err.Error(), spec.CertFingerprint(srv.Certificate())) {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "client-truststore.jks")); err == nil {
		t.Fatal("the truststore was written despite the pin mismatch")
	}
	ts.Spec.Entries[0].SHA256 = spec.CertFingerprint(srv.Certificate())
	res, err := Apply(t.Context(), ts, Path(ts), "changeit", Sources{}, nil, time.Now())
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestSources(t *testing.T) {
	c, key := newCert(t, "wso2is")
	other, _ := newCert(t, "other")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "is.pem"), spec.EncodeCertPEM(c))
	writeFile(t, filepath.Join(dir, "with-key.pem"), append(spec.EncodeCertPEM(c), key...))
	obj := &spec.Object{Source: spec.Position{File: filepath.Join(dir, "trust.yaml")}}
	keyLine := strings.Split(key, "\n")[1]
	s := Sources{}
	for _, tc := range []struct {
		name    string
		src     spec.CertSource
		wantErr string
	}{
		{"file", spec.CertSource{File: "is.pem"}, ""},
		{"file with pin", spec.CertSource{File: "is.pem", SHA256: spec.ColonFingerprint(spec.CertFingerprint(c))}, ""},
		{"file with a wrong pin", spec.CertSource{File: "is.pem", SHA256: spec.CertFingerprint(other)}, "not the pinned"},
		{"inline", spec.CertSource{PEM: string(spec.EncodeCertPEM(c))}, ""},
		{"private key in a file", spec.CertSource{File: "with-key.pem"}, "private key"},
		{"private key inline", spec.CertSource{PEM: key}, "private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Source(t.Context(), obj, "spec.source", tc.src)
			if tc.wantErr == "" {
				if err != nil || spec.CertFingerprint(got) != spec.CertFingerprint(c) {
					t.Fatalf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want %q, got %v", tc.wantErr, err)
			}
			if strings.Contains(err.Error(), keyLine) {
				t.Fatal("the error echoes the private key")
			}
		})
	}
}

func TestRestart(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "restarted")
	a := &spec.RestartAction{Command: []string{"sh", "-c", "echo restarting >> " + mark}}
	if err := Restart(t.Context(), a, RestartOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mark); string(b) != "restarting\n" {
		t.Errorf("command ran: %q", b)
	}
	err := Restart(t.Context(), &spec.RestartAction{Command: []string{"sh", "-c", "echo cannot restart >&2; exit 3"}}, RestartOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot restart") {
		t.Errorf("failing command: %v", err)
	}
	if got := DescribeRestart(&spec.RestartAction{Command: []string{"docker", "restart", "wso2 am"}}); got != `docker restart "wso2 am"` {
		t.Errorf("describe: %s", got)
	}

	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/restart" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	if err := Restart(t.Context(), &spec.RestartAction{HTTP: &spec.RestartHTTP{URL: srv.URL + "/restart"}}, RestartOptions{}); err != nil || calls.Load() != 1 {
		t.Errorf("http restart: %v (%d calls)", err, calls.Load())
	}
	if err := Restart(t.Context(), &spec.RestartAction{HTTP: &spec.RestartHTTP{Method: "GET", URL: srv.URL + "/restart"}}, RestartOptions{}); err == nil {
		t.Error("HTTP 400 accepted")
	}
}
