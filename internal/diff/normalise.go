package diff

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Normalisers shared by the kinds. Each one maps the forms the manifests
// and the servers use for the same value onto one canonical form.

// set returns the distinct values, normalised by f, sorted: grant types,
// roles, permissions and the like are sets on the server.
func set(xs []string, f func(string) string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if f != nil {
			x = f(x)
		}
		if x != "" {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normURL makes URL forms that reach the same resource equal: scheme and
// host in lower case, the default port dropped, no trailing slash.
func normURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return strings.TrimSuffix(s, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	u.Host = host
	if port != "" {
		u.Host = host + ":" + port
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// callbackURLs turns a callback into its set of URLs. IS stores two or
// more redirect URIs as one `regexp=(a|b)` pattern with `?` escaped
// (WSO2-API §3.11, §5.10); a single URL stays itself.
func callbackURLs(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	pat, ok := strings.CutPrefix(s, "regexp=")
	if !ok {
		return []string{normURL(s)}
	}
	if strings.HasPrefix(pat, "(") && strings.HasSuffix(pat, ")") {
		pat = pat[1 : len(pat)-1]
	}
	return set(strings.Split(pat, "|"), func(u string) string { return normURL(unescapeRegexp(u)) })
}

// unescapeRegexp undoes the backslash escapes IS adds (`\?`).
func unescapeRegexp(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// timeUnit maps the spellings of a throttling time unit onto APIM's.
func timeUnit(s string) string {
	switch u := strings.ToLower(strings.TrimSpace(s)); u {
	case "s", "sec", "secs", "second", "seconds":
		return "sec"
	case "m", "min", "mins", "minute", "minutes":
		return "min"
	case "h", "hr", "hour", "hours":
		return "hour"
	case "d", "day", "days":
		return "day"
	case "month", "months":
		return "month"
	case "year", "years":
		return "year"
	default:
		return u
	}
}

// stripDomain removes a leading PRIMARY/ (any case): IS answers PRIMARY
// users without it, secondary-store users with theirs (WSO2-API §3.8).
func stripDomain(name string) string {
	if d, rest, ok := strings.Cut(name, "/"); ok && strings.EqualFold(d, "PRIMARY") {
		return rest
	}
	return name
}

// owner normalises an APIM user name: no PRIMARY/ prefix, no
// @carbon.super (the super tenant is implicit).
func owner(s string) string {
	return strings.TrimSuffix(stripDomain(s), "@carbon.super")
}

// scalarString renders a free-form property the way it is sent: the IS7
// connector wants strings and echoes numbers and booleans (WSO2-API §5.13),
// so "900", 900 and 900.0 are the same value.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	}
	return fmt.Sprint(v)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// sortMaps orders a list of objects by the given keys: lists the server
// keeps in its own order (claim mappings, custom attributes).
func sortMaps(xs []map[string]any, keys ...string) []map[string]any {
	slices.SortFunc(xs, func(a, b map[string]any) int {
		for _, k := range keys {
			if c := cmp.Compare(fmt.Sprint(a[k]), fmt.Sprint(b[k])); c != 0 {
				return c
			}
		}
		return 0
	})
	return xs
}
