package spec

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// The structural pass walks a document's node tree against its Go type
// before CUE runs. It does two things CUE cannot do well:
//
//   - unknown fields, with a "did you mean" hint (CUE only says "field not
//     allowed");
//   - secret fields holding anything but a reference. CUE would echo the
//     plain-text value in its "conflicting values" message; here the value
//     is reported without being printed and replaced by a placeholder, so
//     no later message can contain it either.
//
// Offending nodes are removed or replaced, so CUE does not report them again.

var secretRefType = reflect.TypeFor[SecretRef]()

// secretKeys are the three reference forms a secret field accepts.
var secretKeys = []string{"env", "file", "sealed"}

// secretHint is the hint attached to every secret-shape error.
const secretHint = "write a reference instead: {env: NAME}, {file: PATH} or {sealed: PATH}"

type structure struct {
	sink *diagSink
	// fileRefs collects {file:}/{sealed:} references for the existence check.
	fileRefs []fileRef
}

type fileRef struct {
	field string
	form  string // file | sealed
	path  string
	pos   Position
}

// check walks n (at path) against type t.
func (s *structure) check(n *node, t reflect.Type, path string) {
	if n == nil || n.kind == nodeNull {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == secretRefType:
		s.checkSecret(n, path)
	case t.Kind() == reflect.Struct:
		if n.kind != nodeMap {
			return // a type error; CUE reports it with the expected type
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		for _, k := range slices.Clone(n.keys) {
			ft, ok := fields[k]
			p := joinPath(path, k)
			if !ok {
				s.sink.errAt(n.get(k).keyPos, p, fmt.Sprintf("unknown field %q", k), didYouMean(k, names, "known fields"))
				n.remove(k)
				continue
			}
			s.check(n.get(k), ft, p)
		}
	case t.Kind() == reflect.Map:
		if n.kind != nodeMap {
			return
		}
		for i, k := range n.keys {
			s.check(n.items[i], t.Elem(), joinPath(path, k))
		}
	case t.Kind() == reflect.Slice:
		if n.kind != nodeList {
			return
		}
		for i, item := range n.items {
			s.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// checkSecret accepts exactly one of {env}, {file}, {sealed} with a string
// value. Anything else is reported without quoting the value, then replaced
// by a harmless reference.
func (s *structure) checkSecret(n *node, path string) {
	bad := func(msg string) {
		s.sink.errAt(n.keyPos, path, msg, secretHint)
		*n = redacted(n)
	}
	if n.kind != nodeMap {
		bad(fmt.Sprintf("%s is a secret field and must not hold a plain value (value not shown)", path))
		return
	}
	var forms []string
	for _, k := range n.keys {
		if !slices.Contains(secretKeys, k) {
			// Only the key is named: the value might be the secret.
			s.sink.errAt(n.get(k).keyPos, joinPath(path, k), fmt.Sprintf("%s: unknown field %q in secret reference", path, k),
				cmpHint(didYouMean(k, secretKeys, ""), secretHint))
			*n = redacted(n)
			return
		}
		forms = append(forms, k)
	}
	switch len(forms) {
	case 0:
		bad(fmt.Sprintf("%s: empty secret reference", path))
		return
	case 1:
	default:
		bad(fmt.Sprintf("%s: a secret reference takes exactly one of env, file or sealed, not %s", path, strings.Join(forms, " and ")))
		return
	}
	v := n.get(forms[0])
	str, ok := v.str()
	if !ok || str == "" {
		bad(fmt.Sprintf("%s.%s must be a non-empty string", path, forms[0]))
		return
	}
	if forms[0] != "env" {
		s.fileRefs = append(s.fileRefs, fileRef{field: path, form: forms[0], path: str, pos: v.pos})
		// A relative path is relative to the manifest that names it (as
		// validate checks it), also for the resolver, which otherwise
		// takes it relative to the environment folder: a reference in an
		// included base folder must read the file validate checked.
		p, rest := str, ""
		if forms[0] == "sealed" {
			p, _, _ = strings.Cut(str, "#")
			rest = str[len(p):] // #field
		}
		if !filepath.IsAbs(p) && v.pos.File != "" {
			v.scalar = filepath.Join(filepath.Dir(v.pos.File), p) + rest
		}
	}
}

// jsonFields maps the JSON names of t's fields to their types, flattening
// embedded structs without a tag (Object) and skipping `json:"-"`.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// docType is the Go type of a kind's document.
func docType(k Kind) reflect.Type { return reflect.TypeOf(newDoc(k)).Elem() }

// redacted is the placeholder a rejected secret field becomes, so the
// schema sees a well-formed reference and the value is gone from memory the
// rest of the load can print.
func redacted(n *node) node {
	return node{kind: nodeMap, pos: n.pos, keyPos: n.keyPos, keys: []string{"env"}, items: []*node{
		{kind: nodeScalar, scalar: "WSO2SYNC_REDACTED", pos: n.pos, keyPos: n.pos},
	}}
}
