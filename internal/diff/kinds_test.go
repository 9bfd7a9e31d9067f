package diff

import (
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// state builds a State from objects, as the loader or a provider would.
func state(objs ...spec.Resource) *spec.State {
	s := &spec.State{}
	for _, o := range objs {
		switch x := o.(type) {
		case *spec.KeyManager:
			s.KeyManagers = append(s.KeyManagers, x)
		case *spec.ThrottlingPolicy:
			s.ThrottlingPolicies = append(s.ThrottlingPolicies, x)
		case *spec.Application:
			s.Applications = append(s.Applications, x)
		case *spec.Subscription:
			s.Subscriptions = append(s.Subscriptions, x)
		case *spec.User:
			s.Users = append(s.Users, x)
		case *spec.Role:
			s.Roles = append(s.Roles, x)
		case *spec.Certificate:
			s.Certificates = append(s.Certificates, x)
		case *spec.Truststore:
			s.Truststores = append(s.Truststores, x)
		}
	}
	return s
}

func meta(name string) spec.Object { return spec.Object{Metadata: spec.Metadata{Name: name}} }

func km(name string, f func(*spec.KeyManagerSpec)) *spec.KeyManager {
	k := &spec.KeyManager{Object: meta(name), Spec: spec.KeyManagerSpec{Type: "WSO2-IS-7", Enabled: true}}
	if f != nil {
		f(&k.Spec)
	}
	return k
}

func app(name string, f func(*spec.ApplicationSpec)) *spec.Application {
	a := &spec.Application{Object: meta(name), Spec: spec.ApplicationSpec{Owner: "admin", ThrottlingPolicy: "Unlimited", TokenType: "JWT"}}
	if f != nil {
		f(&a.Spec)
	}
	return a
}

func tier(name, level string, count int, unit string) *spec.ThrottlingPolicy {
	return &spec.ThrottlingPolicy{Object: meta(name), Spec: spec.ThrottlingPolicySpec{Level: level,
		DefaultLimit: spec.ThrottleLimit{Type: "REQUESTCOUNTLIMIT", RequestCount: &spec.RequestCountLimit{TimeUnit: unit, UnitTime: 1, RequestCount: count}}}}
}

func sub(name, application, api, tier string) *spec.Subscription {
	return &spec.Subscription{Object: meta(name), Spec: spec.SubscriptionSpec{Application: application,
		API: spec.APIRef{Name: api, Version: "1.0.0"}, ThrottlingPolicy: tier}}
}

func user(name string, f func(*spec.UserSpec)) *spec.User {
	u := &spec.User{Object: meta(name), Spec: spec.UserSpec{UserName: name, Domain: "PRIMARY", Roles: []string{"api-consumer"}}}
	if f != nil {
		f(&u.Spec)
	}
	return u
}

func role(name, audience string, perms ...string) *spec.Role {
	return &spec.Role{Object: meta(name), Spec: spec.RoleSpec{DisplayName: name, Audience: spec.RoleAudience{Type: audience}, Permissions: perms}}
}

const certPEM = `-----BEGIN CERTIFICATE-----
MIIBwzCCAWmgAwIBAgIIGOq7FWjYQywwCgYIKoZIzj0EAwIwLDEZMBcGA1UEChMQ
-----END CERTIFICATE-----
`

func cert(name, usage, pem string) *spec.Certificate {
	return &spec.Certificate{Object: meta(name), Spec: spec.CertificateSpec{Usage: usage, Endpoint: "https://backend:8443/",
		Source: spec.CertSource{PEM: pem}}}
}

type kindCase struct {
	name          string
	desired, live *spec.State
	opts          Options
	// want maps "Kind/name" to the expected action; objects not listed
	// must be NoOp.
	want map[string]Action
	// fields and reason, when set, are checked on the one non-NoOp change.
	fields []string
	reason string
}

func runKindCases(t *testing.T, cases []kindCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Compute(tc.desired, tc.live, tc.opts)
			got := map[string]Action{}
			var changed []Change
			for _, c := range p.Changes {
				if c.Action != NoOp {
					got[string(c.Kind)+"/"+c.Name] = c.Action
					changed = append(changed, c)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes %v, want %v\n%s", got, tc.want, describe(p))
			}
			for k, a := range tc.want {
				if got[k] != a {
					t.Errorf("%s: %q, want %q\n%s", k, got[k], a, describe(p))
				}
			}
			if tc.fields != nil {
				var paths []string
				for _, f := range changed[0].Fields {
					paths = append(paths, f.Path)
				}
				if strings.Join(paths, ",") != strings.Join(tc.fields, ",") {
					t.Errorf("fields %v, want %v", paths, tc.fields)
				}
			}
			if tc.reason != "" && !strings.Contains(changed[0].Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", changed[0].Reason, tc.reason)
			}
		})
	}
}

