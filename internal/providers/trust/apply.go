package trust

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Desired is what a truststore file must hold.
type Desired struct {
	Path     string
	Type     string // JKS | PKCS12
	Password string
	Entries  []Entry
}

// Result says what Write changed.
type Result struct {
	Path                    string
	Added, Updated, Removed []string
	Converted               bool   // the file changed format (JKS ↔ PKCS12)
	Backup                  string // the previous file's copy ("" if none or unchanged)
}

// Changed reports whether the file was written.
func (r Result) Changed() bool {
	return len(r.Added)+len(r.Updated)+len(r.Removed) > 0 || r.Converted
}

func (r Result) String() string {
	if !r.Changed() {
		return r.Path + ": unchanged"
	}
	var parts []string
	for _, p := range []struct {
		verb string
		as   []string
	}{{"added", r.Added}, {"updated", r.Updated}, {"removed", r.Removed}} {
		if len(p.as) > 0 {
			parts = append(parts, p.verb+" "+strings.Join(p.as, ", "))
		}
	}
	if r.Converted {
		parts = append(parts, "converted to another format")
	}
	s := r.Path + ": " + strings.Join(parts, "; ")
	if r.Backup != "" {
		s += " (previous file kept as " + r.Backup + ")"
	}
	return s
}

// Write brings a truststore file in line with d: declared aliases are set,
// aliases own records but d no longer declares are removed, every other
// entry stays. The file is written (atomically, with a backup) only if
// something changed, and own is updated to the declared aliases. A missing
// file is created. own may be nil (nothing is ever removed then).
func Write(d Desired, own *Ownership, now time.Time) (Result, error) {
	res := Result{Path: d.Path}
	typ, err := normType(d.Type)
	if err != nil {
		return res, err
	}
	st, err := ReadFile(d.Path, d.Password)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if st, err = NewStore(typ); err != nil {
			return res, err
		}
	case err != nil:
		return res, fmt.Errorf("%s: %w", d.Path, err)
	case st.Type != typ:
		if err := st.Convert(typ); err != nil {
			return res, fmt.Errorf("%s: %w", d.Path, err)
		}
		res.Converted = true
	}
	declared := map[string]bool{}
	for _, e := range d.Entries {
		a := strings.ToLower(e.Alias)
		declared[a] = true
		had := st.Get(a) != nil
		changed, err := st.Set(a, e.Cert, now)
		if err != nil {
			return res, fmt.Errorf("%s: %w", d.Path, err)
		}
		switch {
		case changed && had:
			res.Updated = append(res.Updated, a)
		case changed:
			res.Added = append(res.Added, a)
		}
	}
	for _, a := range own.Aliases(d.Path) {
		if !declared[a] && st.Delete(a) {
			res.Removed = append(res.Removed, a)
		}
	}
	if res.Changed() {
		data, err := st.Encode(d.Password)
		if err != nil {
			return res, fmt.Errorf("%s: %w", d.Path, err)
		}
		if res.Backup, err = WriteFile(d.Path, data); err != nil {
			return res, fmt.Errorf("%s: %w", d.Path, err)
		}
	}
	var owned []string
	for a := range declared {
		owned = append(owned, a)
	}
	slices.Sort(owned)
	if err := own.Set(d.Path, owned); err != nil {
		return res, fmt.Errorf("%s written, but the ownership record was not: %w", d.Path, err)
	}
	return res, nil
}

// Apply resolves a declared truststore's entries (fetching pinned URLs)
// and writes them to path (Path(t), or a copy of it).
func Apply(ctx context.Context, t *spec.Truststore, path, password string, src Sources, own *Ownership, now time.Time) (Result, error) {
	d := Desired{Path: path, Type: t.Spec.Type, Password: password}
	for i, e := range t.Spec.Entries {
		c, err := src.Entry(ctx, t, i)
		if err != nil {
			return Result{Path: d.Path}, fmt.Errorf("truststore %s: %w", t.Metadata.Name, err)
		}
		d.Entries = append(d.Entries, Entry{Alias: e.Alias, Cert: c})
	}
	res, err := Write(d, own, now)
	if err != nil {
		return res, fmt.Errorf("truststore %s: %w", t.Metadata.Name, err)
	}
	return res, nil
}

// Stale lists the aliases own records for the truststore at path that t
// no longer declares (the next write removes them, if they are there).
func Stale(t *spec.Truststore, path string, own *Ownership) []string {
	declared := map[string]bool{}
	for _, e := range t.Spec.Entries {
		declared[strings.ToLower(e.Alias)] = true
	}
	var out []string
	for _, a := range own.Aliases(path) {
		if !declared[a] {
			out = append(out, a)
		}
	}
	return out
}
