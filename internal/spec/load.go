package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvironmentFile is the file that makes a directory an environment.
const EnvironmentFile = "wso2sync.yaml"

// maxFileSize bounds one manifest file; larger files are refused rather than
// read into memory.
const maxFileSize = 8 << 20

// LoadOptions tune Load.
type LoadOptions struct {
	// APIMURL and ISURL, when set, replace spec.apim.url / spec.is.url of
	// the environment (the --apim-url / --is-url flags and their variables).
	APIMURL, ISURL string
	// Now is the clock for certificate expiry warnings (time.Now if nil).
	Now func() time.Time
	// ExpiryWarning is how close to expiry a certificate gets a warning
	// (30 days if zero).
	ExpiryWarning time.Duration
	// OnEnvironment, if set, is called during Load with the Environment as
	// soon as it and everything loaded before it is valid, before the other
	// objects are validated (the object is the State's: read it only). The
	// Load can still fail afterwards.
	OnEnvironment func(*Environment)
	// Root is the folder every file a manifest names must be inside
	// (--root); empty means the git repository holding the environment
	// (see FileRules).
	Root string
	// AllowDirs are folders outside the root that manifests may name files
	// in (--allow-dir), e.g. /run/secrets.
	AllowDirs []string
	// Cache, if set, holds documents validated by earlier Loads: a document
	// whose merged content is unchanged is not validated again (the daemon
	// keeps one across its passes). See ValidationCache.
	Cache *ValidationCache
	// Stats, if set, is filled with what the Load validated.
	Stats *LoadStats
}

// LoadStats count a Load's documents by how they were validated.
type LoadStats struct {
	// Validated were checked by CUE; Reused came from LoadOptions.Cache.
	Validated, Reused int
}

// document is one YAML document of a manifest file.
type document struct {
	kind Kind
	name string
	root *node
	pos  Position // the document's first line
}

// layer is the documents of one directory; includes come before the
// directory that includes them.
type layer struct {
	dir  string
	docs []*document
}

// loader carries the state of one Load.
type loader struct {
	ctx       context.Context
	sink      *diagSink
	layers    []*layer
	loaded    map[string]bool // absolute dirs already loaded (diamond includes)
	files     []string
	validator *validator // compiled schema; nil means compile one in build
	fileRefs  []fileRef  // {file:}/{sealed:} references found by the structure check
	parseFail bool
	rules     FileRules // where named files may be
}

// Load reads the environment in dir (its wso2sync.yaml, the folders it
// includes, and every *.yaml/*.yml file beside it), merges overlays,
// validates every object against the CUE schema, checks references between
// objects, and returns the desired State. Diagnostics hold every problem
// found; the State is nil only when nothing could be loaded, and must not
// be acted on when Diagnostics.HasErrors().
func Load(ctx context.Context, dir string, opts LoadOptions) (*State, Diagnostics) {
	sink := &diagSink{}
	l := &loader{ctx: ctx, sink: sink, loaded: map[string]bool{}}
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(filepath.Join(dir, EnvironmentFile)); err != nil || fi.IsDir() {
		sink.errAt(Position{}, "", fmt.Sprintf("no %s in %s: not an environment directory", EnvironmentFile, dir),
			fmt.Sprintf("pass --env DIR for a directory holding %s (see examples/environments/dev)", EnvironmentFile))
		return nil, sink.ds
	}
	rules, err := NewFileRules(dir, opts.Root, opts.AllowDirs)
	if err != nil {
		sink.errAt(Position{}, "", err.Error(), "pass --root and --allow-dir existing folders")
		return nil, sink.ds
	}
	l.rules = rules
	if _, err := rules.CheckDir(dir, dir); err != nil {
		sink.errAt(Position{}, "", "environment "+err.Error(), "pass a --root that holds the environment folder")
		return nil, sink.ds
	}
	l.loadDir(dir, nil, Position{})
	if err := ctx.Err(); err != nil {
		sink.errAt(Position{}, "", "loading interrupted: "+err.Error(), "")
		return nil, sink.ds
	}
	st := l.build(dir, opts)
	sink.ds.Sort()
	return st, sink.ds
}