func TestKeyManagers(t *testing.T) {
	is7 := func(s *spec.KeyManagerSpec) {
		s.TokenEndpoint = "https://wso2is:9443/oauth2/token"
		s.AvailableGrantTypes = []string{"password", "client_credentials"}
		s.TokenType = "DIRECT"
		s.Permissions.PermissionType = "PUBLIC"
		s.Connector = &spec.IS7Connector{Username: "admin", Password: spec.SecretRef{Env: "PW"},
			APIResourceManagementEndpoint: "https://wso2is:9443/api/server/v1/api-resources", RolesEndpoint: "https://wso2is:9443/scim2/v2/Roles"}
	}
	liveIS7 := func(s *spec.KeyManagerSpec) {
		s.TokenEndpoint = "HTTPS://WSO2IS:9443/oauth2/token/"
		s.AvailableGrantTypes = []string{"client_credentials", "password", "client_credentials"}
		s.TokenType = "direct"
		s.Permissions.PermissionType = "public"
		s.EnableSelfValidationJWT = true // server default, undeclared
		s.AdditionalProperties = map[string]any{"Username": "admin", "Password": "*****",
			"api_resource_management_endpoint": "https://wso2is:443/api/server/v1/api-resources",
			"is7_roles_endpoint":               "https://wso2is:9443/scim2/v2/Roles/", "enable_roles_creation": false}
		s.AdditionalProperties["api_resource_management_endpoint"] = "https://wso2is:9443/api/server/v1/api-resources/"
	}
	// declared sets Positions as the loader does: only the paths written.
	declared := func(k *spec.KeyManager, paths ...string) *spec.KeyManager {
		k.Positions = map[string]spec.Position{"spec.type": {}}
		for _, p := range paths {
			k.Positions[p] = spec.Position{File: "km.yaml", Line: 7}
		}
		return k
	}
	runKindCases(t, []kindCase{
		{name: "server forms plan empty", desired: state(km("WSO2IS", is7)), live: state(km("WSO2IS", liveIS7))},
		{name: "connector password reference change is not visible (write-only)",
			desired: state(km("WSO2IS", func(s *spec.KeyManagerSpec) { is7(s); s.Connector.Password = spec.SecretRef{Env: "OTHER"} })),
			live:    state(km("WSO2IS", liveIS7))},
		{name: "unset schema default is not compared",
			desired: state(declared(km(spec.ResidentKeyManager, func(s *spec.KeyManagerSpec) { s.Type = "default"; s.Enabled = false }), "spec.enabled")),
			live: state(km(spec.ResidentKeyManager, func(s *spec.KeyManagerSpec) {
				s.Type, s.Enabled, s.EnableMapOAuthConsumerApps = "default", false, true
			}))},
		{name: "written flag is compared",
			desired: state(declared(km("X", nil), "spec.enableMapOAuthConsumerApps")),
			live:    state(km("X", func(s *spec.KeyManagerSpec) { s.EnableMapOAuthConsumerApps = true })),
			want:    map[string]Action{"KeyManager/X": Update}, fields: []string{"spec.enableMapOAuthConsumerApps"}},
		{name: "disable", desired: state(km("X", func(s *spec.KeyManagerSpec) { s.Enabled = false })), live: state(km("X", nil)),
			want: map[string]Action{"KeyManager/X": Update}, fields: []string{"spec.enabled"}, reason: "drift: spec.enabled"},
		{name: "type change replaces", desired: state(km("X", nil)), live: state(km("X", func(s *spec.KeyManagerSpec) { s.Type = "Keycloak" })),
			want: map[string]Action{"KeyManager/X": Replace}, fields: []string{"spec.type"}, reason: "type of a key manager cannot change in place"},
		{name: "protected key manager is never replaced",
			desired: state(km(spec.ResidentKeyManager, nil)),
			live:    state(km(spec.ResidentKeyManager, func(s *spec.KeyManagerSpec) { s.Type = "default" })),
			want:    map[string]Action{"KeyManager/" + spec.ResidentKeyManager: Update}, reason: "protected from deletion"},
		{name: "secret-looking property is not compared",
			desired: state(km("KC", func(s *spec.KeyManagerSpec) {
				s.AdditionalProperties = map[string]any{"client_secret": "a", "client_id": "x"}
			})),
			live: state(km("KC", func(s *spec.KeyManagerSpec) {
				s.AdditionalProperties = map[string]any{"client_secret": "*****", "client_id": "y"}
			})),
			want: map[string]Action{"KeyManager/KC": Update}, fields: []string{"spec.additionalProperties.client_id"}},
	})
}

