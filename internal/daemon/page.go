package daemon

import (
	"embed"
	"html/template"
	"net/http"
	"time"
)

// The status page at /: server-rendered with html/template (every value
// escaped for its context), complete without JavaScript; page.js only
// follows GET /events and swaps in the re-rendered page. The page reads
// only: it has no form and no button that changes anything, and its
// Content-Security-Policy forbids forms, inline scripts and other origins.

//go:embed page/status.html page/page.css page/page.js
var pageFiles embed.FS

var pageTemplate = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := time.Since(t).Round(time.Second)
		if d < time.Second {
			return "just now"
		}
		return HumanDuration(d) + " ago"
	},
	"in": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		d := time.Until(t).Round(time.Second)
		if d <= 0 {
			return "due now"
		}
		return "in " + HumanDuration(d)
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"stateLabel": StateLabel,
	"inSync": func(objs []ObjectStatus) *inSyncList {
		l := &inSyncList{}
		for _, o := range objs {
			if o.State != StateInSync || o.Corrected {
				continue
			}
			l.Total++
			if len(l.Objects) < maxInSyncListed {
				l.Objects = append(l.Objects, o)
			}
		}
		if l.Total == 0 {
			return nil
		}
		l.More = l.Total - len(l.Objects)
		return l
	},
	"first": func(n int, objs []UnmanagedObject) []UnmanagedObject { return objs[:min(n, len(objs))] },
}).ParseFS(pageFiles, "page/status.html"))

// maxInSyncListed caps the objects in sync listed per kind (and the
// unmanaged ones): an IS with 20,000 users would make a page nobody
// reads. /status and `wso2sync status --all` list all.
const maxInSyncListed = 1000

type inSyncList struct {
	Objects     []ObjectStatus
	Total, More int
}

// pageSecurity are the headers of every page response: no inline script,
// no other origin, no form submission, no framing, no referrer to forges.
func pageSecurity(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (d *Daemon) handlePage(w http.ResponseWriter, _ *http.Request) {
	pageSecurity(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, d.Status()); err != nil {
		d.log.Warn("status page", "err", err)
	}
}

func pageAsset(name, contentType string) http.HandlerFunc {
	b, err := pageFiles.ReadFile("page/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		pageSecurity(w.Header())
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(b)
	}
}
