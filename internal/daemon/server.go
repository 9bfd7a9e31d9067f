package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
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
	mux.HandleFunc("GET /{$}", d.handlePage)
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
// pass. Anything unsigned or wrongly signed gets 401 and changes nothing.
// A GitHub/Gitea/GitLab push payload naming another branch is accepted
// and ignored.
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
	if ev := r.Header.Get("X-GitHub-Event"); ev == "ping" {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		writeJSON(w, http.StatusOK, map[string]string{"result": "pong"})
		return
	}
	var push struct {
		Ref string `json:"ref"`
	}
	_ = json.Unmarshal(body, &push) // any body will do; a push event's ref filters
	if m, ok := d.opts.Source.(refMatcher); ok && push.Ref != "" && !m.MatchesRef(push.Ref) {
		d.metrics.webhooks.WithLabelValues("ignored").Inc()
		d.log.Info("webhook ignored: another ref", "ref", push.Ref)
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "ignored", "reason": "push to " + push.Ref + ", not the ref this daemon follows"})
		return
	}
	d.metrics.webhooks.WithLabelValues("accepted").Inc()
	queued := d.Trigger("webhook")
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

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"in": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return "in " + time.Until(t).Round(time.Second).String()
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>wso2sync</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
h1{font-size:1.3em} table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
.success{color:#176f2c}.failure,.timeout{color:#b3261e}.invalid{color:#9a6700}
code{background:#f4f4f4;padding:0 .3em}
</style></head><body>
<h1>wso2sync {{.Version}}</h1>
<table>
<tr><th>Ready</th><td>{{if .Ready}}<span class="success">yes</span>{{else}}<span class="failure">no</span>{{end}} — {{.ReadyReason}}</td></tr>
<tr><th>Mode</th><td>{{or .Mode "from the environment"}}</td></tr>
<tr><th>Source</th><td>{{.Source.Source}} <code>{{.Source.URL}}</code>{{with .Source.Ref}} ref <code>{{.}}</code>{{end}}{{with .Source.Path}} path <code>{{.}}</code>{{end}}</td></tr>
<tr><th>Revision</th><td>{{with .Source.Commit}}<code>{{short .}}</code> {{$.Source.Message}}{{else}}—{{end}}</td></tr>
<tr><th>Running</th><td>{{with .Running}}pass {{.ID}} ({{.Reason}}) since {{ago .Start}}{{else}}no{{end}}</td></tr>
<tr><th>Next pass</th><td>{{in .NextPass}} (interval {{.Interval}})</td></tr>
<tr><th>Failures in a row</th><td>{{.ConsecutiveFailures}}</td></tr>
<tr><th>Last success</th><td>{{with .LastSuccess}}{{ago .Start}} (pass {{.ID}}){{else}}never{{end}}</td></tr>
</table>
{{with .LastPass}}
<h2>Last pass {{.ID}}: <span class="{{.Result}}">{{.Result}}</span></h2>
<table>
<tr><th>When</th><td>{{ago .Start}}, took {{.Duration}} ({{.Reason}})</td></tr>
<tr><th>Plan</th><td>{{.Plan.Create}} to create, {{.Plan.Update}} to update, {{.Plan.Replace}} to replace, {{.Plan.Delete}} to delete, {{.Plan.NoOp}} unchanged</td></tr>
{{with .Applied}}<tr><th>Applied</th><td>{{range $k, $m := .}}{{range $a, $n := $m}}{{$k}} {{$a}} ×{{$n}}<br>{{end}}{{end}}</td></tr>{{end}}
{{with .Drift}}<tr><th>Drift</th><td>{{range $k, $n := .}}{{$k}}: {{$n}}<br>{{end}}</td></tr>{{end}}
{{with .Error}}<tr><th>Error</th><td class="failure">{{.}}</td></tr>{{end}}
</table>
{{with .Errors}}<h3>Errors</h3><ul>{{range .}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
{{with .Warnings}}<h3>Warnings</h3><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .Unmanaged}}<h3>Unmanaged objects</h3><ul>{{range .}}<li>{{.Kind}} <code>{{.Name}}</code></li>{{end}}</ul>{{end}}
{{end}}
<h2>History</h2>
<table><tr><th>Pass</th><th>Started</th><th>Reason</th><th>Result</th><th>Commit</th><th>Changes</th><th>Applied</th><th>Took</th></tr>
{{range .History}}<tr><td>{{.ID}}</td><td>{{ago .Start}}</td><td>{{.Reason}}</td><td class="{{.Result}}">{{.Result}}</td><td><code>{{short .Commit}}</code></td><td>{{.Changes}}</td><td>{{.Applied}}</td><td>{{.Duration}}</td></tr>
{{end}}</table>
<p><a href="/status">/status</a> · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a></p>
</body></html>
`))

func (d *Daemon) handlePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, d.Status()); err != nil {
		d.log.Warn("status page", "err", err)
	}
}
