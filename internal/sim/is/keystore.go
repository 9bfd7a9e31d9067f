package is

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"strconv"
	"time"
)

// initCert sets up the server certificate served by the keystore API: the
// one given in Options, or a self-signed "wso2carbon"-style certificate for
// the token-signing key (IS signs tokens with its server key).
func (s *Server) initCert() {
	if len(s.opts.PublicCertPEM) > 0 {
		s.certPEM = append([]byte(nil), s.opts.PublicCertPEM...)
		var der []byte
		if b, _ := pem.Decode(s.certPEM); b != nil {
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				if pk, ok := c.PublicKey.(interface{ Equal(any) bool }); ok && pk.Equal(&s.key.PublicKey) {
					der = b.Bytes
				}
			}
		}
		s.keyIDs(der)
		return
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"WSO2"}, OrganizationalUnit: []string{"WSO2"}, Locality: []string{"Mountain View"}, Province: []string{"CA"}, Country: []string{"US"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "wso2is"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &s.key.PublicKey, s.key)
	if err != nil {
		panic("is: create certificate: " + err.Error())
	}
	s.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.keyIDs(der)
}

// PublicCertPEM is the server certificate (PEM) the keystore API serves.
func (s *Server) PublicCertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// handlePublicCert serves GET /keystores/certs/public (anonymous,
// security: [] in the spec). With encode-cert=true the PEM is returned
// base64-encoded.
func (s *Server) handlePublicCert(w http.ResponseWriter, r *http.Request) {
	body := s.certPEM
	if v := r.URL.Query().Get("encode-cert"); v != "" {
		enc, err := strconv.ParseBool(v)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, jsonCT, map[string]string{"code": "KSS-60001",
				"message": "Invalid request.", "description": "Invalid value for encode-cert."})
			return
		}
		if enc {
			body = []byte(base64.StdEncoding.EncodeToString(s.certPEM))
		}
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Header().Set("Content-Disposition", `attachment; filename="wso2carbon.pem"`)
	_, _ = w.Write(body)
}
