package spec

import (
	"reflect"
	"slices"
	"testing"

	"cuelang.org/go/cue"
)

// TestSchemaMatchesGoTypes keeps the CUE schema and the Go types in step:
// every struct has the same field names in both, recursively. The loader
// relies on it twice: the Go types decide which fields are unknown, and
// CUE's output is decoded into them.
func TestSchemaMatchesGoTypes(t *testing.T) {
	v, err := newValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds {
		compareFields(t, string(k), v.definition(k), docType(k))
	}
}

func compareFields(t *testing.T, path string, v cue.Value, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == secretRefType || typ.Kind() == reflect.Map || typ.Kind() == reflect.Interface:
		return
	case typ.Kind() == reflect.Slice:
		if elem := v.LookupPath(cue.MakePath(cue.AnyIndex)); elem.Exists() {
			compareFields(t, path+"[]", elem, typ.Elem())
		}
		return
	case typ.Kind() != reflect.Struct:
		return
	}
	goFields := jsonFields(typ)
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	var cueNames []string
	for it.Next() {
		name := it.Selector().Unquoted()
		cueNames = append(cueNames, name)
		ft, ok := goFields[name]
		if !ok {
			t.Errorf("%s.%s is in the schema but not in the Go type %s", path, name, typ)
			continue
		}
		compareFields(t, path+"."+name, it.Value(), ft)
	}
	for name := range goFields {
		if !slices.Contains(cueNames, name) {
			t.Errorf("%s.%s is in the Go type %s but not in the schema", path, name, typ)
		}
	}
}
