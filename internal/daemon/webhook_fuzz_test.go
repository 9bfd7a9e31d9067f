package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

// FuzzWebhook throws arbitrary deliveries at POST /sync (body, content
// type, delivery id, signed or not) and checks the handler's contract:
// it never panics; it answers only with the documented codes; unsigned
// means 401; a 202 (a pass asked for) needs a valid signature, a JSON or
// form content type and a payload that parses; and the same delivery sent
// again is never accepted twice. make test runs it briefly (make fuzz).
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"ref":"refs/heads/main"}`), "application/json", "d-1", true, false)
	f.Add([]byte(`payload=%7B%22ref%22%3A%22x%22%7D`), "application/x-www-form-urlencoded", "", true, false)
	f.Add([]byte(`{"ref":`), "application/json; charset=utf-8", "", true, false)
	f.Add([]byte(`<xml/>`), "text/xml", "d-2", true, false)
	f.Add([]byte(`{}`), "", "", false, false)
	f.Add([]byte(`{}`), "application/json", "ping", true, true)
	f.Add(bytes.Repeat([]byte("["), 5000), "application/json", "deep", true, false)
	secret := []byte("fuzz-secret")
	d, err := New(Options{Source: staticSource{f.TempDir()}, Pass: func(context.Context, PassRequest) (PassResult, error) { return PassResult{}, nil },
		WebhookSecret: secret, Scheduler: SchedulerOptions{Interval: time.Hour}})
	if err != nil {
		f.Fatal(err)
	}
	h := d.Handler()
	allowed := []int{http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized,
		http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}
	f.Fuzz(func(t *testing.T, body []byte, contentType, delivery string, sign, ping bool) {
		send := func() (int, string) {
			req := httptest.NewRequest(http.MethodPost, "/sync", bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if delivery != "" {
				req.Header.Set("X-GitHub-Delivery", delivery)
			}
			if ping {
				req.Header.Set("X-GitHub-Event", "ping")
			}
			if sign {
				req.Header.Set(SignatureHeader, Sign(secret, body))
			} else {
				req.Header.Set(SignatureHeader, Sign([]byte("not the secret"), body))
			}
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, req)
			return rr.Code, rr.Body.String()
		}
		code, msg := send()
		if !slices.Contains(allowed, code) {
			t.Fatalf("status %d (%s)", code, msg)
		}
		if !sign && code != http.StatusUnauthorized {
			t.Fatalf("a wrongly signed delivery got %d (%s)", code, msg)
		}
		if code == http.StatusAccepted || code == http.StatusOK {
			if !sign || !parses(contentType, body) {
				t.Fatalf("accepted (%d) a delivery that is unsigned or does not parse: %q %q", code, contentType, body)
			}
			if again, _ := send(); again != http.StatusConflict {
				t.Fatalf("the same delivery again: %d, want 409", again)
			}
		}
	})
}

// parses is the fuzz oracle: what the webhook should accept, written
// independently of webhookPayload.
func parses(contentType string, body []byte) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	payload := body
	switch mt {
	case "application/json":
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil || len(v["payload"]) != 1 {
			return false
		}
		payload = []byte(v.Get("payload"))
	default:
		return false
	}
	return json.Valid(payload)
}
