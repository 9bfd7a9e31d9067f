package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/renameio/v2/maybe"
)

// OwnershipFile is the ownership record's name in the state directory.
const OwnershipFile = "truststores.json"

// Ownership records, per truststore path, the aliases wso2sync wrote: the
// only entries it ever removes. It lives in the environment's state
// directory (<env>/.wso2sync/truststores.json) beside the inventory of
// server objects, so a truststore file is left exactly as the JVM ships it
// apart from the declared aliases. Safe for concurrent use.
type Ownership struct {
	mu   sync.Mutex
	path string
	doc  ownershipDoc
}

type ownershipDoc struct {
	Version     int                 `json:"version"`
	Truststores map[string][]string `json:"truststores"`
}

// LoadOwnership reads the record of a state directory; a missing file is
// an empty record.
func LoadOwnership(stateDir string) (*Ownership, error) {
	o := &Ownership{path: filepath.Join(stateDir, OwnershipFile), doc: ownershipDoc{Version: 1, Truststores: map[string][]string{}}}
	b, err := os.ReadFile(o.path)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &o.doc); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w (delete it only if no truststore entry wso2sync wrote should ever be removed by it)", o.path, err)
	}
	if o.doc.Truststores == nil {
		o.doc.Truststores = map[string][]string{}
	}
	return o, nil
}

func storeKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// Aliases returns the owned aliases of a truststore (lower case, sorted).
func (o *Ownership) Aliases(path string) []string {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.doc.Truststores[storeKey(path)])
}

// Set records the owned aliases of a truststore and saves the record.
func (o *Ownership) Set(path string, aliases []string) error {
	if o == nil {
		return nil
	}
	var norm []string
	for _, a := range aliases {
		norm = append(norm, strings.ToLower(a))
	}
	slices.Sort(norm)
	norm = slices.Compact(norm)
	o.mu.Lock()
	defer o.mu.Unlock()
	k := storeKey(path)
	if slices.Equal(o.doc.Truststores[k], norm) {
		return nil
	}
	if len(norm) == 0 {
		delete(o.doc.Truststores, k)
	} else {
		o.doc.Truststores[k] = norm
	}
	b, err := json.MarshalIndent(o.doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.path), 0o700); err != nil {
		return err
	}
	return maybe.WriteFile(o.path, append(b, '\n'), 0o600)
}
