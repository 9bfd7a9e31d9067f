package diff

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// field is one normalised field of an object. Each kind's normaliser emits
// the same fields for the desired and the live object, so comparing is a
// walk over the desired fields.
type field struct {
	path string // manifest terms, shown to users
	pos  string // path in Object.Positions (index form); "" means path
	// id pairs the field with its live counterpart; "" means path. Keys
	// use their field name: a paired key may have another identity.
	id string
	// value is normalised (sorted sets, canonical URLs and enum case);
	// a zero value means "not set".
	value any
	// always: compared even when the manifest leaves the field out, because
	// its schema default is what the server does too (or it is identity).
	// Other fields are compared only when the manifest writes them
	// (WSO2-API §5.12 "diff only fields you set").
	always bool
	// writeOnly: the server never returns it (passwords), so it is shown
	// but never compared: it cannot drift, and a changed reference does not
	// show either.
	writeOnly bool
	sensitive bool
	// replace, when set, is why a change of this field cannot be made in
	// place.
	replace string
	// fold compares strings case-insensitively (names the server matches
	// case-insensitively).
	fold bool
}

func (f *field) posPath() string {
	if f.pos != "" {
		return f.pos
	}
	return f.path
}

// view is one object, normalised, on either side.
type view struct {
	kind spec.Kind
	name string
	// key is the server's identity of the object (alias, userName,
	// app+API, …), used to pair objects whose manifest names differ from
	// the names the providers gave the live ones.
	key string
	// obj is the desired object (positions); nil on the live side.
	obj *spec.Object
	// src is the manifest position of the object (or key entry).
	src    spec.Position
	fields []field
	// group ties an application key to its application and key type, so a
	// key manager change pairs the old key with the new one.
	group string
}

func (v *view) add(f field) {
	if f.id == "" {
		f.id = f.path
	}
	v.fields = append(v.fields, f)
}

func (v *view) get(id string) (field, bool) {
	for _, f := range v.fields {
		if f.id == id {
			return f, true
		}
	}
	return field{}, false
}

// compared reports whether a desired field takes part in the comparison.
func (v *view) compared(f field) bool {
	if f.writeOnly {
		return false
	}
	if f.always {
		return true
	}
	if v.obj == nil || v.obj.Positions == nil {
		// Built in code rather than loaded: whatever is set counts.
		return !isZero(f.value)
	}
	_, set := v.obj.Positions[f.posPath()]
	return set
}

// shown reports whether a desired field belongs in a create or the After
// of a change: set by the manifest, or a default the create will send.
func (v *view) shown(f field) bool {
	return f.always || !isZero(f.value) || v.compared(f)
}

// isZero treats nil, "", false, 0 and empty collections alike: the
// providers and the loader disagree on which of them means "absent".
func isZero(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return rv.IsZero()
}

// absent is isZero without false and 0: those are values worth showing
// (enabled: false), an empty string or list is nothing to show.
func absent(v any) bool {
	if v == nil {
		return true
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool, reflect.Int:
		return false
	}
	return isZero(v)
}

func equal(a, b any, fold bool) bool {
	if isZero(a) && isZero(b) {
		return true
	}
	if fold {
		as, aok := a.(string)
		bs, bok := b.(string)
		if aok && bok {
			return strings.EqualFold(as, bs)
		}
	}
	return reflect.DeepEqual(a, b)
}

// formatValue renders a value for text and Markdown: strings quoted, lists
// and maps in a compact JSON-like form, Redacted bare.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case Redacted:
		return string(x)
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []map[string]any:
		parts := make([]string, len(x))
		for i, m := range x {
			parts[i] = formatMap(m)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return formatMap(x)
	}
	return fmt.Sprint(v)
}

func formatMap(m map[string]any) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + formatValue(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
