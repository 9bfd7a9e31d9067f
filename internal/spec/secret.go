package spec

import (
	"encoding/json"
	"fmt"
)

// SecretRef points at a secret; it never holds one. Exactly one field is
// set. Resolution (reading the variable, file or sealed file) belongs to the
// secrets package; the loader only checks that {file:} and {sealed:} paths
// exist, without reading them.
type SecretRef struct {
	Env    string `json:"env,omitempty"`
	File   string `json:"file,omitempty"`
	Sealed string `json:"sealed,omitempty"`
}

// IsZero reports whether no reference is set.
func (r SecretRef) IsZero() bool { return r == SecretRef{} }

// String describes the reference (never a secret value): env:NAME,
// file:PATH or sealed:PATH.
func (r SecretRef) String() string {
	switch {
	case r.Env != "":
		return "env:" + r.Env
	case r.File != "":
		return "file:" + r.File
	case r.Sealed != "":
		return "sealed:" + r.Sealed
	}
	return "<none>"
}

// UnmarshalJSON accepts only the object forms, so a plain string decoded by
// mistake fails instead of being taken as a value.
func (r *SecretRef) UnmarshalJSON(b []byte) error {
	type plain SecretRef
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("secret reference must be {env: NAME}, {file: PATH} or {sealed: PATH}")
	}
	*r = SecretRef(p)
	return nil
}
