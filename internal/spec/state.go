package spec

import (
	"cmp"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is the desired estate of one environment, after overlays, defaults
// and validation. Slices are sorted by name.
type State struct {
	// Dir is the environment directory Load was given.
	Dir string
	// Name is the environment's metadata.name (set even when the
	// Environment document itself is invalid).
	Name string
	// Files are the manifest files read, in load order.
	Files []string
	// FileRules confine the files the manifests name; every reader of such
	// a file (secret inputs, certificates, the CA bundle) goes through it.
	FileRules          FileRules
	Environment        *Environment
	KeyManagers        []*KeyManager
	ThrottlingPolicies []*ThrottlingPolicy
	Applications       []*Application
	Subscriptions      []*Subscription
	Users              []*User
	Roles              []*Role
	Certificates       []*Certificate
	Truststores        []*Truststore
}

// Resources returns every object, Environment first, then in the order of
// Kinds, each kind by name.
func (s *State) Resources() []Resource {
	var out []Resource
	if s.Environment != nil {
		out = append(out, s.Environment)
	}
	out = appendAll(out, s.Certificates)
	out = appendAll(out, s.Truststores)
	out = appendAll(out, s.KeyManagers)
	out = appendAll(out, s.ThrottlingPolicies)
	out = appendAll(out, s.Roles)
	out = appendAll(out, s.Applications)
	out = appendAll(out, s.Users)
	out = appendAll(out, s.Subscriptions)
	return out
}

func appendAll[T Resource](out []Resource, in []T) []Resource {
	for _, r := range in {
		out = append(out, r)
	}
	return out
}

// Count returns the number of objects per kind.
func (s *State) Count() map[Kind]int {
	m := map[Kind]int{}
	for _, r := range s.Resources() {
		m[r.Meta().Kind]++
	}
	return m
}

// find returns the object of a slice with the given name.
func find[T Resource](in []T, name string) T {
	for _, r := range in {
		if r.Meta().Metadata.Name == name {
			return r
		}
	}
	var zero T
	return zero
}

func (s *State) KeyManager(name string) *KeyManager   { return find(s.KeyManagers, name) }
func (s *State) Application(name string) *Application { return find(s.Applications, name) }
func (s *State) Role(name string) *Role               { return find(s.Roles, name) }
func (s *State) Certificate(name string) *Certificate { return find(s.Certificates, name) }

// ThrottlingPolicy returns the declared policy of a level by name.
func (s *State) ThrottlingPolicy(level, name string) *ThrottlingPolicy {
	for _, p := range s.ThrottlingPolicies {
		if p.Metadata.Name == name && p.Spec.Level == level {
			return p
		}
	}
	return nil
}

// merged is one object after overlays: the node tree and where it came from.
type merged struct {
	kind   Kind
	name   string
	root   *node
	source Position // first declaration
	last   Position // last document merged in
	layer  int
}

// key identifies an object across layers. The Environment is a singleton:
// a base folder's Environment document is overlaid by the environment's own
// whatever their names.
func docKey(kind Kind, name string) string {
	if kind == KindEnvironment {
		return string(kind)
	}
	return string(kind) + "/" + name
}

// build merges the layers, validates each object and assembles the State.
func (l *loader) build(dir string, opts LoadOptions) *State {
	var order []string
	objs := map[string]*merged{}
	for li, lay := range l.layers {
		for _, d := range lay.docs {
			k := docKey(d.kind, d.name)
			m := objs[k]
			switch {
			case m == nil:
				objs[k] = &merged{kind: d.kind, name: d.name, root: d.root, source: d.pos, last: d.pos, layer: li}
				order = append(order, k)
			case m.layer == li:
				what := fmt.Sprintf("%s %q", d.kind, d.name)
				if d.kind == KindEnvironment {
					what = "Environment document"
				}
				l.sink.errAt(d.pos, "", fmt.Sprintf("duplicate %s: also declared at %s", what, m.last),
					"declare each kind+name once per folder; to change an object per environment, overlay it from the environment folder")
			default:
				m.root = merge(m.root, d.root)
				// The Environment takes the name of the environment folder's document.
				m.last, m.layer, m.name = d.pos, li, d.name
			}
		}
	}
	// The environment directory's own layer is the last one loaded.
	st := &State{Dir: dir, Files: l.files, FileRules: l.rules}
	if env := objs[string(KindEnvironment)]; env == nil || env.layer != len(l.layers)-1 {
		l.sink.errAt(Position{File: joinFile(dir, EnvironmentFile)}, "", fmt.Sprintf("%s has no Environment document", joinFile(dir, EnvironmentFile)),
			"add a document with `kind: Environment` (see examples/environments/dev/wso2sync.yaml)")
	}
	v := l.validator
	if v == nil {
		var err error
		if v, err = newValidator(); err != nil {
			l.sink.errAt(Position{}, "", err.Error(), "please report this as a wso2sync bug")
			return st
		}
	}
	if env := objs[string(KindEnvironment)]; env != nil {
		st.Name = env.name
		overrideURL(env.root, "apim", opts.APIMURL, "--apim-url")
		overrideURL(env.root, "is", opts.ISURL, "--is-url")
	}
	// Names of every object whose header is sound, for reference checks: an
	// object with schema errors is still "declared", so its references do
	// not cascade into a second error.
	declared := map[Kind]map[string]Position{}
	for _, k := range order {
		m := objs[k]
		if declared[m.kind] == nil {
			declared[m.kind] = map[string]Position{}
		}
		declared[m.kind][m.name] = m.source
	}
	// The merged trees are all that is left of the layers: drop them, so
	// that each document's tree is garbage once it is validated.
	l.layers = nil
	l.validateAll(v, objs, order, st, opts)
	st.sort()
	r := &refChecker{st: st, sink: l.sink, rules: l.rules, declared: declared, now: opts.Now, expiry: opts.ExpiryWarning}
	if r.now == nil {
		r.now = time.Now
	}
	if r.expiry == 0 && st.Environment != nil && st.Environment.Spec.TLS.ExpiryWarningDays > 0 {
		r.expiry = time.Duration(st.Environment.Spec.TLS.ExpiryWarningDays) * 24 * time.Hour
	}
	if r.expiry == 0 {
		r.expiry = 30 * 24 * time.Hour
	}
	r.files(l.fileRefs)
	if !l.parseFail {
		// With a file that did not parse, missing references are most likely
		// in the part that was lost; reporting them would only be noise.
		r.check()
	}
	r.local()
	return st
}

// validateAll runs the Go-side structure check and the CUE validation of
// every merged document and adds the valid ones to st. The CUE part, most
// of a large Load, runs on up to GOMAXPROCS workers, each with its own
// cue.Context (not safe for concurrent use) and compiled schema; the
// diagnostics and objects are collected per document and added in
// document order, so the result does not depend on the scheduling.
func (l *loader) validateAll(v *validator, objs map[string]*merged, order []string, st *State, opts LoadOptions) {
	onEnv, cache := opts.OnEnvironment, opts.Cache
	type result struct {
		obj       Resource
		positions map[string]Position
		ds        diagSink
		reused    bool
	}
	if cache != nil {
		cache.beginLoad()
		defer func() { cache.endLoad(l.ctx.Err() == nil) }()
	}
	res := make([]result, len(order))
	sc := &structure{}
	for i, k := range order {
		if l.ctx.Err() != nil {
			res = res[:i]
			break
		}
		m := objs[k]
		sc.sink = &res[i].ds
		sc.check(m.root, docType(m.kind), "")
	}
	sc.sink = l.sink
	one := func(v *validator, i int) {
		m := objs[order[i]]
		r := &res[i]
		r.positions = map[string]Position{}
		m.root.positions("", r.positions, v.paths)
		var key docHash
		cacheable := false
		if cache != nil && !r.ds.ds.HasErrors() {
			if key, cacheable = hashDoc(m.kind, m.root); cacheable {
				if obj := cache.get(key); obj != nil {
					r.obj, r.reused = obj, true
					m.root = nil
					return
				}
			}
		}
		obj := newDoc(m.kind)
		if v.validate(m.kind, m.root, r.positions, m.source, obj, &r.ds) {
			r.obj = obj
			if cacheable && !r.ds.ds.HasErrors() {
				cache.put(key, obj)
			}
		}
		m.root = nil // not needed any more: free the tree while the others validate
	}
	// The Environment is validated first and handed to onEnv when it and
	// everything so far is sound, so that the caller can start on it (the
	// live read) while the rest validates.
	envAt := -1
	if onEnv != nil {
		if i := slices.Index(order[:len(res)], string(KindEnvironment)); i >= 0 {
			envAt = i
			one(v, i)
			r := &res[i]
			if env, ok := r.obj.(*Environment); ok && !r.ds.ds.HasErrors() && !l.sink.ds.HasErrors() {
				env.Source, env.Positions = objs[order[i]].source, r.positions
				onEnv(env)
			}
		}
	}
	one1 := one
	one = func(v *validator, i int) {
		if i != envAt {
			one1(v, i)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(res)/validateChunk)
	if workers <= 1 {
		for i := range res {
			one(v, i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wv := v
			if w > 0 {
				var err error
				if wv, err = newValidator(); err != nil {
					continue // never expected (v compiled); the others take its share
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for l.ctx.Err() == nil {
					lo := int(next.Add(validateChunk)) - validateChunk
					if lo >= len(res) {
						return
					}
					for i := lo; i < min(lo+validateChunk, len(res)); i++ {
						one(wv, i)
					}
				}
			}()
		}
		wg.Wait()
	}
	var stats LoadStats
	for i := range res {
		r := &res[i]
		if r.reused {
			stats.Reused++
		} else if r.obj != nil || r.ds.ds.HasErrors() {
			stats.Validated++
		}
		l.sink.ds = append(l.sink.ds, r.ds.ds...)
		if r.obj == nil {
			continue
		}
		m := objs[order[i]]
		if meta := r.obj.Meta(); i != envAt || meta.Positions == nil {
			meta.Source, meta.Positions = m.source, r.positions
		}
		st.add(r.obj)
	}
	l.fileRefs = sc.fileRefs
	if opts.Stats != nil {
		*opts.Stats = stats
	}
}

// validateChunk is how many documents a validation worker takes at a
// time; Loads of fewer than two chunks validate on one goroutine.
const validateChunk = 64

func joinFile(dir, name string) string { return filepath.Join(dir, name) }

// overrideURL replaces spec.<server>.url with a command-line value.
func overrideURL(env *node, server, url, flag string) {
	if url == "" {
		return
	}
	spec := env.get("spec")
	if spec == nil || spec.kind != nodeMap {
		return
	}
	srv := spec.get(server)
	if srv == nil || srv.kind != nodeMap {
		srv = &node{kind: nodeMap, pos: spec.pos, keyPos: spec.pos}
		spec.set(server, srv)
	}
	pos := Position{File: flag}
	srv.set("url", &node{kind: nodeScalar, scalar: url, pos: pos, keyPos: pos})
}

func (s *State) add(r Resource) {
	switch o := r.(type) {
	case *Environment:
		s.Environment = o
	case *KeyManager:
		s.KeyManagers = append(s.KeyManagers, o)
	case *ThrottlingPolicy:
		s.ThrottlingPolicies = append(s.ThrottlingPolicies, o)
	case *Application:
		s.Applications = append(s.Applications, o)
	case *Subscription:
		s.Subscriptions = append(s.Subscriptions, o)
	case *User:
		s.Users = append(s.Users, o)
	case *Role:
		s.Roles = append(s.Roles, o)
	case *Certificate:
		s.Certificates = append(s.Certificates, o)
	case *Truststore:
		s.Truststores = append(s.Truststores, o)
	}
}

func byName[T Resource](a, b T) int {
	return cmp.Compare(a.Meta().Metadata.Name, b.Meta().Metadata.Name)
}

func (s *State) sort() {
	slices.SortFunc(s.KeyManagers, byName)
	slices.SortFunc(s.ThrottlingPolicies, byName)
	slices.SortFunc(s.Applications, byName)
	slices.SortFunc(s.Subscriptions, byName)
	slices.SortFunc(s.Users, byName)
	slices.SortFunc(s.Roles, byName)
	slices.SortFunc(s.Certificates, byName)
	slices.SortFunc(s.Truststores, byName)
}

// newDoc returns a new typed document for a kind.
func newDoc(k Kind) Resource {
	switch k {
	case KindEnvironment:
		return &Environment{}
	case KindKeyManager:
		return &KeyManager{}
	case KindThrottlingPolicy:
		return &ThrottlingPolicy{}
	case KindApplication:
		return &Application{}
	case KindSubscription:
		return &Subscription{}
	case KindUser:
		return &User{}
	case KindRole:
		return &Role{}
	case KindCertificate:
		return &Certificate{}
	case KindTruststore:
		return &Truststore{}
	}
	panic("spec: unknown kind " + string(k)) // header() admits only Kinds
}
