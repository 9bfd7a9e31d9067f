package apply

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/renameio/v2/maybe"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// InventoryFile is the inventory's name in the state directory.
const InventoryFile = "inventory.json"

// inventoryVersion is the format of inventory.json this build writes.
const inventoryVersion = 1

// InventoryObject is one object wso2sync created.
type InventoryObject struct {
	Kind spec.Kind `json:"kind"`
	Name string    `json:"name"`
	// ID is the server's id, when the caller knows it.
	ID string `json:"id,omitempty"`
	// CreatedAt is when wso2sync first created it (a replace keeps it).
	CreatedAt time.Time `json:"createdAt"`
}

// Ref returns the object's identity.
func (o InventoryObject) Ref() Ref { return Ref{Kind: o.Kind, Name: o.Name} }

type inventoryDoc struct {
	Version     int               `json:"version"`
	Environment string            `json:"environment"`
	Objects     []InventoryObject `json:"objects"`
}

// Inventory is the set of objects wso2sync created in an environment, kept
// in <stateDir>/inventory.json. It is what makes pruning safe: with prune
// "owned", only an object in the inventory is ever deleted for being no
// longer declared; everything else on the servers is "unmanaged" and left
// alone, as Flux does with its inventory. Methods are safe for concurrent
// use.
type Inventory struct {
	mu    sync.Mutex
	path  string
	doc   inventoryDoc
	index map[Ref]int
	dirty bool
	now   func() time.Time
}

// LoadInventory reads the inventory of a state directory; a missing file is
// an empty inventory (a first run). An inventory written for another
// environment is refused, so a copied state dir cannot make wso2sync prune
// objects it did not create there.
func LoadInventory(stateDir, environment string) (*Inventory, error) {
	inv := &Inventory{
		path:  filepath.Join(stateDir, InventoryFile),
		doc:   inventoryDoc{Version: inventoryVersion, Environment: environment},
		index: map[Ref]int{},
		now:   time.Now,
	}
	b, err := os.ReadFile(inv.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return inv, nil
	case err != nil:
		return nil, fmt.Errorf("inventory: %w", err)
	}
	var doc inventoryDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, &Error{
			Message: fmt.Sprintf("cannot read the inventory %s: %v", inv.path, err),
			Hint:    "the file is written atomically, so this is not a crash: restore it from a backup, or remove it (wso2sync then owns nothing and prunes nothing until it creates objects again)",
		}
	}
	if doc.Version > inventoryVersion {
		return nil, &Error{
			Message: fmt.Sprintf("the inventory %s has version %d; this wso2sync reads version %d", inv.path, doc.Version, inventoryVersion),
			Hint:    "upgrade wso2sync",
		}
	}
	if doc.Environment != "" && environment != "" && doc.Environment != environment {
		return nil, &Error{
			Message: fmt.Sprintf("the inventory %s belongs to environment %q, not %q", inv.path, doc.Environment, environment),
			Hint:    "give each environment its own state directory",
		}
	}
	inv.doc.Objects = doc.Objects
	for i, o := range doc.Objects {
		inv.index[o.Ref()] = i
	}
	return inv, nil
}

// Owned reports whether wso2sync created the object.
func (inv *Inventory) Owned(r Ref) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	_, ok := inv.index[r]
	return ok
}

// Add records that wso2sync created the object. Adding an owned object
// only updates its id (when id is not empty).
func (inv *Inventory) Add(r Ref, id string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if i, ok := inv.index[r]; ok {
		if id != "" && inv.doc.Objects[i].ID != id {
			inv.doc.Objects[i].ID = id
			inv.dirty = true
		}
		return
	}
	inv.index[r] = len(inv.doc.Objects)
	inv.doc.Objects = append(inv.doc.Objects, InventoryObject{Kind: r.Kind, Name: r.Name, ID: id, CreatedAt: inv.now().UTC()})
	inv.dirty = true
}

// Remove forgets an object (deleted, or found gone).
func (inv *Inventory) Remove(r Ref) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	i, ok := inv.index[r]
	if !ok {
		return
	}
	inv.doc.Objects = slices.Delete(inv.doc.Objects, i, i+1)
	delete(inv.index, r)
	for j := i; j < len(inv.doc.Objects); j++ {
		inv.index[inv.doc.Objects[j].Ref()] = j
	}
	inv.dirty = true
}

// Objects returns the owned objects in apply order (level, then name).
func (inv *Inventory) Objects() []InventoryObject {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	out := slices.Clone(inv.doc.Objects)
	sortObjects(out)
	return out
}

func sortObjects(objs []InventoryObject) {
	slices.SortFunc(objs, func(a, b InventoryObject) int {
		return cmp.Or(cmp.Compare(Level(a.Kind), Level(b.Kind)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
}

// Save writes the inventory if it changed, atomically (a reader or a crash
// sees the old file or the new one, never a mix): renameio's temp file,
// fsync and rename; on Windows, where renameio cannot promise that,
// renameio/maybe falls back to a plain write.
func (inv *Inventory) Save() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if !inv.dirty {
		return nil
	}
	doc := inv.doc
	doc.Version = inventoryVersion
	doc.Objects = slices.Clone(doc.Objects)
	if doc.Objects == nil {
		doc.Objects = []InventoryObject{}
	}
	sortObjects(doc.Objects)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := ensureStateDir(filepath.Dir(inv.path)); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if err := maybe.WriteFile(inv.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	inv.dirty = false
	return nil
}
