package diff

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
)

// RenderMarkdown writes a plan as a pull-request comment: the summary line
// and a table per kind, then one collapsible <details> block per kind with
// a fenced diff. It prints no secret material at all: sensitive values,
// fingerprints included, appear only as "(sensitive)", because a PR
// comment is read by more people than a terminal and a fingerprint of a
// weak secret can be guessed.
func RenderMarkdown(w io.Writer, p *Plan, opts RenderOptions) error {
	b := bufio.NewWriter(w)
	title := "wso2sync plan"
	if p.Environment != "" {
		title += " for " + code(p.Environment)
	}
	fmt.Fprintf(b, "### %s\n\n", title)
	fmt.Fprintf(b, "**%s**\n\n", p.SummaryLine())
	gs := groups(p)
	if len(gs) > 0 {
		b.WriteString("| Kind | Create | Update | Replace | Delete |\n|---|---:|---:|---:|---:|\n")
		for _, g := range gs {
			var n [4]int
			for _, c := range g.changes {
				switch c.Action {
				case Create:
					n[0]++
				case Update:
					n[1]++
				case Replace:
					n[2]++
				case Delete:
					n[3]++
				}
			}
			fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", g.kind, n[0], n[1], n[2], n[3])
		}
		b.WriteString("\n")
	}
	for _, g := range gs {
		var lines []string
		for _, c := range g.changes {
			lines = append(lines, mdChange(c, opts)...)
		}
		details(b, fmt.Sprintf("%s (%d)", g.kind, len(g.changes)), "diff", lines)
	}
	if n := len(p.Unmanaged); n > 0 {
		var lines []string
		for i, u := range p.Unmanaged {
			if i == opts.maxUnmanaged() {
				lines = append(lines, fmt.Sprintf("… and %d more", n-i))
				break
			}
			lines = append(lines, fmt.Sprintf("%s %q: %s", u.Kind, u.Name, u.Reason))
		}
		details(b, fmt.Sprintf("Unmanaged, left alone (%d)", n), "text", lines)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(b, "> **Warning:** %s\n\n", html.EscapeString(warn))
	}
	return b.Flush()
}

// mdChange renders one change for a `diff` fence, whose highlighting knows
// + (green), - (red) and ! (changed).
func mdChange(c Change, opts RenderOptions) []string {
	head := fmt.Sprintf("%s (%s)", c.Name, label(c.Action))
	if c.Action == Replace || c.Action == Delete || c.Action == Rotate || c.Action == Blocked {
		head = fmt.Sprintf("%s (%s: %s)", c.Name, label(c.Action), c.Reason)
	}
	if where := opts.where(c.Source); where != "" {
		head += "  # " + where
	}
	var out []string
	switch c.Action {
	case Create:
		out = append(out, "+ "+head)
		for _, f := range c.Fields {
			out = append(out, fmt.Sprintf("+     %s: %s", f.Path, mdValue(f.Path, f.After, f.Sensitive)))
		}
	case Delete:
		out = append(out, "- "+head)
	case Blocked:
		out = append(out, "! "+head)
	default:
		out = append(out, "! "+head)
		for _, f := range c.Fields {
			note := ""
			if f.ForcesReplace {
				note = "  # forces replacement"
			}
			if f.Sensitive || isSecretKey(lastSegment(f.Path)) {
				out = append(out, fmt.Sprintf("!     %s: (sensitive value changed)%s", f.Path, note))
				continue
			}
			out = append(out,
				fmt.Sprintf("-     %s: %s", f.Path, mdValue(f.Path, f.Before, false)),
				fmt.Sprintf("+     %s: %s%s", f.Path, mdValue(f.Path, f.After, false), note))
		}
	}
	for _, n := range notes(c) {
		out = append(out, "!     "+n)
	}
	return out
}

func mdValue(path string, v any, sensitive bool) string {
	if v != nil && (sensitive || isSecretKey(lastSegment(path))) {
		return string(RedactedUnknown)
	}
	return formatValue(v)
}

// details writes a collapsible block with a fenced body. The fence is
// longer than any backtick run in the body, so no value can close it.
func details(b *bufio.Writer, summary, lang string, lines []string) {
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	fmt.Fprintf(b, "<details><summary>%s</summary>\n\n%s%s\n%s\n%s\n\n</details>\n\n", html.EscapeString(summary), fence, lang, body, fence)
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// code renders inline code that survives backticks in the text.
func code(s string) string {
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	return fence + " " + s + " " + fence
}
