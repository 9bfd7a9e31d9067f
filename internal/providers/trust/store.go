package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/wso2sync/wso2sync/internal/spec"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Store types.
const (
	TypeJKS    = "JKS"
	TypePKCS12 = "PKCS12"
)

// Entry is one trusted certificate of a store.
type Entry struct {
	Alias string
	Cert  *x509.Certificate
}

// Store is the content of a truststore file. Aliases are compared in lower
// case, as keytool stores them.
type Store struct {
	// Type is the format of the file (TypeJKS or TypePKCS12).
	Type string
	// certs maps lower-case alias → trusted certificate.
	certs map[string]*x509.Certificate
	// jks is the loaded JKS, which keeps entries this package does not
	// touch (private-key entries, creation times) as they were.
	jks *keystore.KeyStore
	// unnamed are PKCS#12 certificates whose alias could not be read
	// (legacy-encrypted bags).
	unnamed []*x509.Certificate
	// dirty: something changed since it was read.
	dirty bool
}

// NewStore is an empty store of the given type.
func NewStore(typ string) (*Store, error) {
	typ, err := normType(typ)
	if err != nil {
		return nil, err
	}
	s := &Store{Type: typ, certs: map[string]*x509.Certificate{}}
	if typ == TypeJKS {
		ks := keystore.New()
		s.jks = &ks
	}
	return s, nil
}

func normType(typ string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(typ, "#", "")) {
	case "", "JKS":
		return TypeJKS, nil
	case "PKCS12", "P12", "PFX":
		return TypePKCS12, nil
	}
	return "", fmt.Errorf("unknown truststore type %q (want JKS or PKCS12)", typ)
}

// DetectType tells a JKS from a PKCS#12 file by its first bytes.
func DetectType(data []byte) (string, error) {
	switch {
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == 0xFEEDFEED:
		return TypeJKS, nil
	case len(data) >= 4 && binary.BigEndian.Uint32(data) == 0xCECECECE:
		return "", errors.New("the file is a JCEKS keystore; convert it to JKS or PKCS12 (keytool -importkeystore)")
	case len(data) > 0 && data[0] == 0x30:
		return TypePKCS12, nil
	}
	return "", errors.New("the file is neither a JKS nor a PKCS#12 keystore")
}

// ReadFile reads a truststore; the type is detected from the content (the
// declared type only matters for writing). A missing file returns an error
// for which errors.Is(err, fs.ErrNotExist) holds. A wrong password is an
// error that says so.
func ReadFile(path, password string) (*Store, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(data, password)
}

// Decode reads a truststore's bytes.
func Decode(data []byte, password string) (*Store, error) {
	typ, err := DetectType(data)
	if err != nil {
		return nil, err
	}
	s := &Store{Type: typ, certs: map[string]*x509.Certificate{}}
	if typ == TypeJKS {
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
			if strings.Contains(err.Error(), "invalid digest") {
				return nil, errors.New("the store password is wrong (or the file is corrupt): the JKS integrity check failed")
			}
			return nil, fmt.Errorf("cannot read the JKS: %w", err)
		}
		s.jks = &ks
		for _, a := range ks.Aliases() {
			if !ks.IsTrustedCertificateEntry(a) {
				continue
			}
			e, err := ks.GetTrustedCertificateEntry(a)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", a, err)
			}
			c, err := x509.ParseCertificate(e.Certificate.Content)
			if err != nil {
				return nil, fmt.Errorf("entry %q does not parse: %w", a, err)
			}
			s.certs[strings.ToLower(a)] = c
		}
		return s, nil
	}
	certs, err := pkcs12.DecodeTrustStore(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, errors.New("the store password is wrong: the PKCS#12 integrity check failed")
		}
		return nil, fmt.Errorf("cannot read the PKCS#12 truststore: %w", err)
	}
	names, err := p12FriendlyNames(data, password)
	if err != nil || len(names) != len(certs) {
		// Legacy encryption: certificates without their aliases.
		s.unnamed = certs
		return s, nil
	}
	for i, c := range certs {
		a := strings.ToLower(names[i].name)
		if a == "" || !bytes.Equal(names[i].der, c.Raw) {
			s.unnamed = append(s.unnamed, c)
			continue
		}
		s.certs[a] = c
	}
	return s, nil
}

// Get returns the certificate of an alias, or nil.
func (s *Store) Get(alias string) *x509.Certificate { return s.certs[strings.ToLower(alias)] }

