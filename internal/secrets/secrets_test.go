package secrets

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/spec"
	"github.com/wso2sync/wso2sync/internal/testtools"
)

const canary = "CANARY-s3cr3t-7f1e9c" // never printed by anything

func newX25519(t testing.TB) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, id.Recipient().String()
}

func writeIdentity(t testing.TB, id *age.X25519Identity) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(p, []byte("# test key\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testCred() Credential {
	return Credential{Application: "payments-web", KeyType: "PRODUCTION", KeyManager: "Resident Key Manager",
		ConsumerKey: "ck_123", ConsumerSecret: NewValue(canary), TokenEndpoint: "https://apim:9443/oauth2/token",
		GrantTypes: []string{"client_credentials", "password"}}
}

func TestValueRedacts(t *testing.T) {
	v := NewValue(canary)
	type wrap struct {
		S Value
		P *Value
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Debug("x", "secret", v, "wrapped", wrap{v, &v})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("y", "secret", v)
	j, _ := json.Marshal(wrap{v, &v})
	y, _ := yaml.Marshal(wrap{v, &v})
	txt, _ := v.MarshalText()
	outs := []string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x %X %d %10s", v, v, v, v, v, v, v, v, v),
		fmt.Sprintf("%v %+v %#v", wrap{v, &v}, wrap{v, &v}, wrap{v, &v}), fmt.Sprintf("%v", []Value{v}),
		fmt.Sprintf("%v", map[string]Value{"k": v}), string(j), string(y), string(txt), buf.String(),
		fmt.Errorf("wrapped: %w / %v", errors.New("x"), v).Error(),
	}
	for _, o := range outs {
		if strings.Contains(o, canary) || strings.Contains(o, fmt.Sprintf("%x", canary)) {
			t.Errorf("leak: %s", o)
		}
		if !strings.Contains(o, Redacted) {
			t.Errorf("no [redacted] in %q", o)
		}
	}
	if v.Reveal() != canary {
		t.Fatal("Reveal")
	}
}

// Keyed fingerprints: stable under one key, different under another,
// never the plain digest, carrying the key's id; an old index's plain
// digest is still recognised (for migration), one under another key is
// Unknown, not drift.
func TestMACKey(t *testing.T) {
	k1, _ := NewMACKey()
	k2, _ := NewMACKey()
	a := k1.Sum("changeit")
	if !strings.HasPrefix(a, "hmac-sha256/"+k1.ID()+":") || len(a) != len("hmac-sha256/")+8+1+32 {
		t.Fatalf("Sum = %q", a)
	}
	if a != k1.Sum("changeit") || a == k1.Sum("changeit2") || a == k2.Sum("changeit") {
		t.Fatal("a keyed fingerprint must be stable per key and differ across keys and secrets")
	}
	if strings.Contains(a, "00810cf8b94d6fcb") || k1.Sum("") != "" {
		t.Fatal("the plain digest of changeit, or a fingerprint of nothing")
	}
	v := NewValue("changeit")
	for _, c := range []struct {
		recorded string
		want     Verdict
	}{
		{a, Same}, {k1.Sum("other"), Differs}, {k2.Sum("changeit"), Unknown}, {"", Unknown},
		{"sha256:00810cf8b94d6fcb", Same}, {"sha256:0000000000000000", Differs},
	} {
		if got := k1.Compare(c.recorded, v); got != c.want {
			t.Errorf("Compare(%q) = %v, want %v", c.recorded, got, c.want)
		}
	}
	dir := filepath.Join(t.TempDir(), "state")
	l1, err := LoadMACKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, MACKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	l2, err := LoadMACKey(dir)
	if err != nil || l2.Sum("x") != l1.Sum("x") {
		t.Fatalf("the key did not persist: %v", err)
	}
	os.Chmod(filepath.Join(dir, MACKeyFile), 0o644)
	if _, err := LoadMACKey(dir); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a world-readable key: %v", err)
	}
}

