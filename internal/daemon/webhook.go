package daemon

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Webhook hardening (issue 15): beyond the HMAC check, a delivery must be
// JSON (or GitHub's form encoding, payload=<JSON>) that parses, and a
// signed delivery is accepted once: a replay within ReplayWindow is
// answered 409 and triggers nothing.

// ReplayWindow is how long a delivery id is remembered.
const ReplayWindow = time.Hour

// maxDeliveries bounds the ids remembered (only signed deliveries are
// recorded, so only holders of the secret can fill it); when full, the
// oldest are forgotten first.
const maxDeliveries = 10_000

// webhookPayload extracts the JSON payload of a delivery by its content
// type: application/json (any charset), or application/x-www-form-urlencoded
// with the JSON in the payload field (GitHub's "form" content type).
// ok is false with the HTTP status and message to answer.
func webhookPayload(contentType string, body []byte) (payload []byte, status int, msg string) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json (or GitHub's application/x-www-form-urlencoded)"
	}
	switch mt {
	case "application/json":
		payload = body
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["payload"]) != 1 {
			return nil, http.StatusBadRequest, "a form-encoded delivery carries one payload field holding the JSON"
		}
		payload = []byte(form.Get("payload"))
	default:
		return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json (or GitHub's application/x-www-form-urlencoded), not " + trimForMessage(mt)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, http.StatusBadRequest, "the body is not JSON"
	}
	return payload, 0, ""
}

// trimForMessage keeps a client-chosen value short in an answer.
func trimForMessage(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// deliveryID is the id of a delivery: the forge's delivery header, else
// the body's signature (so an identical signed body is a replay too; a
// sender without delivery ids that triggers repeatedly varies its body,
// as every push payload does).
func deliveryID(h http.Header) string {
	for _, name := range deliveryHeaders {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			return name + ":" + trimForMessage(v)
		}
	}
	return "signature:" + h.Get(SignatureHeader)
}

// deliveryLog remembers the ids of accepted deliveries for ReplayWindow.
type deliveryLog struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	order []string // ids in the order first seen (oldest first)
}

// first records id at now and reports whether it was not seen within the
// window (true: a new delivery; false: a replay, and when it was seen).
func (l *deliveryLog) first(id string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]time.Time{}
	}
	// Forget what left the window, and the oldest beyond the bound.
	drop := 0
	for drop < len(l.order) && (now.Sub(l.seen[l.order[drop]]) >= ReplayWindow || len(l.order)-drop >= maxDeliveries) {
		delete(l.seen, l.order[drop])
		drop++
	}
	l.order = l.order[drop:]
	if at, ok := l.seen[id]; ok {
		return false, at
	}
	l.seen[id] = now
	l.order = append(l.order, id)
	return true, time.Time{}
}
