package spec

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/wso2sync/wso2sync/schema"
)

// validator holds the compiled CUE schema for one Load. A cue.Context is
// not safe for concurrent use, so each Load compiles its own (a few ms),
// and each validation worker of a large Load too (validateAll).
type validator struct {
	ctx    *cue.Context
	schema cue.Value
	defs   map[Kind]cue.Value // #<Kind>, looked up once
	paths  map[string]string  // interned Positions keys (positions)
	fields map[reflect.Type][]decField
}

func newValidator() (*validator, error) {
	ctx := cuecontext.New()
	v := ctx.CompileBytes(schema.Source, cue.Filename(schema.Filename))
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("embedded schema does not compile: %w", err)
	}
	return &validator{ctx: ctx, schema: v, defs: map[Kind]cue.Value{}, paths: map[string]string{},
		fields: map[reflect.Type][]decField{}}, nil
}

// definition returns #<Kind>.
func (v *validator) definition(k Kind) cue.Value {
	d, ok := v.defs[k]
	if !ok {
		d = v.schema.LookupPath(cue.ParsePath("#" + string(k)))
		v.defs[k] = d
	}
	return d
}

// validate unifies the merged document with its kind's definition. On
// success it fills out (a pointer to the typed document) from the unified
// value, defaults included. CUE errors become diagnostics at the YAML
// position of the offending field, never at the schema.
func (v *validator) validate(kind Kind, doc *node, positions map[string]Position, docPos Position, out any, sink *diagSink) bool {
	def := v.definition(kind)
	data := v.ctx.Encode(doc.plain())
	u := def.Unify(data)
	err := u.Validate(cue.Concrete(true))
	if err == nil {
		if err := v.decode(u, reflect.ValueOf(out).Elem()); err != nil {
			// The schema accepted something the Go type cannot hold: a bug in
			// wso2sync, reported as such rather than hidden.
			sink.errAt(docPos, "", "internal error: schema and Go types disagree: "+err.Error(), "please report this as a wso2sync bug")
			return false
		}
		return true
	}
	v.report(kind, def, doc, err, positions, docPos, sink)
	return false
}

// cueIssue is one CUE error, keyed by the field path it is about.
type cueIssue struct {
	path []string
	msgs []string
}