func TestRoundTripTwoRecipients(t *testing.T) {
	a, ra := newX25519(t)
	b, rb := newX25519(t)
	stranger, _ := newX25519(t)
	rs, err := ParseRecipients([]string{ra}, []string{rb, ra}) // duplicate dropped
	if err != nil || len(rs) != 2 {
		t.Fatalf("ParseRecipients: %v %v", rs, err)
	}
	dir := t.TempDir()
	s := NewStore(filepath.Join(dir, "sealed", "dev"))
	s.Key, _ = NewMACKey()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	e, err := s.Seal(testCred(), rs)
	if err != nil {
		t.Fatal(err)
	}
	if e.File != "payments-web.PRODUCTION.age" || s.Key.Compare(e.Fingerprint, NewValue(canary)) != Same || len(e.Recipients) != 2 {
		t.Fatalf("entry %+v", e)
	}
	p := filepath.Join(s.Dir, e.File)
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	raw, _ := os.ReadFile(p)
	if !bytes.HasPrefix(raw, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) || bytes.Contains(raw, []byte(canary)) {
		t.Fatalf("not an armored age file:\n%s", raw)
	}
	for _, id := range []*age.X25519Identity{a, b} {
		c, err := s.Open(e.Key(), Identities{id})
		if err != nil {
			t.Fatal(err)
		}
		if c.ConsumerSecret.Reveal() != canary || c.ConsumerKey != "ck_123" || !c.CreatedAt.Equal(now) || len(c.GrantTypes) != 2 || c.TokenEndpoint == "" {
			t.Fatalf("opened %+v", c)
		}
	}
	_, err = s.Open(e.Key(), Identities{stranger})
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "not sealed to this identity") {
		t.Fatalf("stranger: %v", err)
	}
	// The index is public: no secret, keyed fingerprints only.
	ixb, _ := os.ReadFile(filepath.Join(s.Dir, IndexFile))
	if bytes.Contains(ixb, []byte(canary)) || bytes.Contains(ixb, []byte("ck_123")) || !bytes.Contains(ixb, []byte(s.Key.Sum(canary))) ||
		bytes.Contains(ixb, []byte(legacyFingerprint(canary)[len(legacyPrefix):])) {
		t.Fatalf("index:\n%s", ixb)
	}
	// The same credential to the same recipients, later: the sealed file
	// and the index stay byte for byte as they were (no churn in git).
	sealedBefore, _ := os.ReadFile(filepath.Join(s.Dir, e.File))
	s.Now = func() time.Time { return now.Add(time.Minute) }
	same := testCred()
	same.CreatedAt = time.Time{}
	if _, err := s.Seal(same, rs); err != nil {
		t.Fatal(err)
	}
	sealedAgain, _ := os.ReadFile(filepath.Join(s.Dir, e.File))
	ixAgain, _ := os.ReadFile(filepath.Join(s.Dir, IndexFile))
	if !bytes.Equal(sealedAgain, sealedBefore) || !bytes.Equal(ixAgain, ixb) {
		t.Fatal("sealing an unchanged credential rewrote the sealed file or the index")
	}
	// Another recipient set rewrites it.
	rsA, _ := ParseRecipients([]string{ra})
	if _, err := s.Seal(same, rsA); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir, e.File)); bytes.Equal(b, sealedBefore) {
		t.Fatal("a changed recipient set did not rewrite the sealed file")
	}
	// A new secret: rotatedAt moves, createdAt stays.
	later := now.Add(time.Hour)
	s.Now = func() time.Time { return later }
	c2 := testCred()
	c2.ConsumerSecret = NewValue("other")
	e2, err := s.Seal(c2, rs)
	if err != nil || !e2.CreatedAt.Equal(now) || !e2.RotatedAt.Equal(later) || e2.File != e.File {
		t.Fatalf("reseal: %+v %v", e2, err)
	}
	ix, _ := s.ReadIndex()
	if len(ix.Entries) != 1 {
		t.Fatalf("entries %+v", ix.Entries)
	}
}

