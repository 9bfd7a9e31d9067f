package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/google/renameio/v2"
	"gopkg.in/yaml.v3"
)

// Credential is the content of one sealed file: one application key
// (application × key type × key manager) as the key manager issued it.
type Credential struct {
	Application    string
	KeyType        string
	KeyManager     string
	ConsumerKey    string
	ConsumerSecret Value
	TokenEndpoint  string
	GrantTypes     []string
	CreatedAt      time.Time
	RotatedAt      time.Time
}

// doc is the YAML document inside a sealed file (the only place a
// consumer secret is written in clear, and only after encryption).
type doc struct {
	Application    string    `yaml:"application" json:"application"`
	KeyType        string    `yaml:"keyType" json:"keyType"`
	KeyManager     string    `yaml:"keyManager" json:"keyManager"`
	ConsumerKey    string    `yaml:"consumerKey" json:"consumerKey"`
	ConsumerSecret string    `yaml:"consumerSecret" json:"consumerSecret"`
	TokenEndpoint  string    `yaml:"tokenEndpoint,omitempty" json:"tokenEndpoint,omitempty"`
	GrantTypes     []string  `yaml:"grantTypes,omitempty" json:"grantTypes,omitempty"`
	CreatedAt      time.Time `yaml:"createdAt" json:"createdAt"`
	RotatedAt      time.Time `yaml:"rotatedAt,omitempty" json:"rotatedAt,omitzero"`
}

func (c Credential) doc() doc {
	return doc{Application: c.Application, KeyType: c.KeyType, KeyManager: c.KeyManager,
		ConsumerKey: c.ConsumerKey, ConsumerSecret: c.ConsumerSecret.Reveal(), TokenEndpoint: c.TokenEndpoint,
		GrantTypes: c.GrantTypes, CreatedAt: c.CreatedAt.UTC(), RotatedAt: c.RotatedAt.UTC()}
}

func (d doc) credential() Credential {
	return Credential{Application: d.Application, KeyType: d.KeyType, KeyManager: d.KeyManager,
		ConsumerKey: d.ConsumerKey, ConsumerSecret: NewValue(d.ConsumerSecret), TokenEndpoint: d.TokenEndpoint,
		GrantTypes: d.GrantTypes, CreatedAt: d.CreatedAt, RotatedAt: d.RotatedAt}
}

// Field returns one field of the credential by its document name
// (consumerKey, consumerSecret, keyManager, tokenEndpoint, …); the second
// result is false for an unknown name.
func (c Credential) Field(name string) (Value, bool) {
	switch name {
	case "consumerSecret":
		return c.ConsumerSecret, true
	case "consumerKey":
		return NewValue(c.ConsumerKey), true
	case "keyManager":
		return NewValue(c.KeyManager), true
	case "keyType":
		return NewValue(c.KeyType), true
	case "application":
		return NewValue(c.Application), true
	case "tokenEndpoint":
		return NewValue(c.TokenEndpoint), true
	case "grantTypes":
		return NewValue(strings.Join(c.GrantTypes, ",")), true
	}
	return Value{}, false
}

// Fields lists the names Field accepts.
var Fields = []string{"application", "keyType", "keyManager", "consumerKey", "consumerSecret", "tokenEndpoint", "grantTypes"}

// Plaintext is the credential's YAML document, exactly as sealed. It is
// for `wso2sync secrets open` writing to a terminal or pipe on request.
func (c Credential) Plaintext() ([]byte, error) { return yaml.Marshal(c.doc()) }

