package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/daemon"
	"github.com/wso2sync/wso2sync/internal/verify"
)

// TestStatusPrintsTheEstate: `wso2sync status` prints the picture the
// status page shows (counts, each object out of sync with its field diff
// and manifest line, unmanaged apart, the last pass with error and hint,
// the history with triggers, revisions and human durations); --all adds
// the objects in sync; --output json is the daemon's JSON, estate
// included.
func TestStatusPrintsTheEstate(t *testing.T) {
	now := time.Now().UTC()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	rev := daemon.Revision{Source: "git", URL: "https://github.com/acme/estate", Ref: "main", Path: "envs/prod", Commit: commit,
		Author: "Alice", Message: "Raise the tier", CommitURL: "https://github.com/acme/estate/commit/" + commit}
	st := daemon.Status{Version: "v1.2.3", Mode: "dry-run", Started: now.Add(-time.Hour), Ready: true, ReadyReason: "the last pass succeeded",
		Source: rev, Interval: daemon.Duration(10 * time.Minute), NextPass: now.Add(5 * time.Minute),
		Estate: &daemon.Estate{Pass: "aaaa1111", Time: now.Add(-2 * time.Minute), Environment: "prod", Mode: "dry-run",
			Counts: map[string]int{daemon.StateInSync: 1, daemon.StateDrifted: 1, daemon.StateFailed: 1}, Unmanaged: 1,
			Kinds: []daemon.KindStatus{{Kind: "Application", Objects: []daemon.ObjectStatus{
				{Name: "payments-web", State: daemon.StateDrifted, Action: "update", Source: "apps.yaml:12",
					Fields: []daemon.FieldStatus{{Path: "spec.throttlingPolicy", Before: `"Unlimited"`, After: `"Gold"`, Source: "apps.yaml:16"}}},
				{Name: "quiet-app", State: daemon.StateInSync, Source: "apps.yaml:30"},
				{Name: "broken-app", State: daemon.StateFailed, Action: "create", Message: "409 conflict", Source: "apps.yaml:40"},
			}}},
			UnmanagedObjects: []daemon.UnmanagedObject{{Kind: "Application", Name: "legacy", Reason: "not created by wso2sync"}}},
		LastPass: &daemon.PassStatus{ID: "bbbb2222", Reason: "change: apps.yaml", Revision: rev, Start: now.Add(-30 * time.Second),
			Duration: daemon.Duration(27938946 * time.Nanosecond), Result: daemon.ResultFailure,
			Error: "GET /applications: 503", Hint: "check the server's health"},
		LastVerify: &daemon.VerifyStatus{Pass: "aaaa1111", Time: now.Add(-time.Minute), Report: &verify.Report{
			Summary: verify.Summary{Verified: 3, Failed: 1},
			Checks: []verify.Check{{Kind: "ApplicationKey", Name: "web/PRODUCTION/Resident Key Manager", Status: verify.Failed,
				Message: "the gateway refused the sealed credentials", Hint: "rotate the key"}}}},
		History: []daemon.PassBrief{
			{ID: "bbbb2222", Reason: "change: apps.yaml", Start: now.Add(-30 * time.Second), Duration: daemon.Duration(27938946 * time.Nanosecond),
				Result: daemon.ResultFailure, Revision: commit[:12], Error: "GET /applications: 503", Hint: "check the server's health"},
			{ID: "aaaa1111", Reason: "webhook: 72d3162e", Start: now.Add(-2 * time.Minute), Duration: daemon.Duration(1400 * time.Millisecond),
				Result: daemon.ResultSuccess, Revision: commit[:12], Planned: true, Changes: 2},
		}}
	body, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()

	var out, errb bytes.Buffer
	if c := run(context.Background(), []string{"status", "--url", srv.URL}, &out, &errb); c != 0 {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"wso2sync v1.2.3, environment prod",
		"revision:  0123456789ab by Alice: Raise the tier (https://github.com/acme/estate/commit/" + commit + ")",
		"estate (pass aaaa1111, 2 min ago, dry-run): 1 in sync, 1 drifted, 1 failed, 1 unmanaged",
		"    ~ payments-web: drifted (update)  # apps.yaml:12",
		`        spec.throttlingPolicy: "Unlimited" → "Gold"  # apps.yaml:16`,
		"    x broken-app: failed (create): 409 conflict  # apps.yaml:40",
		"(1 in sync not listed; --all lists them)",
		"    Application legacy: not created by wso2sync",
		"took 28 ms (trigger: change: apps.yaml)",
		"  hint: check the server's health",
		"webhook: 72d3162e",
		"1.4 s",
		"verified:  1 FAILED, 3 verified, 0 skipped (after pass aaaa1111, 1 min ago)",
		"  x ApplicationKey web/PRODUCTION/Resident Key Manager: the gateway refused the sealed credentials",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "quiet-app") || strings.Contains(text, "27.938946ms") {
		t.Errorf("status lists an object in sync without --all, or a raw duration:\n%s", text)
	}

	out.Reset()
	if c := run(context.Background(), []string{"status", "--url", srv.URL, "--all"}, &out, &errb); c != 0 || !strings.Contains(out.String(), "    = quiet-app: in sync  # apps.yaml:30") {
		t.Errorf("--all: exit %d:\n%s", c, out.String())
	}

	out.Reset()
	if c := run(context.Background(), []string{"status", "--url", srv.URL, "-o", "json"}, &out, &errb); c != 0 {
		t.Fatalf("-o json: exit %d", c)
	}
	var got daemon.Status
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Estate == nil || got.Estate.Total() != 3 || got.Estate.Counts[daemon.StateDrifted] != 1 {
		t.Errorf("-o json: %v %s", err, out.String())
	}
}