func TestSSHRecipient(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sp, _ := ssh.NewPublicKey(pub)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " ops@example"
	rs, err := ParseRecipients([]string{line})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rs[0].Text, "ops@example") {
		t.Fatal("comment kept")
	}
	ct, err := Encrypt([]byte(canary), rs)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseIdentities("id_ed25519", pem.EncodeToMemory(blk))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := Decrypt("x", ct, ids)
	if err != nil || string(pt) != canary {
		t.Fatalf("%q %v", pt, err)
	}
}

func TestParseRecipientErrors(t *testing.T) {
	id, _ := newX25519(t)
	for _, in := range []string{id.String(), "age1notakey", "hello", "ssh-ed25519 AAAA"} {
		_, err := ParseRecipient(in)
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if strings.Contains(err.Error(), id.String()) {
			t.Errorf("error echoes a private key: %v", err)
		}
	}
	if _, err := Encrypt([]byte("x"), nil); err == nil || !strings.Contains(HintOf(err), "--seal-recipient") {
		t.Fatalf("no recipients: %v", err)
	}
}

func TestAtomicWrite(t *testing.T) {
	id, r := newX25519(t)
	rs, _ := ParseRecipients([]string{r})
	s := NewStore(t.TempDir())
	e, err := s.Seal(testCred(), rs)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(s.Dir, e.File))
	beforeIx, _ := os.ReadFile(filepath.Join(s.Dir, IndexFile))

	// Fail after half the bytes went to the temp file: the real renameio
	// temp file is written, then the write aborts before the rename.
	orig := writeFile
	t.Cleanup(func() { writeFile = orig })
	writeFile = func(path string, b []byte, mode os.FileMode) error {
		return failingWrite(path, b[:len(b)/2], mode)
	}
	c := testCred()
	c.ConsumerSecret = NewValue("new-secret")
	if _, err := s.Seal(c, rs); err == nil {
		t.Fatal("no error")
	}
	after, _ := os.ReadFile(filepath.Join(s.Dir, e.File))
	afterIx, _ := os.ReadFile(filepath.Join(s.Dir, IndexFile))
	if !bytes.Equal(before, after) || !bytes.Equal(beforeIx, afterIx) {
		t.Fatal("a failed write changed the sealed file or the index")
	}
	got, err := s.Open(e.Key(), Identities{id})
	if err != nil || got.ConsumerSecret.Reveal() != canary {
		t.Fatalf("old secret lost: %v", err)
	}
	ents, _ := os.ReadDir(s.Dir)
	for _, de := range ents {
		if de.Name() != e.File && de.Name() != IndexFile {
			t.Errorf("left behind: %s", de.Name())
		}
	}
}