// Encrypt seals plaintext to the recipients as an armored age file.
func Encrypt(plaintext []byte, rs RecipientSet) ([]byte, error) {
	if len(rs) == 0 {
		return nil, &Error{Msg: "no seal recipients",
			Hint: "set seal.recipients in wso2sync.yaml, or pass --seal-recipient age1… (or " + EnvRecipients + ")"}
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rs.age()...)
	if err != nil {
		return nil, &Error{Msg: "cannot encrypt: " + err.Error(), Err: err}
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decrypt opens an age file (armored or binary) with the identities.
func Decrypt(name string, b []byte, ids Identities) ([]byte, error) {
	var src io.Reader = bytes.NewReader(b)
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(armor.Header)) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimSpace(b)))
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, &Error{Msg: name + " is not sealed to this identity", Err: err,
				Hint: "ask a holder of a recipient key to run 'wso2sync secrets reseal' with your public key added to seal.recipients"}
		}
		return nil, &Error{Msg: "cannot open " + name + ": " + err.Error(), Err: err}
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Msg: "cannot open " + name + ": " + err.Error(), Err: err}
	}
	return out, nil
}

// ParseCredential reads the document of a sealed credential.
func ParseCredential(name string, plaintext []byte) (Credential, error) {
	var d doc
	if err := yaml.Unmarshal(plaintext, &d); err != nil || d.ConsumerKey == "" && d.ConsumerSecret == "" {
		return Credential{}, &Error{Msg: name + " does not hold a wso2sync credential"}
	}
	return d.credential(), nil
}

// ------------------------------------------------------------------ store

// IndexFile is the name of the public index in a sealed output dir.
const IndexFile = "index.yaml"

// Index is the public, non-secret companion of the sealed files: what is
// sealed, to whom, when, and the fingerprint of each secret (so plans can
// show drift without opening anything).
type Index struct {
	Version int          `yaml:"version"`
	Entries []IndexEntry `yaml:"entries"`
}

// IndexEntry describes one sealed file.
type IndexEntry struct {
	Application string `yaml:"application"`
	KeyType     string `yaml:"keyType"`
	KeyManager  string `yaml:"keyManager"`
	// File is the sealed file's name, relative to the index.
	File string `yaml:"file"`
	// Fingerprint is the consumer secret's keyed fingerprint
	// (MACKey.Sum: HMAC-SHA256 under the environment's key, which lives
	// in the state directory, not here). Indexes written by older
	// versions hold a plain sha256 here until Migrate replaces it.
	Fingerprint string `yaml:"fingerprint"`
	// Document is the keyed fingerprint of the whole sealed document: a
	// seal whose document and recipients are unchanged leaves the sealed
	// file as it is (age encryption is randomised, so rewriting it would
	// change a committed file for nothing).
	Document string `yaml:"document,omitempty"`
	// Recipients are the fingerprints of the recipients (sorted).
	Recipients []string  `yaml:"recipients"`
	CreatedAt  time.Time `yaml:"createdAt"`
	RotatedAt  time.Time `yaml:"rotatedAt,omitempty"`
	SealedAt   time.Time `yaml:"sealedAt"`
	// Rotating is set while a rotation is between regenerating the secret
	// on the server and sealing the new one; a run that finds it set
	// re-seals the live value whatever secretDrift says.
	Rotating *time.Time `yaml:"rotating,omitempty"`
}

// Key is the identity of an entry.
func (e IndexEntry) Key() KeyID { return KeyID{e.Application, e.KeyType, e.KeyManager} }

// KeyID names one application key.
type KeyID struct{ Application, KeyType, KeyManager string }

func (k KeyID) String() string { return k.Application + "/" + k.KeyType + " (" + k.KeyManager + ")" }

// Find returns the entry of a key, nil when there is none.
func (ix *Index) Find(k KeyID) *IndexEntry {
	for i := range ix.Entries {
		if ix.Entries[i].Key() == k {
			return &ix.Entries[i]
		}
	}
	return nil
}

// Lookup returns the entries of an application, optionally of one key type.
func (ix *Index) Lookup(app, keyType string) []IndexEntry {
	var out []IndexEntry
	for _, e := range ix.Entries {
		if strings.EqualFold(e.Application, app) && (keyType == "" || strings.EqualFold(e.KeyType, keyType)) {
			out = append(out, e)
		}
	}
	return out
}

