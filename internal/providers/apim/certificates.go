package apim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Certificates manages Publisher v4 endpoint certificates (gateway →
// backend trust) and client certificates of mutual-TLS APIs. Identity:
// alias (unique per tenant); metadata.name is the alias.
type Certificates interface {
	// ListEndpoint pages through the endpoint certificates and reads each
	// one's PEM (one call per certificate, concurrently), so live objects
	// carry spec.source.pem.
	ListEndpoint(ctx context.Context) ([]*spec.Certificate, error)
	CreateEndpoint(ctx context.Context, c *spec.Certificate, pem []byte) error
	// UpdateEndpoint replaces the certificate (the endpoint cannot change:
	// delete and create).
	UpdateEndpoint(ctx context.Context, alias string, pem []byte) error
	DeleteEndpoint(ctx context.Context, alias string) error

	// ListClient reads the client certificates of the given APIs (one
	// list per API plus one content read per certificate).
	ListClient(ctx context.Context, apis []API) ([]*spec.Certificate, error)
	CreateClient(ctx context.Context, apiID string, c *spec.Certificate, pem []byte) error
	UpdateClient(ctx context.Context, apiID, alias, tier string, pem []byte) error
	DeleteClient(ctx context.Context, apiID, alias string) error
}

type wireCertMeta struct {
	Alias    string `json:"alias"`
	Endpoint string `json:"endpoint"`
	APIID    string `json:"apiId"`
	Tier     string `json:"tier"`
}

type certificates struct{ cl *Client }

const (
	epPath = PublisherBase + "/endpoint-certificates"
	clPath = PublisherBase + "/apis/{apiId}/client-certificates"
)

func (c *certificates) content(ctx context.Context, path string, params map[string]string, scopes []string, id string) (string, error) {
	resp, err := c.cl.c.Do(ctx, transport.Request{PathTemplate: path, PathParams: params, Scopes: scopes,
		Identity: id, Header: http.Header{"Accept": {"application/octet-stream, */*"}}})
	if err != nil {
		return "", err
	}
	return normalisePEM(string(resp.Body)), nil
}

// normalisePEM trims the text and ends it with one newline, so that a
// certificate read back compares equal to the file it came from.
func normalisePEM(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	return s + "\n"
}

func (c *certificates) ListEndpoint(ctx context.Context) ([]*spec.Certificate, error) {
	metas, err := listKey[wireCertMeta](ctx, c.cl, transport.Request{PathTemplate: epPath, Scopes: scEPView}, "certificates")
	if err != nil {
		return nil, err
	}
	out := make([]*spec.Certificate, len(metas))
	err = ForEach(ctx, indexes(len(metas)), 0, func(ctx context.Context, i int) error {
		m := metas[i]
		pem, err := c.content(ctx, epPath+"/{alias}/content", map[string]string{"alias": m.Alias}, scEPView, "Certificate "+m.Alias)
		if err != nil {
			return err
		}
		out[i] = &spec.Certificate{Object: object(spec.KindCertificate, m.Alias), Spec: spec.CertificateSpec{
			Usage: spec.CertUsageEndpoint, Alias: m.Alias, Endpoint: m.Endpoint, Source: spec.CertSource{PEM: pem}}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *spec.Certificate) int { return compare(a.Metadata.Name, b.Metadata.Name) })
	return out, nil
}

func upload(alias string, pem []byte, fields map[string]string) *transport.Multipart {
	m := &transport.Multipart{Fields: map[string]string{}, Files: []transport.MultipartFile{{
		Field: "certificate", FileName: alias + ".crt", ContentType: "application/x-x509-ca-cert", Content: pem}}}
	for k, v := range fields {
		m.Fields[k] = v
	}
	return m
}

func (c *certificates) CreateEndpoint(ctx context.Context, cert *spec.Certificate, pem []byte) error {
	alias := cert.AliasOrName()
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: epPath, Scopes: scEPManage, Identity: "Certificate " + alias,
		Multipart: upload(alias, pem, map[string]string{"alias": alias, "endpoint": cert.Spec.Endpoint}),
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			_, err := c.cl.c.Do(ctx, transport.Request{PathTemplate: epPath + "/{alias}",
				PathParams: map[string]string{"alias": alias}, Scopes: scEPView})
			if transport.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		},
	})
	if transport.IsLanded(err) {
		return nil
	}
	return err
}

