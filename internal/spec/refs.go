package spec

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Built-in objects every APIM 4.x / IS 7.x install has. References to them
// need no declaration, and wso2sync never deletes them.
var (
	BuiltinApplicationTiers  = []string{"10PerMin", "20PerMin", "50PerMin", "Unlimited"}
	BuiltinSubscriptionTiers = []string{"Bronze", "Silver", "Gold", "Unlimited", "Unauthenticated",
		"AsyncBronze", "AsyncSilver", "AsyncGold", "AsyncUnlimited"}
	BuiltinKeyManagers = []string{ResidentKeyManager}
	// BuiltinRoles are IS roles that exist on a fresh install.
	BuiltinRoles = []string{"admin", "everyone", "Internal/everyone", "Internal/system"}
)

// grantsNeedingCallback are the grant types APIM refuses without a callback
// URL (400 on generate-keys).
var grantsNeedingCallback = []string{"authorization_code", "implicit"}

// refChecker runs the checks that need more than one object, or the local
// file system, after every object passed the schema.
type refChecker struct {
	st       *State
	sink     *diagSink
	declared map[Kind]map[string]Position
	now      func() time.Time
	expiry   time.Duration
	rules    FileRules
}

func (r *refChecker) isDeclared(k Kind, name string) bool {
	_, ok := r.declared[k][name]
	return ok
}