// Store is a sealed output directory: the .age files and index.yaml. Its
// methods are safe for concurrent use within a process; across processes
// the apply lock of the environment serialises writers.
//
// The store keeps the index it last read or changed in memory (re-read
// when the file's size or time changes), and concurrent seals share index
// writes (flush): an apply seals one file per key, and reading and
// rewriting the whole index for each, in turn, made sealing quadratic in
// the number of keys. Every change still returns only once an index
// holding it is on disk.
type Store struct {
	Dir string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Key keys the fingerprints the index records; when zero it is read
	// from KeyDir (LoadMACKey) when first needed, and created there by the
	// first seal, so that reading and planning write nothing. Without
	// either, seals record no fingerprint and comparisons are Unknown.
	Key    MACKey
	KeyDir string

	mu       sync.Mutex
	ix       *Index          // the index as this store knows it (under mu)
	ixStat   indexStat       // index.yaml when ix was read or last written
	gen      int64           // changes made to ix (under mu)
	reserved map[string]bool // file names of seals in flight (under mu)
	// onDisk is the last change written to index.yaml and writing is set
	// while a flush writes it (under mu): until both say the file holds
	// everything, the memory is newer than the file and is not re-read.
	onDisk  int64
	writing bool
	// lk finds entries and taken file names without scanning the index
	// (under mu): a seal looks its key up twice and checks its file name,
	// which at 20,000 keys made sealing quadratic once more.
	lk indexLookup

	flushMu sync.Mutex
	flushed int64        // the changes on disk (under flushMu)
	enc     indexEncoder // under flushMu
}

// indexLookup maps an index's keys to their positions and holds its file
// names. It is rebuilt when the index is another (re-read) or was
// reordered (stale); appends keep it up to date.
type indexLookup struct {
	ix    *Index
	stale bool
	byKey map[KeyID]int
	files map[string]bool
}

// lookup returns the up-to-date lookup of ix (callers hold mu).
func (s *Store) lookup(ix *Index) *indexLookup {
	l := &s.lk
	if l.ix != ix || l.stale {
		l.ix, l.stale = ix, false
		l.byKey = make(map[KeyID]int, len(ix.Entries))
		l.files = make(map[string]bool, len(ix.Entries))
		for i, e := range ix.Entries {
			l.byKey[e.Key()] = i
			l.files[e.File] = true
		}
	}
	return l
}

// find returns ix's entry of k, or nil (callers hold mu).
func (s *Store) find(ix *Index, k KeyID) *IndexEntry {
	for range 2 {
		i, ok := s.lookup(ix).byKey[k]
		if !ok {
			return nil
		}
		if i < len(ix.Entries) && ix.Entries[i].Key() == k {
			return &ix.Entries[i]
		}
		s.lk.stale = true // moved by a change the lookup missed: rebuild
	}
	return nil
}

// add appends e to ix (callers hold mu).
func (s *Store) add(ix *Index, e IndexEntry) *IndexEntry {
	l := s.lookup(ix)
	ix.Entries = append(ix.Entries, e)
	l.byKey[e.Key()] = len(ix.Entries) - 1
	l.files[e.File] = true
	return &ix.Entries[len(ix.Entries)-1]
}

// fileName is fileName for the store's index (callers hold mu).
func (s *Store) fileName(ix *Index, k KeyID) string {
	l := s.lookup(ix)
	existing := s.find(ix, k)
	return fileName(existing, k, func(n string) bool { return s.reserved[n] || l.files[n] })
}

// indexEncoder encodes an Index byte for byte as yaml.Marshal does, from
// each entry's encoding kept since the previous flush: with thousands of
// keys, encoding the whole index for every flush made sealing quadratic
// again. Entries are re-encoded only when they changed.
type indexEncoder struct {
	cache map[KeyID]encodedEntry
}

type encodedEntry struct {
	e IndexEntry
	b []byte // the entry as an item of the entries list, indented
}

