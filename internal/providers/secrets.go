package providers

import (
	"context"
	"errors"

	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Resolver turns a secret reference into its value. Values are never
// logged, and errors name the reference, never the value.
type Resolver func(ctx context.Context, ref spec.SecretRef) (string, error)

// NewResolver is secrets.NewResolver for an environment folder: {env:
// NAME}, {file: PATH} and {sealed: PATH} (relative to baseDir; sealed
// inputs opened with $WSO2SYNC_AGE_IDENTITY). Use FromSecrets to pass
// other options (--identity).
func NewResolver(baseDir string) Resolver {
	// Confined to the repository holding the folder (spec.FileRules); a
	// folder that cannot be resolved reads nothing beyond itself.
	rules, err := spec.NewFileRules(baseDir, "", nil)
	if err != nil {
		rules = spec.FileRules{Root: baseDir}
	}
	return FromSecrets(secrets.NewResolver(secrets.ResolverOptions{BaseDir: baseDir, Files: rules}))
}

// FromSecrets adapts a secrets.Resolver: its *secrets.RefError becomes a
// *SecretError (the message and hint the CLI prints).
func FromSecrets(r secrets.Resolver) Resolver {
	return func(ctx context.Context, ref spec.SecretRef) (string, error) {
		v, err := r(ctx, ref)
		if err != nil {
			var re *secrets.RefError
			if errors.As(err, &re) {
				return "", &SecretError{Ref: re.Ref, Msg: re.Msg, Hint: re.Hint}
			}
			return "", err
		}
		return v, nil
	}
}

// SecretError is a reference that could not be resolved.
type SecretError struct {
	Ref  spec.SecretRef
	Msg  string
	Hint string
}

func (e *SecretError) Error() string { return "secret " + e.Ref.String() + ": " + e.Msg }
