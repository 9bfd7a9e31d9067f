package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestBuildEstate: every object of the plan gets its state from the plan
// and the apply: NoOp in sync, planned and not applied drifted, applied in
// sync (corrected), failed, not attempted blocked, deletes the prune guard
// refused blocked, objects a workflow holds pending; field values as the
// text plan prints them, a sensitive one without even its fingerprint;
// unmanaged apart.
func TestBuildEstate(t *testing.T) {
	pos := func(line int) spec.Position { return spec.Position{File: "/env/apps.yaml", Line: line} }
	plan := &diff.Plan{Environment: "dev", Changes: []diff.Change{
		{Kind: spec.KindRole, Name: "readers", Action: diff.NoOp, Source: pos(1)},
		{Kind: spec.KindApplication, Name: "drifted", Action: diff.Update, Reason: "drift: spec.description", Source: pos(10),
			Fields: []diff.FieldDiff{{Path: "spec.description", Before: "by hand", After: "as declared", Source: pos(14)}}},
		{Kind: spec.KindApplication, Name: "fixed", Action: diff.Update, Source: pos(20)},
		{Kind: spec.KindApplication, Name: "broken", Action: diff.Create, Source: pos(30)},
		{Kind: spec.KindApplication, Name: "in-sync", Action: diff.NoOp, Source: pos(40)},
		{Kind: spec.KindUser, Name: "alice", Action: diff.Update, Source: pos(50),
			Fields: []diff.FieldDiff{{Path: "spec.password", Before: diff.Redacted("sha256:aaaa"), After: "hunter2-cleartext", Sensitive: true}}},
		{Kind: spec.KindUser, Name: "old", Action: diff.Delete},
		{Kind: spec.KindThrottlingPolicy, Name: "application/Gold", Action: diff.Blocked, Reason: "APIM refuses to delete a tier in use",
			BlockedBy: []diff.Ref{{Kind: spec.KindApplication, Name: "web"}}},
		{Kind: spec.KindSubscription, Name: "web--Pets--1.0", Action: diff.NoOp, Source: pos(60)},
		{Kind: spec.KindSubscription, Name: "web--Orders--1.0", Action: diff.Create, Source: pos(70)},
	}, Unmanaged: []diff.Ref{{Kind: spec.KindApplication, Name: "legacy", Reason: "not created by wso2sync"}}}
	res := &apply.Result{
		Applied:      []apply.StepResult{{Ref: apply.Ref{Kind: spec.KindApplication, Name: "fixed"}, Status: apply.StatusApplied}},
		Failed:       []apply.StepResult{{Ref: apply.Ref{Kind: spec.KindApplication, Name: "broken"}, Status: apply.StatusFailed, Message: "409 conflict"}},
		NotAttempted: []apply.StepResult{{Ref: apply.Ref{Kind: spec.KindSubscription, Name: "web--Orders--1.0"}, Status: apply.StatusNotAttempted, Message: "depends on a failed step"}},
	}
	e := buildEstate(estateInput{plan: plan, result: res, baseDir: "/env", mode: "enforce",
		pending:        []diff.Ref{{Kind: spec.KindSubscription, Name: "web--Pets--1.0", Reason: "ON_HOLD"}},
		deletesBlocked: "5 deletes exceed spec.prune.maxDeletes"})

	want := map[string]string{"Role/readers": StateInSync, "Application/drifted": StateDrifted, "Application/fixed": StateInSync,
		"Application/broken": StateFailed, "Application/in-sync": StateInSync, "User/alice": StateDrifted, "User/old": StateBlocked,
		"Subscription/web--Pets--1.0": StatePending, "Subscription/web--Orders--1.0": StateBlocked,
		"ThrottlingPolicy/application/Gold": StateBlocked}
	got := map[string]ObjectStatus{}
	var kinds []string
	for _, k := range e.Kinds {
		kinds = append(kinds, k.Kind)
		for _, o := range k.Objects {
			got[k.Kind+"/"+o.Name] = o
		}
	}
	if strings.Join(kinds, ",") != "Role,Application,User,ThrottlingPolicy,Subscription" {
		t.Errorf("kinds %v: want the plan's order", kinds)
	}
	for name, state := range want {
		if got[name].State != state {
			t.Errorf("%s: state %q, want %q (%+v)", name, got[name].State, state, got[name])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d objects, want %d", len(got), len(want))
	}
	wantCounts := map[string]int{StateInSync: 3, StateDrifted: 2, StateBlocked: 3, StateFailed: 1, StatePending: 1}
	for s, n := range wantCounts {
		if e.Counts[s] != n {
			t.Errorf("count %s = %d, want %d", s, e.Counts[s], n)
		}
	}
	if e.Unmanaged != 1 || e.UnmanagedObjects[0].Name != "legacy" || e.Environment != "dev" || e.Total() != 10 {
		t.Errorf("estate %+v", e)
	}
	d := got["Application/drifted"]
	if d.Source != "apps.yaml:10" || len(d.Fields) != 1 || d.Fields[0].Before != `"by hand"` || d.Fields[0].After != `"as declared"` ||
		d.Fields[0].Source != "apps.yaml:14" || d.Action != "update" || d.Reason != "drift: spec.description" {
		t.Errorf("drifted: %+v", d)
	}
	if f := got["Application/fixed"]; !f.Corrected {
		t.Errorf("applied: %+v, want corrected", f)
	}
	if b := got["Application/broken"]; b.Message != "409 conflict" {
		t.Errorf("failed: %+v", b)
	}
	if o := got["User/old"]; !strings.Contains(o.Message, "maxDeletes") {
		t.Errorf("blocked delete: %+v", o)
	}
	if o := got["ThrottlingPolicy/application/Gold"]; o.Message != "APIM refuses to delete a tier in use (in use by: Application/web)" || o.Action != "delete" {
		t.Errorf("a delete the server would refuse: %+v", o)
	}
	b, _ := json.Marshal(e)
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "sha256:aaaa") {
		t.Errorf("a sensitive value or its fingerprint reached the estate: %s", b)
	}
	if a := got["User/alice"]; a.Fields[0].Before != "(sensitive)" || a.Fields[0].After != "(sensitive value changed)" {
		t.Errorf("sensitive field: %+v", a.Fields[0])
	}
}