func (c *indexEncoder) encode(ix *Index) ([]byte, error) {
	if len(ix.Entries) == 0 {
		return yaml.Marshal(ix)
	}
	next := make(map[KeyID]encodedEntry, len(ix.Entries))
	var out bytes.Buffer
	out.WriteString("version: " + strconv.Itoa(ix.Version) + "\nentries:\n")
	for _, e := range ix.Entries {
		k := e.Key()
		ce, ok := c.cache[k]
		if !ok || !reflect.DeepEqual(ce.e, e) {
			one, err := yaml.Marshal([]IndexEntry{e})
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			for _, line := range bytes.SplitAfter(one, []byte("\n")) {
				if len(line) > 0 {
					b.WriteString("    ") // yaml.v3's indent of a list under a key
					b.Write(line)
				}
			}
			ce = encodedEntry{e: cloneEntry(e), b: b.Bytes()}
		}
		next[k] = ce
		out.Write(ce.b)
	}
	c.cache = next
	return out.Bytes(), nil
}

func cloneEntry(e IndexEntry) IndexEntry {
	e.Recipients = slices.Clone(e.Recipients)
	if e.Rotating != nil {
		t := *e.Rotating
		e.Rotating = &t
	}
	return e
}

// indexStat identifies a version of index.yaml.
type indexStat struct {
	exists bool
	size   int64
	mod    time.Time
}

func statIndex(p string) indexStat {
	fi, err := os.Stat(p)
	if err != nil {
		return indexStat{}
	}
	return indexStat{exists: true, size: fi.Size(), mod: fi.ModTime()}
}

// NewStore returns the store of a sealed output dir.
func NewStore(dir string) *Store { return &Store{Dir: dir} }

// OutDir is the sealed output dir of an environment: outDir (default
// sealed/<env>) relative to the environment's folder unless absolute.
func OutDir(envDir, envName, outDir string) string {
	if outDir == "" {
		outDir = filepath.Join("sealed", envName)
	}
	if filepath.IsAbs(outDir) {
		return outDir
	}
	return filepath.Join(envDir, outDir)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// ReadIndex reads index.yaml (an empty index when it does not exist). The
// result is the caller's own copy.
func (s *Store) ReadIndex() (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	cp := *ix
	cp.Entries = slices.Clone(ix.Entries)
	return &cp, nil
}

// readIndex returns the store's index (callers hold mu and may change it,
// then call changed): the one in memory while index.yaml is as this store
// left it, else the file's.
func (s *Store) readIndex() (*Index, error) {
	p := filepath.Join(s.Dir, IndexFile)
	if s.ix != nil && (s.writing || s.gen > s.onDisk) {
		return s.ix, nil // changes of this store not on disk yet
	}
	st := statIndex(p)
	if s.ix != nil && st == s.ixStat {
		return s.ix, nil
	}
	ix, err := s.readIndexFile(p)
	if err != nil {
		return nil, err
	}
	s.ix, s.ixStat = ix, st
	return ix, nil
}

func (s *Store) readIndexFile(p string) (*Index, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &Index{Version: 1}, nil
	}
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err)), Err: err}
	}
	ix := &Index{}
	if err := yaml.Unmarshal(b, ix); err != nil {
		return nil, &Error{Msg: fmt.Sprintf("%s: %v", p, err), Hint: "the index is generated: restore it from git or re-seal with 'wso2sync secrets reseal'"}
	}
	if ix.Version == 0 {
		ix.Version = 1
	}
	return ix, nil
}

const indexHeader = "# wso2sync sealed outputs: public index (no secrets; safe to commit).\n" +
	"# Each entry is one age-encrypted file beside this one. The secret's fingerprint is an\n" +
	"# HMAC-SHA256 under a key kept in the environment's state directory (never a plain hash);\n" +
	"# recipients are named by the sha256 of their public keys.\n"

func cmpEntries(a, b IndexEntry) int {
	if c := strings.Compare(a.Application, b.Application); c != 0 {
		return c
	}
	if c := strings.Compare(a.KeyType, b.KeyType); c != 0 {
		return c
	}
	return strings.Compare(a.KeyManager, b.KeyManager)
}

// changed records a change to the index (callers hold mu and pass it the
// index readIndex returned); the caller then releases mu and calls flush
// with the result, which returns once the change is on disk.
func (s *Store) changed(ix *Index) int64 {
	s.ix = ix
	s.gen++
	return s.gen
}

