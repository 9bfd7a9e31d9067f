package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// Env are the variables the generated environment references.
var Env = map[string]string{
	"WSO2SYNC_ADMIN_USERNAME": "admin",
	"WSO2SYNC_ADMIN_PASSWORD": "admin",
}

// KeyManagerName is the IS key manager every application's key uses.
const KeyManagerName = "WSO2IS"

// ChangeEvery picks the 1% change set: every 100th application (new
// description), subscription (tier Unlimited → Gold) and user (new family
// name), counting from the first.
const ChangeEvery = 100

// DocsPerFile is how many documents one manifest file holds.
const DocsPerFile = 1000

// changed reports whether object i is in the 1% change set.
func changed(i int) bool { return i%ChangeEvery == 0 }

// ChangedCount is the size of the change set for n objects.
func ChangedCount(n int) int { return (n + ChangeEvery - 1) / ChangeEvery }

// ManifestOptions say what WriteManifests writes.
type ManifestOptions struct {
	APIMURL, ISURL, Issuer string
	// Change writes the 1% change set.
	Change bool
	// Recipient, if set, is the environment's one seal recipient
	// (spec.seal.recipients): an enforcing apply seals every generated
	// consumer secret to it, one age file per key, as a user's would.
	Recipient string
}

// WriteManifests writes the environment of estate e into dir: wso2sync.yaml
// (the API catalogue, enforce, prune off) and one file per kind.
func WriteManifests(dir string, e *sim.Estate, o ManifestOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fill func(w *bufio.Writer)) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<16)
		fill(w)
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	// Several files per kind: the loader caps the YAML nodes of one file
	// (internal/spec/node.go maxNodes = 100,000, about 8,000
	// subscriptions), and real estates split their manifests too.
	chunks := func(kind string, n int, doc func(w *bufio.Writer, i int)) error {
		for lo := 0; lo < n || lo == 0; lo += DocsPerFile {
			hi := min(lo+DocsPerFile, n)
			err := write(fmt.Sprintf("%s-%03d.yaml", kind, lo/DocsPerFile+1), func(w *bufio.Writer) {
				for i := lo; i < hi; i++ {
					doc(w, i)
				}
			})
			if err != nil || n == 0 {
				return err
			}
		}
		return nil
	}
	err := write("wso2sync.yaml", func(w *bufio.Writer) {
		fmt.Fprintf(w, `apiVersion: wso2sync/v1alpha1
kind: Environment
metadata:
  name: bench
spec:
  apim: {url: %q}
  is: {url: %q}
  credentials:
    username: {env: WSO2SYNC_ADMIN_USERNAME}
    password: {env: WSO2SYNC_ADMIN_PASSWORD}
  mode: enforce
  prune: {policy: "off"}
`, o.APIMURL, o.ISURL)
		if o.Recipient != "" {
			fmt.Fprintf(w, "  seal: {recipients: [%q]}\n", o.Recipient)
		}
		fmt.Fprintln(w, "  apis:")
		for _, a := range e.APIs {
			fmt.Fprintf(w, "    - {name: %s, version: %s, context: %s}\n", a.Name, a.Version, a.Context)
		}
	})
	if err != nil {
		return err
	}
	err = write("key-managers.yaml", func(w *bufio.Writer) {
		fmt.Fprintf(w, `apiVersion: wso2sync/v1alpha1
kind: KeyManager
metadata:
  name: %s
spec:
  displayName: WSO2 Identity Server 7.1
  type: WSO2-IS-7
  enabled: true
  wellKnownEndpoint: https://wso2is:9443/oauth2/token/.well-known/openid-configuration
  issuer: %s
  clientRegistrationEndpoint: https://wso2is:9443/api/identity/oauth2/dcr/v1.1/register
  introspectionEndpoint: https://wso2is:9443/oauth2/introspect
  tokenEndpoint: https://wso2is:9443/oauth2/token
  revokeEndpoint: https://wso2is:9443/oauth2/revoke
  userInfoEndpoint: https://wso2is:9443/scim2/Me
  authorizeEndpoint: https://wso2is:9443/oauth2/authorize
  certificates: {type: JWKS, value: "https://wso2is:9443/oauth2/jwks"}
  availableGrantTypes: [client_credentials, password, refresh_token]
  enableTokenGeneration: true
  enableOAuthAppCreation: true
  enableMapOAuthConsumerApps: true
  connector:
    username: admin
    password: {env: WSO2SYNC_ADMIN_PASSWORD}
    apiResourceManagementEndpoint: https://wso2is:9443/api/server/v1/api-resources
    rolesEndpoint: https://wso2is:9443/scim2/v2/Roles
    enableRolesCreation: false
`, KeyManagerName, o.Issuer)
	})
	if err != nil {
		return err
	}
	err = chunks("applications", len(e.Applications), func(w *bufio.Writer, i int) {
		{
			a := e.Applications[i]
			desc := "bench application " + a.Name
			if o.Change && changed(i) {
				desc += " (changed)"
			}
			fmt.Fprintf(w, `---
apiVersion: wso2sync/v1alpha1
kind: Application
metadata: {name: %s}
spec:
  description: %q
  throttlingPolicy: %s
  keys:
    - {keyType: PRODUCTION, keyManager: %s, grantTypes: [client_credentials]}
`, a.Name, desc, a.ThrottlingPolicy, KeyManagerName)
		}
	})
	if err != nil {
		return err
	}
	type subRef struct {
		app string
		sub sim.SubSeed
	}
	var subs []subRef
	for _, a := range e.Applications {
		for _, s := range a.Subscriptions {
			subs = append(subs, subRef{a.Name, s})
		}
	}
	err = chunks("subscriptions", len(subs), func(w *bufio.Writer, i int) {
		app, s := subs[i].app, subs[i].sub
		tier := s.Tier
		if o.Change && changed(i) {
			tier = "Gold"
		}
		fmt.Fprintf(w, `---
apiVersion: wso2sync/v1alpha1
kind: Subscription
metadata: {name: %s--%s}
spec: {application: %s, api: {name: %s, version: %s}, throttlingPolicy: %s}
`, app, s.API, app, s.API, s.Version, tier)
	})
	if err != nil {
		return err
	}
	roles := map[string][]string{}
	for _, r := range e.Roles {
		for _, u := range r.Users {
			roles[u] = append(roles[u], r.DisplayName)
		}
	}
	err = chunks("users", len(e.Users), func(w *bufio.Writer, i int) {
		{
			u := e.Users[i]
			family := u.FamilyName
			if o.Change && changed(i) {
				family += "-changed"
			}
			fmt.Fprintf(w, `---
apiVersion: wso2sync/v1alpha1
kind: User
metadata: {name: %s}
spec:
  name: {givenName: %s, familyName: %q}
  emails: [{value: %s, primary: true}]
  roles: [%s]
`, u.UserName, u.GivenName, family, u.Emails[0], joinComma(roles[u.UserName]))
		}
	})
	if err != nil {
		return err
	}
	return write("roles.yaml", func(w *bufio.Writer) {
		for _, r := range e.Roles {
			fmt.Fprintf(w, `---
apiVersion: wso2sync/v1alpha1
kind: Role
metadata: {name: %s}
spec: {permissions: [internal_login]}
`, r.DisplayName)
		}
	})
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// CountsOf are the floor inputs of estate e as WriteManifests declares it;
// the live totals add the built-ins the simulator holds (see liveBuiltins).
func CountsOf(e *sim.Estate, b Builtins) Counts {
	c := Counts{KeyManagers: 1, Apps: len(e.Applications), Keys: len(e.Applications),
		Users: len(e.Users), Roles: len(e.Roles),
		LiveApps: len(e.Applications) + b.Apps, LiveUsers: len(e.Users) + b.Users, LiveRoles: len(e.Roles) + b.Roles}
	perAPI := map[string]int{}
	for _, a := range e.Applications {
		c.SubsPerApp = append(c.SubsPerApp, len(a.Subscriptions))
		for _, s := range a.Subscriptions {
			perAPI[s.API]++
		}
	}
	for _, a := range e.APIs {
		c.SubsPerAPI = append(c.SubsPerAPI, perAPI[a.Name])
	}
	return c
}

// Builtins are the objects a fresh simulator holds that lists page through.
type Builtins struct{ Apps, Users, Roles int }

// ChangeSetSize is the number of objects the 1% change set updates.
func ChangeSetSize(c Counts) int {
	return ChangedCount(c.Apps) + ChangedCount(c.Subscriptions()) + ChangedCount(c.Users)
}
