package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// EnvRecipients is the environment variable that adds recipients for one
// run (comma-separated), like --seal-recipient.
const EnvRecipients = "WSO2SYNC_SEAL_RECIPIENTS"

// EnvIdentity names the age identity file used to open {sealed:} inputs
// and sealed outputs, like --identity.
const EnvIdentity = "WSO2SYNC_AGE_IDENTITY"

// Recipient is one public key sealed outputs are encrypted to: an age
// X25519 recipient (age1…) or an SSH public key (ssh-ed25519 / ssh-rsa,
// as in authorized_keys; the comment is ignored).
type Recipient struct {
	// Text is the canonical public form (the comment of an SSH key dropped).
	Text string
	// Fingerprint is publicFingerprint(Text) (a public key, so a plain
	// digest reveals nothing); the index lists these.
	Fingerprint string

	r age.Recipient
}

// ParseRecipient parses one recipient. Errors never echo the input beyond
// its first characters: a private key pasted by mistake must not be printed.
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	var (
		r   age.Recipient
		err error
	)
	text := s
	switch {
	case strings.HasPrefix(s, "age1"):
		var rs []age.Recipient
		rs, err = age.ParseRecipients(strings.NewReader(s))
		if err == nil {
			r = rs[0]
		}
	case strings.HasPrefix(s, "ssh-"):
		f := strings.Fields(s)
		if len(f) >= 2 {
			text = f[0] + " " + f[1]
		}
		r, err = agessh.ParseRecipient(text)
	case strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY"):
		return Recipient{}, fmt.Errorf("a recipient must be a public key (age1… or ssh-…), not an AGE-SECRET-KEY identity")
	default:
		err = fmt.Errorf("unknown recipient type")
	}
	if err != nil {
		return Recipient{}, fmt.Errorf("recipient %q: %v (use an age X25519 public key, age1…, or an SSH public key, ssh-ed25519 …)", short(s), err)
	}
	return Recipient{Text: text, Fingerprint: publicFingerprint(text), r: r}, nil
}

// short abbreviates a recipient for messages.
func short(s string) string {
	if len(s) > 16 {
		return s[:12] + "…"
	}
	return s
}

// RecipientSet is the de-duplicated, ordered list of recipients of one
// sealed file.
type RecipientSet []Recipient

// ParseRecipients parses and merges lists of recipients in order, dropping
// duplicates and empty entries. Each list is one source (the environment's
// seal.recipients, an application's sealTo, --seal-recipient,
// WSO2SYNC_SEAL_RECIPIENTS).
func ParseRecipients(lists ...[]string) (RecipientSet, error) {
	var out RecipientSet
	for _, l := range lists {
		for _, s := range l {
			if strings.TrimSpace(s) == "" {
				continue
			}
			r, err := ParseRecipient(s)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(out, func(o Recipient) bool { return o.Text == r.Text }) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Merge returns s followed by the members of o not in s.
func (s RecipientSet) Merge(o RecipientSet) RecipientSet {
	out := slices.Clone(s)
	for _, r := range o {
		if !slices.ContainsFunc(out, func(x Recipient) bool { return x.Text == r.Text }) {
			out = append(out, r)
		}
	}
	return out
}

// Fingerprints lists the recipients' fingerprints, sorted.
func (s RecipientSet) Fingerprints() []string {
	out := make([]string, 0, len(s))
	for _, r := range s {
		out = append(out, r.Fingerprint)
	}
	slices.Sort(out)
	return out
}

func (s RecipientSet) age() []age.Recipient {
	out := make([]age.Recipient, 0, len(s))
	for _, r := range s {
		out = append(out, r.r)
	}
	return out
}

// SplitList splits a comma- (or newline-) separated list of recipients, the
// form of WSO2SYNC_SEAL_RECIPIENTS.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// RunRecipients are the recipients added for one run: flags first, then
// WSO2SYNC_SEAL_RECIPIENTS (getenv is os.Getenv when nil).
func RunRecipients(flags []string, getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	return append(slices.Clone(flags), SplitList(getenv(EnvRecipients))...)
}

// publicFingerprint names a public value (a recipient's key) by
// "sha256:" and the first 16 hex digits of its SHA-256. Never for
// secrets: see MACKey.
func publicFingerprint(public string) string {
	sum := sha256.Sum256([]byte(public))
	return "sha256:" + hex.EncodeToString(sum[:8])
}
