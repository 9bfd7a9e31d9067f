package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/providers/trust"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// certificate uploads, replaces or deletes an endpoint or client
// certificate in APIM. Key-manager certificates travel inside the key
// manager; trust certificates only inside truststores.
func (p *Pass) certificate(ctx context.Context, c diff.Change) error {
	a := p.Providers.APIM.Certificates
	if c.Action == diff.Delete || c.Action == diff.Replace {
		if lc := p.Live.State.Certificate(c.Name); lc != nil {
			if err := p.deleteCert(ctx, lc); err != nil {
				return err
			}
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	d := p.State.Certificate(c.Name)
	if d == nil {
		return notFound(c, "desired")
	}
	pem, err := certPEM(ctx, p.State, d)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", c.Name, err)
	}
	switch d.Spec.Usage {
	case spec.CertUsageKeyManager:
		return p.setKMCertificate(ctx, d.Spec.KeyManager, &spec.KeyManagerCertificate{Type: "PEM", Value: string(pem)})
	case spec.CertUsageEndpoint:
		if c.Action == diff.Update {
			return a.UpdateEndpoint(ctx, d.AliasOrName(), pem)
		}
		return a.CreateEndpoint(ctx, d, pem)
	case spec.CertUsageClient:
		apiID, err := p.apiID(ctx, d.Spec.API)
		if err != nil {
			return err
		}
		if c.Action == diff.Update {
			return a.UpdateClient(ctx, apiID, d.AliasOrName(), d.Spec.Tier, pem)
		}
		return a.CreateClient(ctx, apiID, d, pem)
	}
	return fmt.Errorf("certificate %s: usage %s has no APIM object to write", c.Name, d.Spec.Usage)
}

func (p *Pass) deleteCert(ctx context.Context, lc *spec.Certificate) error {
	a := p.Providers.APIM.Certificates
	switch lc.Spec.Usage {
	case spec.CertUsageKeyManager:
		if p.State.KeyManager(lc.Spec.KeyManager) == nil && p.id(spec.KindKeyManager, lc.Spec.KeyManager) == "" {
			return nil // the key manager is gone, and its certificate with it
		}
		return p.setKMCertificate(ctx, lc.Spec.KeyManager, nil)
	case spec.CertUsageClient:
		apiID, err := p.apiID(ctx, lc.Spec.API)
		if err != nil {
			return err
		}
		return a.DeleteClient(ctx, apiID, lc.AliasOrName())
	default:
		return a.DeleteEndpoint(ctx, lc.AliasOrName())
	}
}

// setKMCertificate writes a key manager's certificates field (nil removes
// it): the key manager as the server holds it, with that one field
// changed (its connector password is kept: it is sent masked).
func (p *Pass) setKMCertificate(ctx context.Context, km string, cert *spec.KeyManagerCertificate) error {
	a := p.Providers.APIM.KeyManagers
	id := p.id(spec.KindKeyManager, km)
	if id == "" {
		return fmt.Errorf("key manager %s not found live", km)
	}
	cur, err := a.Get(ctx, id)
	if cert == nil && transport.IsNotFound(err) {
		return nil // deleted with its key manager
	}
	if err != nil {
		return err
	}
	cur.Spec.Certificates = cert
	return a.Update(ctx, id, cur, "")
}

// kmCertificate is the certificates field a declared keyManager
// Certificate gives a key manager (nil when none targets it).
func (p *Pass) kmCertificate(ctx context.Context, km string) (*spec.KeyManagerCertificate, error) {
	for _, c := range p.State.Certificates {
		if c.Spec.Usage == spec.CertUsageKeyManager && c.Spec.KeyManager == km {
			pem, err := certPEM(ctx, p.State, c)
			if err != nil {
				return nil, fmt.Errorf("certificate %s: %w", c.Metadata.Name, err)
			}
			return &spec.KeyManagerCertificate{Type: "PEM", Value: string(pem)}, nil
		}
	}
	return nil, nil
}

func (p *Pass) apiID(ctx context.Context, ref *spec.APIRef) (string, error) {
	if ref == nil {
		return "", errors.New("client certificate without spec.api")
	}
	api, err := p.Providers.APIM.APIs.Lookup(ctx, *ref)
	if err != nil {
		return "", err
	}
	if api == nil {
		return "", fmt.Errorf("API %s is not published", *ref)
	}
	return api.ID, nil
}

// certPEM is the certificate to upload, from its inline PEM, its file
// (relative to its manifest) or its URL (fetched over TLS and checked
// against the pin), parsed by internal/spec: a private key is refused and
// never echoed; a sha256 pin must match.
func certPEM(ctx context.Context, st *spec.State, c *spec.Certificate) ([]byte, error) {
	cert, err := trust.Sources{Desired: st}.Source(ctx, &c.Object, "spec.source", c.Spec.Source)
	if err != nil {
		return nil, err
	}
	return spec.EncodeCertPEM(cert), nil
}
