// Package logging builds the *slog.Logger every wso2sync command uses.
// Logs go to stderr; command results go to stdout, so logs never mix into
// output that tools parse.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
)

// Formats accepted by New.
const (
	FormatAuto = "auto" // colour text on a terminal, JSON otherwise
	FormatText = "text" // plain text without colour
	FormatJSON = "json"
)

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToLower(s))); err != nil {
		return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// New returns a logger writing to w in the given format at the given level.
// In auto format, a terminal gets colour text (tint) and anything else
// (a pipe, a file, a log collector) gets one JSON object per line.
func New(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	switch format {
	case FormatAuto:
		if isTerminal(w) {
			return slog.New(tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly})), nil
		}
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	case FormatText:
		return slog.New(tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, NoColor: true})), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want auto, text or json)", format)
}

// isTerminal reports whether w is a terminal (NO_COLOR turns colour off as
// everywhere else).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
