package spec

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// node is a YAML value that remembers where it came from. It is the form
// documents take between parsing and CUE: overlays merge nodes, so every
// merged field keeps the position of the document that set it.
type node struct {
	kind   nodeKind
	pos    Position // the value
	keyPos Position // the key that introduced the value; pos for list items and roots
	scalar any      // string, int64, float64, bool (kind == nodeScalar)
	keys   []string // map keys in document order
	// items are a list's items, or a map's values (items[i] at keys[i]):
	// most maps have a handful of keys, for which a Go map per mapping
	// would be most of the memory a large Load holds.
	items []*node
	index map[string]int // key → position, only for maps of more than indexFrom keys
}

// indexFrom is the size from which a map node keeps an index of its keys
// (below it a linear search is cheaper).
const indexFrom = 16

type nodeKind int

const (
	nodeNull nodeKind = iota
	nodeScalar
	nodeMap
	nodeList
)

func (k nodeKind) String() string {
	return [...]string{"null", "scalar", "mapping", "list"}[k]
}

// Limits that keep hostile input (alias bombs, deep nesting) from exhausting
// memory or the stack; real manifests are far below them. Nodes written
// out in the file are bounded by the file size (maxFileSize) and by
// maxNodes, which a file of 20,000 subscriptions (≈ 300,000 nodes) is far
// below; nodes produced by expanding aliases are what a "billion laughs"
// file multiplies, and are capped separately by maxAliasNodes.
const (
	maxNodes      = 5_000_000
	maxAliasNodes = 100_000
	maxDepth      = 100
)

var errTooLarge = errors.New("document too large or too deeply nested (YAML aliases expanded too far?)")

// converter turns yaml.Node trees into node trees for one file.
type converter struct {
	file    string
	count   int // nodes converted
	aliased int // of which inside an alias expansion
	inAlias int // depth of alias expansions being converted
}

func (c *converter) position(n *yaml.Node) Position {
	return Position{File: c.file, Line: n.Line, Col: n.Column}
}

// convert converts n; it returns a position-carrying error for constructs
// the manifests do not allow.
func (c *converter) convert(n *yaml.Node, depth int) (*node, error) {
	c.count++
	if c.inAlias > 0 {
		c.aliased++
	}
	if c.count > maxNodes || c.aliased > maxAliasNodes || depth > maxDepth {
		return nil, errTooLarge
	}
	pos := c.position(n)
	if n.Style&yaml.TaggedStyle != 0 && !coreTags[n.ShortTag()] {
		return nil, &posError{pos, fmt.Sprintf("YAML tag %s is not allowed: manifests use plain YAML (only the core tags %s)", quoteTag(n.Tag), coreTagList)}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &node{kind: nodeNull, pos: pos, keyPos: pos}, nil
		}
		return c.convert(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &posError{pos, "unresolved YAML alias"}
		}
		c.inAlias++
		out, err := c.convert(n.Alias, depth+1)
		c.inAlias--
		if err != nil {
			return nil, err
		}
		// The alias is where the value is used; report it there.
		out = out.clone()
		out.pos, out.keyPos = pos, pos
		return out, nil
	case yaml.MappingNode:
		out := &node{kind: nodeMap, pos: pos, keyPos: pos}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, &posError{c.position(k), "mapping keys must be plain strings"}
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, &posError{c.position(k), "YAML merge keys (<<) are not supported; use an overlay document instead"}
			}
			if out.at(k.Value) >= 0 {
				return nil, &posError{c.position(k), fmt.Sprintf("field %q is set twice in this mapping", k.Value)}
			}
			child, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			child.keyPos = c.position(k)
			out.set(k.Value, child)
		}
		return out, nil
	case yaml.SequenceNode:
		out := &node{kind: nodeList, pos: pos, keyPos: pos}
		for _, item := range n.Content {
			child, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, child)
		}
		return out, nil
	case yaml.ScalarNode:
		return c.scalar(n, pos)
	}
	return nil, &posError{pos, "unsupported YAML node"}
}

// scalar resolves a scalar by its YAML 1.2 tag. Timestamps and other exotic
// tags stay strings: the manifests have no time-typed fields.
func (c *converter) scalar(n *yaml.Node, pos Position) (*node, error) {
	out := &node{kind: nodeScalar, pos: pos, keyPos: pos}
	switch n.ShortTag() {
	case "!!null":
		out.kind = nodeNull
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, &posError{pos, fmt.Sprintf("invalid boolean %q", n.Value)}
		}
		out.scalar = b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, &posError{pos, fmt.Sprintf("integer %s is out of range", n.Value)}
		}
		out.scalar = i
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &posError{pos, fmt.Sprintf("number %s is not a finite decimal", n.Value)}
		}
		out.scalar = f
	default:
		out.scalar = n.Value
	}
	return out, nil
}

// coreTags are the YAML tags a manifest may write explicitly. Any other
// (!!binary, !!set, !!timestamp, !!python/object:…, !custom) is refused:
// manifests are data, and a tag another tool would turn into an object or
// a byte string is a sign of a mistake or an attack.
var coreTags = map[string]bool{"!!str": true, "!!int": true, "!!bool": true, "!!null": true, "!!float": true, "!!map": true, "!!seq": true}

