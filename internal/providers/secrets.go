package providers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Resolver turns a secret reference into its value. Values are never
// logged, and errors name the reference, never the value.
type Resolver func(ctx context.Context, ref spec.SecretRef) (string, error)

// NewResolver is the minimal resolver wso2sync uses until the secrets
// package replaces it: {env: NAME} reads the variable, {file: PATH} reads
// the file (relative to baseDir; one trailing newline is dropped), and
// {sealed: PATH} is refused.
func NewResolver(baseDir string) Resolver {
	return func(_ context.Context, ref spec.SecretRef) (string, error) {
		switch {
		case ref.Env != "":
			v, ok := os.LookupEnv(ref.Env)
			if !ok {
				return "", &SecretError{Ref: ref, Msg: "environment variable " + ref.Env + " is not set",
					Hint: "export " + ref.Env + " before running wso2sync"}
			}
			return v, nil
		case ref.File != "":
			p := ref.File
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return "", &SecretError{Ref: ref, Msg: fmt.Sprintf("cannot read %s: %v", p, unwrapPath(err)),
					Hint: "file paths of secret references are relative to the environment directory"}
			}
			return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
		case ref.Sealed != "":
			return "", &SecretError{Ref: ref, Msg: "sealed secrets cannot be opened by this build",
				Hint: "use {env: NAME} or {file: PATH} for this secret"}
		}
		return "", &SecretError{Ref: ref, Msg: "no secret reference set", Hint: "set {env: NAME} or {file: PATH}"}
	}
}

// SecretError is a reference that could not be resolved.
type SecretError struct {
	Ref  spec.SecretRef
	Msg  string
	Hint string
}

func (e *SecretError) Error() string { return "secret " + e.Ref.String() + ": " + e.Msg }

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
