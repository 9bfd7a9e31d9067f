package apim

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Publisher endpoint and client certificates (WSO2-API.md §3.7): multipart
// uploads of a PEM file, 200 on creation, duplicate alias 409 904011, bad
// certificate 400 904002, expired certificate 400 904010, unknown alias 404
// 904001. CertificateInfo is rendered as the Java server does: validity
// dates in java.util.Date#toString form, version as a number string and
// the subject in X500Principal order ("CN=…, OU=…, O=…").

const javaDate = "Mon Jan 02 15:04:05 MST 2006"

var oidShort = map[string]string{
	"2.5.4.3": "CN", "2.5.4.11": "OU", "2.5.4.10": "O", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.6": "C",
	"2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	"1.2.840.113549.1.9.1": "EMAILADDRESS", "2.5.4.5": "SERIALNUMBER",
}

func javaDN(name pkix.Name) string {
	seq := name.ToRDNSequence()
	var parts []string
	for i := len(seq) - 1; i >= 0; i-- {
		var attrs []string
		for _, atv := range seq[i] {
			key, ok := oidShort[atv.Type.String()]
			if !ok {
				key = "OID." + atv.Type.String()
			}
			attrs = append(attrs, key+"="+fmt.Sprint(atv.Value))
		}
		parts = append(parts, strings.Join(attrs, " + "))
	}
	return strings.Join(parts, ", ")
}

// parseCertificate accepts PEM, base64 DER or raw DER.
func parseCertificate(data []byte) (*x509.Certificate, string, error) {
	data = []byte(strings.TrimSpace(string(data)))
	if len(data) == 0 {
		return nil, "", errors.New("empty certificate")
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, "", fmt.Errorf("unexpected PEM block %q", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, "", err
		}
		return c, string(pem.EncodeToMemory(block)), nil
	}
	der := data
	if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), "")); err == nil {
		der = b
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", err
	}
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), nil
}

func (s *Server) certInfo(pemText string) CertificateInfo {
	c, _, err := parseCertificate([]byte(pemText))
	if err != nil {
		return CertificateInfo{Status: "Expired"}
	}
	now := s.now()
	status := "Active"
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		status = "Expired"
	}
	return CertificateInfo{Status: status,
		Validity: CertificateValidity{From: c.NotBefore.UTC().Format(javaDate), To: c.NotAfter.UTC().Format(javaDate)},
		Version:  strconv.Itoa(c.Version), Subject: javaDN(c.Subject)}
}

// readCertUpload parses the multipart body and the `certificate` part.
// required=false lets PUT omit the file (client certificates: tier only).
func (s *Server) readCertUpload(w http.ResponseWriter, r *http.Request, required bool) (pemText string, present, ok bool) {
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Invalid multipart request: "+err.Error())
		return "", false, false
	}
	var data []byte
	if f, _, err := r.FormFile("certificate"); err == nil {
		data, _ = io.ReadAll(io.LimitReader(f, 4<<20))
		_ = f.Close()
	} else if v := r.FormValue("certificate"); v != "" {
		data = []byte(v)
	}
	if len(data) == 0 {
		if required {
			apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Certificate is required")
			return "", false, false
		}
		return "", false, true
	}
	c, p, err := parseCertificate(data)
	if err != nil {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Invalid certificate: "+err.Error())
		return "", false, false
	}
	if now := s.now(); now.After(c.NotAfter) {
		apimError(w, http.StatusBadRequest, codeCertExpired, "Certificate expired",
			"Error while adding the certificate. Certificate Expired.")
		return "", false, false
	}
	return p, true, true
}

func validAlias(w http.ResponseWriter, alias string) bool {
	if alias == "" || len(alias) > 30 {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Alias should be between 1 and 30 characters")
		return false
	}
	return true
}

func certNotFound(w http.ResponseWriter, alias string) {
	notFound(w, codeCertNotFound, "Could not find the certificate",
		fmt.Sprintf("Cannot find the certificate with alias '%s' in the truststore", alias))
}

func certExists(w http.ResponseWriter, alias string) {
	apimError(w, http.StatusConflict, codeCertExists, "Certificate alias already exists",
		fmt.Sprintf("The alias '%s' already exists in the truststore", alias))
}