func TestThrottlingPolicies(t *testing.T) {
	runKindCases(t, []kindCase{
		{name: "time unit and level spellings", desired: state(tier("T", "application", 10, "min")),
			live: state(tier("T", "APPLICATION", 10, "minutes"))},
		{name: "same name at both levels pairs by level",
			desired: state(tier("Unlimited", "subscription", 10, "min")),
			live:    state(tier("Unlimited", "application", 99, "min"), tier("Unlimited", "subscription", 10, "min"))},
		{name: "limit change updates", desired: state(tier("T", "application", 10, "min")), live: state(tier("T", "application", 20, "min")),
			want: map[string]Action{"ThrottlingPolicy/T": Update}, fields: []string{"spec.defaultLimit.requestCount.requestCount"}},
		{name: "level change replaces", desired: state(tier("T", "application", 10, "min")), live: state(tier("T", "subscription", 10, "min")),
			want: map[string]Action{"ThrottlingPolicy/T": Replace}, fields: []string{"spec.level"}, reason: "level cannot change in place"},
	})
}

func TestApplications(t *testing.T) {
	key := func(f func(*spec.ApplicationKey)) func(*spec.ApplicationSpec) {
		return func(s *spec.ApplicationSpec) {
			k := spec.ApplicationKey{KeyType: "PRODUCTION", KeyManager: "WSO2IS", Mode: "generate",
				GrantTypes: []string{"client_credentials", "authorization_code"}, ValidityPeriod: 3600, Scopes: []string{"default"},
				CallbackURL: "regexp=(https://a.example.com/cb|https://b.example.com/cb?x=1)"}
			if f != nil {
				f(&k)
			}
			s.Keys = append(s.Keys, k)
		}
	}
	liveKey := func(f func(*spec.ApplicationKey)) func(*spec.ApplicationSpec) {
		return key(func(k *spec.ApplicationKey) {
			k.KeyType, k.Mode, k.ClientID = "production", "CREATED", "server_assigned_id"
			k.GrantTypes = []string{"authorization_code", "client_credentials"}
			k.CallbackURL = `regexp=(https://b.example.com:443/cb\?x=1|https://a.example.com/cb/)`
			k.Scopes = nil // the validity comes back (its lifetime property), scopes do not
			k.AdditionalProperties = map[string]string{"ext_pkce_mandatory": "false"}
			if f != nil {
				f(k)
			}
		})
	}
	runKindCases(t, []kindCase{
		{name: "server forms plan empty",
			desired: state(app("Payments", func(s *spec.ApplicationSpec) {
				s.Attributes = map[string]string{"costCentre": "4711"}
				key(nil)(s)
			})),
			live: state(app("payments", func(s *spec.ApplicationSpec) {
				s.Owner = "PRIMARY/Admin@carbon.super"
				s.Attributes = map[string]string{"costCentre": "4711", "unset": ""}
				liveKey(nil)(s)
			}))},
		{name: "tier drift", desired: state(app("a", func(s *spec.ApplicationSpec) { s.ThrottlingPolicy = "Gold" })), live: state(app("a", nil)),
			want: map[string]Action{"Application/a": Update}, fields: []string{"spec.throttlingPolicy"}},
		{name: "key in desired only is created", desired: state(app("a", key(nil))), live: state(app("a", nil)),
			want: map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Create}},
		{name: "grant types update the key", desired: state(app("a", key(nil))),
			live: state(app("a", liveKey(func(k *spec.ApplicationKey) { k.GrantTypes = []string{"client_credentials"} }))),
			want: map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Update}, fields: []string{"spec.keys[PRODUCTION/WSO2IS].grantTypes"}},
		{name: "validity alone updates the key in place", desired: state(app("a", key(func(k *spec.ApplicationKey) { k.ValidityPeriod = 1200 }))),
			live: state(app("a", liveKey(func(k *spec.ApplicationKey) { k.ValidityPeriod = 600 }))),
			want: map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Update}, fields: []string{"spec.keys[PRODUCTION/WSO2IS].validityPeriod"}},
		{name: "key manager change replaces the key", desired: state(app("a", key(nil))),
			live:   state(app("a", liveKey(func(k *spec.ApplicationKey) { k.KeyManager = "OldKM" }))),
			want:   map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Replace},
			fields: []string{"spec.keys[PRODUCTION/WSO2IS].keyManager"}, reason: "APIM has no DELETE for a key mapping"},
		{name: "mapped client change replaces the key",
			desired: state(app("a", key(func(k *spec.ApplicationKey) { k.Mode, k.ClientID = "map", "new_client" }))),
			live:    state(app("a", liveKey(func(k *spec.ApplicationKey) { k.Mode, k.ClientID = "MAPPED", "old_client" }))),
			want:    map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Replace}, reason: "mapped key's client"},
		{name: "unowned extra key is unmanaged, not deleted", desired: state(app("a", nil)), live: state(app("a", liveKey(nil))),
			opts: Options{Prune: PruneOwned}},
		{name: "owned extra key is deleted", desired: state(app("a", nil)), live: state(app("a", liveKey(nil))),
			opts: Options{Prune: PruneOwned, Owned: func(k spec.Kind, n string) bool { return k == KindApplicationKey }},
			want: map[string]Action{"ApplicationKey/a/PRODUCTION/WSO2IS": Delete}, reason: "clean-up"},
	})
}

