package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// ResolverOptions configure NewResolver.
type ResolverOptions struct {
	// BaseDir is the directory {file:} and {sealed:} paths are relative to
	// (the environment's folder).
	BaseDir string
	// IdentityFile opens {sealed:} inputs (--identity); default
	// $WSO2SYNC_AGE_IDENTITY. It is read on the first {sealed:} reference
	// only, so runs without sealed inputs need no identity.
	IdentityFile string
	// LookupEnv reads variables (tests); default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Files confine {file:} and {sealed:} paths (the State's FileRules);
	// the zero value confines nothing but still reads only regular files,
	// with the bounds of spec.MaxSecretFile and spec.MaxSealedFile.
	Files spec.FileRules
}

// RefError is a secret reference that could not be resolved. It names the
// reference and never holds a value.
type RefError struct {
	Ref  spec.SecretRef
	Msg  string
	Hint string
	Err  error
}

func (e *RefError) Error() string { return "secret " + e.Ref.String() + ": " + e.Msg }
func (e *RefError) Unwrap() error { return e.Err }

// Resolver turns a secret reference into its value when a provider call
// needs it (lazily: nothing is read before).
type Resolver func(ctx context.Context, ref spec.SecretRef) (string, error)

// NewResolver resolves the three forms of secret input:
//
//	{env: NAME}     the variable NAME (set but empty is a value)
//	{file: PATH}    the file's content, one trailing newline dropped
//	{sealed: PATH}  an age file (armored or binary) opened with the identity:
//	                a sealed credential gives its consumerSecret (PATH#field
//	                picks another field, e.g. #consumerKey); any other
//	                content is the secret itself, one trailing newline dropped
//
// Decrypted sealed files are cached for the resolver's lifetime (a run).
func NewResolver(o ResolverOptions) Resolver {
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var (
		mu     sync.Mutex
		ids    Identities
		idErr  error
		loaded bool
		cache  = map[string]string{}
	)
	identities := func() (Identities, error) {
		if loaded {
			return ids, idErr
		}
		loaded = true
		f := o.IdentityFile
		if f == "" {
			f, _ = lookup(EnvIdentity)
		}
		ids, idErr = LoadIdentities(f)
		return ids, idErr
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(o.BaseDir, p)
	}
	return func(ctx context.Context, ref spec.SecretRef) (string, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		switch {
		case ref.Env != "":
			v, ok := lookup(ref.Env)
			if !ok {
				return "", &RefError{Ref: ref, Msg: "environment variable " + ref.Env + " is not set",
					Hint: "export " + ref.Env + " before running wso2sync"}
			}
			return v, nil
		case ref.File != "":
			p := abs(ref.File)
			b, err := o.Files.Read(ref.File, p, spec.MaxSecretFile)
			if err != nil {
				return "", &RefError{Ref: ref, Msg: "file " + err.Error(), Err: err,
					Hint: cmpOr(fileHint(err), "file paths of secret references are relative to the environment directory")}
			}
			return trimNewline(string(b)), nil
		case ref.Sealed != "":
			path, field, _ := strings.Cut(ref.Sealed, "#")
			p := abs(path)
			mu.Lock()
			defer mu.Unlock()
			pt, ok := cache[p]
			if !ok {
				b, err := o.Files.Read(path, p, spec.MaxSealedFile)
				if err != nil {
					return "", &RefError{Ref: ref, Msg: "sealed file " + err.Error(), Err: err,
						Hint: cmpOr(fileHint(err), "sealed paths are relative to the environment directory")}
				}
				ids, err := identities()
				if err != nil {
					return "", &RefError{Ref: ref, Msg: err.Error(), Hint: hintOf(err), Err: err}
				}
				out, err := Decrypt(p, b, ids)
				if err != nil {
					return "", &RefError{Ref: ref, Msg: err.Error(), Hint: hintOf(err), Err: err}
				}
				pt = string(out)
				cache[p] = pt
			}
			if c, err := ParseCredential(p, []byte(pt)); err == nil {
				if field == "" {
					field = "consumerSecret"
				}
				v, ok := c.Field(field)
				if !ok {
					return "", &RefError{Ref: ref, Msg: "unknown field " + field,
						Hint: "fields of a sealed credential: " + strings.Join(Fields, ", ")}
				}
				return v.Reveal(), nil
			}
			if field != "" {
				return "", &RefError{Ref: ref, Msg: p + " is not a sealed credential, so it has no field " + field}
			}
			return trimNewline(pt), nil
		}
		return "", &RefError{Ref: ref, Msg: "no secret reference set", Hint: "set {env: NAME}, {file: PATH} or {sealed: PATH}"}
	}
}

// fileHint is the hint of a *spec.FileError ("" for other errors).
func fileHint(err error) string {
	var fe *spec.FileError
	if errors.As(err, &fe) {
		return fe.Hint
	}
	return ""
}

func trimNewline(s string) string {
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
}

// hintOf returns the hint of a secrets error ("" if none).
func hintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	var r *RefError
	if errors.As(err, &r) {
		return r.Hint
	}
	return ""
}

// HintOf is the hint of an error of this package ("" if none).
func HintOf(err error) string { return hintOf(err) }
