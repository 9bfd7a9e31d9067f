// Package wso2specs finds the folder of official WSO2 OpenAPI/Swagger files
// the tests check the simulator and the providers against. The files are kept
// unmodified in the repository (third_party/wso2-specs), so a fresh clone
// needs nothing beside it; an environment variable points elsewhere.
package wso2specs

import (
	"fmt"
	"os"
	"path/filepath"
)

// Env names the environment variable that, when set, is the spec folder.
const Env = "WSO2SYNC_SPECS"

// Rel is where the folder sits relative to the repository root.
const Rel = "third_party/wso2-specs"

// Dir locates the spec folder: $WSO2SYNC_SPECS if set, else the first Rel
// found walking up from the working directory (go test runs in the package
// directory, so this finds the repository root's copy).
func Dir() (string, error) {
	if d := os.Getenv(Env); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return "", fmt.Errorf("%s=%q is not a directory", Env, d)
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, Rel)
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("official WSO2 specs not found: no %q in %s or any parent; "+
		"run from inside the repository or set %s to the specs folder", Rel, wd, Env)
}
