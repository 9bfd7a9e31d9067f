package apim

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(42),
		Subject:   pkix.Name{CommonName: cn, Organization: []string{"wso2"}, Country: []string{"LK"}},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (e *env) multipart(method, path string, fields map[string]string, cert string) resp {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if cert != "" {
		fw, _ := mw.CreateFormFile("certificate", "cert.pem")
		_, _ = fw.Write([]byte(cert))
	}
	_ = mw.Close()
	return e.raw(method, path, map[string]string{"Authorization": "Bearer " + e.admin,
		"Content-Type": mw.FormDataContentType()}, &buf)
}

func TestEndpointCertificates(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	good := selfSigned(t, "backend.example.com", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	base := PublisherBase + "/endpoint-certificates"
	created := e.mustStatus(e.multipart("POST", base, map[string]string{"alias": "backend", "endpoint": "https://backend"}, good), 200).json(t)
	if created["alias"] != "backend" || created["endpoint"] != "https://backend" {
		t.Fatalf("created: %v", created)
	}
	cases := []struct {
		name   string
		fields map[string]string
		cert   string
		status int
		code   float64
	}{
		{"duplicate alias", map[string]string{"alias": "backend", "endpoint": "https://b"}, good, 409, codeCertExists},
		{"bad pem", map[string]string{"alias": "bad", "endpoint": "https://b"}, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", 400, codeCertBadRequest},
		{"expired", map[string]string{"alias": "old", "endpoint": "https://b"}, selfSigned(t, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour)), 400, codeCertExpired},
		{"alias too long", map[string]string{"alias": strings.Repeat("a", 31), "endpoint": "https://b"}, good, 400, codeCertBadRequest},
		{"no file", map[string]string{"alias": "nofile", "endpoint": "https://b"}, "", 400, codeCertBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.mustStatus(e.multipart("POST", base, tc.fields, tc.cert), tc.status)
			if r.code(t) != tc.code {
				t.Fatalf("code: %s", r.body)
			}
		})
	}
	info := e.mustStatus(e.do("GET", base+"/backend", e.admin, nil), 200).json(t)
	v := info["validity"].(map[string]any)
	if info["status"] != "Active" || info["version"] != "3" || info["subject"] != "CN=backend.example.com, O=wso2, C=LK" ||
		!strings.HasSuffix(v["to"].(string), fmt.Sprint(now.Add(365*24*time.Hour).Year())) {
		t.Fatalf("info: %v", info)
	}
	content := e.mustStatus(e.do("GET", base+"/backend/content", e.admin, nil), 200)
	if string(content.body) != good {
		t.Fatalf("content: %q", content.body)
	}
	lst := e.mustStatus(e.do("GET", base+"?alias=backend", e.admin, nil), 200).json(t)
	if lst["count"].(float64) != 1 || lst["certificates"].([]any)[0].(map[string]any)["endpoint"] != "https://backend" {
		t.Fatalf("list: %v", lst)
	}
	// PUT replaces the certificate; status follows the clock.
	second := selfSigned(t, "second", now.Add(-time.Hour), now.Add(time.Hour))
	e.mustStatus(e.multipart("PUT", base+"/backend", nil, second), 200)
	e.clock.Advance(2 * time.Hour)
	e.admin = e.token("admin", "admin", AllScopes...) // the old token expired too
	info = e.mustStatus(e.do("GET", base+"/backend", e.admin, nil), 200).json(t)
	if info["status"] != "Expired" || !strings.HasPrefix(info["subject"].(string), "CN=second") {
		t.Fatalf("after PUT: %v", info)
	}
	e.mustStatus(e.do("DELETE", base+"/backend", e.admin, nil), 200)
	r := e.mustStatus(e.do("GET", base+"/backend", e.admin, nil), 404)
	if r.code(t) != codeCertNotFound {
		t.Fatalf("404: %s", r.body)
	}
}

func TestClientCertificates(t *testing.T) {
	e := newEnv(t)
	api, _ := e.s.AddAPI(APISeed{Name: "MTLS", Version: "1.0.0", Context: "/mtls", Policies: []string{"Gold"}})
	now := e.clock.Now()
	cert := selfSigned(t, "client", now.Add(-time.Hour), now.Add(24*time.Hour))
	base := PublisherBase + "/apis/" + api + "/client-certificates"
	m := e.mustStatus(e.multipart("POST", base, map[string]string{"alias": "c1", "tier": "Gold"}, cert), 200).json(t)
	if m["apiId"] != api || m["tier"] != "Gold" {
		t.Fatalf("created: %v", m)
	}
	e.mustStatus(e.multipart("POST", base, map[string]string{"alias": "c1", "tier": "Gold"}, cert), 409)
	e.mustStatus(e.multipart("POST", base, map[string]string{"alias": "c2", "tier": "Nope"}, cert), 400)
	e.mustStatus(e.multipart("POST", PublisherBase+"/apis/nope/client-certificates", map[string]string{"alias": "c3", "tier": "Gold"}, cert), 404)
	u := e.mustStatus(e.multipart("PUT", base+"/c1", map[string]string{"tier": "Unlimited"}, ""), 200).json(t)
	if u["tier"] != "Unlimited" {
		t.Fatalf("tier update: %v", u)
	}
	info := e.mustStatus(e.do("GET", base+"/c1", e.admin, nil), 200).json(t)
	if info["subject"] != "CN=client, O=wso2, C=LK" {
		t.Fatalf("info: %v", info)
	}
	lst := e.mustStatus(e.do("GET", base, e.admin, nil), 200).json(t)
	if lst["count"].(float64) != 1 {
		t.Fatalf("list: %v", lst)
	}
	e.mustStatus(e.do("GET", base+"/c1/content", e.admin, nil), 200)
	e.mustStatus(e.do("DELETE", base+"/c1", e.admin, nil), 200)
	e.mustStatus(e.do("GET", base+"/c1", e.admin, nil), 404)
}

