package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is the versioned name of the JSON view.
const Format = "wso2sync-verify/v1"

// RenderJSON writes the report as data (stable field names; a check's
// duration is left out so that runs compare).
func RenderJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Format string `json:"format"`
		*Report
	}{Format, r})
}

var markers = map[Status]string{Verified: "✓", Failed: "✗", Skipped: "-"}

var titles = map[string]string{KindKey: "Application keys", KindSubscription: "Subscriptions (through the gateway)", KindUser: "Users"}

// RenderText writes the terminal view: one line per check, grouped by
// kind, with the hint under each failure, and the summary line.
func RenderText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "wso2sync verify for environment %q\n", r.Environment)
	kind := ""
	for _, c := range r.Checks {
		if c.Kind != kind {
			kind = c.Kind
			t := titles[kind]
			if kind == KindSubscription && r.Gateway != "" {
				t = "Subscriptions (through the gateway " + r.Gateway + ")"
			}
			fmt.Fprintf(&b, "\n%s\n", t)
		}
		if c.Status == Verified {
			fmt.Fprintf(&b, "  %s %s: %s\n", markers[c.Status], c.Name, c.Message)
		} else {
			fmt.Fprintf(&b, "  %s %s: %s: %s\n", markers[c.Status], c.Name, c.Status, c.Message)
		}
		if c.Hint != "" {
			fmt.Fprintf(&b, "      hint: %s\n", c.Hint)
		}
		if c.Status == Failed && c.Source != "" {
			fmt.Fprintf(&b, "      declared at %s\n", c.Source)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.SummaryLine())
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is "Verify: 12 verified, 1 failed, 2 skipped (1.2s)."
func (r *Report) SummaryLine() string {
	return fmt.Sprintf("Verify: %d verified, %d failed, %d skipped (%s).", r.Summary.Verified, r.Summary.Failed, r.Summary.Skipped, r.Duration)
}

// RenderMarkdown writes a PR/issue comment: a summary and a table.
func RenderMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### wso2sync verify: `%s`\n\n", r.Environment)
	fmt.Fprintf(&b, "**%d verified, %d failed, %d skipped**", r.Summary.Verified, r.Summary.Failed, r.Summary.Skipped)
	if r.Gateway != "" {
		fmt.Fprintf(&b, " · gateway `%s`", r.Gateway)
	}
	b.WriteString("\n\n| | Kind | Name | Result |\n|---|---|---|---|\n")
	for _, c := range r.Checks {
		res := c.Message
		if c.Hint != "" {
			res += "<br>_hint: " + c.Hint + "_"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", markers[c.Status], c.Kind, c.Name, mdEscape(res))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
