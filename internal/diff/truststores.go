package diff

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const reasonTruststorePath = "the truststore is another file now: its entries are written to the new file; the old file is left as it is"

// truststore normalises a JVM truststore file. Only the declared entries
// are compared: a client-truststore.jks ships with a hundred CA
// certificates nobody declares, and wso2sync never removes them. The
// restart command is a local action, not state.
func (c *normCtx) truststore(t *spec.Truststore, desired bool) view {
	s := &t.Spec
	v := c.newView(spec.KindTruststore, &t.Object, desired)
	path := filepath.Clean(s.Path)
	v.key = t.Key()
	v.add(field{path: "spec.path", value: path, always: true, replace: reasonTruststorePath})
	v.add(field{path: "spec.type", value: strings.ToUpper(s.Type), always: true})
	// The store password opens the file; it cannot be read back from it.
	v.add(field{path: "spec.password", value: c.redactRef(s.Password), sensitive: true, writeOnly: true})
	for i, e := range s.Entries {
		base := fmt.Sprintf("spec.entries[%d]", i)
		// keytool aliases are case-insensitive and stored in lower case.
		f := field{path: "spec.entries[" + strings.ToLower(e.Alias) + "]", pos: base, always: true}
		fp, err := c.entryFingerprint(t, base, e)
		if err != nil {
			if desired {
				c.warnf("Truststore %q entry %q: %v; it is not compared", t.Metadata.Name, e.Alias, err)
			}
			f.writeOnly = true
		}
		f.value = fp
		v.add(f)
	}
	return v
}

// entryFingerprint resolves an entry's source, following a reference to a
// declared Certificate.
func (c *normCtx) entryFingerprint(t *spec.Truststore, base string, e spec.TruststoreEntry) (string, error) {
	if e.Certificate != "" {
		if c.desired == nil {
			return "", fmt.Errorf("certificate %q is not declared", e.Certificate)
		}
		cert := c.desired.Certificate(e.Certificate)
		if cert == nil {
			return "", fmt.Errorf("certificate %q is not declared", e.Certificate)
		}
		return c.sourceFingerprint(&cert.Object, "spec.source", cert.Spec.Source)
	}
	return c.sourceFingerprint(&t.Object, base, spec.CertSource{PEM: e.PEM, File: e.File, URL: e.URL, SHA256: e.SHA256})
}
