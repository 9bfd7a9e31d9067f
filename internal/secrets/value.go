package secrets

import (
	"fmt"
	"log/slog"
)

// Redacted is what every printing path of a Value shows.
const Redacted = "[redacted]"

// Value holds a secret. It is the single redaction mechanism of wso2sync:
// every way Go has of printing or encoding a value (fmt verbs, %#v,
// encoding/json, encoding.TextMarshaler, YAML, log/slog) yields
// "[redacted]", so leaking one needs an explicit call to Reveal. The zero
// Value is the empty secret.
type Value struct{ v string }

// NewValue wraps a secret.
func NewValue(s string) Value { return Value{v: s} }

// Reveal returns the secret. Call it only where the value leaves the
// process on purpose: a request body, an age-encrypted file.
func (v Value) Reveal() string { return v.v }

// IsZero reports whether the secret is empty.
func (v Value) IsZero() bool { return v.v == "" }

// Equal compares two secrets.
func (v Value) Equal(o Value) bool { return v.v == o.v }

func (Value) String() string   { return Redacted }
func (Value) GoString() string { return Redacted }

// Format makes every verb (%s %v %q %x %d …) print [redacted].
func (Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalYAML is for gopkg.in/yaml.v3 (which does not use MarshalText).
func (Value) MarshalYAML() (any, error) { return Redacted, nil }
func (Value) LogValue() slog.Value      { return slog.StringValue(Redacted) }
