package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// call sends one request the way curl would; body may be nil, a string
// (sent as is) or anything else (sent as JSON).
func call(t testing.TB, c *http.Client, method, u string, body any, hdr ...string) resp {
	t.Helper()
	r, err := try(c, method, u, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

func try(c *http.Client, method, u string, body any, hdr ...string) (resp, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return resp{}, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// apimToken registers a DCR client and fetches a password-grant token.
func apimToken(t testing.TB, s *Sim, scope string) string {
	t.Helper()
	r := call(t, s.HTTPClient(), "POST", s.APIMURL()+"/client-registration/v0.17/register",
		map[string]any{"callbackUrl": "https://localhost/cb", "clientName": "simtest", "owner": "admin",
			"grantType": "client_credentials password refresh_token", "saasApp": true},
		"Authorization", basic("admin", "admin"))
	if r.Status != 200 {
		t.Fatalf("DCR: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	id, _ := m["clientId"].(string)
	secret, _ := m["clientSecret"].(string)
	r = call(t, s.HTTPClient(), "POST", s.APIMURL()+"/oauth2/token",
		url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"admin"}, "scope": {scope}},
		"Authorization", basic(id, secret))
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	tok, _ := r.JSON(t)["access_token"].(string)
	if tok == "" {
		t.Fatalf("no access_token: %s", r.Body)
	}
	return tok
}
