package transport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// TLSOptions configure server verification and client certificates.
// Verification uses the system roots plus CAFile/CAPEM.
type TLSOptions struct {
	CAFile string // PEM bundle added to the system roots
	CAPEM  []byte // PEM bundle given inline
	// ClientCertFile and ClientKeyFile enable mTLS (both or neither).
	ClientCertFile, ClientKeyFile string
	// InsecureSkipVerify turns verification off, only because the
	// environment asks; a warning is logged once per logger.
	InsecureSkipVerify bool
}

// insecureWarned remembers, per *slog.Logger, that the insecureSkipVerify
// warning was given, so that clients rebuilt on every daemon pass do not
// repeat it. (The one piece of package state: a log de-duplicator.)
var insecureWarned sync.Map // *slog.Logger → *sync.Once

func buildTLSConfig(o TLSOptions, log *slog.Logger, server string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" || len(o.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("transport: reading CA bundle: %w", err) // *PathError names the file
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("transport: CA bundle %s: no PEM certificates found", o.CAFile)
			}
		}
		if len(o.CAPEM) > 0 && !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, fmt.Errorf("transport: inline CA bundle: no PEM certificates found")
		}
		cfg.RootCAs = pool
	}
	switch {
	case o.ClientCertFile != "" && o.ClientKeyFile != "":
		pair, err := tls.LoadX509KeyPair(o.ClientCertFile, o.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("transport: client certificate %s / key %s: %w", o.ClientCertFile, o.ClientKeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case o.ClientCertFile != "" || o.ClientKeyFile != "":
		return nil, fmt.Errorf("transport: mTLS needs both a client certificate and a key file")
	}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
		once, _ := insecureWarned.LoadOrStore(log, new(sync.Once))
		once.(*sync.Once).Do(func() {
			log.Warn("TLS certificate verification is off (insecureSkipVerify); use a CA bundle instead", slog.String("server", server))
		})
	}
	return cfg, nil
}
