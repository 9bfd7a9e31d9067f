package spec

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
	"reflect"
	"sync"
)

// ValidationCache remembers the documents that passed CUE validation,
// keyed by a hash of their kind and merged content, so that a Load whose
// documents did not change since the previous one (the daemon's drift
// passes) validates none of them again: CUE is most of a Load's cost.
//
// What validation produces depends on the merged document alone (its
// kind's schema is compiled into the binary), never on where it was
// written, so a hit is the earlier result with this Load's source
// positions. Documents that fail are not remembered: their diagnostics are
// always computed afresh. The cache is bounded: it keeps only the entries
// the latest Load used (an edited document's old version is dropped on the
// next Load) and never more than its maximum; a Load with more documents
// validates the excess every time.
//
// It is safe for concurrent use; the objects it hands out share their
// nested values (slices, maps) with the cache, which nothing after a Load
// changes.
type ValidationCache struct {
	mu      sync.Mutex
	max     int
	entries map[docHash]Resource
	// used collects the keys the running Load hit or added; at its end
	// they replace entries (see endLoad).
	used map[docHash]Resource
}

// DefaultValidationCacheSize bounds a ValidationCache made with size 0: an
// XL estate (≈ 120,000 documents) fits.
const DefaultValidationCacheSize = 250_000

// NewValidationCache returns an empty cache of at most max documents
// (DefaultValidationCacheSize if max ≤ 0).
func NewValidationCache(max int) *ValidationCache {
	if max <= 0 {
		max = DefaultValidationCacheSize
	}
	return &ValidationCache{max: max, entries: map[docHash]Resource{}}
}

// Len is the number of documents remembered.
func (c *ValidationCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

type docHash [sha256.Size]byte

// beginLoad starts a Load's use of the cache.
func (c *ValidationCache) beginLoad() {
	c.mu.Lock()
	c.used = make(map[docHash]Resource, len(c.entries))
	c.mu.Unlock()
}

// endLoad keeps what the Load used (complete: false after a Load cut
// short, which keeps the old entries as well).
func (c *ValidationCache) endLoad(complete bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if complete {
		c.entries = c.used
	} else {
		for k, v := range c.used {
			if len(c.entries) < c.max {
				c.entries[k] = v
			}
		}
	}
	c.used = nil
}

// get returns a copy of the remembered object, or nil.
func (c *ValidationCache) get(h docHash) Resource {
	c.mu.Lock()
	obj, ok := c.entries[h]
	if ok && c.used != nil {
		c.used[h] = obj
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return shallowCopy(obj)
}

// put remembers a validated object (before its Load sets its Source and
// Positions: it keeps a copy).
func (c *ValidationCache) put(h docHash, obj Resource) {
	cp := shallowCopy(obj)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used != nil && len(c.used) < c.max {
		c.used[h] = cp
	}
}

// shallowCopy copies the struct a Resource points to, so that this Load's
// Source and Positions do not reach another Load's object.
func shallowCopy(r Resource) Resource {
	v := reflect.ValueOf(r).Elem()
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	return cp.Interface().(Resource)
}

// hashDoc hashes a merged document: its kind and its content (keys in
// document order, scalars with their type), not its positions. ok is
// false for a document holding a value the hash does not know (none the
// YAML converter produces): such a document is not cached.
func hashDoc(kind Kind, n *node) (out docHash, ok bool) {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	var buf [9]byte
	if !hashNode(h, n, &buf) {
		return out, false
	}
	h.Sum(out[:0])
	return out, true
}

func hashNode(h hash.Hash, n *node, buf *[9]byte) bool {
	str := func(tag byte, s string) {
		buf[0] = tag
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	num := func(tag byte, u uint64) {
		buf[0] = tag
		binary.LittleEndian.PutUint64(buf[1:], u)
		h.Write(buf[:])
	}
	if n == nil {
		num('0', 0)
		return true
	}
	switch n.kind {
	case nodeNull:
		num('n', 0)
	case nodeScalar:
		switch v := n.scalar.(type) {
		case string:
			str('s', v)
		case int64:
			num('i', uint64(v))
		case float64:
			num('f', math.Float64bits(v))
		case bool:
			b := uint64(0)
			if v {
				b = 1
			}
			num('b', b)
		default:
			return false
		}
	case nodeMap:
		num('m', uint64(len(n.keys)))
		for i, k := range n.keys {
			str('k', k)
			if !hashNode(h, n.items[i], buf) {
				return false
			}
		}
	case nodeList:
		num('l', uint64(len(n.items)))
		for _, it := range n.items {
			if !hashNode(h, it, buf) {
				return false
			}
		}
	}
	return true
}