// Entries lists the trusted certificates by alias (sorted).
func (s *Store) Entries() []Entry {
	var es []Entry
	for a, c := range s.certs {
		es = append(es, Entry{Alias: a, Cert: c})
	}
	slices.SortFunc(es, func(x, y Entry) int { return strings.Compare(x.Alias, y.Alias) })
	return es
}

// Unnamed returns the certificates whose aliases could not be read (a
// legacy-encrypted PKCS#12 file).
func (s *Store) Unnamed() []*x509.Certificate { return s.unnamed }

// FindFingerprint returns an alias holding a certificate with the given
// fingerprint ("" if none, or if only an unnamed certificate has it).
func (s *Store) FindFingerprint(fp string) (alias string, found bool) {
	fp = spec.NormFingerprint(fp)
	for _, e := range s.Entries() {
		if spec.CertFingerprint(e.Cert) == fp {
			return e.Alias, true
		}
	}
	for _, c := range s.unnamed {
		if spec.CertFingerprint(c) == fp {
			return "", true
		}
	}
	return "", false
}

// Set puts a trusted certificate under an alias; it reports whether the
// store changed. An alias that holds a private key is refused.
func (s *Store) Set(alias string, c *x509.Certificate, now time.Time) (bool, error) {
	a := strings.ToLower(alias)
	if old := s.certs[a]; old != nil && bytes.Equal(old.Raw, c.Raw) {
		return false, nil
	}
	if s.jks != nil {
		if s.jks.IsPrivateKeyEntry(a) {
			return false, fmt.Errorf("alias %q holds a private key in this store; wso2sync only writes trusted certificates (pick another alias)", alias)
		}
		err := s.jks.SetTrustedCertificateEntry(a, keystore.TrustedCertificateEntry{
			CreationTime: now, Certificate: keystore.Certificate{Type: "X509", Content: c.Raw}})
		if err != nil {
			return false, fmt.Errorf("alias %q: %w", alias, err)
		}
	}
	s.certs[a] = c
	s.dirty = true
	return true, nil
}

// Delete removes an alias's trusted certificate; it reports whether it was
// there.
func (s *Store) Delete(alias string) bool {
	a := strings.ToLower(alias)
	if _, ok := s.certs[a]; !ok {
		return false
	}
	delete(s.certs, a)
	if s.jks != nil {
		s.jks.DeleteEntry(a)
	}
	s.dirty = true
	return true
}

// Convert changes the store's format (JKS ↔ PKCS12), keeping its trusted
// certificates. Private-key entries of a JKS cannot be carried over and
// make it fail.
func (s *Store) Convert(typ string) error {
	typ, err := normType(typ)
	if err != nil || typ == s.Type {
		return err
	}
	if s.jks != nil {
		for _, a := range s.jks.Aliases() {
			if s.jks.IsPrivateKeyEntry(a) {
				return fmt.Errorf("cannot convert the JKS to %s: alias %q holds a private key", typ, a)
			}
		}
	}
	if len(s.unnamed) > 0 {
		return errors.New("cannot convert the PKCS#12 store: the aliases of its legacy-encrypted entries cannot be read")
	}
	n, _ := NewStore(typ)
	for a, c := range s.certs {
		if _, err := n.Set(a, c, time.Now()); err != nil {
			return err
		}
	}
	*s = *n
	s.dirty = true
	return nil
}

// Encode serialises the store with the password.
func (s *Store) Encode(password string) ([]byte, error) {
	if s.Type == TypeJKS {
		var b bytes.Buffer
		if err := s.jks.Store(&b, []byte(password)); err != nil {
			return nil, fmt.Errorf("cannot write the JKS: %w", err)
		}
		return b.Bytes(), nil
	}
	if len(s.unnamed) > 0 {
		return nil, fmt.Errorf("cannot rewrite this PKCS#12 truststore: %d of its certificates are encrypted with a legacy algorithm (RC2/3DES) whose aliases wso2sync cannot read, and rewriting would lose them; convert it (keytool -importkeystore -deststoretype PKCS12 on JDK 18+) or use JKS", len(s.unnamed))
	}
	var entries []pkcs12.TrustStoreEntry
	for _, e := range s.Entries() {
		entries = append(entries, pkcs12.TrustStoreEntry{Cert: e.Cert, FriendlyName: e.Alias})
	}
	if password == "" {
		return pkcs12.Passwordless.EncodeTrustStoreEntries(entries, "")
	}
	return pkcs12.Modern2023.EncodeTrustStoreEntries(entries, password)
}