// flush writes the index unless a write that holds change gen already
// landed: seals that finish while one write is in progress share the next
// (group commit). A failed write leaves the file as it was and the change
// in memory, for the next flush to write.
func (s *Store) flush(gen int64) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.flushed >= gen {
		return nil
	}
	// A snapshot under the lock; the encoding (the costly part with
	// thousands of keys) outside it, while other seals go on.
	s.mu.Lock()
	ix, upto := s.ix, s.gen
	slices.SortFunc(ix.Entries, cmpEntries)
	s.lk.stale = true // reordered
	snap := *ix
	snap.Entries = slices.Clone(ix.Entries)
	s.writing = true
	s.mu.Unlock()
	b, err := s.enc.encode(&snap)
	if err != nil {
		s.mu.Lock()
		s.writing = false
		s.mu.Unlock()
		return err
	}
	err = s.write(IndexFile, append([]byte(indexHeader), b...), 0o644)
	s.mu.Lock()
	s.writing = false
	if err == nil {
		s.ixStat = statIndex(filepath.Join(s.Dir, IndexFile))
		s.onDisk = upto
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.flushed = upto
	return nil
}

// write replaces a file atomically (temp file in the same dir, fsync,
// rename): readers and crashes see the old content or the new, never a mix.
func (s *Store) write(name string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return &Error{Msg: fmt.Sprintf("cannot create %s: %v", s.Dir, unwrapPath(err)), Err: err}
	}
	p := filepath.Join(s.Dir, name)
	if err := writeFile(p, b, mode); err != nil {
		return &Error{Msg: fmt.Sprintf("cannot write %s: %v", p, unwrapPath(err)), Err: err,
			Hint: "the previous file, if any, is unchanged"}
	}
	return nil
}

// writeFile is renameio.WriteFile; a variable so tests can fail it midway.
var writeFile = func(path string, b []byte, mode os.FileMode) error {
	return renameio.WriteFile(path, b, mode)
}