// loadDir loads the include tree of dir depth-first, then dir itself.
// stack holds the absolute directories currently being included, to find
// cycles; from is the include entry that asked for dir.
func (l *loader) loadDir(dir string, stack []string, from Position) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
	}
	if i := slices.Index(stack, abs); i >= 0 {
		chain := make([]string, 0, len(stack)-i+1)
		for _, s := range stack[i:] {
			chain = append(chain, relOrAbs(s))
		}
		chain = append(chain, relOrAbs(abs))
		l.sink.errAt(from, "spec.include", "include cycle: "+strings.Join(chain, " → "),
			"remove one of the include entries so that folders include each other in one direction only")
		return
	}
	if l.loaded[abs] {
		return // already loaded through another include: load each folder once
	}
	l.loaded[abs] = true
	lay := &layer{dir: dir}
	lay.docs = l.parseFiles(l.manifestFiles(dir, from))
	stack = append(stack, abs)
	for _, d := range lay.docs {
		if d.kind != KindEnvironment {
			continue
		}
		inc := d.root.get("spec").get("include")
		if inc == nil || inc.kind != nodeList {
			continue // a wrong type is reported by the schema
		}
		for _, item := range inc.items {
			p, ok := item.str()
			if !ok || p == "" {
				continue
			}
			target := p
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(d.pos.File), p)
			}
			if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
				l.sink.errAt(item.pos, "spec.include", fmt.Sprintf("include %s: no such directory (%s)", Truncate(p), target),
					"include paths are relative to the file that names them")
				continue
			}
			if _, err := l.rules.CheckDir(p, target); err != nil {
				l.sink.errAt(item.pos, "spec.include", "include "+err.Error(), hintOfFile(err))
				continue
			}
			l.loadDir(target, stack, item.pos)
		}
	}
	l.layers = append(l.layers, lay)
}

// manifestFiles lists *.yaml and *.yml in dir (not subdirectories), sorted.
func (l *loader) manifestFiles(dir string, from Position) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.sink.errAt(from, "", fmt.Sprintf("cannot read directory %s: %v", dir, unwrapPathError(err)), "")
		return nil
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" {
			p := filepath.Join(dir, name)
			// Checked without opening: a FIFO named pipe.yaml must not
			// block the load, and a symlink must not lead out of the root.
			if _, err := l.rules.Check(p, p, maxFileSize); err != nil {
				l.sink.errAt(Position{File: p}, "", "manifest file "+err.Error(), hintOfFile(err))
				l.parseFail = true
				continue
			}
			files = append(files, p)
		}
	}
	slices.Sort(files)
	return files
}

// parseFiles parses files, several at once on up to GOMAXPROCS
// goroutines (YAML decoding is a large part of a big Load), and merges the
// documents, diagnostics and file list in file order, as if they had been
// parsed one after the other.
func (l *loader) parseFiles(files []string) []*document {
	if len(files) < 2 || runtime.GOMAXPROCS(0) < 2 {
		var docs []*document
		for _, f := range files {
			docs = append(docs, l.parseFile(f)...)
		}
		return docs
	}
	type parsed struct {
		docs []*document
		sub  loader
	}
	out := make([]parsed, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				p := &out[i]
				p.sub = loader{ctx: l.ctx, sink: &diagSink{}}
				p.docs = p.sub.parseFile(files[i])
			}
		}()
	}
	wg.Wait()
	var docs []*document
	for i := range out {
		p := &out[i]
		l.files = append(l.files, p.sub.files...)
		l.sink.ds = append(l.sink.ds, p.sub.sink.ds...)
		l.parseFail = l.parseFail || p.sub.parseFail
		docs = append(docs, p.docs...)
	}
	return docs
}

var reYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseFile splits a file into documents and checks each header.
func (l *loader) parseFile(file string) []*document {
	l.files = append(l.files, file)
	data, err := readBounded(file)
	if err != nil {
		l.sink.errAt(Position{File: file}, "", err.Error(), "")
		l.parseFail = true
		return nil
	}
	return l.parseBytes(file, data)
}

