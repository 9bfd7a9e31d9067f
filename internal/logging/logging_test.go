package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	var buf bytes.Buffer
	// A buffer is not a terminal: auto means JSON.
	l, err := New(&buf, FormatAuto, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("hello", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("auto on a non-terminal is not one JSON line: %q: %v", buf.String(), err)
	}
	if rec["msg"] != "hello" || rec["k"] != "v" {
		t.Errorf("record = %v", rec)
	}

	buf.Reset()
	l, _ = New(&buf, FormatText, slog.LevelDebug)
	l.Debug("shown", "k", "v")
	if out := buf.String(); !strings.Contains(out, "shown") || strings.Contains(out, "\x1b[") {
		t.Errorf("text format = %q, want the message without colour codes", out)
	}

	if _, err := New(&buf, "xml", slog.LevelInfo); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel accepted an unknown level")
	}
}