// fileName is the file of a key: <application>.<keyType>.age, with the key
// manager added when the application already has a file for that key type
// with another key manager. Characters outside [A-Za-z0-9._-] become _.
// existing is the key's index entry (nil if none); taken tells the names in
// use.
func fileName(existing *IndexEntry, k KeyID, taken func(string) bool) string {
	if existing != nil && existing.File != "" {
		return existing.File
	}
	base := safeName(k.Application) + "." + safeName(k.KeyType)
	name := base + ".age"
	if taken(name) {
		name = base + "." + safeName(k.KeyManager) + ".age"
		for i := 2; taken(name); i++ {
			name = fmt.Sprintf("%s.%s-%d.age", base, safeName(k.KeyManager), i)
		}
	}
	return name
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

// Seal encrypts a credential to the recipients, writes it atomically
// (mode 0600) and records it in the index. CreatedAt defaults to the
// existing entry's (or now); RotatedAt is set to now when the secret
// differs from the one sealed before (unless given). The sealed file is
// written before the index, so a crash in between leaves an index whose
// fingerprint differs from the live one: the next run sees drift and
// re-seals.
func (s *Store) Seal(c Credential, rs RecipientSet) (IndexEntry, error) {
	// Under the lock: the dates from the earlier entry, and the file name,
	// reserved until the entry is in the index. Encrypting and writing the
	// file run outside it, concurrently with other keys' seals.
	s.mu.Lock()
	ix, err := s.readIndex()
	if err != nil {
		s.mu.Unlock()
		return IndexEntry{}, err
	}
	key, err := s.macKey(true)
	if err != nil {
		s.mu.Unlock()
		return IndexEntry{}, err
	}
	k := KeyID{c.Application, c.KeyType, c.KeyManager}
	now := s.now()
	var unchanged *IndexEntry // the entry, when the seal would rewrite the same document
	if prev := s.find(ix, k); prev != nil {
		if c.CreatedAt.IsZero() && !prev.CreatedAt.IsZero() {
			c.CreatedAt = prev.CreatedAt
		}
		if c.RotatedAt.IsZero() {
			c.RotatedAt = prev.RotatedAt
			if key.Compare(prev.Fingerprint, c.ConsumerSecret) == Differs {
				c.RotatedAt = now
			}
		}
		if prev.Rotating == nil && prev.Document != "" && slices.Equal(prev.Recipients, rs.Fingerprints()) && s.exists(prev.File) {
			e := *prev
			unchanged = &e
		}
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if unchanged != nil {
		if pt, err := c.Plaintext(); err == nil && key.Sum(string(pt)) == unchanged.Document {
			// The same document to the same recipients: the sealed file
			// (and its index entry) stay byte for byte as they are.
			s.mu.Unlock()
			return *unchanged, nil
		}
	}
	if s.reserved == nil {
		s.reserved = map[string]bool{}
	}
	name := s.fileName(ix, k)
	s.reserved[name] = true
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		delete(s.reserved, name)
		s.mu.Unlock()
	}

	pt, err := c.Plaintext()
	if err != nil {
		release()
		return IndexEntry{}, err
	}
	ct, err := Encrypt(pt, rs)
	if err != nil {
		release()
		return IndexEntry{}, err
	}
	if err := s.write(name, ct, 0o600); err != nil {
		release()
		return IndexEntry{}, err
	}
	e := IndexEntry{Application: c.Application, KeyType: c.KeyType, KeyManager: c.KeyManager, File: name,
		Fingerprint: key.Sum(c.ConsumerSecret.Reveal()), Document: key.Sum(string(pt)), Recipients: rs.Fingerprints(),
		CreatedAt: c.CreatedAt.UTC(), RotatedAt: c.RotatedAt.UTC(), SealedAt: now}
	s.mu.Lock()
	delete(s.reserved, name)
	ix, err = s.readIndex()
	if err != nil {
		s.mu.Unlock()
		return IndexEntry{}, err
	}
	if prev := s.find(ix, k); prev != nil {
		*prev = e
		s.lk.files[e.File] = true
	} else {
		s.add(ix, e)
	}
	gen := s.changed(ix)
	s.mu.Unlock()
	if err := s.flush(gen); err != nil {
		return IndexEntry{}, err
	}
	return e, nil
}

// macKey is the store's key, read from KeyDir on first use (created there
// when create is set). Callers hold mu.
func (s *Store) macKey(create bool) (MACKey, error) {
	if !s.Key.IsZero() || s.KeyDir == "" {
		return s.Key, nil
	}
	var err error
	if create {
		s.Key, err = LoadMACKey(s.KeyDir)
	} else {
		s.Key, _, err = ReadMACKey(s.KeyDir)
	}
	return s.Key, err
}

// Compare compares a secret with an entry's recorded fingerprint under
// the store's key (MACKey.Compare); Unknown when there is no key yet.
func (s *Store) Compare(e *IndexEntry, secret Value) Verdict {
	if e == nil {
		return Unknown
	}
	s.mu.Lock()
	k, err := s.macKey(false)
	s.mu.Unlock()
	if err != nil {
		return Unknown
	}
	return k.Compare(e.Fingerprint, secret)
}

// exists reports whether a file of the store exists.
func (s *Store) exists(name string) bool {
	fi, err := os.Stat(filepath.Join(s.Dir, name))
	return err == nil && fi.Mode().IsRegular()
}

// Migrate replaces the unkeyed fingerprints an older index holds (a plain
// sha256 of the secret, which a dictionary reverses) by keyed ones, for
// the keys whose live secret is known and matches; the sealed files are
// not touched. Entries whose secret is not known here keep theirs until
// they are next sealed. It returns how many entries changed.
func (s *Store) Migrate(live func(KeyID) (Value, bool)) (int, error) {
	s.mu.Lock()
	key, err := s.macKey(true)
	if err != nil || key.IsZero() {
		s.mu.Unlock()
		return 0, err
	}
	ix, err := s.readIndex()
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	n := 0
	for i := range ix.Entries {
		e := &ix.Entries[i]
		if !IsLegacy(e.Fingerprint) {
			continue
		}
		v, ok := live(e.Key())
		if !ok || key.Compare(e.Fingerprint, v) != Same {
			continue
		}
		e.Fingerprint = key.Sum(v.Reveal())
		n++
	}
	if n == 0 {
		s.mu.Unlock()
		return 0, nil
	}
	gen := s.changed(ix)
	s.mu.Unlock()
	return n, s.flush(gen)
}

// MarkRotating records in the index that a key's secret is about to be
// regenerated (see IndexEntry.Rotating). Call it before the server call.
func (s *Store) MarkRotating(k KeyID) error {
	s.mu.Lock()
	ix, err := s.readIndex()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	e := s.find(ix, k)
	if e == nil {
		e = s.add(ix, IndexEntry{Application: k.Application, KeyType: k.KeyType, KeyManager: k.KeyManager, File: s.fileName(ix, k)})
	}
	t := s.now()
	e.Rotating = &t
	gen := s.changed(ix)
	s.mu.Unlock()
	return s.flush(gen)
}

// ClearRotating removes the rotating mark of a key (a rotation that did
// not happen).
func (s *Store) ClearRotating(k KeyID) error {
	s.mu.Lock()
	ix, err := s.readIndex()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	e := s.find(ix, k)
	if e == nil || e.Rotating == nil {
		s.mu.Unlock()
		return nil
	}
	e.Rotating = nil
	if e.Fingerprint == "" {
		ix.Entries = slices.DeleteFunc(ix.Entries, func(x IndexEntry) bool { return x.Key() == k })
		s.lk.stale = true
	}
	gen := s.changed(ix)
	s.mu.Unlock()
	return s.flush(gen)
}

// Open decrypts the sealed file of one key.
func (s *Store) Open(k KeyID, ids Identities) (Credential, error) {
	ix, err := s.ReadIndex()
	if err != nil {
		return Credential{}, err
	}
	e := ix.Find(k)
	if e == nil || e.File == "" {
		return Credential{}, &Error{Msg: "nothing sealed for " + k.String() + " in " + s.Dir,
			Hint: "'wso2sync secrets list' shows what is sealed"}
	}
	return s.OpenFile(e.File, ids)
}

// OpenFile decrypts a sealed file of the store by name.
func (s *Store) OpenFile(name string, ids Identities) (Credential, error) {
	p := filepath.Join(s.Dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		return Credential{}, &Error{Msg: fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err)), Err: err}
	}
	pt, err := Decrypt(p, b, ids)
	if err != nil {
		return Credential{}, err
	}
	return ParseCredential(p, pt)
}

