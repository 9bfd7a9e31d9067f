package secrets

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// MACKey keys the fingerprints of secrets (DESIGN.md §8). A plain hash of
// a secret is reversed by a dictionary in seconds when the secret is weak
// (sha256("changeit") is in every table), so wso2sync never writes one:
// where a fingerprint is needed to detect drift (the sealed index) it is
// HMAC-SHA256 under a random key of the environment, which only the
// machine holding the key can compute or check.
type MACKey struct{ k []byte }

// MACKeyFile is the key's file in the environment's state directory
// (mode 0600; the state directory is never committed).
const MACKeyFile = "fingerprint.key"

// macPrefix starts every keyed fingerprint: hmac-sha256/<key id>:<mac>.
const macPrefix = "hmac-sha256/"

// legacyPrefix starts the unkeyed fingerprints (sha256 of the secret) that
// indexes written before keyed fingerprints hold; they are only compared,
// never written, and replaced on the next seal or apply (Store.Migrate).
const legacyPrefix = "sha256:"

// NewMACKey returns a key of 32 random bytes.
func NewMACKey() (MACKey, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return MACKey{}, err
	}
	return MACKey{k: k}, nil
}

// IsZero reports whether there is no key.
func (k MACKey) IsZero() bool { return len(k.k) == 0 }

// ID names the key without revealing it: 8 hex digits of the key's MAC of
// a fixed label. Fingerprints carry it, so one made under another key
// (another machine's state directory) is told apart from drift.
func (k MACKey) ID() string {
	m := hmac.New(sha256.New, k.k)
	m.Write([]byte("wso2sync fingerprint key id"))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// Sum is the keyed fingerprint of a secret: "hmac-sha256/<key id>:" and
// 32 hex digits (128 bits) of HMAC-SHA256; "" for the empty secret or
// when there is no key.
func (k MACKey) Sum(secret string) string {
	if secret == "" || k.IsZero() {
		return ""
	}
	m := hmac.New(sha256.New, k.k)
	m.Write([]byte(secret))
	return macPrefix + k.ID() + ":" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Verdict is what comparing a secret with a recorded fingerprint says.
type Verdict int

const (
	// Unknown: the fingerprint was made under another key (or there is
	// none to compare with): the comparison cannot tell.
	Unknown Verdict = iota
	Same
	Differs
)

// Compare compares a secret with a recorded fingerprint: a keyed one
// under this key, or a legacy unkeyed one (read from an old index).
func (k MACKey) Compare(recorded string, secret Value) Verdict {
	switch {
	case recorded == "" || secret.IsZero():
		return Unknown
	case strings.HasPrefix(recorded, legacyPrefix):
		return verdict(hmac.Equal([]byte(recorded), []byte(legacyFingerprint(secret.v))))
	case k.IsZero() || !strings.HasPrefix(recorded, macPrefix+k.ID()+":"):
		return Unknown
	}
	return verdict(hmac.Equal([]byte(recorded), []byte(k.Sum(secret.v))))
}

func verdict(same bool) Verdict {
	if same {
		return Same
	}
	return Differs
}

// IsLegacy reports whether a recorded fingerprint is an unkeyed digest
// (written by an older wso2sync; replaced by Store.Migrate).
func IsLegacy(recorded string) bool { return strings.HasPrefix(recorded, legacyPrefix) }

// legacyFingerprint is how older versions fingerprinted a secret (the
// first 16 hex digits of its SHA-256). Used only to recognise the entries
// of an old index; never written or shown.
func legacyFingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return legacyPrefix + hex.EncodeToString(sum[:8])
}

// ReadMACKey reads the environment's key from stateDir without creating
// it: found is false when there is none yet.
func ReadMACKey(stateDir string) (k MACKey, found bool, err error) {
	if _, err := os.Stat(filepath.Join(stateDir, MACKeyFile)); errors.Is(err, fs.ErrNotExist) {
		return MACKey{}, false, nil
	}
	k, err = LoadMACKey(stateDir)
	return k, err == nil, err
}

// LoadMACKey reads the environment's key from stateDir, creating it
// (32 random bytes, hex, mode 0600, written atomically) on first use. A
// key file readable by others is refused: whoever reads it can test
// guesses against the index.
func LoadMACKey(stateDir string) (MACKey, error) {
	p := filepath.Join(stateDir, MACKeyFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := NewMACKey()
		if err != nil {
			return MACKey{}, err
		}
		if err := os.MkdirAll(stateDir, 0o700); err != nil {
			return MACKey{}, &Error{Msg: fmt.Sprintf("cannot create %s: %v", stateDir, unwrapPath(err)), Err: err}
		}
		if err := renameio.WriteFile(p, []byte(hex.EncodeToString(k.k)+"\n"), 0o600); err != nil {
			return MACKey{}, &Error{Msg: fmt.Sprintf("cannot write %s: %v", p, unwrapPath(err)), Err: err}
		}
		return k, nil
	}
	if err != nil {
		return MACKey{}, &Error{Msg: fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err)), Err: err}
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return MACKey{}, &Error{Msg: fmt.Sprintf("%s is readable by others (mode %v)", p, fi.Mode().Perm()),
			Hint: "chmod 600 " + p}
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 32 {
		return MACKey{}, &Error{Msg: p + " is not a wso2sync fingerprint key",
			Hint: "delete it: a new key is made, and the next apply re-fingerprints the sealed index"}
	}
	return MACKey{k: k}, nil
}