func (v *validator) report(kind Kind, def cue.Value, doc *node, err error, positions map[string]Position, docPos Position, sink *diagSink) {
	// CUE reports a failed disjunction as a header plus one error per
	// alternative; group by path so each field gets one diagnostic.
	var issues []*cueIssue
	byPath := map[string]*cueIssue{}
	for _, e := range cueerrors.Errors(err) {
		path := e.Path()
		if len(path) > 0 && strings.HasPrefix(path[0], "#") {
			path = path[1:]
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		key := strings.Join(path, "\x00")
		is := byPath[key]
		if is == nil {
			is = &cueIssue{path: path}
			byPath[key] = is
			issues = append(issues, is)
		}
		if !strings.Contains(msg, "errors in empty disjunction") {
			is.msgs = append(is.msgs, msg)
		}
	}
	for _, is := range issues {
		if len(is.msgs) == 0 && hasChildIssue(issues, is) {
			// Only a "N errors in empty disjunction" header whose details
			// are reported at the element paths below it.
			continue
		}
		field := pathOf(is.path)
		pos := docPos
		for p := field; p != ""; p = parentPath(p) {
			if pp, ok := positions[p]; ok {
				pos = pp
				break
			}
		}
		msg, hint := v.explain(def, doc, is)
		sink.errAt(pos, field, msg, hint)
	}
}

var (
	reMismatch = regexp.MustCompile(`mismatched types (\w+) and (\w+)`)
	reConflict = regexp.MustCompile(`^conflicting values (.+) and (.+)$`)
)

// patternHints explains the schema's regular expressions in words.
var patternHints = map[string]string{
	`^https?://[^\s/]+(/\S*)?$`:                        "write an absolute http:// or https:// URL",
	`^https://[^\s/]+(/\S*)?$`:                         "write an absolute https:// URL (the fingerprint pins a TLS download)",
	`^\S(.*\S)?$`:                                      "remove leading and trailing blanks (WSO2 rejects them)",
	`^(sha256:)?([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$`: "write the SHA-256 fingerprint as 64 hex digits (colons allowed), e.g. from `openssl x509 -noout -fingerprint -sha256`",
	`^age1[02-9ac-hj-np-z]{58}$`:                       "write an age X25519 public key (age1…), as printed by age-keygen",
	`^[A-Za-z_][A-Za-z0-9_]*$`:                         "an environment variable name has letters, digits and underscores",
}

// hasChildIssue reports whether another issue is about a path below is.
func hasChildIssue(issues []*cueIssue, is *cueIssue) bool {
	for _, o := range issues {
		if len(o.path) > len(is.path) && slices.Equal(o.path[:len(is.path)], is.path) {
			return true
		}
	}
	return false
}

// enumFromConflicts recognises a failed choice between literals: every
// message is `conflicting values X and Y` with Y the value in the YAML.
// It returns the allowed literals.
func enumFromConflicts(msgs []string, data *node) []string {
	s, ok := data.str()
	if !ok {
		return nil
	}
	q := strconv.Quote(s)
	var out []string
	for _, m := range msgs {
		c := reConflict.FindStringSubmatch(m)
		if c == nil {
			return nil
		}
		other := c[1]
		if other == q {
			other = c[2]
		} else if c[2] != q {
			return nil
		}
		lit, err := strconv.Unquote(other)
		if err != nil {
			return nil // not a string literal (a type or a bound)
		}
		if !slices.Contains(out, lit) {
			out = append(out, lit)
		}
	}
	return out
}

// explain turns one CUE issue into a user-facing message and hint.
func (v *validator) explain(def cue.Value, doc *node, is *cueIssue) (string, string) {
	field := pathOf(is.path)
	if len(is.msgs) == 0 {
		return field + ": invalid value", ""
	}
	data := lookupNode(doc, is.path)
	msg, hint := v.explainRaw(def, doc, is, data)
	if s, ok := data.str(); ok {
		msg = scrubValue(msg, s, inSecretRef(doc, is.path))
	}
	return msg, hint
}

// inSecretRef reports whether path names the value of a secret reference
// ({env: …}, {file: …}, {sealed: …}): a value there is never shown, since
// a secret pasted where a name belongs is a common slip.
func inSecretRef(doc *node, path []string) bool {
	if len(path) == 0 || !slices.Contains(secretKeys, path[len(path)-1]) {
		return false
	}
	parent := lookupNode(doc, path[:len(path)-1])
	return parent != nil && parent.kind == nodeMap && !slices.ContainsFunc(parent.keys, func(k string) bool {
		return !slices.Contains(secretKeys, k)
	})
}

// scrubValue replaces the quoted value s in a message: hidden entirely when
// it may be a secret, cut (Truncate) when it is long.
func scrubValue(msg, s string, hidden bool) string {
	switch {
	case hidden:
		msg = strings.ReplaceAll(msg, strconv.Quote(s), Hidden(s))
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "…")
		}
	case len(s) > MaxQuoted:
		msg = strings.ReplaceAll(msg, strconv.Quote(s), Truncate(s))
		msg = strings.ReplaceAll(msg, s, Truncate(s))
	}
	return msg
}