// Reseal re-encrypts every sealed file to the recipients recipientsFor
// returns for its entry (for example after seal.recipients changed), and
// updates the index. The identities must open every file; nothing is
// rewritten when one cannot be opened.
func (s *Store) Reseal(ids Identities, recipientsFor func(IndexEntry) (RecipientSet, error)) (int, error) {
	s.mu.Lock()
	unlocked := false
	defer func() {
		if !unlocked {
			s.mu.Unlock()
		}
	}()
	ix, err := s.readIndex()
	if err != nil {
		return 0, err
	}
	type job struct {
		i  int
		ct []byte
		rs RecipientSet
	}
	var jobs []job
	for i, e := range ix.Entries {
		if e.File == "" {
			continue
		}
		p := filepath.Join(s.Dir, e.File)
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, &Error{Msg: fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err)), Err: err}
		}
		pt, err := Decrypt(p, b, ids)
		if err != nil {
			return 0, err
		}
		rs, err := recipientsFor(e)
		if err != nil {
			return 0, err
		}
		ct, err := Encrypt(pt, rs)
		if err != nil {
			return 0, err
		}
		jobs = append(jobs, job{i, ct, rs})
	}
	now := s.now()
	for _, j := range jobs {
		e := &ix.Entries[j.i]
		if err := s.write(e.File, j.ct, 0o600); err != nil {
			return 0, err
		}
		e.Recipients, e.SealedAt = j.rs.Fingerprints(), now
	}
	gen := s.changed(ix)
	s.mu.Unlock()
	unlocked = true
	return len(jobs), s.flush(gen)
}