func TestResolver(t *testing.T) {
	id, r := newX25519(t)
	rs, _ := ParseRecipients([]string{r})
	dir := t.TempDir()
	s := NewStore(filepath.Join(dir, "sealed"))
	if _, err := s.Seal(testCred(), rs); err != nil {
		t.Fatal(err)
	}
	raw, _ := Encrypt([]byte("plain-secret\n"), rs)
	os.WriteFile(filepath.Join(dir, "pw.age"), raw, 0o600)
	os.WriteFile(filepath.Join(dir, "pw.txt"), []byte("from-file\n"), 0o600)
	env := map[string]string{"PW": "from-env", EnvIdentity: writeIdentity(t, id)}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	res := NewResolver(ResolverOptions{BaseDir: dir, LookupEnv: lookup})
	ctx := context.Background()
	for ref, want := range map[spec.SecretRef]string{
		{Env: "PW"}: "from-env", {File: "pw.txt"}: "from-file", {Sealed: "pw.age"}: "plain-secret",
		{Sealed: "sealed/payments-web.PRODUCTION.age"}:                     canary,
		{Sealed: "sealed/payments-web.PRODUCTION.age#consumerKey"}:         "ck_123",
		{Sealed: filepath.Join(dir, "sealed/payments-web.PRODUCTION.age")}: canary,
	} {
		got, err := res(ctx, ref)
		if err != nil || got != want {
			t.Errorf("%s: %q %v", ref, got, err)
		}
	}
	for ref, msg := range map[spec.SecretRef]string{
		{Env: "NOPE"}: "env:NOPE: environment variable NOPE is not set", {File: "nope"}: "file:nope: file \"nope\" does not exist",
		{Sealed: "nope.age"}: "sealed:nope.age: sealed file \"nope.age\" does not exist", {Sealed: "sealed/payments-web.PRODUCTION.age#bogus"}: "unknown field bogus",
	} {
		_, err := res(ctx, ref)
		var re *RefError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v", ref, err)
		}
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("leak in %v", err)
		}
	}
	// No identity: a clear error naming the reference, and no identity is
	// needed as long as no sealed input is used.
	res2 := NewResolver(ResolverOptions{BaseDir: dir, LookupEnv: func(string) (string, bool) { return "", false }})
	if _, err := res2(ctx, spec.SecretRef{File: "pw.txt"}); err != nil {
		t.Fatal(err)
	}
	_, err := res2(ctx, spec.SecretRef{Sealed: "pw.age"})
	if err == nil || !strings.Contains(err.Error(), "sealed:pw.age: no identity given") || !strings.Contains(HintOf(err), EnvIdentity) {
		t.Fatalf("no identity: %v / %s", err, HintOf(err))
	}
	// Another identity cannot open it.
	other, _ := newX25519(t)
	res3 := NewResolver(ResolverOptions{BaseDir: dir, IdentityFile: writeIdentity(t, other)})
	if _, err := res3(ctx, spec.SecretRef{Sealed: "pw.age"}); err == nil || !strings.Contains(err.Error(), "not sealed to this identity") {
		t.Fatalf("stranger: %v", err)
	}
}

