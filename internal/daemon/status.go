package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// Duration is a time.Duration that JSON writes as "1.5s".
type Duration time.Duration

// MarshalJSON rounds to the millisecond ("27ms", "1.532s"): finer digits
// are noise to people and tools alike.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Round(time.Millisecond).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String is the duration for people: "28 ms", "1.4 s", "2 min 5 s".
func (d Duration) String() string { return HumanDuration(time.Duration(d)) }

// HumanDuration writes d for people, with the precision that matters at
// its size: "0 ms", "28 ms", "1.4 s", "12 s", "2 min 5 s", "3 h 10 min".
func HumanDuration(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%s%d ms", neg, d.Round(time.Millisecond)/time.Millisecond)
	case d < 10*time.Second:
		return fmt.Sprintf("%s%.1f s", neg, d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%s%d s", neg, d.Round(time.Second)/time.Second)
	case d < time.Hour:
		d = d.Round(time.Second)
		if d%time.Minute == 0 {
			return fmt.Sprintf("%s%d min", neg, d/time.Minute)
		}
		return fmt.Sprintf("%s%d min %d s", neg, d/time.Minute, (d%time.Minute)/time.Second)
	}
	d = d.Round(time.Minute)
	if d%time.Hour == 0 {
		return fmt.Sprintf("%s%d h", neg, d/time.Hour)
	}
	return fmt.Sprintf("%s%d h %d min", neg, d/time.Hour, (d%time.Hour)/time.Minute)
}

// RunningPass is the pass in progress.
type RunningPass struct {
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
}

