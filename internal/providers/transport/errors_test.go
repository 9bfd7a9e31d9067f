package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestParseErrorBody(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct {
		name string
		body string
		want serverError
	}{
		{"APIM six-digit code", `{"code":901409,"message":"Key Mappings already exists","description":"Key Mappings already exists for application MyApp or consumer key xK7","moreInfo":"","error":[]}`,
			serverError{Code: "901409", Message: "Key Mappings already exists for application MyApp or consumer key xK7"}},
		{"APIM legacy code, no description", `{"code":404,"message":"Not Found"}`, serverError{Code: "404", Message: "Not Found"}},
		{"APIM per-field errors", `{"code":400,"message":"Bad Request","description":"Invalid request","error":[{"code":"name","message":"name","description":"must not be null"},{"code":"tier","message":"tier is empty"}]}`,
			serverError{Code: "400", Message: "Invalid request (name: must not be null; tier is empty)"}},
		{"DCR v0.17 forbidden", `{"code":403,"message":"Forbidden","description":"Access is forbidden to the application","moreInfo":"","error":[]}`,
			serverError{Code: "403", Message: "Access is forbidden to the application"}},
		{"SCIM", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","detail":"User with the name: alice already exists in the system.","status":"409"}`,
			serverError{Code: "uniqueness", Message: "User with the name: alice already exists in the system."}},
		{"SCIM without scimType", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Specified resource (e.g., User) or endpoint does not exist.","status":"404"}`,
			serverError{Message: "Specified resource (e.g., User) or endpoint does not exist."}},
		{"IS DCR v1.1", `{"error":"invalid_client_metadata","error_description":"Application with the name ledger-batch already exist in the system","traceId":"t-1"}`,
			serverError{Code: "invalid_client_metadata", Message: "Application with the name ledger-batch already exist in the system", TraceID: "t-1"}},
		{"token endpoint", `{"error":"invalid_grant","error_description":"Authentication failed for admin"}`,
			serverError{Code: "invalid_grant", Message: "Authentication failed for admin"}},
		{"IS server API", `{"code":"APP-65001","message":"Server error while performing the attempted operation.","description":"An application with the same name already exists.","traceId":"44cd850a"}`,
			serverError{Code: "APP-65001", Message: "An application with the same name already exists.", TraceID: "44cd850a"}},
		{"empty", ``, serverError{}},
		{"whitespace", " \n ", serverError{}},
		{"HTML page", `<html><body><h1>502 Bad Gateway</h1></body></html>`, serverError{}},
		{"plain text", "Service\n  Unavailable", serverError{Message: "Service Unavailable"}},
		{"JSON array", `["odd"]`, serverError{Message: `["odd"]`}},
		{"truncated", `{"code":500,"message":"` + long + `"}`, serverError{Code: "500", Message: strings.Repeat("x", maxMessage) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrorBody([]byte(tt.body)); got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTruncateKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("é", 300) // 2 bytes each
	got := truncate(s, 401)
	if !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') || len(got) > 401+len("…") {
		t.Fatalf("bad truncation: %q", got[len(got)-8:])
	}
}

func TestErrorStringAndKinds(t *testing.T) {
	_, srv := serve(t, step{status: 409, body: `{"code":900301,"message":"Resource Already Exists","description":"Application with name payments-web already exists","moreInfo":"","error":[]}`})
	c := newClient(t, fastOptions(srv.URL))
	resp, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/applications", Identity: "Application payments-web",
		Body: map[string]string{"name": "payments-web"}})
	want := "POST /applications (Application payments-web): 409 Conflict: Application with name payments-web already exists [900301]"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	if resp == nil || resp.Status != 409 || !strings.Contains(string(resp.Body), "900301") {
		t.Fatalf("the failed response should be returned too: %+v", resp)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindConflict || ae.Code != "900301" || ae.Attempts != 1 {
		t.Fatalf("%+v", ae)
	}
	if !IsConflict(fmt.Errorf("wrapped: %w", err)) || IsNotFound(err) || KindOf(err) != KindConflict {
		t.Fatal("errors.Is helpers")
	}
	for status, kind := range map[int]ErrorKind{400: KindBadRequest, 401: KindUnauthorized, 403: KindForbidden, 404: KindNotFound,
		405: KindBadRequest, 409: KindConflict, 412: KindBadRequest, 429: KindRateLimited, 500: KindServer, 503: KindServer, 302: KindUnknown} {
		if got := kindFor(status); got != kind {
			t.Errorf("kindFor(%d) = %v, want %v", status, got, kind)
		}
	}
	e := &APIError{Kind: KindTransport, Method: "GET", PathTemplate: "/x", Err: errors.New("connection refused"), Attempts: 5}
	if got := e.Error(); got != "GET /x: transport error: connection refused after 5 attempts" {
		t.Errorf("transport error string: %q", got)
	}
	e = &APIError{Kind: KindServer, Method: "GET", PathTemplate: "/api/server/v1/applications", Status: 500, Code: "APP-65001", Message: "m", TraceID: "abc"}
	if got := e.Error(); got != "GET /api/server/v1/applications: 500 Internal Server Error: m [APP-65001] (trace abc)" {
		t.Errorf("trace string: %q", got)
	}
}

func TestErrorsNeverCarryTheRequestBody(t *testing.T) {
	const secret = "Sup3r-s3cret-P@ssw0rd"
	t.Run("server does not echo", func(t *testing.T) {
		_, srv := serve(t, step{status: 400, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"invalidValue","detail":"Password pattern policy violated.","status":"400"}`})
		var logs logBuffer
		opts := fastOptions(srv.URL)
		opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := newClient(t, opts)
		err := c.JSON(context.Background(), Request{Method: "POST", PathTemplate: "/scim2/Users", Identity: "User alice",
			Body: map[string]any{"userName": "alice", "password": secret}, Sensitive: true}, nil)
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "Password pattern policy violated.") {
			t.Fatalf("error: %v", err)
		}
		if strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), "path=/scim2/Users") {
			t.Fatalf("logs: %s", logs.String())
		}
	})
	t.Run("server echoes the body", func(t *testing.T) {
		_, srv := serve(t, step{status: 400, body: `{"code":400,"message":"Bad Request","description":"Invalid value '` + secret + `' for Password in {\"Password\":\"` + secret + `\"}"}`})
		c := newClient(t, fastOptions(srv.URL))
		_, err := c.Do(context.Background(), Request{Method: "PUT", PathTemplate: "/key-managers/{keyManagerId}",
			PathParams: map[string]string{"keyManagerId": "km1"},
			Body:       map[string]any{"additionalProperties": map[string]any{"Password": secret}}, Sensitive: true})
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "Invalid value '[redacted]'") {
			t.Fatalf("error: %v", err)
		}
	})
	t.Run("form secrets", func(t *testing.T) {
		_, srv := serve(t, step{status: 400, body: `{"error":"invalid_grant","error_description":"bad password ` + secret + ` for password grant"}`})
		c := newClient(t, fastOptions(srv.URL))
		_, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/oauth2/token",
			Form: map[string][]string{"grant_type": {"password"}, "password": {secret}}, Sensitive: true})
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "for password grant") {
			t.Fatalf("error: %v", err)
		}
	})
	t.Run("unencodable sensitive body", func(t *testing.T) {
		c := newClient(t, fastOptions("http://127.0.0.1:1"))
		_, err := c.Do(context.Background(), Request{Method: "POST", PathTemplate: "/x",
			Body: map[string]any{"password": secret, "bad": func() {}}, Sensitive: true})
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "func") {
			t.Fatalf("error: %v", err)
		}
	})
}

func TestDecodeErrorIsReported(t *testing.T) {
	_, srv := serve(t, step{status: 200, body: `{"count":"many"}`})
	c := newClient(t, fastOptions(srv.URL))
	var out struct{ Count int }
	err := c.JSON(context.Background(), Request{PathTemplate: "/applications"}, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "GET /applications: decoding the 200 response") {
		t.Fatalf("got %v", err)
	}
}

func TestForbiddenScopeHint(t *testing.T) {
	_, srv := serve(t, step{status: 403, body: `{"code":900910,"message":"The access token does not allow you to access the requested resource"}`})
	c := newClient(t, fastOptions(srv.URL)).WithAuth(&fakeAuth{})
	_, err := c.Do(context.Background(), Request{PathTemplate: "/key-managers", Scopes: []string{"apim:admin"}})
	if !IsForbidden(err) || !strings.Contains(HintOf(err), "apim:admin") {
		t.Fatalf("got %v hint %q", err, HintOf(err))
	}
}

func TestRequestShape(t *testing.T) {
	s, srv := serve(t, step{status: 200, body: `{"list":[]}`})
	var events []RequestEvent
	opts := fastOptions(srv.URL + "/api/am/devportal/v3/")
	opts.UserAgent = "wso2sync/1.2.3"
	opts.Observer = observerFunc(func(e RequestEvent) { events = append(events, e) })
	c := newClient(t, opts)
	_, err := c.Do(context.Background(), Request{
		Method:       "get",
		PathTemplate: "/applications/{applicationId}/keys/{keyType}",
		PathParams:   map[string]string{"applicationId": "a b/c", "keyType": "PRODUCTION"},
		Query:        map[string][]string{"limit": {"100"}, "query": {"pay ments"}},
		Header:       http.Header{"X-Extra": {"1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := s.reqs[0]
	if r.Method != "GET" || r.URL.EscapedPath() != "/api/am/devportal/v3/applications/a%20b%2Fc/keys/PRODUCTION" {
		t.Errorf("path %s %s", r.Method, r.URL.EscapedPath())
	}
	if r.URL.Query().Get("query") != "pay ments" || r.URL.Query().Get("limit") != "100" {
		t.Errorf("query %s", r.URL.RawQuery)
	}
	if r.Header.Get("User-Agent") != "wso2sync/1.2.3" || r.Header.Get("Accept") != "application/json" || r.Header.Get("X-Extra") != "1" {
		t.Errorf("headers %v", r.Header)
	}
	if len(events) != 1 || events[0].Status != 200 || events[0].PathTemplate != "/applications/{applicationId}/keys/{keyType}" ||
		events[0].Server != "test" || events[0].Attempt != 1 || events[0].Method != "GET" {
		t.Errorf("events %+v", events)
	}
}

type observerFunc func(RequestEvent)

func (f observerFunc) ObserveRequest(e RequestEvent) { f(e) }

func TestBodies(t *testing.T) {
	s, srv := serve(t, step{status: 200})
	c := newClient(t, fastOptions(srv.URL))
	ctx := context.Background()
	if _, err := c.Do(ctx, Request{Method: "POST", PathTemplate: "/j", Body: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, Request{Method: "POST", PathTemplate: "/f", Form: map[string][]string{"grant_type": {"password"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, Request{Method: "POST", PathTemplate: "/m", Multipart: &Multipart{
		Fields: map[string]string{"alias": "ledger", "endpoint": "https://ledger-service:8002"},
		Files:  []MultipartFile{{Field: "certificate", FileName: "ledger.pem", Content: []byte("-----BEGIN CERTIFICATE-----")}},
	}}); err != nil {
		t.Fatal(err)
	}
	if ct := s.reqs[0].Header.Get("Content-Type"); ct != "application/json" || string(s.bodies[0]) != `{"a":1}` {
		t.Errorf("json: %s %s", ct, s.bodies[0])
	}
	if ct := s.reqs[1].Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" || string(s.bodies[1]) != "grant_type=password" {
		t.Errorf("form: %s %s", ct, s.bodies[1])
	}
	ct := s.reqs[2].Header.Get("Content-Type")
	mp := string(s.bodies[2])
	if !strings.HasPrefix(ct, "multipart/form-data; boundary=") || !strings.Contains(mp, `name="alias"`) ||
		!strings.Contains(mp, `name="certificate"; filename="ledger.pem"`) || !strings.Contains(mp, "BEGIN CERTIFICATE") {
		t.Errorf("multipart: %s\n%s", ct, mp)
	}
	_, err := c.Do(ctx, Request{Method: "POST", PathTemplate: "/x", Body: 1, Form: map[string][]string{}})
	if err == nil || !strings.Contains(err.Error(), "only one of") {
		t.Errorf("two bodies: %v", err)
	}
}

func TestExpandPath(t *testing.T) {
	tests := []struct {
		tmpl    string
		params  map[string]string
		want    string
		wantErr string
	}{
		{"/applications", nil, "/applications", ""},
		{"/scim2/Users/{id}", map[string]string{"id": "a/b?c"}, "/scim2/Users/a%2Fb%3Fc", ""},
		{"/a/{x}/b/{y}", map[string]string{"x": "1", "y": "2"}, "/a/1/b/2", ""},
		{"/a/{x}", nil, "", "no value for {x}"},
		{"/a/{x}", map[string]string{"x": ""}, "", "no value for {x}"},
		{"/a", map[string]string{"x": "1"}, "", "no placeholder for x"},
		{"/a/{x", map[string]string{"x": "1"}, "", "unbalanced {"},
		{"/a/x}", nil, "", "unbalanced }"},
		{"a", nil, "", "must start with /"},
	}
	for _, tt := range tests {
		got, err := expandPath(tt.tmpl, tt.params)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.tmpl, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestNewClientRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "localhost:9443", "ftp://x", "https://", "https://x?y=1"} {
		if _, err := NewClient(Options{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
