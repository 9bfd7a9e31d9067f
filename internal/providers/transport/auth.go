package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Authenticator authorizes requests. Implementations must be safe for
// concurrent use.
type Authenticator interface {
	// Authorize sets the credentials on req for an operation needing scopes.
	Authorize(ctx context.Context, req *http.Request, scopes []string) error
	// Refresh renews the credentials after a 401. ErrNoRefresh means they
	// cannot be renewed and the 401 stands.
	Refresh(ctx context.Context) error
}

// RejectionAwareAuthenticator is optionally implemented by token sources:
// after a 401 the client calls RefreshRejected with the rejected request
// instead of Refresh, so that when many calls are rejected together only
// the token they carried is replaced, once.
type RejectionAwareAuthenticator interface {
	Authenticator
	RefreshRejected(ctx context.Context, rejected *http.Request) error
}

// SecretFunc yields a credential. Secret references are resolved by the
// caller; this package only ever sees values, and never logs them.
type SecretFunc func(ctx context.Context) (string, error)

// StaticSecret returns a SecretFunc for a value already resolved.
func StaticSecret(s string) SecretFunc {
	return func(context.Context) (string, error) { return s, nil }
}

// DefaultCredentialsHint is the hint of Unauthorized errors caused by bad
// credentials when the configuration gives none.
const DefaultCredentialsHint = "check the admin username and password that the environment's credentials references resolve to"

// BasicAuth authorizes with HTTP Basic (IS SCIM2, DCR v1.1, server APIs;
// APIM DCR v0.17). Credentials are resolved on each request.
type BasicAuth struct {
	Username, Password SecretFunc
	// CredentialsHint overrides DefaultCredentialsHint on 401 errors.
	CredentialsHint string
}

// Authorize sets the Authorization header; scopes do not apply.
func (b BasicAuth) Authorize(ctx context.Context, req *http.Request, _ []string) error {
	user, pass, err := b.resolve(ctx)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, pass)
	return nil
}

// Refresh returns ErrNoRefresh: a rejected password is not retried, so
// that a wrong one does not lock the account.
func (BasicAuth) Refresh(context.Context) error { return ErrNoRefresh }

// Hint is the hint given with 401 errors.
func (b BasicAuth) Hint() string { return cmpOr(b.CredentialsHint, DefaultCredentialsHint) }

func (b BasicAuth) resolve(ctx context.Context) (string, string, error) {
	if b.Username == nil || b.Password == nil {
		return "", "", fmt.Errorf("basic auth: no username or password configured")
	}
	user, err := b.Username(ctx)
	if err != nil {
		return "", "", fmt.Errorf("resolving the username: %w", err)
	}
	pass, err := b.Password(ctx)
	if err != nil {
		return "", "", fmt.Errorf("resolving the password: %w", err)
	}
	return user, pass, nil
}

func bearerOf(req *http.Request) string {
	if req == nil {
		return ""
	}
	v := req.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return v[7:]
	}
	return ""
}
