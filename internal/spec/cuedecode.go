package spec

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"cuelang.org/go/cue"
)

// decField is one JSON-named field of a Go struct (embedded structs
// without a tag flattened, as encoding/json does).
type decField struct {
	index []int
	name  string
	path  cue.Path
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode fills rv (addressable) from the unified, validated value u as
// json.Unmarshal(u.MarshalJSON()) would, defaults included, but by looking
// up the Go type's fields in u rather than exporting u: MarshalJSON sorts
// every struct's fields topologically, most of its cost. Maps, interfaces
// and types with their own UnmarshalJSON/UnmarshalText still go through
// JSON (they are small and rare).
func (v *validator) decode(u cue.Value, rv reflect.Value) error {
	if d, ok := u.Default(); ok {
		u = d
	}
	t := rv.Type()
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) ||
		t.Kind() == reflect.Map || t.Kind() == reflect.Interface {
		b, err := u.MarshalJSON()
		if err != nil {
			return err
		}
		return json.Unmarshal(b, rv.Addr().Interface())
	}
	k := u.Kind() // IsNull would build an OpContext for every non-null value
	if k == cue.NullKind {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice:
			rv.SetZero()
		}
		return nil // as encoding/json: null leaves other kinds alone
	}
	switch t.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(t.Elem()))
		}
		return v.decode(u, rv.Elem())
	case reflect.Struct:
		if k != cue.StructKind {
			return fmt.Errorf("cannot decode %v into %s", k, t)
		}
		for _, f := range v.fieldsOf(t) {
			fv := u.LookupPath(f.path)
			if !fv.Exists() {
				continue // absent or optional and unset: MarshalJSON omits it too
			}
			if err := v.decode(fv, rv.FieldByIndex(f.index)); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
		return nil
	case reflect.Slice:
		if k != cue.ListKind {
			return fmt.Errorf("cannot decode %v into %s", k, t)
		}
		it, err := u.List()
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(t, 0, 0)
		for i := 0; it.Next(); i++ {
			s = reflect.Append(s, reflect.Zero(t.Elem()))
			if err := v.decode(it.Value(), s.Index(i)); err != nil {
				return fmt.Errorf("%d: %w", i, err)
			}
		}
		rv.Set(s)
		return nil
	case reflect.String:
		s, err := u.String()
		if err != nil {
			return err
		}
		rv.SetString(s)
	case reflect.Bool:
		b, err := u.Bool()
		if err != nil {
			return err
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := u.Int64()
		if err != nil {
			return err
		}
		if rv.OverflowInt(n) {
			return fmt.Errorf("%d overflows %s", n, t)
		}
		rv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := u.Uint64()
		if err != nil {
			return err
		}
		if rv.OverflowUint(n) {
			return fmt.Errorf("%d overflows %s", n, t)
		}
		rv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := u.Float64()
		if err != nil {
			return err
		}
		rv.SetFloat(f)
	default:
		b, err := u.MarshalJSON()
		if err != nil {
			return err
		}
		return json.Unmarshal(b, rv.Addr().Interface())
	}
	return nil
}

// fieldsOf returns t's JSON fields (cached per validator: cue.Paths are
// not shared between cue.Contexts).
func (v *validator) fieldsOf(t reflect.Type) []decField {
	if fs, ok := v.fields[t]; ok {
		return fs
	}
	var fs []decField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fs = append(fs, decField{index: idx, name: name, path: cue.MakePath(cue.Str(name))})
		}
	}
	walk(t, nil)
	v.fields[t] = fs
	return fs
}
