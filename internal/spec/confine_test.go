package spec

import (
	"path/filepath"
	"testing"
)

// A relative {file:} or {sealed:} path is relative to the manifest that
// names it, for validate and for whoever resolves it later: the State
// holds it made absolute from that manifest's folder (an included base
// folder's own file, not one beside the environment).
func TestSecretPathsRelativeToTheirManifest(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"env/wso2sync.yaml": `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata: {name: e}
spec:
  include: [../base]
  apim: {url: "https://a.example"}
  is: {url: "https://i.example"}
  credentials: {username: {file: admin.user}, password: {sealed: "sealed/admin.age#consumerSecret"}}
`,
		"env/admin.user":        "admin",
		"env/sealed/admin.age":  "x",
		"base/users.yaml":       "apiVersion: wso2sync/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {password: {file: secrets/alice.pw}}\n",
		"base/secrets/alice.pw": "s3cret",
	})
	st := mustLoad(t, filepath.Join(dir, "env"))
	if len(st.Users) != 1 {
		t.Fatalf("%d users", len(st.Users))
	}
	real := func(p string) string {
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if got, want := real(st.Users[0].Spec.Password.File), real(filepath.Join(dir, "base", "secrets", "alice.pw")); got != want {
		t.Errorf("alice's password file %s, want %s", got, want)
	}
	c := st.Environment.Spec.Credentials
	if got, want := real(c.Username.File), real(filepath.Join(dir, "env", "admin.user")); got != want {
		t.Errorf("username file %s, want %s", got, want)
	}
	if want := filepath.Join(filepath.Dir(st.Environment.Source.File), "sealed", "admin.age") + "#consumerSecret"; c.Password.Sealed != want {
		t.Errorf("sealed %s, want %s", c.Password.Sealed, want)
	}
}