func TestPublisherAPIs(t *testing.T) {
	e := newEnv(t)
	id, _ := e.s.AddAPI(APISeed{Name: "Draft", Version: "1.0.0", Context: "/draft", LifeCycleStatus: "CREATED"})
	e.mustStatus(e.do("GET", DevportalBase+"/apis/"+id, "", nil), 404)
	p := e.mustStatus(e.do("GET", PublisherBase+"/apis/"+id, e.admin, nil), 200).json(t)
	if p["lifeCycleStatus"] != "CREATED" || p["name"] != "Draft" {
		t.Fatalf("publisher API: %v", p)
	}
	if err := e.s.SetAPIStatus(id, "PUBLISHED"); err != nil {
		t.Fatal(err)
	}
	d := e.mustStatus(e.do("GET", DevportalBase+"/apis/"+id, "", nil), 200).json(t)
	if d["tiers"].([]any)[0].(map[string]any)["tierName"] != "Unlimited" {
		t.Fatalf("devportal API: %v", d)
	}
	r := e.mustStatus(e.do("GET", PublisherBase+"/apis/nope", e.admin, nil), 404)
	if r.code(t) != codeAPINotFound {
		t.Fatalf("404: %s", r.body)
	}
}

func TestResetAndDump(t *testing.T) {
	e := newEnv(t)
	e.createApp(e.admin, "Gone")
	if _, err := e.s.AddAPI(APISeed{Name: "A", Version: "1", Context: "/a"}); err != nil {
		t.Fatal(err)
	}
	st := e.s.Dump()
	if len(st.Applications) != 2 || len(st.APIs) != 1 {
		t.Fatalf("dump: %d apps %d apis", len(st.Applications), len(st.APIs))
	}
	st.Applications[0].Attributes["mutated"] = "x" // deep copy: must not leak back
	if a := e.s.Dump().Applications[0].Attributes; a["mutated"] != "" {
		t.Fatal("Dump is not a deep copy")
	}
	e.s.Reset()
	st = e.s.Dump()
	if len(st.Applications) != 1 || st.Applications[0].Name != DefaultApplicationName || len(st.APIs) != 0 ||
		len(st.KeyManagers) != 1 || len(st.ApplicationPolicies) != 4 || len(st.SubscriptionPolicies) != 9 || len(st.Tokens) != 0 {
		t.Fatalf("reset: %+v", st)
	}
	// Old tokens are gone.
	e.mustStatus(e.do("GET", DevportalBase+"/applications", e.admin, nil), 401)
}

func TestBulkSeedPaging(t *testing.T) {
	s := New(Options{})
	const n = 20000
	seeds := make([]ApplicationSeed, n)
	for i := range seeds {
		seeds[i] = ApplicationSeed{Name: fmt.Sprintf("bulk-%05d", i)}
	}
	// Speed is BenchmarkAddApplications20k's and BenchmarkApplicationPage's
	// business: wall-clock limits here failed under -race on a loaded machine.
	ids, err := s.AddApplications("admin", seeds)
	if err != nil || len(ids) != n {
		t.Fatalf("bulk: %v (%d)", err, len(ids))
	}
	api, _ := s.AddAPI(APISeed{Name: "Bulk", Version: "1", Context: "/bulk"})
	for i := range 4 * 1000 {
		if _, err := s.AddSubscription(ids[i], api, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddApplications("admin", []ApplicationSeed{{Name: "BULK-00001"}}); err == nil {
		t.Fatal("case-insensitive duplicate accepted")
	}
	e := &env{t: t, s: s, ts: httptest.NewServer(s.Handler())}
	defer e.ts.Close()
	e.admin = e.token("admin", "admin", "apim:subscribe")
	// Walk a few pages far into the list: O(page) each.
	for off := 19000; off < 19500; off += 100 {
		m := e.mustStatus(e.do("GET", fmt.Sprintf("%s/applications?limit=100&offset=%d", DevportalBase, off), e.admin, nil), 200).json(t)
		items := list(t, m)
		if len(items) != 100 || items[0]["name"] != fmt.Sprintf("bulk-%05d", off) {
			t.Fatalf("page at %d: first %v", off, items[0]["name"])
		}
	}
}

// BenchmarkAddApplications20k measures seeding 20,000 applications in one
// call, which a quadratic duplicate check or index would make slow.
func BenchmarkAddApplications20k(b *testing.B) {
	seeds := make([]ApplicationSeed, 20000)
	for i := range seeds {
		seeds[i] = ApplicationSeed{Name: fmt.Sprintf("bulk-%05d", i)}
	}
	for b.Loop() {
		if _, err := New(Options{}).AddApplications("admin", seeds); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplicationPage(b *testing.B) {
	s := New(Options{})
	seeds := make([]ApplicationSeed, 20000)
	for i := range seeds {
		seeds[i] = ApplicationSeed{Name: fmt.Sprintf("bulk-%05d", i)}
	}
	if _, err := s.AddApplications("admin", seeds); err != nil {
		b.Fatal(err)
	}
	s.mu.Lock()
	tok := s.issueToken("bench", "admin", []string{"apim:subscribe"}, time.Hour, false).AccessToken
	s.mu.Unlock()
	h := s.Handler()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest("GET", fmt.Sprintf("%s/applications?limit=100&offset=%d", DevportalBase, (i*100)%20000), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