func TestParseTrigger(t *testing.T) {
	for reason, want := range map[string]Trigger{
		"start":                         {Kind: "start"},
		"interval":                      {Kind: "interval"},
		"change: apps.yaml, roles.yaml": {Kind: "change", Files: []string{"apps.yaml", "roles.yaml"}},
		"webhook":                       {Kind: "webhook"},
		"webhook: 72d3162e-cc78-11e3":   {Kind: "webhook", Delivery: "72d3162e-cc78-11e3"},
		"git: main at 0123456789ab":     {Kind: "git", Ref: "main", Commit: "0123456789ab"},
		"check":                         {Kind: "check"},
	} {
		got := ParseTrigger(reason)
		if g, w := mustJSON(got), mustJSON(want); g != w {
			t.Errorf("%q: %s, want %s", reason, g, w)
		}
	}
	if r := ChangeReason([]string{"a", "b", "c", "d", "e", "f", "g"}); r != "change: a, b, c, d, e (+2 more)" {
		t.Errorf("ChangeReason: %q", r)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		27938946 * time.Nanosecond:   "28 ms",
		0:                            "0 ms",
		1400 * time.Millisecond:      "1.4 s",
		12 * time.Second:             "12 s",
		125 * time.Second:            "2 min 5 s",
		10 * time.Minute:             "10 min",
		3*time.Hour + 10*time.Minute: "3 h 10 min",
		2 * time.Hour:                "2 h",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	b, _ := json.Marshal(Duration(27938946 * time.Nanosecond))
	if string(b) != `"28ms"` {
		t.Errorf("JSON %s, want \"28ms\"", b)
	}
}

func TestForgeLinks(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	for remote, want := range map[string]string{
		"https://github.com/acme/estate.git":        "https://github.com/acme/estate/commit/" + c,
		"git@github.com:acme/estate.git":            "https://github.com/acme/estate/commit/" + c,
		"ssh://git@gitlab.com/acme/platform/estate": "https://gitlab.com/acme/platform/estate/-/commit/" + c,
		"https://bitbucket.org/acme/estate":         "https://bitbucket.org/acme/estate/commits/" + c,
		"https://git.internal.example/acme/estate":  "",
		"/srv/git/estate.git":                       "",
		"file:///srv/git/estate.git":                "",
		"javascript://github.com/%0aalert(1)//a/b":  "",
	} {
		if got := commitURL(remote, c); got != want {
			t.Errorf("commitURL(%q) = %q, want %q", remote, got, want)
		}
	}
	if got := fileURL("https://github.com/acme/estate", c, "environments/prod/apps.yaml", 12); got != "https://github.com/acme/estate/blob/"+c+"/environments/prod/apps.yaml#L12" {
		t.Errorf("fileURL: %q", got)
	}
	if got := commitURL("https://github.com/acme/estate", "main"); got != "" {
		t.Errorf("a ref is not a commit: %q", got)
	}
}

// hostile is text meant to break out of HTML, attributes, URLs and
// scripts.
const hostile = `<script>alert("x")</script>"><img src=x onerror=alert(1)>' javascript:alert(2) {{.}}`

// TestPageIsSafe: every value on the page is escaped (object names,
// field values, manifest paths, errors, unmanaged objects, webhook
// delivery ids and commit messages with hostile text), the page has no
// form and no state-changing method, and strict headers forbid inline
// script, framing and form submission.
func TestPageIsSafe(t *testing.T) {
	rec := newRecorder()
	rec.set(PassResult{Mode: "dry-run", Plan: PlanSummary{Update: 1},
		Errors: []string{"apps.yaml:3: " + hostile}, Warnings: []string{hostile},
		Estate: &Estate{Environment: hostile, Counts: map[string]int{StateDrifted: 1}, Unmanaged: 1,
			Kinds: []KindStatus{{Kind: "Application", Objects: []ObjectStatus{{Name: hostile, State: StateDrifted, Action: "update",
				Reason: hostile, Source: hostile + ":3", SourceURL: "javascript:alert(3)",
				Fields: []FieldStatus{{Path: "spec.description", Before: hostile, After: hostile}}}}}},
			UnmanagedObjects: []UnmanagedObject{{Kind: "Application", Name: hostile, Reason: hostile}}}},
		errors.New("boom: "+hostile))
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, Version: "test",
		Scheduler: SchedulerOptions{Interval: time.Hour, BackoffBase: time.Hour}})
	rec.wait(t, "start")
	d.Trigger("webhook: " + hostile)
	rec.wait(t, "webhook")
	waitFor(t, "two passes", 5*time.Second, func() bool { return len(d.Status().History) == 2 })

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&sb); err != nil {
		t.Fatal(err)
	}
	page := sb.String()
	for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, `onerror=alert(1)>`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page carries %q unescaped", bad)
		}
	}
	if n := strings.Count(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"); n < 8 {
		t.Errorf("the hostile text shows escaped %d times, want it in every place (≥ 8)", n)
	}
	for _, s := range []string{"<form", "method=", "<button", "onclick"} {
		if strings.Contains(strings.ToLower(page), s) {
			t.Errorf("the page has %q: it must not change anything", s)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, s := range []string{"script-src 'self'", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, s) {
			t.Errorf("CSP %q lacks %q", csp, s)
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// Reading endpoints only: writing to them is not allowed.
	for _, p := range []string{"/", "/status", "/metrics", "/events", "/page.js"} {
		code, _ := post(t, base+p, []byte("x"), "")
		if code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", p, code)
		}
	}
}

// TestEventsStream: GET /events streams pass-started and pass-finished
// with the pass and its result, and ends when the daemon stops.
func TestEventsStream(t *testing.T) {
	rec := newRecorder()
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "the first pass", 5*time.Second, func() bool { return len(d.Status().History) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Scan() // retry:
	rec.set(PassResult{}, errors.New("apim: down"))
	d.Trigger("check")
	var events []Event
	for len(events) < 2 && lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			var e Event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
	}
	if len(events) != 2 || events[0].Type != EventPassStarted || events[1].Type != EventPassFinished ||
		events[0].Pass != events[1].Pass || events[1].Result != ResultFailure || events[0].Reason != "check" {
		t.Fatalf("events %+v", events)
	}
}

// TestWebhookDeliveryInHistory: the delivery id a forge sends names the
// webhook's pass in the history (only its safe characters).
func TestWebhookDeliveryInHistory(t *testing.T) {
	rec := newRecorder()
	secret := []byte("s3cret")
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, WebhookSecret: secret,
		Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	body := []byte(`{"ref":"refs/heads/main"}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/sync", strings.NewReader(string(body)))
	req.Header.Set(SignatureHeader, Sign(secret, body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958<b>")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	if r := rec.wait(t, "webhook"); r.Reason != "webhook: 72d3162e-cc78-11e3-81ab-4c9367dc0958b" {
		t.Errorf("reason %q", r.Reason)
	}
	waitFor(t, "the webhook's pass", 5*time.Second, func() bool { return len(d.Status().History) == 2 })
	if tr := d.Status().History[0].Trigger; tr.Kind != "webhook" || tr.Delivery != "72d3162e-cc78-11e3-81ab-4c9367dc0958b" {
		t.Errorf("trigger %+v", tr)
	}
	if r := webhookReason(http.Header{}); r != "webhook" {
		t.Errorf("no delivery header: %q", r)
	}
}

// TestPageCapsTheInSyncList: a kind with more objects in sync than the
// page lists shows the first ones and says how many more /status has.
func TestPageCapsTheInSyncList(t *testing.T) {
	objs := make([]ObjectStatus, maxInSyncListed+5)
	for i := range objs {
		objs[i] = ObjectStatus{Name: fmt.Sprintf("user-%05d", i), State: StateInSync}
	}
	rec := newRecorder()
	rec.set(PassResult{Estate: &Estate{Counts: map[string]int{StateInSync: len(objs)}, Kinds: []KindStatus{{Kind: "User", Objects: objs}}}}, nil)
	d, base := startDaemon(t, Options{Source: staticSource{t.TempDir()}, Pass: rec.pass, Scheduler: SchedulerOptions{Interval: time.Hour}})
	rec.wait(t, "start")
	waitFor(t, "the pass", 5*time.Second, func() bool { return d.Status().Estate != nil })
	_, page := get(t, base+"/")
	if n := strings.Count(page, `data-state="in-sync" data-name=`); n != maxInSyncListed {
		t.Errorf("%d objects listed, want %d", n, maxInSyncListed)
	}
	if !strings.Contains(page, fmt.Sprintf("%d in sync", len(objs))) || !strings.Contains(page, "… and 5 more") {
		t.Error("the page does not say how many are in sync and how many are not listed")
	}
}
