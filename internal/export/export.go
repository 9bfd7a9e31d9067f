// Package export writes the live estate (providers.Live) as manifests in
// wso2sync's format: one file per kind (key-managers.yaml,
// throttling-policies.yaml, applications.yaml, subscriptions.yaml,
// users.yaml, roles.yaml, certificates.yaml) plus a wso2sync.yaml
// Environment, so that the output directory is an environment that
// `wso2sync validate` accepts.
//
// Output is stable: objects sorted by name, fields sorted, defaults and
// empty values left out, no timestamps; exporting twice gives identical
// bytes. Secrets never appear: write-only secrets become references
// ({env: WSO2SYNC_...}) the user fills in. The consumer secrets the server
// returns for application keys are sealed when Options.Sealer has
// recipients (Write: one age file per key in <out>/sealed/<env>, with its
// index, as apply writes them; a mapped key's clientSecret then refers to
// its sealed file), and otherwise left out with a note (Result.Notes).
// Sealed files are random by nature (age encryption) and the index records
// when they were sealed: only the manifests are byte-identical between two
// exports. Built-in objects
// (Resident Key Manager, built-in tiers, DefaultApplication, the admin
// user, system roles) are left out unless Options.IncludeBuiltin.
package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Options tune an export.
type Options struct {
	// Kinds to write; nil writes every kind the providers read.
	Kinds []spec.Kind
	// IncludeBuiltin also writes the built-in objects.
	IncludeBuiltin bool
	// Environment is the source environment: its name, URLs, credentials
	// references and TLS settings go into the exported wso2sync.yaml. nil
	// writes no wso2sync.yaml.
	Environment *spec.Environment
	// OutDir is where the files go (used to make the CA bundle path
	// relative).
	OutDir string
	// Sealer, when it has recipients (Sealer.HasRecipients), seals the
	// consumer secret of every exported application key that it captured
	// while the providers read (providers.Options.OnSecret = Capture), in
	// its Store: Write sets that to SealedDir(OutDir, environment name).
	// Its recipients go into the exported wso2sync.yaml (SealRecipients).
	Sealer *secrets.Sealer
	// SealRecipients are written as the exported environment's
	// spec.seal.recipients (public keys; sorted, without duplicates).
	SealRecipients []string

	// sealed maps each sealed key to its file (set by Write).
	sealed map[secrets.KeyID]string
}

// SealedDir is where an export seals: sealed/<env> in the output, the
// default seal.outDir of the exported environment.
func SealedDir(outDir, envName string) string { return secrets.OutDir(outDir, envName, "") }

// Result says what was written.
type Result struct {
	// Files maps file name → content, in the order written.
	Files map[string][]byte
	// Order is the file names, sorted.
	Order []string
	// Counts is the number of objects per kind.
	Counts map[spec.Kind]int
	// Notes tell the user what was left out or needs filling in, sorted.
	Notes []string
}

// FileNames maps each kind to its file.
var FileNames = map[spec.Kind]string{
	spec.KindKeyManager:       "key-managers.yaml",
	spec.KindThrottlingPolicy: "throttling-policies.yaml",
	spec.KindApplication:      "applications.yaml",
	spec.KindSubscription:     "subscriptions.yaml",
	spec.KindUser:             "users.yaml",
	spec.KindRole:             "roles.yaml",
	spec.KindCertificate:      "certificates.yaml",
}

