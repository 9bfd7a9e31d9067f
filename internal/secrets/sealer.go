package secrets

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Sealer seals the credentials of one environment: its Store, the
// recipients of each application (seal.recipients + sealTo + the run's
// recipients) and the token endpoint of each key manager. Capture is the
// providers' OnSecret hook: it keeps the secrets APIM hands out in memory
// (as Values) until SealCaptured writes them, so a dry run writes nothing
// and an apply seals what it generated before it reports success.
type Sealer struct {
	Store *Store

	env      RecipientSet
	apps     map[string]RecipientSet // lower-case application name → sealTo
	apimURL  string
	kms      map[string]string // key manager → token endpoint
	captured map[KeyID]captured
	mu       sync.Mutex
}

type captured struct {
	consumerKey string
	secret      Value
	at          time.Time
}

// SealerOptions configure NewSealer.
type SealerOptions struct {
	// Recipients are the run's extra recipients (--seal-recipient and
	// $WSO2SYNC_SEAL_RECIPIENTS, see RunRecipients).
	Recipients []string
	// APIMURL overrides the environment's APIM URL (token endpoint of the
	// Resident Key Manager).
	APIMURL string
	// StateDir holds the environment's fingerprint key (MACKeyFile);
	// default <environment>/.wso2sync, the state directory of
	// internal/apply.
	StateDir string
	// OutBase, when set, is the folder a relative spec.seal.outDir (and
	// the default sealed/<environment>) resolves against instead of the
	// environment's folder: the daemon on a git source keeps its sealed
	// outputs and index outside the checkout (docs/daemon.md).
	OutBase string
}

// NewSealer builds the sealer of a loaded environment (see Configure).
func NewSealer(st *spec.State, o SealerOptions) (*Sealer, error) {
	s := &Sealer{}
	if err := s.Configure(st, o); err != nil {
		return nil, err
	}
	return s, nil
}

// Configure binds a Sealer to a loaded environment. A zero Sealer can
// Capture before it is configured (the providers are opened with the hook
// before the manifests are known to the caller). It fails on a bad
// recipient (naming it by its first characters); having no recipient at
// all is an error only when something is sealed.
func (s *Sealer) Configure(st *spec.State, o SealerOptions) error {
	if st == nil || st.Environment == nil {
		return &Error{Msg: "no environment loaded"}
	}
	env := st.Environment
	rs, err := ParseRecipients(env.Spec.Seal.Recipients, o.Recipients)
	if err != nil {
		return &Error{Msg: err.Error(), Hint: "seal recipients are age1… or ssh-ed25519/ssh-rsa public keys (spec.seal.recipients in " + env.Source.File + ", --seal-recipient, " + EnvRecipients + ")"}
	}
	apps := map[string]RecipientSet{}
	for _, a := range st.Applications {
		if len(a.Spec.SealTo) == 0 {
			continue
		}
		ars, err := ParseRecipients(a.Spec.SealTo)
		if err != nil {
			return &Error{Msg: "application " + a.Metadata.Name + ": " + err.Error(), Hint: "spec.sealTo takes age1… or SSH public keys"}
		}
		apps[strings.ToLower(a.Metadata.Name)] = ars
	}
	kms := map[string]string{}
	for _, km := range st.KeyManagers {
		kms[km.Metadata.Name] = cmpOr(km.Spec.DisplayTokenEndpoint, km.Spec.TokenEndpoint)
	}
	stateDir := o.StateDir
	if stateDir == "" {
		stateDir = filepath.Join(st.Dir, ".wso2sync")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	outDir := env.ResolvePath("spec.seal.outDir", env.Spec.Seal.OutDir)
	if o.OutBase != "" {
		outDir = OutDir(o.OutBase, st.Name, env.Spec.Seal.OutDir)
	}
	s.Store = NewStore(OutDir(st.Dir, st.Name, outDir))
	s.Store.KeyDir = stateDir // the key is read or made when first needed
	s.env, s.apps, s.kms = rs, apps, kms
	s.apimURL = cmpOr(o.APIMURL, env.Spec.APIM.URL)
	return nil
}

// HasRecipients reports whether anything can be sealed: the environment
// or the run names recipients (an application's sealTo alone does not
// make an environment seal).
func (s *Sealer) HasRecipients() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Store != nil && len(s.env) > 0
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Recipients returns the recipients of an application's keys.
func (s *Sealer) Recipients(app string) RecipientSet {
	return s.env.Merge(s.apps[strings.ToLower(app)])
}

// RecipientsFor is Recipients for an index entry (for Store.Reseal).
func (s *Sealer) RecipientsFor(e IndexEntry) (RecipientSet, error) {
	rs := s.Recipients(e.Application)
	if len(rs) == 0 {
		return nil, &Error{Msg: "no seal recipients for " + e.Application,
			Hint: "set spec.seal.recipients, the application's spec.sealTo, or pass --seal-recipient"}
	}
	return rs, nil
}

// TokenEndpoint is the token endpoint of a key manager: the one its
// manifest names, APIM's /oauth2/token for the Resident Key Manager.
func (s *Sealer) TokenEndpoint(km string) string {
	if e := s.kms[km]; e != "" {
		return e
	}
	if km == spec.ResidentKeyManager && s.apimURL != "" {
		return strings.TrimSuffix(s.apimURL, "/") + "/oauth2/token"
	}
	return ""
}

// Capture is the providers' OnSecret hook. It only remembers the secret.
func (s *Sealer) Capture(app, keyType, keyManager, consumerKey, consumerSecret string) {
	if consumerSecret == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.captured == nil {
		s.captured = map[KeyID]captured{}
	}
	s.captured[KeyID{app, strings.ToUpper(keyType), keyManager}] = captured{consumerKey, NewValue(consumerSecret), time.Now()}
}

// Captured reports whether a secret was captured for a key.
func (s *Sealer) Captured(k KeyID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.captured[k].secret.IsZero()
}

// Verify compares the secret captured for a key with the fingerprint
// recorded in an index entry: Same, Differs, or Unknown (nothing captured
// or recorded, or recorded under another machine's key).
func (s *Sealer) Verify(k KeyID, e *IndexEntry) Verdict {
	if e == nil {
		return Unknown
	}
	s.mu.Lock()
	secret := s.captured[k].secret
	s.mu.Unlock()
	return s.Store.Compare(e, secret)
}

// Migrate replaces the unkeyed fingerprints of an older index by keyed
// ones, using the secrets captured in this pass (Store.Migrate).
func (s *Sealer) Migrate() (int, error) {
	if s == nil || s.Store == nil {
		return 0, nil
	}
	return s.Store.Migrate(func(k KeyID) (Value, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.captured[k]
		return c.secret, ok
	})
}

// Forget drops a captured secret (a rotation that must not be sealed
// with the old value).
func (s *Sealer) Forget(k KeyID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.captured, k)
}

