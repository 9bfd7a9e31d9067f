package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxWebhookBody is the largest POST /sync body read (1 MiB).
const MaxWebhookBody = 1 << 20

// SignatureHeader carries the webhook's HMAC-SHA256 ("sha256=<hex>").
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the X-Hub-Signature-256 value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Handler serves /sync, /healthz, /readyz, /metrics, /status and /.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sync", d.handleSync)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ready, why := d.readiness(d.clock.Now())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		io.WriteString(w, why+"\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{Registry: d.metrics.reg}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, d.Status())
	})
	mux.HandleFunc("GET /events", d.handleEvents)
	mux.HandleFunc("GET /{$}", d.handlePage)
	mux.HandleFunc("GET /page.css", pageAsset("page.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /page.js", pageAsset("page.js", "text/javascript; charset=utf-8"))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// refMatcher is a source that knows which pushed refs concern it.
type refMatcher interface {
	MatchesRef(ref string) bool
}

// handleSync is the webhook: an HMAC-signed POST asks for a fetch and a
// pass. Anything unsigned or wrongly signed gets 401 and changes nothing;
// then the delivery must be JSON (415 for another content type, 400 for a
// body that does not parse; webhook.go) and new: a delivery id seen in the
// last hour is a replay, answered 409 without a pass. A GitHub/Gitea/GitLab
// push payload naming another branch is accepted and ignored.
func (d *Daemon) handleSync(w http.ResponseWriter, r *http.Request) {
	if len(d.opts.WebhookSecret) == 0 {
		d.metrics.webhooks.WithLabelValues("disabled").Inc()
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the webhook is disabled: start the daemon with --webhook-secret-env"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			d.metrics.webhooks.WithLabelValues("too_large").Inc()
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body larger than 1 MiB"})
			return
		}
		d.metrics.webhooks.WithLabelValues("bad_request").Inc()
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "cannot read the body"})
		return
	}
	if !validSignature(d.opts.WebhookSecret, body, r.Header.Get(SignatureHeader)) {
		d.metrics.webhooks.WithLabelValues("unauthorized").Inc()
		d.log.Warn("webhook rejected: missing or bad signature", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or bad " + SignatureHeader})
		return
	}
	payload, status, msg := webhookPayload(r.Header.Get("Content-Type"), body)
	if status != 0 {
		d.metrics.webhooks.WithLabelValues("bad_request").Inc()
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	if fresh, at := d.deliveries.first(deliveryID(r.Header), d.clock.Now()); !fresh {
		d.metrics.webhooks.WithLabelValues("replayed").Inc()
		d.log.Warn("webhook rejected: a replayed delivery", "remote", r.RemoteAddr, "firstSeen", at)
		writeJSON(w, http.StatusConflict, map[string]string{"error": "this delivery was already received at " + at.UTC().Format(time.RFC3339) +
			"; a delivery is accepted once (replays within " + ReplayWindow.String() + " are refused)"})
		return
	}
	if ev := r.Header.Get("X-GitHub-Event"); ev == "ping" {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		writeJSON(w, http.StatusOK, map[string]string{"result": "pong"})
		return
	}
	var push struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal(payload, &push) // any JSON will do; a push event's ref filters
	if m, ok := d.opts.Source.(refMatcher); ok && push.Ref != "" && !m.MatchesRef(push.Ref) {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		d.log.Info("webhook ignored: another ref", "ref", push.Ref)
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "ignored", "reason": "push to " + push.Ref + ", not the ref this daemon follows"})
		return
	}
	d.metrics.webhooks.WithLabelValues("accepted").Inc()
	queued := d.Trigger(webhookReason(r.Header))
	res := map[string]any{"result": "accepted", "queued": queued}
	if !queued {
		res["note"] = "a pass was already queued; it will see this change"
	}
	writeJSON(w, http.StatusAccepted, res)
}

// validSignature checks "sha256=<hex>" in constant time.
func validSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// MatchesRef reports whether a pushed ref (refs/heads/main) is the one
// this source follows.
func (s *GitSource) MatchesRef(ref string) bool {
	s.mu.Lock()
	name := s.refName
	s.mu.Unlock()
	if name != "" {
		return ref == name.String()
	}
	r := s.opts.Ref
	return ref == r || ref == "refs/heads/"+r || ref == "refs/tags/"+r || hexRef.MatchString(r)
}