// Render builds the files of an export without writing them.
func Render(live *providers.Live, o Options) (*Result, error) {
	kinds := o.Kinds
	if kinds == nil {
		kinds = providers.ServerKinds
	}
	r := &Result{Files: map[string][]byte{}, Counts: map[spec.Kind]int{}}
	notes := map[string]bool{}
	note := func(format string, a ...any) { notes[fmt.Sprintf(format, a...)] = true }
	st := live.State
	keep := func(k spec.Kind, name string) bool { return o.IncludeBuiltin || !live.IsBuiltin(k, name) }

	var catalogue []spec.CatalogueAPI
	addAPI := func(ref spec.APIRef) {
		for _, c := range catalogue {
			if c.Name == ref.Name && c.Version == ref.Version {
				return
			}
		}
		c := spec.CatalogueAPI{Name: ref.Name, Version: ref.Version}
		for _, a := range live.APIs {
			if a.Name == ref.Name && a.Version == ref.Version {
				c.Context = a.Context
			}
		}
		catalogue = append(catalogue, c)
	}

	for _, kind := range kinds {
		var docs []any
		switch kind {
		case spec.KindKeyManager:
			for _, km := range st.KeyManagers {
				if !keep(kind, km.Metadata.Name) {
					continue
				}
				cp := *km
				if c := cp.Spec.Connector; c != nil {
					cc := *c
					cc.Password = spec.SecretRef{Env: envName("KM", km.Metadata.Name, "PASSWORD")}
					cp.Spec.Connector = &cc
					note("key manager %s: set %s to the connector password (APIM never returns it)", km.Metadata.Name, cc.Password.Env)
				}
				docs = append(docs, &cp)
			}
		case spec.KindThrottlingPolicy:
			seen := map[string]string{}
			for _, p := range st.ThrottlingPolicies {
				if !keep(kind, p.Metadata.Name) {
					continue
				}
				// Manifests name objects uniquely per kind, so a name used
				// at both levels (the built-in Unlimited) is written once.
				if lvl, dup := seen[p.Metadata.Name]; dup {
					note("throttling policy %s exists at the %s and %s levels; only the %s tier is exported (manifest names are unique per kind)",
						p.Metadata.Name, lvl, p.Spec.Level, lvl)
					continue
				}
				seen[p.Metadata.Name] = p.Spec.Level
				docs = append(docs, p)
			}
		case spec.KindApplication:
			for _, a := range st.Applications {
				if !keep(kind, a.Metadata.Name) {
					continue
				}
				cp := *a
				cp.Spec.Keys = nil
				generated := 0
				for _, k := range a.Spec.Keys {
					file, sealed := o.sealed[keyID(a.Metadata.Name, k)]
					// The token validity is read from the key's lifetime
					// property, which is exported as it is.
					k.ValidityPeriod = 0
					switch {
					case k.Mode == spec.KeyModeMap && sealed:
						// The secret of the mapped client, sealed by this export.
						k.ClientSecret = &spec.SecretRef{Sealed: filepath.ToSlash(filepath.Join("sealed", o.envName(), file))}
					case k.Mode == spec.KeyModeMap:
						k.ClientSecret = &spec.SecretRef{Env: envName(a.Metadata.Name, k.KeyType, "CLIENT_SECRET")}
						note("application %s: set %s to the secret of mapped client %s", a.Metadata.Name, k.ClientSecret.Env, k.ClientID)
					case !sealed:
						generated++
					}
					cp.Spec.Keys = append(cp.Spec.Keys, k)
				}
				if generated > 0 && len(o.sealed) == 0 {
					note("consumer secrets of generated keys are not exported: pass --seal-recipient (or set seal.recipients) to seal them into sealed/<env>")
				} else if generated > 0 {
					note("application %s: the server returned no consumer secret for some keys (secret hashing, or a pending key workflow): they are not sealed", a.Metadata.Name)
				}
				docs = append(docs, &cp)
			}
		case spec.KindSubscription:
			for _, s := range st.Subscriptions {
				if !o.IncludeBuiltin && live.IsBuiltin(spec.KindApplication, s.Spec.Application) {
					continue
				}
				addAPI(s.Spec.API)
				docs = append(docs, s)
			}
		case spec.KindUser:
			for _, u := range st.Users {
				if keep(kind, u.Metadata.Name) {
					docs = append(docs, u)
				}
			}
			if len(docs) > 0 {
				note("user passwords are write-only in IS and are not exported; add password references to set them")
			}
		case spec.KindRole:
			for _, rl := range st.Roles {
				if keep(kind, rl.Metadata.Name) {
					docs = append(docs, rl)
				}
			}
		case spec.KindCertificate:
			for _, c := range st.Certificates {
				if c.Spec.API != nil {
					addAPI(*c.Spec.API)
				}
				docs = append(docs, c)
			}
		default:
			continue
		}
		r.Counts[kind] = len(docs)
		if len(docs) == 0 {
			continue
		}
		b, err := renderDocs(kind, docs)
		if err != nil {
			return nil, err
		}
		r.Files[FileNames[kind]] = b
	}
	if o.Environment != nil {
		slices.SortFunc(catalogue, func(a, b spec.CatalogueAPI) int {
			return strings.Compare(a.Name+"\x00"+a.Version, b.Name+"\x00"+b.Version)
		})
		b, ca, err := renderEnvironment(o.Environment, catalogue, o.OutDir, o.SealRecipients)
		if err != nil {
			return nil, err
		}
		r.Files[spec.EnvironmentFile] = b
		if ca.name != "" {
			r.Files[ca.name] = ca.data
		}
	}
	for name := range r.Files {
		r.Order = append(r.Order, name)
	}
	sort.Strings(r.Order)
	for n := range notes {
		r.Notes = append(r.Notes, n)
	}
	sort.Strings(r.Notes)
	return r, nil
}

