package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const (
	reasonCertContent = "the certificate content changed: APIM keeps certificates by alias, so the old one is deleted and the new one uploaded under the same alias"
	reasonCertUsage   = "endpoint, client and key-manager certificates are different APIM resources: the certificate is deleted and uploaded as the new kind"
	reasonCertTarget  = "a certificate is bound to its endpoint, API or key manager when uploaded: it is deleted and uploaded again"
)

// certificate normalises a certificate; nil for usage "trust", which names
// a certificate for Truststore entries and has no server object of its own
// (the truststores compare its fingerprint).
func (c *normCtx) certificate(cert *spec.Certificate, desired bool) *view {
	s := &cert.Spec
	if s.Usage == spec.CertUsageTrust {
		return nil
	}
	v := c.newView(spec.KindCertificate, &cert.Object, desired)
	v.key = cert.Key()
	v.add(field{path: "spec.usage", value: s.Usage, always: true, replace: reasonCertUsage})
	fp, err := c.sourceFingerprint(&cert.Object, "spec.source", s.Source)
	f := field{path: "spec.source", value: fp, always: true, replace: reasonCertContent}
	if err != nil {
		if desired {
			c.warnf("Certificate %q: %v; its content is not compared", cert.Metadata.Name, err)
		}
		f.writeOnly = true
	}
	if s.Usage == spec.CertUsageKeyManager {
		// The key manager's certificates field: PUT in place.
		f.replace = ""
	}
	v.add(f)
	v.add(field{path: "spec.endpoint", value: optURL(s.Endpoint), replace: reasonCertTarget})
	if s.API != nil {
		v.add(field{path: "spec.api", value: s.API.String(), replace: reasonCertTarget})
	}
	v.add(field{path: "spec.tier", value: s.Tier})
	v.add(field{path: "spec.keyManager", value: s.KeyManager, replace: reasonCertTarget})
	return &v
}

// sourceFingerprint is the SHA-256 of a certificate source's DER, as
// "sha256:<64 hex>": of the inline PEM, of the file (relative to the
// manifest that names it), or the pinned fingerprint of a URL source.
// Live certificates arrive as PEM or as a fingerprint.
func (c *normCtx) sourceFingerprint(o *spec.Object, field string, src spec.CertSource) (string, error) {
	switch {
	case src.PEM != "":
		return pemFingerprint([]byte(src.PEM))
	case src.File != "":
		data, err := c.readFile(o.ResolvePath(field+".file", src.File))
		if err != nil {
			return "", fmt.Errorf("cannot read %s: %w", src.File, err)
		}
		return pemFingerprint(data)
	case src.SHA256 != "":
		return normSHA256(src.SHA256), nil
	}
	return "", errors.New("no certificate source")
}

// pemFingerprint fingerprints the first certificate of a PEM text.
func pemFingerprint(data []byte) (string, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "", errors.New("no PEM certificate")
		}
		if b.Type == "CERTIFICATE" {
			sum := sha256.Sum256(b.Bytes)
			return "sha256:" + hex.EncodeToString(sum[:]), nil
		}
	}
}

// normSHA256 accepts the forms keytool and openssl print (AB:CD:…, with or
// without a sha256: prefix, any case).
func normSHA256(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "sha256:") {
		s = s[7:]
	}
	return "sha256:" + strings.ToLower(strings.ReplaceAll(s, ":", ""))
}