func (r *refChecker) names(k Kind, builtins []string) []string {
	out := slices.Clone(builtins)
	for n := range r.declared[k] {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// source checks that a certificate source names exactly one origin, and
// that a URL comes with the fingerprint that pins it. A pem or file source
// may carry a pin too: local() checks that the content matches it.
func (r *refChecker) source(o *Object, base string, src CertSource, certificate string) {
	var set []string
	for _, f := range []struct{ name, val string }{{"pem", src.PEM}, {"file", src.File}, {"url", src.URL}, {"certificate", certificate}} {
		if f.val != "" {
			set = append(set, f.name)
		}
	}
	want := "pem, file or url"
	if base != "spec.source" {
		want = "pem, file, url or certificate"
	}
	switch {
	case len(set) == 0:
		r.sink.errAt(o.Pos(base), base, fmt.Sprintf("%s: no certificate source", base), "set one of "+want)
	case len(set) > 1:
		r.sink.errAt(o.Pos(base), base, fmt.Sprintf("%s: set one certificate source, not %s", base, strings.Join(set, " and ")), "keep one of "+want)
	case src.URL != "" && src.SHA256 == "":
		r.sink.errAt(o.Pos(joinPath(base, "url")), joinPath(base, "sha256"), fmt.Sprintf("%s: a certificate fetched from a URL needs its sha256 fingerprint", base),
			"add sha256 (openssl x509 -noout -fingerprint -sha256 -in cert.pem) so a changed certificate is never trusted silently")
	case certificate != "" && src.SHA256 != "":
		r.sink.errAt(o.Pos(joinPath(base, "sha256")), joinPath(base, "sha256"), fmt.Sprintf("%s: sha256 does not apply to a certificate reference", base),
			"pin the referenced Certificate's source instead, or remove sha256")
	}
}

// check runs the reference checks between objects.
func (r *refChecker) check() {
	for _, a := range r.st.Applications {
		r.application(a)
	}
	r.subscriptions()
	r.users()
	for _, km := range r.st.KeyManagers {
		if km.Metadata.Name == ResidentKeyManager && km.Spec.Type != "default" {
			r.sink.errAt(km.Pos("spec.type"), "spec.type", fmt.Sprintf("the %s has type \"default\", not %q", ResidentKeyManager, km.Spec.Type),
				"set `type: default`, or give your own key manager another name")
		}
	}
	for _, c := range r.st.Certificates {
		r.certificate(c)
	}
	for _, t := range r.st.Truststores {
		r.truststore(t)
	}
}

// tier checks a throttling policy reference of the given level.
func (r *refChecker) tier(o *Object, field, level, name string, builtins []string) {
	if slices.Contains(builtins, name) {
		return
	}
	if p := r.st.ThrottlingPolicy(level, name); p != nil {
		return
	}
	if r.isDeclared(KindThrottlingPolicy, name) {
		// Declared, but either of the other level or invalid itself (then
		// its own error says why).
		for _, p := range r.st.ThrottlingPolicies {
			if p.Metadata.Name == name {
				r.sink.errAt(o.Pos(field), field, fmt.Sprintf("throttling policy %q is a %s tier, not a %s tier", name, p.Spec.Level, level), "")
			}
		}
		return
	}
	r.sink.errAt(o.Pos(field), field, fmt.Sprintf("unknown %s throttling policy %q", level, name),
		didYouMean(name, r.levelNames(level, builtins), level+" tiers"))
}

func (r *refChecker) levelNames(level string, builtins []string) []string {
	out := slices.Clone(builtins)
	for _, p := range r.st.ThrottlingPolicies {
		if p.Spec.Level == level {
			out = append(out, p.Metadata.Name)
		}
	}
	return out
}

func (r *refChecker) application(a *Application) {
	r.tier(&a.Object, "spec.throttlingPolicy", LevelApplication, a.Spec.ThrottlingPolicy, BuiltinApplicationTiers)
	// Fields a manifest can write but wso2sync cannot manage are refused
	// here, with the reason, rather than silently not applied (issue 13).
	if strings.EqualFold(a.Spec.TokenType, "OAUTH") {
		r.sink.errAt(a.Pos("spec.tokenType"), "spec.tokenType",
			"tokenType OAUTH cannot be managed: APIM creates every application with JWT tokens and keeps JWT on update (WSO2-API §3.3)",
			"remove tokenType (JWT is what APIM uses)")
	}
	seen := map[string]int{}
	for i, k := range a.Spec.Keys {
		base := fmt.Sprintf("spec.keys[%d]", i)
		if len(k.Scopes) > 0 && !slices.Equal(k.Scopes, []string{"default"}) {
			r.sink.errAt(a.Pos(base+".scopes"), base+".scopes",
				"scopes cannot be managed: APIM asks for them only for the first token generate-keys returns and keeps no record of them to compare or update (WSO2-API §3.4)",
				"remove scopes; clients ask for their scopes when they request tokens")
		}
		id := k.KeyType + "/" + k.KeyManager
		if j, dup := seen[id]; dup {
			r.sink.errAt(a.Pos(base), base, fmt.Sprintf("%s key for key manager %q is declared twice (also spec.keys[%d])", k.KeyType, k.KeyManager, j),
				"an application has one key per key type and key manager")
		}
		seen[id] = i
		r.appKeyManager(a, base, k)
		needs := slices.ContainsFunc(k.GrantTypes, func(g string) bool { return slices.Contains(grantsNeedingCallback, g) })
		switch {
		case k.CallbackURL != "":
			if msg := checkCallbackURL(k.CallbackURL); msg != "" {
				r.sink.errAt(a.Pos(base+".callbackUrl"), base+".callbackUrl", msg,
					"write an absolute URL (https://app.example.com/callback) or `regexp=(url1|url2)`")
			}
		case needs:
			r.sink.errAt(a.Pos(base+".grantTypes"), base+".callbackUrl", "a callbackUrl is required with the authorization_code or implicit grant",
				"add callbackUrl, or remove those grant types")
		}
	}
}

// appKeyManager checks the key's key manager exists and lets it do what the
// key asks, as APIM would refuse otherwise.
func (r *refChecker) appKeyManager(a *Application, base string, k ApplicationKey) {
	field := base + ".keyManager"
	if slices.Contains(BuiltinKeyManagers, k.KeyManager) && !r.isDeclared(KindKeyManager, k.KeyManager) {
		return
	}
	if !r.isDeclared(KindKeyManager, k.KeyManager) {
		r.sink.errAt(a.Pos(field), field, fmt.Sprintf("unknown key manager %q", k.KeyManager),
			didYouMean(k.KeyManager, r.names(KindKeyManager, BuiltinKeyManagers), "key managers"))
		return
	}
	km := r.st.KeyManager(k.KeyManager)
	if km == nil {
		return // declared but invalid; its own error is enough
	}
	switch {
	case !km.Spec.Enabled:
		r.sink.errAt(a.Pos(field), field, fmt.Sprintf("key manager %q is disabled (enabled: false at %s)", k.KeyManager, km.Pos("spec.enabled")),
			"use an enabled key manager, or enable this one")
	case k.Mode == KeyModeGenerate && !km.Spec.EnableOAuthAppCreation:
		r.sink.errAt(a.Pos(field), field, fmt.Sprintf("key manager %q does not allow OAuth app creation (enableOAuthAppCreation: false)", k.KeyManager),
			"set mode: map with an out-of-band client, or enableOAuthAppCreation: true on the key manager")
	case k.Mode == KeyModeMap && !km.Spec.EnableMapOAuthConsumerApps:
		r.sink.errAt(a.Pos(field), field, fmt.Sprintf("key manager %q does not allow mapping existing clients (enableMapOAuthConsumerApps: false)", k.KeyManager),
			"set enableMapOAuthConsumerApps: true on the key manager, or use mode: generate")
	}
	if len(km.Spec.AvailableGrantTypes) > 0 {
		for i, g := range k.GrantTypes {
			if !slices.Contains(km.Spec.AvailableGrantTypes, g) {
				f := fmt.Sprintf("%s.grantTypes[%d]", base, i)
				r.sink.errAt(a.Pos(f), f, fmt.Sprintf("grant type %q is not in the availableGrantTypes of key manager %q", g, k.KeyManager),
					didYouMean(g, km.Spec.AvailableGrantTypes, "available"))
			}
		}
	}
}

// checkCallbackURL validates a callback URL the way APIM stores it: an
// absolute URL, or `regexp=<pattern>` for several.
func checkCallbackURL(s string) string {
	if pat, ok := strings.CutPrefix(s, "regexp="); ok {
		if _, err := regexp.Compile(pat); err != nil {
			return fmt.Sprintf("callbackUrl: invalid regular expression after regexp=: %v", err)
		}
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return fmt.Sprintf("callbackUrl %q is not an absolute URL", s)
	}
	return ""
}

func (r *refChecker) apiKnown(o *Object, field string, api APIRef) {
	var env []CatalogueAPI
	if r.st.Environment != nil {
		env = r.st.Environment.Spec.APIs
	} else {
		return // the environment itself is broken and says so
	}
	var names []string
	for _, c := range env {
		if c.Name == api.Name && c.Version == api.Version {
			return
		}
		names = append(names, c.Name+" "+c.Version)
	}
	r.sink.errAt(o.Pos(field), field, fmt.Sprintf("API %s %s is not in the environment's API catalogue", api.Name, api.Version),
		cmpHint(didYouMean(api.Name+" "+api.Version, names, "catalogue"), "add it under spec.apis in wso2sync.yaml, or fix the name and version"))
}

// cmpHint prefers a "did you mean" hint over the fallback.
func cmpHint(hints ...string) string {
	for _, h := range hints {
		if strings.HasPrefix(h, "did you mean") {
			return h
		}
	}
	return hints[len(hints)-1]
}

func (r *refChecker) subscriptions() {
	pairs := map[string]*Subscription{}
	for _, s := range r.st.Subscriptions {
		if !r.isDeclared(KindApplication, s.Spec.Application) {
			r.sink.errAt(s.Pos("spec.application"), "spec.application", fmt.Sprintf("unknown application %q", s.Spec.Application),
				didYouMean(s.Spec.Application, r.names(KindApplication, nil), "applications"))
		}
		r.apiKnown(&s.Object, "spec.api", s.Spec.API)
		r.tier(&s.Object, "spec.throttlingPolicy", LevelSubscription, s.Spec.ThrottlingPolicy, BuiltinSubscriptionTiers)
		key := s.Key() // the server's identity (identity.go): one subscription per pair
		if other, dup := pairs[key]; dup {
			r.sink.errAt(s.Source, "", fmt.Sprintf("application %q is subscribed to %s twice (also Subscription %q at %s)",
				s.Spec.Application, s.Spec.API, other.Metadata.Name, other.Source), "APIM allows one subscription per application and API; keep one")
			continue
		}
		pairs[key] = s
	}
}

func (r *refChecker) users() {
	seen := map[string]*User{}
	for _, u := range r.st.Users {
		for i, role := range u.Spec.Roles {
			if slices.Contains(BuiltinRoles, role) || r.isDeclared(KindRole, role) {
				continue
			}
			f := fmt.Sprintf("spec.roles[%d]", i)
			r.sink.errAt(u.Pos(f), f, fmt.Sprintf("unknown role %q", role), didYouMean(role, r.names(KindRole, BuiltinRoles), "roles"))
		}
		// IS compares user names case-insensitively by default.
		key := u.Key() // IS compares user names case-insensitively (identity.go)
		if other, dup := seen[key]; dup {
			r.sink.errAt(u.Pos("spec.userName"), "spec.userName", fmt.Sprintf("user %s/%s is also declared by User %q at %s",
				u.Spec.Domain, u.Spec.UserName, other.Metadata.Name, other.Source), "declare each IS user once")
			continue
		}
		seen[key] = u
	}
}

func (r *refChecker) certificate(c *Certificate) {
	switch c.Spec.Usage {
	case CertUsageKeyManager:
		if !r.isDeclared(KindKeyManager, c.Spec.KeyManager) {
			r.sink.errAt(c.Pos("spec.keyManager"), "spec.keyManager", fmt.Sprintf("unknown key manager %q", c.Spec.KeyManager),
				didYouMean(c.Spec.KeyManager, r.names(KindKeyManager, nil), "key managers"))
		} else if km := r.st.KeyManager(c.Spec.KeyManager); km != nil && km.Spec.Certificates != nil && km.Spec.Certificates.Type == "JWKS" {
			r.sink.errAt(c.Pos("spec.keyManager"), "spec.keyManager", fmt.Sprintf("key manager %q verifies tokens with JWKS (%s); it cannot also use a PEM certificate",
				c.Spec.KeyManager, km.Pos("spec.certificates")), "remove this Certificate, or drop certificates from the key manager")
		} else if km != nil && km.Spec.Certificates != nil {
			// Both would write the key manager's one certificates field.
			r.sink.errAt(c.Pos("spec.keyManager"), "spec.keyManager", fmt.Sprintf("key manager %q sets its certificates itself (%s); a Certificate cannot set them too",
				c.Spec.KeyManager, km.Pos("spec.certificates")), "keep the certificate in one place: this Certificate, or spec.certificates of the key manager")
		}
	case CertUsageClient:
		if c.Spec.API != nil {
			r.apiKnown(&c.Object, "spec.api", *c.Spec.API)
		}
		r.tier(&c.Object, "spec.tier", LevelSubscription, c.Spec.Tier, BuiltinSubscriptionTiers)
	}
}

func (r *refChecker) truststore(t *Truststore) {
	if rs := t.Spec.Restart; rs != nil {
		switch {
		case len(t.Spec.RestartCommand) > 0:
			r.sink.errAt(t.Pos("spec.restart"), "spec.restart", "set restart or restartCommand, not both", "keep restart (restartCommand is its short form)")
		case len(rs.Command) > 0 && rs.HTTP != nil:
			r.sink.errAt(t.Pos("spec.restart"), "spec.restart", "restart: set command or http, not both", "")
		case len(rs.Command) == 0 && rs.HTTP == nil:
			r.sink.errAt(t.Pos("spec.restart"), "spec.restart", "restart: set command or http", "or remove restart")
		}
	}
	aliases := map[string]int{}
	for i, e := range t.Spec.Entries {
		base := fmt.Sprintf("spec.entries[%d]", i)
		if j, dup := aliases[strings.ToLower(e.Alias)]; dup {
			// keytool aliases are case-insensitive.
			r.sink.errAt(t.Pos(base+".alias"), base+".alias", fmt.Sprintf("alias %q is used twice in this truststore (also spec.entries[%d])", e.Alias, j), "")
		}
		aliases[strings.ToLower(e.Alias)] = i
		if e.Certificate != "" && !r.isDeclared(KindCertificate, e.Certificate) {
			r.sink.errAt(t.Pos(base+".certificate"), base+".certificate", fmt.Sprintf("unknown Certificate %q", e.Certificate),
				cmpHint(didYouMean(e.Certificate, r.names(KindCertificate, nil), ""), "declare a Certificate with that name, or give the entry a pem, file or url"))
		}
	}
}

// files checks that {file:} and {sealed:} secret references name regular
// files of a bounded size inside the root. The files are only stat'ed,
// never read: their content is a secret.
func (r *refChecker) files(refs []fileRef) {
	for _, f := range refs {
		max := int64(MaxSecretFile)
		if f.form == "sealed" {
			max = MaxSealedFile
		}
		written, _, _ := strings.Cut(f.path, "#")
		if f.form != "sealed" {
			written = f.path
		}
		if _, err := r.rules.Check(written, resolveAt(f.pos, written), max); err != nil {
			r.sink.errAt(f.pos, f.field, fmt.Sprintf("%s: %s %s", f.field, f.form, err), hintOfFile(err))
		}
	}
}

// local checks what lives on this machine: the CA bundle, PEM files and
// inline PEMs, with expiry warnings. Certificates are public, so they may
// be read.
func (r *refChecker) local() {
	if e := r.st.Environment; e != nil {
		if e.Spec.TLS.InsecureSkipVerify {
			r.sink.warnAt(e.Pos("spec.tls.insecureSkipVerify"), "spec.tls.insecureSkipVerify",
				"TLS certificate verification is OFF for this environment: anyone on the network path can read the admin credentials",
				"set tls.caBundle to the servers' CA certificate and remove insecureSkipVerify")
		}
		if ca := e.Spec.TLS.CABundle; ca != "" {
			r.pemFile(&e.Object, "spec.tls.caBundle", ca, pemCheck{expiredWarns: true})
		}
	}
	for _, km := range r.st.KeyManagers {
		if c := km.Spec.Certificates; c != nil && c.Type == "PEM" {
			r.pemText(km.Pos("spec.certificates.value"), "spec.certificates.value", c.Value, pemCheck{})
		}
	}
	for _, c := range r.st.Certificates {
		r.source(&c.Object, "spec.source", c.Spec.Source, "")
		if c.Spec.Source.File != "" {
			r.pemFile(&c.Object, "spec.source.file", c.Spec.Source.File, pemCheck{pin: c.Spec.Source.SHA256})
		}
		if c.Spec.Source.PEM != "" {
			r.pemText(c.Pos("spec.source.pem"), "spec.source.pem", c.Spec.Source.PEM, pemCheck{pin: c.Spec.Source.SHA256})
		}
	}
	for _, t := range r.st.Truststores {
		for i, e := range t.Spec.Entries {
			base := fmt.Sprintf("spec.entries[%d]", i)
			r.source(&t.Object, base, CertSource{PEM: e.PEM, File: e.File, URL: e.URL, SHA256: e.SHA256}, e.Certificate)
			if e.File != "" {
				r.pemFile(&t.Object, base+".file", e.File, pemCheck{pin: e.SHA256})
			}
			if e.PEM != "" {
				r.pemText(t.Pos(base+".pem"), base+".pem", e.PEM, pemCheck{pin: e.SHA256})
			}
		}
	}
}

func (r *refChecker) pemFile(o *Object, field, p string, c pemCheck) {
	path := o.ResolvePath(field, p)
	data, err := r.rules.Read(p, path, MaxPEMFile)
	if err != nil {
		r.sink.errAt(o.Pos(field), field, fmt.Sprintf("%s: file %v", field, err), cmpOr(hintOfFile(err), "paths are relative to the manifest file"))
		return
	}
	r.pemText(o.Pos(field), field, string(data), c)
}

// pemText parses every CERTIFICATE block: a private key is an error that
// never echoes the key, an expired certificate is an error (a warning for
// the CA bundle, which may hold many), one expiring within the warning
// window a warning, and a sha256 pin must match the first certificate.
func (r *refChecker) pemText(pos Position, field, text string, c pemCheck) {
	certs, err := ParseCertsPEM([]byte(text))
	if err != nil {
		hint := ""
		if errors.Is(err, ErrPrivateKey) {
			hint = "keep private keys out of manifests: put only the certificate (-----BEGIN CERTIFICATE-----) here"
		}
		r.sink.errAt(pos, field, fmt.Sprintf("%s: %v", field, err), hint)
		return
	}
	now := r.now()
	for _, cert := range certs {
		subject := cert.Subject.String()
		switch {
		case now.After(cert.NotAfter):
			msg := fmt.Sprintf("certificate %q expired on %s", subject, cert.NotAfter.UTC().Format(time.DateOnly))
			if c.expiredWarns {
				r.sink.warnAt(pos, field, msg, "replace it with a current certificate")
			} else {
				r.sink.errAt(pos, field, msg, "replace it with a current certificate")
			}
		case cert.NotAfter.Sub(now) < r.expiry:
			r.sink.warnAt(pos, field, fmt.Sprintf("certificate %q expires on %s (in %d days)", subject, cert.NotAfter.UTC().Format(time.DateOnly),
				int(cert.NotAfter.Sub(now).Hours()/24)), "renew it before it expires")
		}
	}
	if c.pin != "" {
		if got := CertFingerprint(certs[0]); got != NormFingerprint(c.pin) {
			r.sink.errAt(pos, field, fmt.Sprintf("%s: the certificate's fingerprint is %s, not the pinned %s", field, got, NormFingerprint(c.pin)),
				"if the new certificate is the one you expect (check it out of band), set sha256 to its fingerprint")
		}
	}
}

// pemCheck tunes pemText.
type pemCheck struct {
	pin          string // sha256 the first certificate must have
	expiredWarns bool   // an expired certificate is a warning, not an error
}

// resolveAt resolves p relative to the directory of the file at pos.
func resolveAt(pos Position, p string) string {
	if p == "" || filepath.IsAbs(p) || pos.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(pos.File), p)
}