// Drift is a key whose live secret is not the sealed one. It holds no
// fingerprint: those are for comparing, never for showing.
type Drift struct {
	Key KeyID
	// Unsealed is set when nothing is sealed for the key yet.
	Unsealed bool
	// Rotating is set when an earlier rotation was interrupted between the
	// server call and the seal.
	Rotating bool
}

func (d Drift) String() string {
	switch {
	case d.Unsealed:
		return d.Key.String() + ": not sealed yet"
	case d.Rotating:
		return d.Key.String() + ": an interrupted rotation left a new live secret, not sealed yet"
	}
	return d.Key.String() + ": the live secret differs from the sealed one"
}

// Drifts compares every captured secret with the index: keys never sealed,
// and keys whose live secret changed out of band (or in an interrupted
// rotation). Sorted by key.
func (s *Sealer) Drifts() ([]Drift, error) {
	ix, err := s.Store.ReadIndex()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Drift
	for _, k := range slices.SortedFunc(maps.Keys(s.captured), cmpKey) {
		e := ix.Find(k)
		switch {
		case e == nil || e.Fingerprint == "":
			out = append(out, Drift{Key: k, Unsealed: true, Rotating: e != nil && e.Rotating != nil})
		case s.Store.Compare(e, s.captured[k].secret) == Differs:
			out = append(out, Drift{Key: k, Rotating: e.Rotating != nil})
		case e.Rotating != nil:
			// Sealed but the mark was not cleared: nothing to do but clear it.
			out = append(out, Drift{Key: k, Rotating: true})
		}
	}
	return out, nil
}

func cmpKey(a, b KeyID) int {
	return strings.Compare(a.Application+"\x00"+a.KeyType+"\x00"+a.KeyManager, b.Application+"\x00"+b.KeyType+"\x00"+b.KeyManager)
}

// Seal seals the captured secret of one key now (after a generate or a
// rotation). rotated marks the secret as newly rotated.
func (s *Sealer) Seal(k KeyID, grantTypes []string, rotated bool) (IndexEntry, error) {
	s.mu.Lock()
	c, ok := s.captured[k]
	s.mu.Unlock()
	if !ok {
		return IndexEntry{}, &Error{Msg: "no secret was returned for " + k.String() + " (secret hashing on, or a pending key workflow?)",
			Hint: "the key exists but its secret could not be sealed; check the key manager's secret hashing setting"}
	}
	rs := s.Recipients(k.Application)
	cred := Credential{Application: k.Application, KeyType: k.KeyType, KeyManager: k.KeyManager,
		ConsumerKey: c.consumerKey, ConsumerSecret: c.secret, TokenEndpoint: s.TokenEndpoint(k.KeyManager),
		GrantTypes: grantTypes}
	if rotated {
		cred.RotatedAt = s.Store.now()
	}
	e, err := s.Store.Seal(cred, rs)
	if err != nil {
		return IndexEntry{}, fmt.Errorf("sealing %s: %w", k, err)
	}
	return e, nil
}
