package reconcile

import (
	"context"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// What internal/verify asks of a loaded pass: the desired State (p.State),
// an HTTP client with the environment's TLS settings, secret references
// resolved, the sealed credentials opened with the run's identity, and the
// IS admin credentials (token introspection). Verify never writes.

// HTTPClient is a plain HTTP client with the environment's TLS settings
// (spec.tls: caBundle relative to wso2sync.yaml, insecureSkipVerify).
func (p *Pass) HTTPClient(timeout time.Duration) (*http.Client, error) {
	env := p.State.Environment
	o := transport.TLSOptions{InsecureSkipVerify: env.Spec.TLS.InsecureSkipVerify}
	if ca := env.Spec.TLS.CABundle; ca != "" {
		o.CAFile = env.ResolvePath("spec.tls.caBundle", ca)
	}
	return transport.HTTPClient(o, timeout, p.log)
}

// ResolveSecret resolves a secret reference ({env:}, {file:}, {sealed:}).
func (p *Pass) ResolveSecret(ctx context.Context, ref *spec.SecretRef) (string, error) {
	if p.Providers == nil {
		return "", errors.New("reconcile: providers not open")
	}
	return p.secret(ctx, ref)
}

// ErrNoIdentity is OpenSealed's error when the run has no identity.
var ErrNoIdentity = errors.New("no identity to open sealed credentials")

// OpenSealed opens the sealed credential of one application key with the
// run's identity (Options.Secrets.Identity, else $WSO2SYNC_AGE_IDENTITY);
// ErrNoIdentity when there is none.
func (p *Pass) OpenSealed(app, keyType, keyManager string) (secrets.Credential, error) {
	so := &p.Options.Secrets
	if so.Sealer == nil || so.Sealer.Store == nil {
		return secrets.Credential{}, errors.New("no sealed output directory is configured")
	}
	idFile := cmpOr(so.Identity, os.Getenv(secrets.EnvIdentity))
	if idFile == "" {
		return secrets.Credential{}, ErrNoIdentity
	}
	p.mu.Lock()
	ids, err := p.identities, p.identitiesErr
	if ids == nil && err == nil {
		ids, err = secrets.LoadIdentities(idFile)
		p.identities, p.identitiesErr = ids, err
	}
	p.mu.Unlock()
	if err != nil {
		return secrets.Credential{}, err
	}
	return so.Sealer.Store.Open(secrets.KeyID{Application: app, KeyType: keyType, KeyManager: keyManager}, ids)
}

// SealedDir is the sealed output directory ("" when none is configured).
func (p *Pass) SealedDir() string {
	if s := p.Options.Secrets.Sealer; s != nil && s.Store != nil {
		return s.Store.Dir
	}
	return ""
}

// ISAdmin resolves the IS admin credentials of the environment (token
// introspection needs them).
func (p *Pass) ISAdmin(ctx context.Context) (user, password string, err error) {
	es := &p.State.Environment.Spec
	c := es.AdminCredentials(es.IS)
	if c == nil {
		return "", "", errors.New("no admin credentials for IS")
	}
	if user, err = p.ResolveSecret(ctx, &c.Username); err != nil {
		return "", "", err
	}
	password, err = p.ResolveSecret(ctx, &c.Password)
	return user, password, err
}
