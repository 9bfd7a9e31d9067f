package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// Identities are the private keys that open sealed files.
type Identities []age.Identity

// LoadIdentities reads an identity file: an age identity file
// (AGE-SECRET-KEY-1… lines, as age-keygen writes) or an unencrypted SSH
// private key (OpenSSH or PEM). Errors name the file, never its content.
func LoadIdentities(path string) (Identities, error) {
	if path == "" {
		return nil, &Error{Msg: "no identity given",
			Hint: "pass --identity FILE or set " + EnvIdentity + " to an age identity file (age-keygen -o key.txt) or an SSH private key"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read identity %s: %v", path, unwrapPath(err)),
			Hint: "pass --identity FILE or set " + EnvIdentity}
	}
	return ParseIdentities(path, b)
}

// ParseIdentities parses the content of an identity file; name is used in
// errors only.
func ParseIdentities(name string, b []byte) (Identities, error) {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		id, err := agessh.ParseIdentity(b)
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return nil, &Error{Msg: "identity " + name + " is a passphrase-protected SSH key",
					Hint: "use an unencrypted key or an age identity (age-keygen) for wso2sync"}
			}
			return nil, &Error{Msg: "identity " + name + ": not a usable SSH private key (" + err.Error() + ")",
				Hint: "use an age identity file (age-keygen -o key.txt) or an ed25519/RSA SSH key"}
		}
		return Identities{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, &Error{Msg: "identity " + name + ": " + err.Error(),
			Hint: "an age identity file has AGE-SECRET-KEY-1… lines (age-keygen -o key.txt)"}
	}
	return Identities(ids), nil
}

// Error is a secrets failure: what went wrong and what to do. It never
// holds a secret value.
type Error struct {
	Msg, Hint string
	Err       error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