const coreTagList = "!!str, !!int, !!bool, !!null, !!float, !!map, !!seq"

// quoteTag shows a tag in a message, cut if long (it is attacker-chosen).
func quoteTag(t string) string { return Truncate(t) }

// posError is an error at a position in a file.
type posError struct {
	pos Position
	msg string
}

func (e *posError) Error() string { return e.pos.String() + ": " + e.msg }

// clone copies the node tree so merges never share mutable parts.
func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	out := *n
	if n.keys != nil {
		out.keys = append([]string(nil), n.keys...)
	}
	if n.index != nil {
		out.index = maps.Clone(n.index)
	}
	if n.items != nil {
		out.items = make([]*node, len(n.items))
		for i, v := range n.items {
			out.items[i] = v.clone()
		}
	}
	return &out
}

// get returns the child at key of a map node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != nodeMap {
		return nil
	}
	if i := n.at(key); i >= 0 {
		return n.items[i]
	}
	return nil
}

// at returns the position of key in a map node's keys, or -1.
func (n *node) at(key string) int {
	if n.index != nil {
		if i, ok := n.index[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range n.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// reindex rebuilds the key index after keys moved.
func (n *node) reindex() {
	n.index = nil
	if len(n.keys) > indexFrom {
		n.index = make(map[string]int, len(n.keys))
		for i, k := range n.keys {
			n.index[k] = i
		}
	}
}

// str returns the string value of a scalar string node.
func (n *node) str() (string, bool) {
	if n == nil || n.kind != nodeScalar {
		return "", false
	}
	s, ok := n.scalar.(string)
	return s, ok
}

// remove deletes key from a map node.
func (n *node) remove(key string) {
	i := n.at(key)
	if i < 0 {
		return
	}
	n.keys = append(n.keys[:i:i], n.keys[i+1:]...)
	n.items = append(n.items[:i:i], n.items[i+1:]...)
	if n.index != nil {
		n.reindex()
	}
}

// set puts v at key, keeping the key order for existing keys.
func (n *node) set(key string, v *node) {
	if i := n.at(key); i >= 0 {
		n.items[i] = v
		return
	}
	n.keys = append(n.keys, key)
	n.items = append(n.items, v)
	switch {
	case n.index != nil:
		n.index[key] = len(n.keys) - 1
	case len(n.keys) > indexFrom:
		n.reindex()
	}
}

// merge lays over on top of base: maps merge key by key, lists and scalars
// replace, and an explicit null in the overlay removes the key. Neither
// input is modified.
func merge(base, over *node) *node {
	if base == nil || base.kind != nodeMap || over.kind != nodeMap {
		return over.clone()
	}
	out := base.clone()
	out.pos, out.keyPos = over.pos, over.keyPos
	for i, k := range over.keys {
		v := over.items[i]
		switch {
		case v.kind == nodeNull:
			out.remove(k)
		case out.get(k) != nil:
			out.set(k, merge(out.get(k), v))
		default:
			out.set(k, v.clone())
		}
	}
	return out
}

// plain converts the tree to Go values (map[string]any, []any, scalars) for
// CUE, dropping nulls: after merging, a null means "not set".
func (n *node) plain() any {
	switch n.kind {
	case nodeMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v := n.items[i]
			if v.kind == nodeNull {
				continue
			}
			m[k] = v.plain()
		}
		return m
	case nodeList:
		l := make([]any, 0, len(n.items))
		for _, v := range n.items {
			if v.kind == nodeNull {
				// A null list item is kept as null so CUE reports it where it is.
				l = append(l, nil)
				continue
			}
			l = append(l, v.plain())
		}
		return l
	case nodeScalar:
		return n.scalar
	}
	return nil
}

// positions records the key position of every field under prefix.
func (n *node) positions(prefix string, into map[string]Position, intern map[string]string) {
	switch n.kind {
	case nodeMap:
		for i, k := range n.keys {
			v := n.items[i]
			p := internPath(intern, joinPath(prefix, k))
			into[p] = v.keyPos
			v.positions(p, into, intern)
		}
	case nodeList:
		for i, v := range n.items {
			p := internPath(intern, fmt.Sprintf("%s[%d]", prefix, i))
			into[p] = v.pos
			v.positions(p, into, intern)
		}
	}
}

// internPath returns the one copy of a field path that intern holds (nil:
// no interning): the Positions of 100,000 objects then share their keys
// ("spec.application", …) instead of holding one copy each.
func internPath(intern map[string]string, p string) string {
	if intern == nil {
		return p
	}
	if q, ok := intern[p]; ok {
		return q
	}
	intern[p] = p
	return p
}

// joinPath appends a field name to a dotted path.
func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// pathOf renders CUE path elements (["spec","keys","0","keyType"]) as the
// dotted form used in Positions (spec.keys[0].keyType).
func pathOf(elems []string) string {
	var b strings.Builder
	for _, e := range elems {
		if _, err := strconv.Atoi(e); err == nil && b.Len() > 0 {
			b.WriteString("[" + e + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e)
	}
	return b.String()
}
