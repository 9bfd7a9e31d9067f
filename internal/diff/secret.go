package diff

import (
	"regexp"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Redacted is the only form a secret field's value takes in a Plan: a fixed
// description ("(sensitive value)"), never the value and never a digest of
// it — a plan is posted as a PR comment and kept in CI logs, and a plain
// hash of a weak password is reversed by a dictionary in seconds. It is a
// type of its own so that renderers can tell a safe value from anything
// else in a sensitive field (and print nothing for the latter).
type Redacted string

// SensitiveValue stands for a secret that is set (as Terraform's
// "(sensitive value)"); a changed one renders as "(sensitive value
// changed)".
const SensitiveValue Redacted = "(sensitive value)"

// RedactedUnknown is what a renderer prints for anything but a Redacted
// value in a sensitive field.
const RedactedUnknown = SensitiveValue

// SensitiveChanged is how renderers show a changed sensitive field.
const SensitiveChanged = "(sensitive value changed)"

// redactRef is the plan value of a secret reference: set or not. Secret
// fields are write-only (never compared with live), so the plan needs no
// fingerprint, and nothing is resolved while planning.
func (c *normCtx) redactRef(ref spec.SecretRef) Redacted {
	if ref.IsZero() {
		return ""
	}
	return SensitiveValue
}

// redactValue is the plan value of a secret that arrived as a plain value
// (a free-form connector property). Masks the server returns instead of a
// stored secret stay what they are: they say nothing about the secret.
func redactValue(v string) Redacted {
	switch {
	case v == "":
		return ""
	case isMask(v):
		return Redacted("(masked by the server)")
	}
	return SensitiveValue
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