func writeCertContent(w http.ResponseWriter, alias, pemText string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+alias+`.crt"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, pemText)
}

// ---- endpoint certificates ----

func (s *Server) handleEPCertList(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	alias, endpoint := r.URL.Query().Get("alias"), r.URL.Query().Get("endpoint")
	s.mu.RLock()
	sel := []CertMetadata{}
	for _, a := range s.st.epCertOrder {
		c := s.st.epCerts[a]
		if (alias != "" && c.Alias != alias) || (endpoint != "" && c.Endpoint != endpoint) {
			continue
		}
		sel = append(sel, CertMetadata{Alias: c.Alias, Endpoint: c.Endpoint})
	}
	s.mu.RUnlock()
	page, pg := paginate(sel, limit, offset, func(l, o int) string {
		return fmt.Sprintf("/endpoint-certificates?limit=%d&offset=%d&alias=%s&endpoint=%s", l, o,
			url.QueryEscape(alias), url.QueryEscape(endpoint))
	})
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "certificates": page, "pagination": pg})
}

func (s *Server) handleEPCertCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, _, ok := s.readCertUpload(w, r, true)
	if !ok {
		return
	}
	alias, endpoint := r.FormValue("alias"), r.FormValue("endpoint")
	if !validAlias(w, alias) {
		return
	}
	if endpoint == "" {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Endpoint is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.epCerts[alias] != nil {
		certExists(w, alias)
		return
	}
	s.st.epCerts[alias] = &EndpointCertificate{Alias: alias, Endpoint: endpoint, PEM: p}
	s.st.epCertOrder = append(s.st.epCertOrder, alias)
	w.Header().Set("Location", PublisherBase+"/endpoint-certificates/"+url.PathEscape(alias))
	writeJSON(w, http.StatusOK, CertMetadata{Alias: alias, Endpoint: endpoint}) // 200, not 201
}

func (s *Server) handleEPCertGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	alias := r.PathValue("alias")
	s.mu.RLock()
	c := s.st.epCerts[alias]
	s.mu.RUnlock()
	if c == nil {
		certNotFound(w, alias)
		return
	}
	writeJSON(w, http.StatusOK, s.certInfo(c.PEM))
}

func (s *Server) handleEPCertContent(w http.ResponseWriter, r *http.Request, _ *caller) {
	alias := r.PathValue("alias")
	s.mu.RLock()
	c := s.st.epCerts[alias]
	s.mu.RUnlock()
	if c == nil {
		certNotFound(w, alias)
		return
	}
	writeCertContent(w, alias, c.PEM)
}

func (s *Server) handleEPCertUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	alias := r.PathValue("alias")
	p, _, ok := s.readCertUpload(w, r, true)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.epCerts[alias]
	if c == nil {
		certNotFound(w, alias)
		return
	}
	c.PEM = p
	writeJSON(w, http.StatusOK, CertMetadata{Alias: c.Alias, Endpoint: c.Endpoint})
}

func (s *Server) handleEPCertDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	alias := r.PathValue("alias")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.epCerts[alias] == nil {
		certNotFound(w, alias)
		return
	}
	delete(s.st.epCerts, alias)
	s.st.epCertOrder = slices.DeleteFunc(s.st.epCertOrder, func(a string) bool { return a == alias })
	w.WriteHeader(http.StatusOK)
}

// ---- client certificates (per API; aliases are unique per tenant) ----

func (s *Server) clientCertAPI(w http.ResponseWriter, r *http.Request) *apiRec {
	id := r.PathValue("apiId")
	a := s.st.apis[id]
	if a == nil {
		apiNotFound(w, id)
		return nil
	}
	return a
}

func (s *Server) clientCert(w http.ResponseWriter, r *http.Request) *ClientCertificate {
	if s.clientCertAPI(w, r) == nil {
		return nil
	}
	alias := r.PathValue("alias")
	c := s.st.clCerts[alias]
	if c == nil || c.APIID != r.PathValue("apiId") {
		certNotFound(w, alias)
		return nil
	}
	return c
}

// handleClientCertList follows ApisApiCommonImpl.getAPIClientCertificates
// (wso2/carbon-apimgt): when the tenant has no client certificate at all it
// answers 200 with an empty list without looking the API up, even for an
// unknown apiId; otherwise an unknown apiId fails in getAPIbyUUID with an
// APIMgtResourceNotFoundException that carries no error code, which the
// global mapper answers as INTERNAL_ERROR (500, 900967). The pagination it
// returns holds limit, offset and the tenant-wide total, no links.
func (s *Server) handleClientCertList(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, ok := s.pageParams(w, r)
	if !ok {
		return
	}
	alias := r.URL.Query().Get("alias")
	id := r.PathValue("apiId")
	s.mu.RLock()
	total := len(s.st.clCerts)
	sel := []ClientCertMetadata{}
	if total > 0 {
		if s.st.apis[id] == nil {
			s.mu.RUnlock()
			w.Header().Set("X-Sim-Cause", "Failed to get API. API artifact corresponding to artifactId "+id+" does not exist")
			apimError(w, http.StatusInternalServerError, codeGeneralError, "General Error", "Server Error Occurred")
			return
		}
		for _, a := range s.st.clCertOrder {
			c := s.st.clCerts[a]
			if c.APIID != id || (alias != "" && c.Alias != alias) {
				continue
			}
			sel = append(sel, ClientCertMetadata{Alias: c.Alias, APIID: c.APIID, Tier: c.Tier})
		}
	}
	s.mu.RUnlock()
	page, _ := paginate(sel, limit, offset, func(int, int) string { return "" })
	writeJSON(w, http.StatusOK, map[string]any{"count": len(page), "certificates": page,
		"pagination": Pagination{Offset: offset, Limit: limit, Total: total}})
}

func (s *Server) handleClientCertCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, _, ok := s.readCertUpload(w, r, true)
	if !ok {
		return
	}
	alias, tier := r.FormValue("alias"), r.FormValue("tier")
	if !validAlias(w, alias) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	api := s.clientCertAPI(w, r)
	if api == nil {
		return
	}
	if tier == "" || s.st.subTierByName(tier) == nil {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", fmt.Sprintf("Invalid tier '%s'", tier))
		return
	}
	if s.st.clCerts[alias] != nil {
		certExists(w, alias)
		return
	}
	s.st.clCerts[alias] = &ClientCertificate{Alias: alias, APIID: api.ID, Tier: tier, PEM: p}
	s.st.clCertOrder = append(s.st.clCertOrder, alias)
	w.Header().Set("Location", PublisherBase+"/apis/"+api.ID+"/client-certificates/"+url.PathEscape(alias))
	writeJSON(w, http.StatusOK, ClientCertMetadata{Alias: alias, APIID: api.ID, Tier: tier})
}

func (s *Server) handleClientCertGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.RLock()
	c := s.clientCert(w, r)
	var p string
	if c != nil {
		p = c.PEM
	}
	s.mu.RUnlock()
	if c == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.certInfo(p))
}

func (s *Server) handleClientCertContent(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.RLock()
	c := s.clientCert(w, r)
	var p string
	if c != nil {
		p = c.PEM
	}
	s.mu.RUnlock()
	if c == nil {
		return
	}
	writeCertContent(w, r.PathValue("alias"), p)
}

func (s *Server) handleClientCertUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, present, ok := s.readCertUpload(w, r, false)
	if !ok {
		return
	}
	tier := r.FormValue("tier")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clientCert(w, r)
	if c == nil {
		return
	}
	if !present && tier == "" {
		apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", "Certificate or tier is required")
		return
	}
	if tier != "" {
		if s.st.subTierByName(tier) == nil {
			apimError(w, http.StatusBadRequest, codeCertBadRequest, "Bad Request", fmt.Sprintf("Invalid tier '%s'", tier))
			return
		}
		c.Tier = tier
	}
	if present {
		c.PEM = p
	}
	writeJSON(w, http.StatusOK, ClientCertMetadata{Alias: c.Alias, APIID: c.APIID, Tier: c.Tier})
}

func (s *Server) handleClientCertDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clientCert(w, r)
	if c == nil {
		return
	}
	delete(s.st.clCerts, c.Alias)
	s.st.clCertOrder = slices.DeleteFunc(s.st.clCertOrder, func(a string) bool { return a == c.Alias })
	w.WriteHeader(http.StatusOK)
}