// explainRaw is explain before the value is scrubbed from the message.
func (v *validator) explainRaw(def cue.Value, doc *node, is *cueIssue, data *node) (string, string) {
	field := pathOf(is.path)
	first := is.msgs[0]
	switch {
	case strings.Contains(first, "field is required but not present"):
		name := field
		if len(is.path) > 0 {
			name = is.path[len(is.path)-1]
		}
		return fmt.Sprintf("missing required field %q", name), fmt.Sprintf("add %s", field)
	case reMismatch.MatchString(first):
		got := cueTypeOf(data)
		m := reMismatch.FindStringSubmatch(first)
		want := m[1]
		if want == got {
			want = m[2]
		}
		hint := ""
		if want == "string" && got != "struct" && got != "list" {
			hint = "quote the value to make it a string"
		}
		return fmt.Sprintf("%s: wrong type: want %s, got %s", field, want, got), hint
	}
	// PEM text is never echoed: it may be a private key pasted by mistake.
	if s, ok := data.str(); ok && strings.Contains(s, "-----BEGIN") {
		if strings.Contains(s, "PRIVATE KEY") {
			return field + ": " + ErrPrivateKey.Error() + " (its content is not shown)", "keep private keys out of manifests: put only the certificate (-----BEGIN CERTIFICATE-----) here"
		}
		return field + ": not a PEM certificate (its content is not shown)", "expect a -----BEGIN CERTIFICATE----- block"
	}
	// A disjunction of string literals is an enum: list the choices.
	enum := enumFromConflicts(is.msgs, data)
	if len(enum) < 2 {
		enum = enumValues(def, is.path)
	}
	if len(enum) > 0 && data != nil {
		if s, ok := data.str(); ok {
			if len(enum) > 5 {
				// Too many to read in one line: the hint lists them.
				return fmt.Sprintf("%s: invalid value %q", field, s), didYouMean(s, enum, "valid values")
			}
			return fmt.Sprintf("%s: invalid value %q (want one of %s)", field, s, quoteAll(enum)), didYouMean(s, enum, "valid values")
		}
	}
	// A failed default disjunction (`*D | C`) reports "conflicting values D
	// and X" next to the real cause; prefer the real cause.
	msg := first
	for _, m := range is.msgs {
		if !reConflict.MatchString(m) {
			msg = m
			break
		}
	}
	hint := ""
	if i := strings.Index(msg, "out of bound =~"); i >= 0 {
		pattern := strings.TrimSuffix(msg[i+len("out of bound =~"):], ")")
		if p, err := strconv.Unquote(pattern); err == nil {
			hint = patternHints[p]
		}
		msg = msg[:i] + "does not match =~" + msg[i+len("out of bound =~"):]
	}
	msg = strings.Replace(msg, "(out of bound ", "(must be ", 1)
	if m := reConflict.FindStringSubmatch(msg); m != nil && len(is.msgs) == 1 {
		msg = fmt.Sprintf("invalid value %s (must be %s)", m[2], m[1])
	}
	return field + ": " + msg, hint
}

// enumValues returns the string literals of the schema field at path when
// the field is a plain disjunction of strings (an enum), else nil.
func enumValues(def cue.Value, path []string) []string {
	f := def
	for _, e := range path {
		if _, err := strconv.Atoi(e); err == nil {
			f = f.LookupPath(cue.MakePath(cue.AnyIndex))
		} else {
			f = f.LookupPath(cue.MakePath(cue.Str(e).Optional()))
		}
		if !f.Exists() {
			return nil
		}
	}
	op, args := f.Expr()
	if op != cue.OrOp {
		return nil
	}
	var out []string
	for _, a := range args {
		s, err := a.String()
		if err != nil {
			return nil
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func lookupNode(n *node, path []string) *node {
	for _, e := range path {
		if n == nil {
			return nil
		}
		switch n.kind {
		case nodeMap:
			n = n.get(e)
		case nodeList:
			i, err := strconv.Atoi(e)
			if err != nil || i < 0 || i >= len(n.items) {
				return nil
			}
			n = n.items[i]
		default:
			return nil
		}
	}
	return n
}

// cueTypeOf names a node's type the way CUE does.
func cueTypeOf(n *node) string {
	if n == nil {
		return "nothing"
	}
	switch n.kind {
	case nodeMap:
		return "struct"
	case nodeList:
		return "list"
	case nodeNull:
		return "null"
	}
	switch n.scalar.(type) {
	case string:
		return "string"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	}
	return "value"
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