// Write renders the export into o.OutDir (created if needed), replacing
// each file atomically, after sealing the captured consumer secrets when
// o.Sealer has recipients.
func Write(live *providers.Live, o Options) (*Result, error) {
	if err := o.seal(live); err != nil {
		return nil, err
	}
	r, err := Render(live, o)
	if err != nil {
		return nil, err
	}
	if n := len(o.sealed); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("consumer secrets of %d application keys are sealed in %s (open them with 'wso2sync secrets open')",
			n, filepath.ToSlash(filepath.Join("sealed", o.envName()))))
		sort.Strings(r.Notes)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range r.Order {
		if err := writeAtomic(filepath.Join(o.OutDir, name), r.Files[name]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// envName makes WSO2SYNC_<PARTS>: upper case, other characters → _.
func envName(parts ...string) string {
	var b strings.Builder
	b.WriteString("WSO2SYNC")
	for _, p := range parts {
		b.WriteByte('_')
		for _, c := range p {
			switch {
			case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)):
				b.WriteRune(unicode.ToUpper(c))
			default:
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

func renderDocs(kind spec.Kind, docs []any) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s objects exported by wso2sync export (%d).\n", kind, len(docs))
	for i, d := range docs {
		m, err := toMap(d)
		if err != nil {
			return nil, err
		}
		prune(kind, "", m)
		if i > 0 {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(m); err != nil {
			return nil, err
		}
		enc.Close()
	}
	return buf.Bytes(), nil
}

// caCopy is the CA bundle written beside the exported environment when
// the source's is outside the export's root (a manifest may only name
// files inside its root, spec.FileRules).
type caCopy struct {
	name string
	data []byte
}

func renderEnvironment(env *spec.Environment, apis []spec.CatalogueAPI, outDir string, recipients []string) ([]byte, caCopy, error) {
	var ca caCopy
	es := env.Spec
	out := spec.EnvironmentSpec{APIM: spec.Server{URL: es.APIM.URL, Credentials: es.APIM.Credentials},
		IS: spec.Server{URL: es.IS.URL, Credentials: es.IS.Credentials}, Credentials: es.Credentials,
		TLS: spec.TLS{InsecureSkipVerify: es.TLS.InsecureSkipVerify}, Mode: spec.ModeDryRun, APIs: apis}
	if len(recipients) > 0 {
		rs := slices.Clone(recipients)
		slices.Sort(rs)
		out.Seal.Recipients = slices.Compact(rs)
	}
	if bundle := es.TLS.CABundle; bundle != "" {
		p := env.ResolvePath("spec.tls.caBundle", bundle)
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if outDir != "" && !spec.Within(p, spec.DefaultRoot(outDir)) {
			// Outside the export's root: copy it beside the export.
			data, err := spec.ReadRegular(bundle, p, spec.MaxPEMFile)
			if err != nil {
				return nil, ca, fmt.Errorf("spec.tls.caBundle: %w", err)
			}
			ca = caCopy{name: filepath.Base(p), data: data}
			p = filepath.Join(outDir, ca.name)
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
		}
		if outDir != "" {
			if od, err := filepath.Abs(outDir); err == nil {
				if rel, err := filepath.Rel(od, p); err == nil {
					p = rel
				}
			}
		}
		out.TLS.CABundle = filepath.ToSlash(p)
	}
	doc := &spec.Environment{Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindEnvironment,
		Metadata: spec.Metadata{Name: env.Metadata.Name, Labels: env.Metadata.Labels}}, Spec: out}
	m, err := toMap(doc)
	if err != nil {
		return nil, ca, err
	}
	prune(spec.KindEnvironment, "", m)
	var buf bytes.Buffer
	buf.WriteString("# Environment exported by wso2sync export: the servers the estate was read from.\n")
	buf.WriteString("# Review mode (dry-run), prune and seal before applying it anywhere.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, ca, err
	}
	enc.Close()
	return buf.Bytes(), ca, nil
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// explicitBools are kept even when false (their schema default is true,
// or the value is the point of the object).
var explicitBools = map[string]bool{
	"spec.enabled": true, "spec.enableTokenGeneration": true, "spec.enableOAuthAppCreation": true,
	"spec.enableSelfValidationJWT": true, "spec.enableMapOAuthConsumerApps": true,
}

// defaults are values equal to the schema default, left out (path →
// value; "*" in a path matches a list index).
var defaults = map[spec.Kind]map[string]string{
	spec.KindKeyManager:       {"spec.tokenType": "DIRECT", "spec.permissions.permissionType": "PUBLIC"},
	spec.KindApplication:      {"spec.owner": "admin", "spec.throttlingPolicy": "Unlimited", "spec.tokenType": "JWT", "spec.keys.*.mode": "generate"},
	spec.KindSubscription:     {"spec.throttlingPolicy": "Unlimited"},
	spec.KindUser:             {"spec.domain": "PRIMARY"},
	spec.KindRole:             {"spec.audience.type": "organization"},
	spec.KindEnvironment:      {"spec.mode": "dry-run"},
	spec.KindThrottlingPolicy: {},
	spec.KindCertificate:      {},
}

// prune removes empty values and defaults, and turns JSON numbers into
// integers, so the YAML is minimal and stable.
func prune(kind spec.Kind, path string, m map[string]any) {
	name, _ := nested(m, "metadata", "name").(string)
	for k, v := range m {
		p := join(path, k)
		if nv, drop := pruneValue(kind, p, v); drop {
			delete(m, k)
		} else {
			m[k] = nv
		}
	}
	if path == "" && name != "" {
		// userName / displayName default to metadata.name.
		if s, ok := m["spec"].(map[string]any); ok {
			switch {
			case kind == spec.KindUser && s["userName"] == name:
				delete(s, "userName")
			case kind == spec.KindRole && s["displayName"] == name:
				delete(s, "displayName")
			}
		}
	}
}

func pruneValue(kind spec.Kind, p string, v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		return x, x == "" || defaults[kind][p] == x
	case bool:
		return x, !x && !explicitBools[p]
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, i == 0
		}
		f, _ := x.Float64()
		return f, f == 0
	case map[string]any:
		prune(kind, p, x)
		return x, len(x) == 0
	case []any:
		out := x[:0]
		for _, e := range x {
			if ne, drop := pruneValue(kind, p+".*", e); !drop {
				out = append(out, ne)
			}
		}
		return out, len(out) == 0
	}
	return v, false
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func nested(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func (o *Options) envName() string {
	if o.Environment == nil {
		return ""
	}
	return o.Environment.Metadata.Name
}

func keyID(app string, k spec.ApplicationKey) secrets.KeyID {
	return secrets.KeyID{Application: app, KeyType: strings.ToUpper(k.KeyType), KeyManager: k.KeyManager}
}

// seal seals the secret of every exported key that the Sealer captured
// into SealedDir(o.OutDir, env) and records the files in o.sealed. Keys
// whose secret the server did not return are left out (a note says so).
func (o *Options) seal(live *providers.Live) error {
	if !o.Sealer.HasRecipients() || o.Environment == nil {
		return nil
	}
	if o.Kinds != nil && !slices.Contains(o.Kinds, spec.KindApplication) {
		return nil
	}
	keyDir := o.Sealer.Store.KeyDir // the environment's fingerprint key (Configure)
	o.Sealer.Store = secrets.NewStore(SealedDir(o.OutDir, o.envName()))
	o.Sealer.Store.KeyDir = keyDir
	o.sealed = map[secrets.KeyID]string{}
	for _, a := range live.State.Applications {
		if !o.IncludeBuiltin && live.IsBuiltin(spec.KindApplication, a.Metadata.Name) {
			continue
		}
		for _, k := range a.Spec.Keys {
			id := keyID(a.Metadata.Name, k)
			if !o.Sealer.Captured(id) {
				continue
			}
			e, err := o.Sealer.Seal(id, k.GrantTypes, false)
			if err != nil {
				return err
			}
			o.sealed[id] = e.File
		}
	}
	return nil
}
