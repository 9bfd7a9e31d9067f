package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// load reads an environment directory the way the CLI does.
func load(t *testing.T, dir string) *spec.State {
	t.Helper()
	st, ds := spec.Load(context.Background(), dir, spec.LoadOptions{
		Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	if ds.HasErrors() {
		for _, d := range ds {
			t.Errorf("%s", d)
		}
		t.FailNow()
	}
	return st
}

// clone deep-copies a state through JSON: positions and sources are
// dropped, as a provider's live state has none.
func clone(t *testing.T, st *spec.State) *spec.State {
	t.Helper()
	out := &spec.State{Name: st.Name}
	for _, pair := range []struct{ from, to any }{
		{st.KeyManagers, &out.KeyManagers}, {st.ThrottlingPolicies, &out.ThrottlingPolicies},
		{st.Applications, &out.Applications}, {st.Subscriptions, &out.Subscriptions},
		{st.Users, &out.Users}, {st.Roles, &out.Roles},
		{st.Certificates, &out.Certificates}, {st.Truststores, &out.Truststores},
	} {
		b, err := json.Marshal(pair.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, pair.to); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func readPEM(t *testing.T, o *spec.Object, field, file string) string {
	t.Helper()
	b, err := os.ReadFile(o.ResolvePath(field, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serverForm is what the providers read back after wso2sync applied the
// desired state: the same estate in the forms and with the defaults the
// servers use (WSO2-API §3, §5.9–§5.13). A plan against it must be empty.
func serverForm(t *testing.T, d *spec.State) *spec.State {
	t.Helper()
	live := clone(t, d)
	for _, km := range live.KeyManagers {
		s := &km.Spec
		if c := s.Connector; c != nil {
			// APIM keeps the connector in additionalProperties and masks the password.
			s.AdditionalProperties = map[string]any{
				"Username": c.Username, "Password": "*****",
				"api_resource_management_endpoint": c.APIResourceManagementEndpoint + "/",
				"is7_roles_endpoint":               c.RolesEndpoint, "enable_roles_creation": c.EnableRolesCreation,
			}
			s.Connector = nil
		}
		for k, v := range s.AdditionalProperties {
			if isSecretKey(k) && k != "Password" {
				s.AdditionalProperties[k] = "*****"
			} else if k != "enable_roles_creation" {
				s.AdditionalProperties[k] = v
			}
		}
		if s.TokenEndpoint != "" {
			s.TokenEndpoint = strings.Replace(s.TokenEndpoint, "https://", "HTTPS://", 1)
			if !strings.HasSuffix(s.TokenEndpoint, "/") {
				s.TokenEndpoint += "/"
			}
		}
		slices.Reverse(s.AvailableGrantTypes)
		s.TokenType = strings.ToLower(s.TokenType)
		s.Permissions.PermissionType = strings.ToLower(s.Permissions.PermissionType)
		if km.Metadata.Name == spec.ResidentKeyManager {
			// Server-filled settings of the built-in key manager that the
			// manifest does not declare.
			s.EnableMapOAuthConsumerApps = true
			s.TokenEndpoint = "https://localhost:9443/oauth2/token"
			s.AdditionalProperties = map[string]any{"self_validate_jwt": true}
		}
	}
	for _, p := range live.ThrottlingPolicies {
		if r := p.Spec.DefaultLimit.RequestCount; r != nil && r.TimeUnit == "min" {
			r.TimeUnit = "minute"
		}
		if p.Spec.DisplayName == "" {
			p.Spec.DisplayName = p.Metadata.Name
		}
		p.Spec.Level = strings.ToUpper(p.Spec.Level)
	}
	for _, a := range live.Applications {
		a.Spec.Owner += "@carbon.super"
		a.Spec.TokenType = "JWT"
		if a.Spec.Attributes == nil {
			a.Spec.Attributes = map[string]string{}
		}
		a.Spec.Attributes["configuredButUnset"] = ""
		for i := range a.Spec.Keys {
			k := &a.Spec.Keys[i]
			if k.Mode == spec.KeyModeMap {
				k.Mode = "MAPPED"
			} else {
				k.Mode, k.ClientID = "CREATED", "generated_"+a.Metadata.Name
			}
			slices.Reverse(k.GrantTypes)
			if urls := callbackURLs(k.CallbackURL); len(urls) > 1 {
				// IS collapses several redirect URIs into one pattern, ? escaped.
				slices.Reverse(urls)
				k.CallbackURL = "regexp=(" + strings.Join(urls, "|") + ")"
			}
			// The token validity comes back (the lifetime property); scopes and
			// secrets do not.
			k.Scopes, k.ClientSecret = nil, nil
			if k.AdditionalProperties == nil {
				k.AdditionalProperties = map[string]string{}
			}
			// Connector defaults echoed for every key.
			k.AdditionalProperties["ext_id_token_lifetime"] = "N/A"
		}
	}
	for _, s := range live.Subscriptions {
		// Providers name live subscriptions their own way.
		s.Metadata.Name = s.Spec.Application + ":" + s.Spec.API.Name
	}
	for _, u := range live.Users {
		u.Spec.UserName = "PRIMARY/" + u.Spec.UserName
		u.Spec.Domain = ""
		u.Spec.Password = nil
		u.Spec.Roles = append([]string{"Internal/everyone"}, u.Spec.Roles...)
		for i := range u.Spec.Emails {
			u.Spec.Emails[i].Value = strings.ToUpper(u.Spec.Emails[i].Value[:1]) + u.Spec.Emails[i].Value[1:]
			u.Spec.Emails[i].Type = "work"
		}
	}
	for _, r := range live.Roles {
		r.Spec.Audience.Type = strings.ToUpper(r.Spec.Audience.Type)
		slices.Reverse(r.Spec.Permissions)
	}
	var certs []*spec.Certificate
	for i, c := range live.Certificates {
		dc := d.Certificates[i]
		if c.Spec.Usage == spec.CertUsageTrust {
			continue // no server object of its own
		}
		if c.Spec.Source.File != "" {
			c.Spec.Source = spec.CertSource{PEM: readPEM(t, &dc.Object, "spec.source.file", c.Spec.Source.File)}
		}
		c.Spec.Endpoint = strings.TrimSuffix(c.Spec.Endpoint, "/")
		certs = append(certs, c)
	}
	live.Certificates = certs
	for i, ts := range live.Truststores {
		dt := d.Truststores[i]
		ts.Spec.Password = spec.SecretRef{}
		ts.Spec.RestartCommand = nil
		ts.Spec.Type = strings.ToLower(ts.Spec.Type)
		for j := range ts.Spec.Entries {
			e := &ts.Spec.Entries[j]
			if e.Certificate != "" {
				c := d.Certificate(e.Certificate)
				e.Certificate = ""
				e.File = ""
				e.PEM = readPEM(t, &c.Object, "spec.source.file", c.Spec.Source.File)
			} else if e.File != "" {
				e.PEM, e.File = readPEM(t, &dt.Object, "spec.entries.file", e.File), ""
			}
			e.Alias = strings.ToUpper(e.Alias)
		}
		// A JVM truststore ships with CA certificates nobody declares.
		ts.Spec.Entries = append(ts.Spec.Entries, spec.TruststoreEntry{Alias: "digicertrootca", SHA256: strings.Repeat("ab", 32)})
	}
	addBuiltins(live)
	return live
}

// addBuiltins adds what every install has and nobody declares.
func addBuiltins(live *spec.State) {
	for _, tier := range spec.BuiltinSubscriptionTiers {
		live.ThrottlingPolicies = append(live.ThrottlingPolicies, &spec.ThrottlingPolicy{
			Object: spec.Object{Kind: spec.KindThrottlingPolicy, Metadata: spec.Metadata{Name: tier}},
			Spec:   spec.ThrottlingPolicySpec{Level: spec.LevelSubscription}})
	}
	live.Applications = append(live.Applications, &spec.Application{
		Object: spec.Object{Kind: spec.KindApplication, Metadata: spec.Metadata{Name: "DefaultApplication"}},
		Spec:   spec.ApplicationSpec{Owner: "admin", ThrottlingPolicy: "Unlimited"}})
	live.Users = append(live.Users, &spec.User{
		Object: spec.Object{Kind: spec.KindUser, Metadata: spec.Metadata{Name: "admin"}},
		Spec:   spec.UserSpec{UserName: "admin", Roles: []string{"admin"}}})
	live.Roles = append(live.Roles, &spec.Role{
		Object: spec.Object{Kind: spec.KindRole, Metadata: spec.Metadata{Name: "admin"}},
		Spec:   spec.RoleSpec{DisplayName: "admin"}})
}

// golden compares got with testdata/<name>; WSO2SYNC_UPDATE=1 rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("WSO2SYNC_UPDATE") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with WSO2SYNC_UPDATE=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (WSO2SYNC_UPDATE=1 rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// describe lists a plan's non-NoOp changes for failure messages.
func describe(p *Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		b.WriteString(string(c.Action) + " " + string(c.Kind) + " " + c.Name + ": " + c.Reason + "\n")
		for _, f := range c.Fields {
			b.WriteString("    " + f.Path + ": " + formatValue(f.Before) + " → " + formatValue(f.After) + "\n")
		}
	}
	for _, u := range p.Unmanaged {
		b.WriteString("unmanaged " + string(u.Kind) + " " + u.Name + ": " + u.Reason + "\n")
	}
	return b.String()
}

func ownAll(spec.Kind, string) bool { return true }