func TestSubscriptions(t *testing.T) {
	runKindCases(t, []kindCase{
		{name: "paired by application and API whatever the names",
			desired: state(sub("a--forex", "a", "ForexAPI", "Gold")), live: state(sub("8f0c-uuid", "A", "ForexAPI", "Gold"))},
		{name: "tier change is in place", desired: state(sub("s", "a", "ForexAPI", "Gold")), live: state(sub("s", "a", "ForexAPI", "Bronze")),
			want: map[string]Action{"Subscription/s": Update}, fields: []string{"spec.throttlingPolicy"}},
		{name: "API change replaces", desired: state(sub("s", "a", "LedgerAPI", "Gold")), live: state(sub("s", "a", "ForexAPI", "Gold")),
			want: map[string]Action{"Subscription/s": Replace}, fields: []string{"spec.api"}, reason: "identified by its application and API"},
	})
}

func TestUsers(t *testing.T) {
	runKindCases(t, []kindCase{
		{name: "server forms plan empty",
			desired: state(user("alice", func(s *spec.UserSpec) {
				s.Emails = []spec.Email{{Value: "alice@example.com", Primary: true}, {Value: "a@example.org"}}
				s.Password = &spec.SecretRef{Env: "PW"}
			})),
			live: state(user("PRIMARY/Alice", func(s *spec.UserSpec) {
				s.UserName, s.Domain = "PRIMARY/Alice", ""
				s.Emails = []spec.Email{{Value: "A@example.org", Type: "home"}, {Value: "Alice@Example.com", Primary: true}}
				s.Roles = []string{"Internal/everyone", "api-consumer"}
			}))},
		{name: "roles update", desired: state(user("bob", func(s *spec.UserSpec) { s.Roles = []string{"a", "b"} })), live: state(user("bob", nil)),
			want: map[string]Action{"User/bob": Update}, fields: []string{"spec.roles"}},
		{name: "user store change replaces",
			desired: state(user("bob", func(s *spec.UserSpec) { s.Domain = "SECONDARY" })), live: state(user("bob", nil)),
			want: map[string]Action{"User/bob": Replace}, fields: []string{"spec.domain"}, reason: "user stores"},
	})
}

