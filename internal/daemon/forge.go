package daemon

import (
	"net/url"
	"path"
	"strconv"
	"strings"
)

// forge is a git remote on a host whose web pages we know how to link:
// the status page links a commit, and a drifted object's manifest line,
// to them.
type forge struct {
	// base is https://host/owner/repo.
	base string
	// commit and blob are the paths after base for a commit and for a file
	// at a commit; line is the anchor of a line.
	commit, blob, line string
}

// forgeStyles by host. GitHub Enterprise and self-hosted GitLab have
// other hosts, which we cannot tell from a plain git server: no links.
var forgeStyles = map[string]forge{
	"github.com":    {commit: "/commit/", blob: "/blob/", line: "#L"},
	"gitlab.com":    {commit: "/-/commit/", blob: "/-/blob/", line: "#L"},
	"bitbucket.org": {commit: "/commits/", blob: "/src/", line: "#lines-"},
	"codeberg.org":  {commit: "/commit/", blob: "/src/commit/", line: "#L"},
	"gitea.com":     {commit: "/commit/", blob: "/src/commit/", line: "#L"},
}

// forgeOf recognises https://host/owner/repo(.git), ssh://git@host/owner/repo
// and git@host:owner/repo remotes on a known host.
func forgeOf(remote string) (forge, bool) {
	var host, p string
	if u, err := url.Parse(remote); err == nil && u.Scheme != "" && u.Host != "" {
		if u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" {
			return forge{}, false
		}
		host, p = u.Hostname(), u.Path
	} else if at, rest, ok := strings.Cut(remote, "@"); ok && !strings.Contains(at, "/") {
		// scp-like: git@github.com:owner/repo.git
		host, p, ok = strings.Cut(rest, ":")
		if !ok {
			return forge{}, false
		}
	} else {
		return forge{}, false
	}
	f, ok := forgeStyles[strings.ToLower(host)]
	if !ok {
		return forge{}, false
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return forge{}, false
	}
	for i, s := range parts {
		if s == "" || s == "." || s == ".." {
			return forge{}, false
		}
		parts[i] = url.PathEscape(s)
	}
	f.base = "https://" + strings.ToLower(host) + "/" + strings.Join(parts, "/")
	return f, true
}

// commitURL is the commit's page ("" for an unknown host or a commit that
// is not a hash).
func commitURL(remote, commit string) string {
	f, ok := forgeOf(remote)
	if !ok || !hexRef.MatchString(commit) {
		return ""
	}
	return f.base + f.commit + commit
}

// fileURL is the page of a file of the repository at a commit, at a line
// if line > 0 ("" for an unknown host).
func fileURL(remote, commit, file string, line int) string {
	f, ok := forgeOf(remote)
	if !ok || !hexRef.MatchString(commit) || file == "" {
		return ""
	}
	file = path.Clean("/" + file)[1:]
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := f.base + f.blob + commit + "/" + strings.Join(segs, "/")
	if line > 0 {
		u += f.line + strconv.Itoa(line)
	}
	return u
}
