package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func tlsServer(t *testing.T) (*httptest.Server, string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile, &hits
}

func TestTLSWithCABundle(t *testing.T) {
	srv, caFile, hits := tlsServer(t)
	opts := fastOptions(srv.URL)
	opts.TLS.CAFile = caFile
	if _, err := newClient(t, opts).Do(context.Background(), Request{PathTemplate: "/x"}); err != nil {
		t.Fatalf("with CA file: %v", err)
	}
	pemBytes, _ := os.ReadFile(caFile)
	opts.TLS = TLSOptions{CAPEM: pemBytes}
	if _, err := newClient(t, opts).Do(context.Background(), Request{PathTemplate: "/x"}); err != nil {
		t.Fatalf("with inline CA: %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("hits %d", hits.Load())
	}
}

func TestTLSWithoutCAFailsCleanly(t *testing.T) {
	srv, _, hits := tlsServer(t)
	c := newClient(t, fastOptions(srv.URL))
	_, err := c.Do(context.Background(), Request{PathTemplate: "/x"})
	if !IsTransport(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "after") {
		t.Fatalf("a certificate error must not be retried: %v", err)
	}
	if got := c.Counter().Snapshot(); got.Reads != 1 || got.TransportErrors != 1 || hits.Load() != 0 {
		t.Fatalf("counts %+v hits %d", got, hits.Load())
	}
}

func TestTLSInsecureWarnsOnce(t *testing.T) {
	srv, _, _ := tlsServer(t)
	var logs logBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	for range 3 {
		opts := fastOptions(srv.URL)
		opts.Logger = logger
		opts.TLS.InsecureSkipVerify = true
		c := newClient(t, opts)
		if _, err := c.Do(context.Background(), Request{PathTemplate: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "insecureSkipVerify"); n != 1 {
		t.Fatalf("%d warnings:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("not a warning: %s", logs.String())
	}
}

func TestTLSConfigErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-ca.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	for _, tc := range []struct {
		tls  TLSOptions
		want string
	}{
		{TLSOptions{CAFile: missing}, missing},
		{TLSOptions{CAFile: garbage}, garbage},
		{TLSOptions{CAPEM: []byte("junk")}, "inline CA bundle"},
		{TLSOptions{ClientCertFile: garbage, ClientKeyFile: garbage}, garbage},
		{TLSOptions{ClientCertFile: garbage}, "both a client certificate and a key"},
	} {
		_, err := NewClient(Options{BaseURL: "https://localhost:9443", TLS: tc.tls, Logger: discardLogger()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to mention %q", tc.tls, err, tc.want)
		}
	}
}

func TestMutualTLS(t *testing.T) {
	// A self-signed client certificate that the server trusts.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wso2sync"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	clientCert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(clientCert)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	opts := fastOptions(srv.URL)
	opts.TLS = TLSOptions{CAPEM: serverCA, ClientCertFile: certFile, ClientKeyFile: keyFile}
	resp, err := newClient(t, opts).Do(context.Background(), Request{PathTemplate: "/x"})
	if err != nil || string(resp.Body) != "wso2sync" {
		t.Fatalf("mTLS: %v", err)
	}
	opts.TLS = TLSOptions{CAPEM: serverCA}
	opts.MaxRetries = -1
	if _, err := newClient(t, opts).Do(context.Background(), Request{PathTemplate: "/x"}); !IsTransport(err) {
		t.Fatalf("without a client certificate: %v", err)
	}
}