func (c *certificates) UpdateEndpoint(ctx context.Context, alias string, pem []byte) error {
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: epPath + "/{alias}", PathParams: map[string]string{"alias": alias},
		Scopes: scEPManage, Identity: "Certificate " + alias, Multipart: upload(alias, pem, nil),
	})
	return err
}

func (c *certificates) DeleteEndpoint(ctx context.Context, alias string) error {
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: epPath + "/{alias}", PathParams: map[string]string{"alias": alias},
		Scopes: scEPManage, Identity: "Certificate " + alias,
	})
	return err
}

func (c *certificates) ListClient(ctx context.Context, apis []API) ([]*spec.Certificate, error) {
	per := make([][]*spec.Certificate, len(apis))
	err := ForEach(ctx, indexes(len(apis)), 0, func(ctx context.Context, i int) error {
		api := apis[i]
		params := map[string]string{"apiId": api.ID}
		metas, err := listKey[wireCertMeta](ctx, c.cl, transport.Request{PathTemplate: clPath, PathParams: params,
			Scopes: scCLView, Identity: "API " + api.Name + " " + api.Version}, "certificates")
		if err != nil {
			return err
		}
		for _, m := range metas {
			pem, err := c.content(ctx, clPath+"/{alias}/content", map[string]string{"apiId": api.ID, "alias": m.Alias}, scCLView, "Certificate "+m.Alias)
			if err != nil {
				return err
			}
			per[i] = append(per[i], &spec.Certificate{Object: object(spec.KindCertificate, m.Alias), Spec: spec.CertificateSpec{
				Usage: spec.CertUsageClient, Alias: m.Alias, Source: spec.CertSource{PEM: pem},
				API: &spec.APIRef{Name: api.Name, Version: api.Version}, Tier: m.Tier}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := slices.Concat(per...)
	slices.SortFunc(out, func(a, b *spec.Certificate) int { return compare(a.Metadata.Name, b.Metadata.Name) })
	return out, nil
}

func (c *certificates) CreateClient(ctx context.Context, apiID string, cert *spec.Certificate, pem []byte) error {
	alias := cert.AliasOrName()
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: clPath, PathParams: map[string]string{"apiId": apiID},
		Scopes: scCLManage, Identity: "Certificate " + alias,
		Multipart: upload(alias, pem, map[string]string{"alias": alias, "tier": cmpOr(cert.Spec.Tier, "Unlimited")}),
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			_, err := c.cl.c.Do(ctx, transport.Request{PathTemplate: clPath + "/{alias}",
				PathParams: map[string]string{"apiId": apiID, "alias": alias}, Scopes: scCLView})
			if transport.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		},
	})
	if transport.IsLanded(err) {
		return nil
	}
	return err
}

func (c *certificates) UpdateClient(ctx context.Context, apiID, alias, tier string, pem []byte) error {
	fields := map[string]string{}
	if tier != "" {
		fields["tier"] = tier
	}
	m := &transport.Multipart{Fields: fields}
	if len(pem) > 0 {
		m = upload(alias, pem, fields)
	}
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: clPath + "/{alias}", PathParams: map[string]string{"apiId": apiID, "alias": alias},
		Scopes: scCLManage, Identity: "Certificate " + alias, Multipart: m,
	})
	return err
}

func (c *certificates) DeleteClient(ctx context.Context, apiID, alias string) error {
	_, err := c.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: clPath + "/{alias}", PathParams: map[string]string{"apiId": apiID, "alias": alias},
		Scopes: scCLDelete, Identity: "Certificate " + alias,
	})
	return err
}
