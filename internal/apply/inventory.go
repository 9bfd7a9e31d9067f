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
// Version 1 recorded objects under the plan's name (a manifest label for
// subscriptions, roles and users); version 2 records each kind's natural
// key (spec: Subscription.Key, Role.Key, …) with the name as a label.
const inventoryVersion = 2

// InventoryObject is one object wso2sync created.
type InventoryObject struct {
	Kind spec.Kind `json:"kind"`
	// Key is the object's natural key (spec, one definition per kind):
	// what prune asks about. "" for an entry of a version-1 inventory that
	// Migrate has not matched to an object yet; such entries are kept, but
	// own nothing until matched.
	Key string `json:"key,omitempty"`
	// Name is the manifest name the object was created for: a label, by
	// which the plan pairs a declared object whose identity changed (a
	// subscription moved to another API) with its old self.
	Name string `json:"name"`
	// ID is the server's id, when the caller knows it.
	ID string `json:"id,omitempty"`
	// CreatedAt is when wso2sync first created it (a replace keeps it).
	CreatedAt time.Time `json:"createdAt"`
}

// Ref returns the object's identity: its kind and natural key (its name
// while it has no key).
func (o InventoryObject) Ref() Ref { return Ref{Kind: o.Kind, Name: cmpOr(o.Key, o.Name)} }

type inventoryDoc struct {
	Version     int               `json:"version"`
	Environment string            `json:"environment"`
	Objects     []InventoryObject `json:"objects"`
}

// Inventory is the set of objects wso2sync created in an environment, kept
// in <stateDir>/inventory.json. It is what makes pruning safe: with prune
// "owned", only an object in the inventory is ever deleted for being no
// longer declared; everything else on the servers is "unmanaged" and left
// alone, as Flux does with its inventory. Objects are recorded by natural
// key (Ref.Name holds the key in its methods). Methods are safe for
// concurrent use.
type Inventory struct {
	mu    sync.Mutex
	path  string
	doc   inventoryDoc
	index map[Ref]int // by kind and key; entries without a key are not indexed
	dirty bool
	now   func() time.Time
}

// LoadInventory reads the inventory of a state directory; a missing file is
// an empty inventory (a first run). An inventory written for another
// environment is refused, so a copied state dir cannot make wso2sync prune
// objects it did not create there. A version-1 inventory is read with its
// entries waiting for Migrate.
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
	if doc.Version < 2 {
		// Version 1 names are labels, not keys: Migrate matches them.
		for i := range doc.Objects {
			doc.Objects[i].Key = ""
		}
		inv.dirty = len(doc.Objects) > 0
	}
	inv.doc.Objects = doc.Objects
	inv.reindex()
	return inv, nil
}

func (inv *Inventory) reindex() {
	inv.index = make(map[Ref]int, len(inv.doc.Objects))
	for i, o := range inv.doc.Objects {
		if o.Key != "" {
			inv.index[Ref{Kind: o.Kind, Name: o.Key}] = i
		}
	}
}

// Owned reports whether wso2sync created the object; r.Name is its
// natural key.
func (inv *Inventory) Owned(r Ref) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	_, ok := inv.index[r]
	return ok
}

// Label returns the manifest name an owned object was created for ("" if
// not owned).
func (inv *Inventory) Label(r Ref) string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if i, ok := inv.index[r]; ok {
		return inv.doc.Objects[i].Name
	}
	return ""
}

// Add records that wso2sync created the object; r.Name is its natural key
// and also its label. Adding an owned object only updates its id (when id
// is not empty).
func (inv *Inventory) Add(r Ref, id string) { inv.Record(r.Kind, r.Name, r.Name, id) }

// Record records that wso2sync created the object of kind and natural key
// for the manifest name (its label). Recording an owned object updates its
// label and id (when not empty).
func (inv *Inventory) Record(kind spec.Kind, key, name, id string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	r := Ref{Kind: kind, Name: key}
	if i, ok := inv.index[r]; ok {
		o := &inv.doc.Objects[i]
		if id != "" && o.ID != id {
			o.ID = id
			inv.dirty = true
		}
		if name != "" && o.Name != name {
			o.Name = name
			inv.dirty = true
		}
		return
	}
	inv.index[r] = len(inv.doc.Objects)
	inv.doc.Objects = append(inv.doc.Objects, InventoryObject{Kind: kind, Key: key, Name: cmpOr(name, key), ID: id, CreatedAt: inv.now().UTC()})
	inv.dirty = true
}

// Remove forgets an object (deleted, or found gone); r.Name is its key.
func (inv *Inventory) Remove(r Ref) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	i, ok := inv.index[r]
	if !ok {
		return
	}
	inv.doc.Objects = slices.Delete(inv.doc.Objects, i, i+1)
	inv.reindex()
	inv.dirty = true
}

// Migrate gives the entries of a version-1 inventory their natural keys:
// keyOf maps a kind and the name an entry was recorded under to the key of
// the object it names (the declared object of that name, else the live
// one; diff.NameKeys). Entries it cannot match yet are kept as they are,
// never dropped, and tried again on the next run. Two entries matching one
// key merge (the older createdAt wins). It returns how many entries are
// still unmatched.
func (inv *Inventory) Migrate(keyOf func(kind spec.Kind, name string) (string, bool)) int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	left := 0
	var out []InventoryObject
	byKey := map[Ref]int{}
	for _, o := range inv.doc.Objects {
		if o.Key == "" {
			if k, ok := keyOf(o.Kind, o.Name); ok && k != "" {
				o.Key = k
				inv.dirty = true
			} else {
				left++
				out = append(out, o)
				continue
			}
		}
		r := Ref{Kind: o.Kind, Name: o.Key}
		if j, ok := byKey[r]; ok {
			if o.CreatedAt.Before(out[j].CreatedAt) {
				out[j].CreatedAt = o.CreatedAt
			}
			inv.dirty = true
			continue
		}
		byKey[r] = len(out)
		out = append(out, o)
	}
	inv.doc.Objects = out
	inv.reindex()
	return left
}

// Unmatched returns the entries still waiting for Migrate.
func (inv *Inventory) Unmatched() []InventoryObject {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	var out []InventoryObject
	for _, o := range inv.doc.Objects {
		if o.Key == "" {
			out = append(out, o)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
		return cmp.Or(cmp.Compare(Level(a.Kind), Level(b.Kind)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Name, b.Name))
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