func (l *loader) parseBytes(file string, data []byte) []*document {
	var docs []*document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	conv := &converter{file: file}
	for {
		var yn yaml.Node
		err := dec.Decode(&yn)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			pos, msg := Position{File: file, Line: 1, Col: 1}, strings.TrimPrefix(err.Error(), "yaml: ")
			if m := reYAMLLine.FindStringSubmatch(err.Error()); m != nil {
				pos.Line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			l.sink.errAt(pos, "", "invalid YAML: "+msg, "fix the YAML syntax; `---` separates documents")
			l.parseFail = true
			break
		}
		root, err := conv.convert(&yn, 0)
		if err != nil {
			var pe *posError
			if errors.As(err, &pe) {
				l.sink.errAt(pe.pos, "", pe.msg, "")
			} else {
				l.sink.errAt(Position{File: file, Line: yn.Line, Col: yn.Column}, "", err.Error(), "split the file or remove deep alias chains")
			}
			l.parseFail = true
			continue
		}
		if root.kind == nodeNull {
			continue // an empty document (e.g. a trailing ---)
		}
		if d := l.header(root); d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// header checks apiVersion, kind and metadata.name, which every later step
// relies on; a document with a broken header is reported and skipped.
func (l *loader) header(root *node) *document {
	pos := root.pos
	if root.kind != nodeMap {
		l.sink.errAt(pos, "", fmt.Sprintf("a document must be a mapping with apiVersion, kind, metadata and spec, not a %s", root.kind),
			"start the document with `apiVersion: "+APIVersion+"`")
		return nil
	}
	ok := true
	av := root.get("apiVersion")
	if s, isStr := av.str(); av == nil || !isStr || s != APIVersion {
		ok = false
		p, msg := pos, "missing apiVersion"
		if av != nil {
			p, msg = av.pos, fmt.Sprintf("unsupported apiVersion %s", scalarText(av))
		}
		l.sink.errAt(p, "apiVersion", msg, "set `apiVersion: "+APIVersion+"`")
	}
	kn := root.get("kind")
	ks, _ := kn.str()
	kind := Kind(ks)
	if !slices.Contains(Kinds, kind) {
		ok = false
		names := make([]string, len(Kinds))
		for i, k := range Kinds {
			names[i] = string(k)
		}
		if kn == nil {
			l.sink.errAt(pos, "kind", "missing kind", "set kind to one of: "+strings.Join(names, ", "))
		} else {
			l.sink.errAt(kn.pos, "kind", fmt.Sprintf("unknown kind %s", scalarText(kn)), didYouMean(ks, names, "kinds"))
		}
	}
	name, _ := root.get("metadata").get("name").str()
	if strings.TrimSpace(name) == "" {
		ok = false
		p := pos
		if md := root.get("metadata"); md != nil {
			p = md.keyPos
		}
		l.sink.errAt(p, "metadata.name", "missing metadata.name", "every document needs a non-empty metadata.name")
	}
	if !ok {
		return nil
	}
	return &document{kind: kind, name: name, root: root, pos: pos}
}

// scalarText renders a node for a message (only used for non-secret header
// fields).
func scalarText(n *node) string {
	if n.kind == nodeScalar {
		return Truncate(fmt.Sprint(n.scalar))
	}
	return "(a " + n.kind.String() + ")"
}

// readBounded reads a manifest file: a regular file (opened without
// blocking, so a FIFO cannot hang the load) of at most maxFileSize.
func readBounded(file string) ([]byte, error) {
	data, err := ReadRegular(file, file, maxFileSize)
	var fe *FileError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Rule, "is larger") {
		return nil, fmt.Errorf("%s is larger than %d MiB; split it into several files", file, maxFileSize>>20)
	}
	return data, err
}

// hintOfFile is the hint of a *FileError ("" for other errors).
func hintOfFile(err error) string {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Hint
	}
	return ""
}

// unwrapPathError drops the path from *fs.PathError, which messages already name.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// relOrAbs shows an absolute path relative to the working directory when it
// is below it, for shorter messages.
func relOrAbs(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	if wdReal, err := filepath.EvalSymlinks(wd); err == nil {
		wd = wdReal
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return abs
}
