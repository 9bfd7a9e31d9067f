package trust

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Path is where a truststore's file is: spec.path, relative paths being
// relative to the manifest file that set it (as every path in a manifest).
func Path(t *spec.Truststore) string {
	return filepath.Clean(t.ResolvePath("spec.path", t.Spec.Path))
}

// Live reads a declared truststore's file as the diff compares it: the
// same metadata.name and spec.path, the type of the file, and the entries
// for the declared aliases and extra (owned) aliases that exist, with their
// fingerprints in sha256. The JVM's other entries are not listed: the diff
// compares only declared entries. A missing file is (nil, nil).
// path is where to read (Path(t), or a copy of it).
func Live(t *spec.Truststore, path, password string, extra []string) (*spec.Truststore, error) {
	st, err := ReadFile(path, password)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l := &spec.Truststore{Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindTruststore,
		Metadata: spec.Metadata{Name: t.Metadata.Name}}}
	l.Spec.Path = t.Spec.Path
	l.Spec.Type = st.Type
	var aliases []string
	for _, e := range t.Spec.Entries {
		aliases = append(aliases, strings.ToLower(e.Alias))
	}
	for _, a := range extra {
		aliases = append(aliases, strings.ToLower(a))
	}
	slices.Sort(aliases)
	for _, a := range slices.Compact(aliases) {
		if c := st.Get(a); c != nil {
			l.Spec.Entries = append(l.Spec.Entries, spec.TruststoreEntry{Alias: a, SHA256: spec.CertFingerprint(c)})
		}
	}
	return l, nil
}