func TestReseal(t *testing.T) {
	a, ra := newX25519(t)
	b, rb := newX25519(t)
	s := NewStore(t.TempDir())
	rsA, _ := ParseRecipients([]string{ra})
	c := testCred()
	s.Seal(c, rsA)
	c.KeyType = "SANDBOX"
	s.Seal(c, rsA)
	if _, err := s.Open(KeyID{"payments-web", "SANDBOX", "Resident Key Manager"}, Identities{b}); err == nil {
		t.Fatal("b opens before reseal")
	}
	rsB, _ := ParseRecipients([]string{rb})
	n, err := s.Reseal(Identities{a}, func(IndexEntry) (RecipientSet, error) { return rsB, nil })
	if err != nil || n != 2 {
		t.Fatalf("reseal %d %v", n, err)
	}
	for _, kt := range []string{"PRODUCTION", "SANDBOX"} {
		k := KeyID{"payments-web", kt, "Resident Key Manager"}
		if _, err := s.Open(k, Identities{b}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(k, Identities{a}); err == nil {
			t.Fatal("a still opens")
		}
	}
	ix, _ := s.ReadIndex()
	if ix.Entries[0].Recipients[0] != rsB[0].Fingerprint {
		t.Fatal("index recipients")
	}
}

func TestFileNames(t *testing.T) {
	_, r := newX25519(t)
	rs, _ := ParseRecipients([]string{r})
	s := NewStore(t.TempDir())
	c := testCred()
	c.Application = "My App/1"
	e1, _ := s.Seal(c, rs)
	c.KeyManager = "WSO2 IS"
	e2, _ := s.Seal(c, rs)
	if e1.File != "My_App_1.PRODUCTION.age" || e2.File != "My_App_1.PRODUCTION.WSO2_IS.age" {
		t.Fatalf("%s %s", e1.File, e2.File)
	}
}

// The sealed files are standard age files: the age CLI opens ours and we
// open its.
func TestAgeCLIInterop(t *testing.T) {
	bin := testtools.Require(t, "age", "Debian package age")
	id, r := newX25519(t)
	idFile := writeIdentity(t, id)
	rs, _ := ParseRecipients([]string{r})
	s := NewStore(t.TempDir())
	e, err := s.Seal(testCred(), rs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-d", "-i", idFile, filepath.Join(s.Dir, e.File)).Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	c, err := ParseCredential("age output", out)
	if err != nil || c.ConsumerSecret.Reveal() != canary {
		t.Fatalf("age -d output does not parse: %v", err)
	}
	for _, armorFlag := range []string{"-a", ""} {
		args := []string{"-r", r}
		if armorFlag != "" {
			args = append(args, armorFlag)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(canary + "\n")
		ct, err := cmd.Output()
		if err != nil {
			t.Fatalf("age -r: %v", err)
		}
		pt, err := Decrypt("cli", ct, Identities{id})
		if err != nil || string(pt) != canary+"\n" {
			t.Fatalf("decrypt age CLI output (%s): %v", armorFlag, err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	_, r1 := newX25519(b)
	_, r2 := newX25519(b)
	rs, _ := ParseRecipients([]string{r1, r2})
	s := NewStore(b.TempDir())
	c := testCred()
	for b.Loop() {
		if _, err := s.Seal(c, rs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSealConcurrently: keys sealed at once (an apply's steps) all end up
// in the index on disk, each file opens to its own secret, two keys of one
// application and key type with different key managers get different
// files, and the seals share index writes instead of rewriting the whole
// index once each.
func TestSealConcurrently(t *testing.T) {
	id, r := newX25519(t)
	rs, _ := ParseRecipients([]string{r})
	s := NewStore(t.TempDir())
	var mu sync.Mutex
	indexWrites := 0
	orig := writeFile
	t.Cleanup(func() { writeFile = orig })
	writeFile = func(path string, b []byte, mode os.FileMode) error {
		if filepath.Base(path) == IndexFile {
			mu.Lock()
			indexWrites++
			mu.Unlock()
		}
		return orig(path, b, mode)
	}
	const n = 40
	cred := func(i int) Credential {
		c := testCred()
		c.Application = fmt.Sprintf("app-%02d", i/2)
		c.KeyManager = fmt.Sprintf("km-%d", i%2)
		c.ConsumerSecret = NewValue(fmt.Sprintf("secret-%02d", i))
		return c
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Seal(cred(i), rs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A fresh store reads the index from disk.
	ix, err := NewStore(s.Dir).ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, e := range ix.Entries {
		files[e.File] = true
	}
	if len(ix.Entries) != n || len(files) != n {
		t.Fatalf("index on disk: %d entries, %d distinct files; want %d", len(ix.Entries), len(files), n)
	}
	for i := range n {
		c := cred(i)
		got, err := NewStore(s.Dir).Open(KeyID{c.Application, c.KeyType, c.KeyManager}, Identities{id})
		if err != nil || got.ConsumerSecret.Reveal() != fmt.Sprintf("secret-%02d", i) {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if indexWrites > n {
		t.Errorf("%d index writes for %d seals", indexWrites, n)
	}
	t.Logf("%d seals, %d index writes", n, indexWrites)

	// Sealing the same keys again (new secrets, the index reordered by
	// the writes in between) replaces their entries and files: no entry
	// twice, no new file.
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cred(i)
			c.ConsumerSecret = NewValue(fmt.Sprintf("rotated-%02d", i))
			_, errs[i] = s.Seal(c, rs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	again, err := NewStore(s.Dir).ReadIndex()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again.Entries {
		if !files[e.File] {
			t.Errorf("re-seal wrote a new file %s", e.File)
		}
	}
	if len(again.Entries) != n {
		t.Errorf("after re-sealing, the index holds %d entries, want %d", len(again.Entries), n)
	}
}

// TestIndexEncoder: the index written from cached entry encodings is
// byte for byte what yaml.Marshal writes, also after entries change, are
// added and are removed, with names YAML must quote.
func TestIndexEncoder(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := []string{"app", "a: b", "x#y", "'q'", `"dq"`, "ü ñ", "- dash", "yes", "1.0", "null", "~",
		strings.Repeat("long name ", 12) + "end", "k: v # c", "@at", "%pct", "{b}", "[l]", "*star", "&amp", "!bang"}
	var ix Index
	ix.Version = 1
	for i, n := range names {
		ix.Entries = append(ix.Entries, IndexEntry{Application: n, KeyType: "PRODUCTION", KeyManager: fmt.Sprintf("km %d", i),
			File: n + ".age", Fingerprint: fmt.Sprintf("%016x", i), Recipients: []string{"r1", "r2"}, CreatedAt: now, SealedAt: now})
	}
	var enc indexEncoder
	check := func(step string) {
		t.Helper()
		want, err := yaml.Marshal(&ix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc.encode(&ix)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: encoded index differs from yaml.Marshal:\n%s\n---\n%s", step, got, want)
		}
	}
	check("first")
	check("unchanged")
	later := now.Add(time.Hour)
	ix.Entries[3].Fingerprint = "changed"
	ix.Entries[5].Rotating = &later
	ix.Entries[7].Recipients = []string{"r3"}
	check("changed")
	ix.Entries = append(ix.Entries[:2], ix.Entries[4:]...)
	ix.Entries = append(ix.Entries, IndexEntry{Application: "new", KeyType: "SANDBOX", KeyManager: "km", File: "new.age", CreatedAt: now})
	check("added and removed")
	ix.Entries = nil
	check("empty")
}

// An index written before keyed fingerprints holds sha256 digests of the
// secrets (which a dictionary reverses): Migrate replaces each one whose
// live secret is known and matches by a keyed fingerprint, touching no
// sealed file; drift is still told apart meanwhile.
func TestMigrateLegacyIndex(t *testing.T) {
	_, r := newX25519(t)
	rs, _ := ParseRecipients([]string{r})
	s := NewStore(t.TempDir())
	s.Key, _ = NewMACKey()
	e, err := s.Seal(testCred(), rs)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := os.ReadFile(filepath.Join(s.Dir, e.File))
	// What an older wso2sync wrote.
	ixPath := filepath.Join(s.Dir, IndexFile)
	old, _ := os.ReadFile(ixPath)
	legacy := bytes.ReplaceAll(old, []byte(e.Fingerprint), []byte(legacyFingerprint(canary)))
	if bytes.Equal(legacy, old) {
		t.Fatal("no fingerprint to replace")
	}
	os.WriteFile(ixPath, legacy, 0o644)

	if got := s.Key.Compare(legacyFingerprint(canary), NewValue(canary)); got != Same {
		t.Fatalf("a legacy entry of the same secret: %v", got)
	}
	if got := s.Key.Compare(legacyFingerprint(canary), NewValue("rotated")); got != Differs {
		t.Fatalf("a legacy entry of another secret: %v", got)
	}
	n, err := s.Migrate(func(k KeyID) (Value, bool) { return NewValue(canary), k == e.Key() })
	if err != nil || n != 1 {
		t.Fatalf("Migrate: %d %v", n, err)
	}
	now, _ := os.ReadFile(ixPath)
	if bytes.Contains(now, []byte(legacyFingerprint(canary))) || !bytes.Contains(now, []byte(s.Key.Sum(canary))) {
		t.Fatalf("index after migration:\n%s", now)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Dir, e.File)); !bytes.Equal(b, sealed) {
		t.Fatal("migration rewrote the sealed file")
	}
	if n, _ := s.Migrate(func(KeyID) (Value, bool) { return NewValue(canary), true }); n != 0 {
		t.Fatalf("a second migration changed %d entries", n)
	}
}