func TestRoles(t *testing.T) {
	runKindCases(t, []kindCase{
		{name: "audience case, misspelling and order", desired: state(role("r", "application", "a", "b")),
			live: state(role("r", "applciation", "b", "a"))},
		{name: "no audience is organization", desired: state(role("r", "", "a")), live: state(role("r", "ORGANIZATION", "a"))},
		{name: "permissions update", desired: state(role("r", "organization", "a", "b")), live: state(role("r", "organization", "a")),
			want: map[string]Action{"Role/r": Update}, fields: []string{"spec.permissions"}},
		{name: "audience change replaces", desired: state(role("r", "application", "a")), live: state(role("r", "organization", "a")),
			want: map[string]Action{"Role/r": Replace}, reason: "audience"},
	})
}

func TestCertificates(t *testing.T) {
	const realPEM = "testdata/env/certs/wso2is.pem"
	file := &spec.Certificate{Object: meta("c"), Spec: spec.CertificateSpec{Usage: "endpoint", Endpoint: "https://backend:8443",
		Source: spec.CertSource{File: realPEM}}}
	fp, err := (&normCtx{}).sourceFingerprint(&file.Object, "spec.source", file.Spec.Source)
	if err != nil {
		t.Fatal(err)
	}
	colons := strings.ToUpper(strings.TrimPrefix(fp, "sha256:"))
	var b strings.Builder
	for i := 0; i < len(colons); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(colons[i : i+2])
	}
	pinned := cert("c", "endpoint", "")
	pinned.Spec.Source = spec.CertSource{SHA256: b.String()}
	other := cert("c", "endpoint", "")
	other.Spec.Source = spec.CertSource{SHA256: strings.Repeat("00", 32)}
	runKindCases(t, []kindCase{
		{name: "file and keytool fingerprint are the same certificate", desired: state(file), live: state(pinned)},
		{name: "content change replaces", desired: state(file), live: state(other),
			want: map[string]Action{"Certificate/c": Replace}, fields: []string{"spec.source"}, reason: "content changed"},
		{name: "trust certificates have no server object", desired: state(cert("t", "trust", certPEM)), live: state()},
	})
}

func TestTruststores(t *testing.T) {
	ts := func(alias, sha string, extra ...spec.TruststoreEntry) *spec.Truststore {
		return &spec.Truststore{Object: meta("ts"), Spec: spec.TruststoreSpec{Path: "/x/client-truststore.jks", Type: "JKS",
			Password: spec.SecretRef{Env: "TS"}, Entries: append([]spec.TruststoreEntry{{Alias: alias, SHA256: sha}}, extra...)}}
	}
	a, b := strings.Repeat("aa", 32), strings.Repeat("bb", 32)
	runKindCases(t, []kindCase{
		{name: "alias case and undeclared CA entries", desired: state(ts("wso2is", a)),
			live: state(ts("WSO2IS", "sha256:"+strings.ToUpper(a), spec.TruststoreEntry{Alias: "digicert", SHA256: b}))},
		{name: "entry content updates", desired: state(ts("wso2is", a)), live: state(ts("wso2is", b)),
			want: map[string]Action{"Truststore/ts": Update}, fields: []string{"spec.entries[wso2is]"}},
	})
}

