package diff

import (
	"regexp"
	"strings"

	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Redacted is the only form a secret field's value takes in a Plan: a
// fingerprint (sha256:<16 hex>), or a description of the reference when the
// value was not resolved. It is a type of its own so that renderers can tell
// a safe value from anything else in a sensitive field (and print nothing
// for the latter).
type Redacted string

// RedactedUnknown stands for a secret whose value is not known.
const RedactedUnknown Redacted = "(sensitive)"

// Fingerprint identifies a secret without revealing it: the first 16 hex
// digits of its SHA-256. Equal secrets have equal fingerprints across runs,
// so a rotation shows up in the plan. A fingerprint of a low-entropy secret
// can be brute-forced offline; the Markdown renderer (PR comments) therefore
// prints no fingerprints at all.
func Fingerprint(secret string) string { return secrets.Fingerprint(secret) }

// redactRef is the plan value of a secret reference: the fingerprint of its
// value when it can be resolved, else "(sensitive: env:NAME)". Reference
// names are not secret, and they tell the reader where the value comes from.
func (c *normCtx) redactRef(ref spec.SecretRef) Redacted {
	if ref.IsZero() {
		return ""
	}
	if c.opts.ResolveSecret != nil {
		if v, ok := c.opts.ResolveSecret(ref); ok {
			return Redacted(Fingerprint(v))
		}
	}
	return Redacted("(sensitive: " + ref.String() + ")")
}

// redactValue fingerprints a secret that arrived as a plain value (a
// free-form connector property). Masks the server returns instead of a
// stored secret stay what they are: they say nothing about the secret.
func redactValue(v string) Redacted {
	switch {
	case v == "":
		return ""
	case isMask(v):
		return Redacted("(masked by the server)")
	}
	return Redacted(Fingerprint(v))
}

// isMask reports the placeholder APIM returns for a stored secret ("*****").
func isMask(v string) bool { return v != "" && strings.Trim(v, "*") == "" }

// secretKey matches the names of free-form properties that hold secrets
// (connector passwords, client secrets, API keys, tokens).
var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token$|apikey|api_key|private)`)

// isSecretKey reports whether a free-form property name holds a secret.
// Properties about tokens (ext_application_token_lifetime) are not secrets.
func isSecretKey(k string) bool {
	return secretKey.MatchString(k) && !strings.Contains(strings.ToLower(k), "lifetime")
}

// safe returns what a renderer may print for a value: a sensitive value
// only as Redacted, anything else in a sensitive field as RedactedUnknown.
func safe(v any, sensitive bool) any {
	if !sensitive || v == nil {
		return v
	}
	if r, ok := v.(Redacted); ok {
		return r
	}
	return RedactedUnknown
}
