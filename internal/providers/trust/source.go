package trust

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Sources resolves certificate sources to certificates: inline PEM, a PEM
// file (relative to the manifest that names it), a pinned URL, or, for a
// truststore entry, a declared Certificate by name.
type Sources struct {
	// Desired is the desired state, for entries that name a Certificate.
	Desired *spec.State
	Fetch   FetchOptions
}

// Source resolves one source of object o at field (spec.source,
// spec.entries[0], …). A pem or file source with a sha256 must match it;
// a url source must present a certificate that does.
func (s Sources) Source(ctx context.Context, o *spec.Object, field string, src spec.CertSource) (*x509.Certificate, error) {
	var data []byte
	switch {
	case src.PEM != "":
		data = []byte(src.PEM)
	case src.File != "":
		b, err := spec.ReadRegular(src.File, o.ResolvePath(field+".file", src.File), spec.MaxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("%s.file: %w", field, err)
		}
		data = b
	case src.URL != "":
		return Fetch(ctx, src.URL, src.SHA256, s.Fetch)
	default:
		return nil, fmt.Errorf("%s: no certificate source", field)
	}
	certs, err := spec.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	c := certs[0]
	if src.SHA256 != "" {
		if got, want := spec.CertFingerprint(c), spec.NormFingerprint(src.SHA256); got != want {
			return nil, fmt.Errorf("%s: the certificate's fingerprint is %s, not the pinned %s", field, got, want)
		}
	}
	return c, nil
}

// Certificate resolves a Certificate's source.
func (s Sources) Certificate(ctx context.Context, c *spec.Certificate) (*x509.Certificate, error) {
	cert, err := s.Source(ctx, &c.Object, "spec.source", c.Spec.Source)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", c.Metadata.Name, err)
	}
	return cert, nil
}

// Entry resolves entry i of a truststore.
func (s Sources) Entry(ctx context.Context, t *spec.Truststore, i int) (*x509.Certificate, error) {
	e := t.Spec.Entries[i]
	if e.Certificate != "" {
		var c *spec.Certificate
		if s.Desired != nil {
			c = s.Desired.Certificate(e.Certificate)
		}
		if c == nil {
			return nil, fmt.Errorf("entry %q: Certificate %q is not declared", e.Alias, e.Certificate)
		}
		return s.Certificate(ctx, c)
	}
	field := fmt.Sprintf("spec.entries[%d]", i)
	c, err := s.Source(ctx, &t.Object, field, spec.CertSource{PEM: e.PEM, File: e.File, URL: e.URL, SHA256: e.SHA256})
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", e.Alias, err)
	}
	return c, nil
}