// PassStatus is a finished pass.
type PassStatus struct {
	ID      string  `json:"id"`
	Reason  string  `json:"reason"`
	Trigger Trigger `json:"trigger"`
	// Revision is what the pass read: the commit (with author, message
	// and its forge link) or the folder's digest.
	Revision Revision  `json:"revision"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration Duration  `json:"duration"`
	// Result is success, failure, invalid or timeout.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Hint says what to do about Error.
	Hint string `json:"hint,omitempty"`
	PassResult
}

// PassBrief is a line of the pass history.
type PassBrief struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Trigger  Trigger   `json:"trigger"`
	Start    time.Time `json:"start"`
	Duration Duration  `json:"duration"`
	Result   string    `json:"result"`
	// Commit is the full commit hash (git); Revision what the pass read
	// for people: the short commit or the folder's digest.
	Commit    string `json:"commit,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Author    string `json:"author,omitempty"`
	Message   string `json:"message,omitempty"`
	CommitURL string `json:"commitURL,omitempty"`
	// Planned: the pass got as far as a plan. Changes is the number of
	// changes planned, Applied and Failed how many were applied and
	// failed.
	Planned bool   `json:"planned"`
	Changes int    `json:"changes"`
	Applied int    `json:"applied"`
	Failed  int    `json:"failed"`
	Error   string `json:"error,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

func (p *PassStatus) brief() PassBrief {
	n := 0
	for _, m := range p.Applied {
		for _, c := range m {
			n += c
		}
	}
	rev := p.Revision
	b := PassBrief{ID: p.ID, Reason: p.Reason, Trigger: p.Trigger, Start: p.Start, Duration: p.Duration, Result: p.Result,
		Commit: rev.Commit, Author: rev.Author, Message: rev.Message, CommitURL: rev.CommitURL,
		Planned: p.Estate != nil, Changes: p.Plan.Changes(), Applied: n, Failed: p.FailedSteps, Error: p.Error, Hint: p.Hint}
	if rev.Commit != "" || rev.Digest != "" {
		b.Revision = rev.Short()
	}
	return b
}

// Trigger is why a pass ran, read from its reason.
type Trigger struct {
	// Kind is start, interval, retry, change, webhook, git, or the
	// reason itself for anything else (a test's "check").
	Kind string `json:"kind"`
	// Files are the changed files of a change ("+3 more" included).
	Files []string `json:"files,omitempty"`
	// Delivery is the webhook's delivery id (X-GitHub-Delivery and the
	// like), when it sent one.
	Delivery string `json:"delivery,omitempty"`
	// Ref and Commit are what a git poll saw move.
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// ParseTrigger reads a pass's reason: "start", "interval", "retry",
// "change: a.yaml, b.yaml", "webhook", "webhook: <delivery>",
// "git: main at <commit>".
func ParseTrigger(reason string) Trigger {
	kind, rest, _ := strings.Cut(reason, ":")
	rest = strings.TrimSpace(rest)
	t := Trigger{Kind: kind}
	switch kind {
	case "change":
		if rest != "" {
			t.Files = strings.Split(rest, ", ")
		}
	case "webhook":
		t.Delivery = rest
	case "git":
		t.Ref, t.Commit, _ = strings.Cut(rest, " at ")
	default:
		t.Kind = reason
	}
	return t
}

// Status is what GET /status returns.
type Status struct {
	Version     string    `json:"version,omitempty"`
	Mode        string    `json:"mode"`
	Started     time.Time `json:"started"`
	Ready       bool      `json:"ready"`
	ReadyReason string    `json:"readyReason"`
	// Source is the source and the revision of the last pass.
	Source              Revision     `json:"source"`
	Running             *RunningPass `json:"running,omitempty"`
	NextPass            time.Time    `json:"nextPass"`
	Interval            Duration     `json:"interval"`
	ConsecutiveFailures int          `json:"consecutiveFailures"`
	LastPass            *PassStatus  `json:"lastPass,omitempty"`
	LastSuccess         *PassBrief   `json:"lastSuccess,omitempty"`
	// Estate is every managed object with its state, from the last pass
	// that got as far as a plan (Estate.Pass says which).
	Estate *Estate `json:"estate,omitempty"`
	// LastVerify is the last verification (run after an enforcing pass
	// that applied something; verify.go).
	LastVerify *VerifyStatus `json:"lastVerify,omitempty"`
	History    []PassBrief   `json:"history"`
}

// Status is the daemon's status now.
func (d *Daemon) Status() Status {
	now := d.clock.Now()
	ready, why := d.readiness(now)
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{
		Version: d.opts.Version, Mode: d.opts.Mode, Started: d.started.UTC(), Ready: ready, ReadyReason: why,
		Source: d.source, NextPass: d.sched.Next().UTC(), Interval: Duration(d.opts.Scheduler.Interval),
		ConsecutiveFailures: d.sched.Failures(), History: append([]PassBrief(nil), d.history...),
	}
	if st.Mode == "" && d.last != nil {
		st.Mode = d.last.Mode
	}
	if d.running != nil {
		r := *d.running
		st.Running = &r
	}
	if d.last != nil {
		l := *d.last
		st.LastPass = &l
	}
	if d.lastSuccess != nil {
		b := d.lastSuccess.brief()
		st.LastSuccess = &b
	}
	st.Estate = d.estate // never modified once stored
	st.LastVerify = d.lastVerify
	return st
}

// readiness: ready once a pass succeeded, and while the last success is
// within ReadyGrace when later passes fail (a pass reads both servers, so
// success also means they are reachable).
func (d *Daemon) readiness(now time.Time) (bool, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.stopping.Load():
		return false, "shutting down"
	case d.last == nil:
		return false, "the first pass has not finished"
	case d.last.Result == ResultSuccess:
		return true, "the last pass succeeded"
	case d.lastSuccess != nil && now.Sub(d.lastSuccess.End) <= d.opts.ReadyGrace:
		return true, fmt.Sprintf("the last pass ended %s, but the last success (%s ago) is within the grace of %s",
			d.last.Result, HumanDuration(now.Sub(d.lastSuccess.End).Round(time.Second)), HumanDuration(d.opts.ReadyGrace))
	case d.lastSuccess != nil:
		return false, fmt.Sprintf("the last pass ended %s and the last success was %s ago (grace %s): %s",
			d.last.Result, HumanDuration(now.Sub(d.lastSuccess.End).Round(time.Second)), HumanDuration(d.opts.ReadyGrace), d.last.Error)
	}
	return false, fmt.Sprintf("no pass has succeeded yet; the last ended %s: %s", d.last.Result, d.last.Error)
}

// hintFor says what to do about a failed pass: the hint the error carries
// (a refusal of apply, a server's or the transport's), else one by where
// it failed.
func hintFor(err error, result string, rev Revision) string {
	var ae *apply.Error
	if errors.As(err, &ae) && ae.Hint != "" {
		return ae.Hint
	}
	if h := providers.HintOf(err); h != "" {
		return h
	}
	switch transport.KindOf(err) {
	case transport.KindServer, transport.KindRateLimited:
		return "the server answered with an error after the retries: check its health and logs; the next pass retries after a backoff"
	case transport.KindTransport:
		return "no answer from the server: check its URL, DNS, TLS settings and that it is up; the next pass retries after a backoff"
	case transport.KindUnauthorized, transport.KindForbidden:
		return "the server refused the credentials: check spec.credentials and the user's roles and scopes"
	}
	switch {
	case result == ResultInvalid:
		return "fix the manifests as the errors say; nothing was applied and the estate keeps the last good state"
	case result == ResultTimeout:
		return "the pass took longer than --pass-timeout: check the servers' response times, or raise --pass-timeout"
	case strings.HasPrefix(err.Error(), "source:") && rev.Source == "git":
		return "check that the remote is reachable and the credentials (--git-password-env, --git-ssh-key) are valid; the last checkout stays in use"
	case strings.HasPrefix(err.Error(), "Apply "):
		return "the failed objects are listed with the servers' messages; the next pass retries them"
	}
	return "see the error; the next pass retries (after a backoff)"
}

// deliveryHeaders carry a webhook's delivery id, by forge.
var deliveryHeaders = []string{"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery", "X-Gitlab-Event-UUID", "X-Request-UUID", "X-Hook-UUID"}

// webhookReason is the reason of a pass a webhook asked for, with its
// delivery id when the forge sent one ("webhook: <id>"), so the history
// matches the forge's list of deliveries. Only an id's safe characters
// are kept.
func webhookReason(h http.Header) string {
	for _, name := range deliveryHeaders {
		id := strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return -1
		}, h.Get(name))
		if id != "" {
			if len(id) > 64 {
				id = id[:64]
			}
			return "webhook: " + id
		}
	}
	return "webhook"
}
