package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/wso2specs"
)

// SpecsEnv names the environment variable that points at another folder of
// official spec files than the repository's third_party/wso2-specs.
const SpecsEnv = wso2specs.Env

// SpecFiles are the official specs the simulator is checked against (APIM
// 4.5.0 and IS 7.1). Route.Spec names one of them.
var SpecFiles = []string{
	"apim-4.5.0_admin-api-v4.yaml",
	"apim-4.5.0_devportal-api-v3.yaml",
	"apim-4.5.0_publisher-api-v4.yaml",
	"apim-4.x_client-registration-v0.17_dcr.yaml",
	"is-7.0-7.1_scim2.yaml",
	"is-7.1-7.2_oauth-dcr-v1.1.yaml",
	"is-7.1_api-resources-v1.yaml",
	"is-7.1_applications-v1.yaml",
	"is-7.0-7.3_keystores-v1.yaml",
}

// FindSpecsDir locates the folder holding the official spec files (see
// package wso2specs).
func FindSpecsDir() (string, error) { return wso2specs.Dir() }

// Specs are the loaded official specs, keyed by file name.
type Specs struct {
	Dir  string
	Docs map[string]*openapi3.T
}

var (
	specsOnce sync.Once
	specsVal  *Specs
	specsErr  error
)

// LoadSpecs loads (once per process) every file in SpecFiles, converting
// Swagger 2.0 files to OpenAPI 3 and applying the Fix of every erratum that
// has one.
func LoadSpecs() (*Specs, error) {
	specsOnce.Do(func() {
		specsVal, specsErr = loadSpecs()
	})
	return specsVal, specsErr
}

func loadSpecs() (*Specs, error) {
	dir, err := FindSpecsDir()
	if err != nil {
		return nil, err
	}
	s := &Specs{Dir: dir, Docs: map[string]*openapi3.T{}}
	type res struct {
		name string
		doc  *openapi3.T
		err  error
	}
	ch := make(chan res, len(SpecFiles))
	for _, name := range SpecFiles {
		go func() {
			doc, err := loadSpecFile(filepath.Join(dir, name), dedupFor(name))
			ch <- res{name, doc, err}
		}()
	}
	var errs []error
	for range SpecFiles {
		r := <-ch
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, r.err))
			continue
		}
		s.Docs[r.name] = r.doc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i, e := range Errata {
		if e.Fix == nil {
			continue
		}
		doc := s.Docs[e.Spec]
		if doc == nil {
			return nil, fmt.Errorf("erratum %d (%s): spec %q not loaded", i, e.Op, e.Spec)
		}
		if err := e.Fix(doc); err != nil {
			return nil, fmt.Errorf("erratum %d (%s): fix failed: %w", i, e.Op, err)
		}
	}
	return s, nil
}

// dedupFor reports whether an erratum asks to de-duplicate the keys of a
// spec file.
func dedupFor(name string) bool {
	for _, e := range Errata {
		if e.DedupKeys && e.Spec == name {
			return true
		}
	}
	return false
}

// loadSpecFile reads a YAML spec, with dedup drops duplicate mapping keys
// (keeping the last, as PyYAML does), and loads it as OpenAPI 3
// (converting Swagger 2.0).
func loadSpecFile(path string, dedup bool) (*openapi3.T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if dedup {
		dedupKeys(&root)
	}
	var v any
	if err := root.Decode(&v); err != nil {
		return nil, err
	}
	js, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, err
	}
	var head struct {
		Swagger string `json:"swagger"`
	}
	_ = json.Unmarshal(js, &head)
	if strings.HasPrefix(head.Swagger, "2") {
		var d2 openapi2.T
		if err := json.Unmarshal(js, &d2); err != nil {
			return nil, fmt.Errorf("swagger 2.0: %w", err)
		}
		d3, err := openapi2conv.ToV3(&d2)
		if err != nil {
			return nil, fmt.Errorf("convert to openapi 3: %w", err)
		}
		return d3, nil
	}
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	doc, err := loader.LoadFromData(js)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// dedupKeys removes earlier occurrences of repeated mapping keys.
func dedupKeys(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		last := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			last[n.Content[i].Value] = i
		}
		out := n.Content[:0:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if last[n.Content[i].Value] == i {
				out = append(out, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = out
	}
	for _, c := range n.Content {
		dedupKeys(c)
	}
}

// jsonable turns YAML-decoded values into JSON-marshalable ones.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = jsonable(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = jsonable(x)
		}
		return t
	default:
		return v
	}
}
