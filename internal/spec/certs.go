package spec

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file is the one place that parses certificates for wso2sync: the
// reference checks, the plan's certificate details and the trust provider
// (internal/providers/trust) all use it.

// CertInfo is what a plan shows about a certificate: never more (a
// certificate is public, but a plan is not the place for its bytes).
type CertInfo struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	SANs     []string  `json:"sans,omitempty"`
	NotAfter time.Time `json:"notAfter"`
	// SHA256 is the fingerprint of the DER, "sha256:<64 lower-case hex>".
	SHA256 string `json:"sha256"`
}

// DescribeCert returns a certificate's plan details.
func DescribeCert(c *x509.Certificate) CertInfo {
	info := CertInfo{
		Subject:  c.Subject.String(),
		Issuer:   c.Issuer.String(),
		NotAfter: c.NotAfter.UTC(),
		SHA256:   CertFingerprint(c),
	}
	info.SANs = append(info.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		info.SANs = append(info.SANs, ip.String())
	}
	info.SANs = append(info.SANs, c.EmailAddresses...)
	for _, u := range c.URIs {
		info.SANs = append(info.SANs, u.String())
	}
	return info
}

// String is the one-line form plans and errors print.
func (i CertInfo) String() string {
	return i.Summary() + "; " + i.SHA256
}

// Summary is String without the fingerprint: subject, issuer, SANs and
// not-after.
func (i CertInfo) Summary() string {
	s := "subject " + i.Subject + "; issuer " + i.Issuer
	if len(i.SANs) > 0 {
		s += "; SANs " + strings.Join(i.SANs, ", ")
	}
	return s + "; not after " + i.NotAfter.Format(time.DateOnly)
}

// CertFingerprint is the SHA-256 of a certificate's DER as
// "sha256:<64 lower-case hex>", the form plans and pins use.
func CertFingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// NormFingerprint accepts the forms keytool and openssl print (AB:CD:…,
// with or without a sha256: prefix, any case) and returns the canonical
// "sha256:<hex>" form.
func NormFingerprint(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "sha256:") {
		s = s[7:]
	}
	return "sha256:" + strings.ToLower(strings.ReplaceAll(s, ":", ""))
}

// ColonFingerprint is the keytool/openssl form (AB:CD:…) of a fingerprint,
// for hints the user compares with `keytool -list` or `openssl x509`.
func ColonFingerprint(fp string) string {
	h := strings.ToUpper(strings.TrimPrefix(NormFingerprint(fp), "sha256:"))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i:min(i+2, len(h))])
	}
	return b.String()
}

// ErrPrivateKey is returned (wrapped) when a certificate source holds a
// private key. The message never contains the key.
var ErrPrivateKey = errors.New("holds a private key")

// ParseCertsPEM parses every CERTIFICATE block of a PEM text. A private
// key block is an error that names the block's position and type only;
// other block types are ignored. No certificate at all is an error.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("PEM block %d (%s) %w: a certificate source takes only public certificates; remove the key block (and rotate the key if this file was shared)", n, b.Type, ErrPrivateKey)
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found (expect a -----BEGIN CERTIFICATE----- block)")
	}
	return certs, nil
}

// EncodeCertPEM is the PEM text of a certificate.
func EncodeCertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