func TestPruning(t *testing.T) {
	owned := func(names ...string) func(spec.Kind, string) bool {
		return func(_ spec.Kind, n string) bool {
			for _, x := range names {
				if x == n {
					return true
				}
			}
			return false
		}
	}
	builtins := func(extra ...spec.Resource) *spec.State {
		return state(append([]spec.Resource{app("DefaultApplication", nil), user("admin", nil), role("admin", ""),
			km(spec.ResidentKeyManager, nil), tier("Gold", "subscription", 5000, "min"), tier("10PerMin", "application", 10, "min")}, extra...)...)
	}
	declared := state(app("keep", nil))
	everything := func(spec.Kind, string) bool { return true }
	cases := []struct {
		name       string
		desired    *spec.State
		live       *spec.State
		opts       Options
		deletes    []string
		unmanaged  []string
		wantWarned bool
	}{
		{name: "owned and undeclared is deleted", desired: declared, live: builtins(app("keep", nil), app("old", nil), app("hand-made", nil)),
			opts: Options{Prune: PruneOwned, Owned: owned("keep", "old")}, deletes: []string{"old"}, unmanaged: []string{"hand-made"}},
		{name: "prune off deletes nothing", desired: declared, live: builtins(app("keep", nil), app("old", nil)),
			opts: Options{Prune: "off", Owned: everything}, unmanaged: []string{"old"}},
		{name: "protected objects are never deleted nor listed", desired: declared, live: builtins(app("keep", nil)),
			opts: Options{Prune: PruneOwned, Owned: everything}},
		{name: "empty desired state never deletes", desired: &spec.State{Environment: &spec.Environment{}}, live: builtins(app("old", nil)),
			opts: Options{Prune: PruneOwned, Owned: everything}, unmanaged: []string{"old"}, wantWarned: true},
		{name: "nil states", opts: Options{Prune: PruneOwned, Owned: everything}, wantWarned: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Compute(tc.desired, tc.live, tc.opts)
			var deletes, unmanaged []string
			for _, c := range p.Changes {
				if c.Action == Delete {
					deletes = append(deletes, c.Name)
				}
				if IsProtected(c.Kind, c.Name) && c.Action != NoOp {
					t.Errorf("protected %s %s planned %s", c.Kind, c.Name, c.Action)
				}
			}
			for _, u := range p.Unmanaged {
				unmanaged = append(unmanaged, u.Name)
			}
			if strings.Join(deletes, ",") != strings.Join(tc.deletes, ",") {
				t.Errorf("deletes %v, want %v", deletes, tc.deletes)
			}
			if strings.Join(unmanaged, ",") != strings.Join(tc.unmanaged, ",") {
				t.Errorf("unmanaged %v, want %v", unmanaged, tc.unmanaged)
			}
			if (len(p.Warnings) > 0) != tc.wantWarned {
				t.Errorf("warnings %v, want warned=%v", p.Warnings, tc.wantWarned)
			}
		})
	}
}

func TestSensitiveFlags(t *testing.T) {
	d := state(user("alice", func(s *spec.UserSpec) { s.Password = &spec.SecretRef{Env: "ALICE_PW"} }))
	p := Compute(d, nil, Options{})
	c := p.Changes[0]
	if c.Action != Create || !c.Sensitive {
		t.Fatalf("change %+v, want a sensitive create", c)
	}
	for _, f := range c.Fields {
		if f.Path == "spec.password" {
			if !f.Sensitive || f.After != SensitiveValue {
				t.Errorf("password field %+v", f)
			}
			return
		}
	}
	t.Error("no spec.password field in the create")
}

func TestNormalisers(t *testing.T) {
	urls := map[string]string{
		"https://Host:443/a/": "https://host/a", "http://h:80": "http://h", "https://h:9443/x": "https://h:9443/x",
	}
	for in, want := range urls {
		if got := normURL(in); got != want {
			t.Errorf("normURL(%q) = %q, want %q", in, got, want)
		}
	}
	got := callbackURLs(`regexp=(https://b/cb\?x=1|https://a/cb/)`)
	if strings.Join(got, " ") != "https://a/cb https://b/cb?x=1" {
		t.Errorf("callbackURLs = %v", got)
	}
	for in, want := range map[string]string{"PRIMARY/alice": "alice", "primary/bob": "bob", "SECONDARY/c": "SECONDARY/c"} {
		if got := stripDomain(in); got != want {
			t.Errorf("stripDomain(%q) = %q, want %q", in, got, want)
		}
	}
	if timeUnit("Minutes") != "min" || timeUnit("SECOND") != "sec" || timeUnit("hours") != "hour" {
		t.Error("timeUnit does not map long forms")
	}
}
