// Package audit checks, with independent eyes, that the simulator holds
// what the manifests say. It reads the simulator's own state (sim.Dump,
// the same data GET /_sim/state serves) and compares it with the loaded
// manifests through its own small model of each kind, never through
// internal/providers or internal/diff: a bug shared by wso2sync's reader
// and its differ ("the next plan is empty") cannot hide from it.
//
// Check reports three kinds of violation:
//   - a declared object is missing or differs in a declared field;
//   - an object wso2sync owned and no longer declares is still there
//     (Options.Gone);
//   - an object wso2sync never declared differs from the baseline taken
//     before wso2sync first ran (Options.Baseline).
//
// Tests use it after every apply (internal/audit's model-based test, the
// example environments).
package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim"
	simapim "github.com/wso2sync/wso2sync/internal/sim/apim"
	simis "github.com/wso2sync/wso2sync/internal/sim/is"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Options say what else than the declared objects the audit checks.
type Options struct {
	// Gone are objects wso2sync owned that must no longer exist unless
	// declared again: kind → natural keys in the audit's form (see Key).
	Gone map[spec.Kind][]string
	// Baseline is the simulator's state before wso2sync first wrote to
	// it. Every object in it that the manifests have never declared
	// (Declared) must be unchanged.
	Baseline *sim.State
	// Declared reports whether an object was ever declared (so the
	// baseline check skips it); nil: only the current manifests count.
	Declared func(kind spec.Kind, key string) bool
}

// Key is the audit's natural key of a declared object (lower-cased where
// the servers compare case-insensitively).
func Key(kind spec.Kind, o spec.Resource) string {
	switch v := o.(type) {
	case *spec.Application:
		return strings.ToLower(v.Metadata.Name)
	case *spec.Subscription:
		return SubKey(v.Spec.Application, v.Spec.API.Name, v.Spec.API.Version)
	case *spec.ThrottlingPolicy:
		return v.Spec.Level + "/" + v.Metadata.Name
	case *spec.User:
		return strings.ToLower(v.Spec.UserName)
	case *spec.Role:
		return v.Spec.DisplayName
	case *spec.Certificate:
		if v.Spec.Usage == spec.CertUsageClient && v.Spec.API != nil {
			return v.Spec.API.Name + ":" + v.Spec.API.Version + "/" + v.AliasOrName()
		}
		return v.AliasOrName()
	case *spec.KeyManager:
		return v.Metadata.Name
	}
	return o.Meta().Metadata.Name
}

// SubKey is a subscription's key: application, API name and version.
func SubKey(app, api, version string) string {
	return strings.ToLower(app) + "->" + api + ":" + version
}

// KeyKey is an application key's key.
func KeyKey(app, keyType, km string) string {
	return strings.ToLower(app) + "/" + keyType + "/" + km
}

// live indexes the simulator's state by the audit's keys.
type live struct {
	st       sim.State
	apps     map[string]simapim.Application // by lower-case name
	appName  map[string]string              // id → name
	apis     map[string]simapim.API         // "name:version"
	apiKey   map[string]string              // id → "name:version"
	subs     map[string]simapim.Subscription
	kms      map[string]simapim.KeyManager
	kmName   map[string]string // id → name
	keys     map[string]simapim.KeyMapping
	appPols  map[string]simapim.ApplicationThrottlePolicy
	subPols  map[string]simapim.SubscriptionThrottlePolicy
	epCerts  map[string]simapim.EndpointCertificate
	clCerts  map[string]simapim.ClientCertificate // "name:version/alias"
	users    map[string]simis.UserState           // lower-case userName
	userName map[string]string                    // id → lower-case userName
	roles    map[string]simis.RoleState           // displayName (organization audience)
	roleName map[string]string                    // id → displayName
}

func index(st sim.State) *live {
	l := &live{st: st, apps: map[string]simapim.Application{}, appName: map[string]string{},
		apis: map[string]simapim.API{}, apiKey: map[string]string{}, subs: map[string]simapim.Subscription{},
		kms: map[string]simapim.KeyManager{}, kmName: map[string]string{}, keys: map[string]simapim.KeyMapping{},
		appPols: map[string]simapim.ApplicationThrottlePolicy{}, subPols: map[string]simapim.SubscriptionThrottlePolicy{},
		epCerts: map[string]simapim.EndpointCertificate{}, clCerts: map[string]simapim.ClientCertificate{},
		users: map[string]simis.UserState{}, userName: map[string]string{}, roles: map[string]simis.RoleState{},
		roleName: map[string]string{}}
	a := st.APIM
	for _, x := range a.Applications {
		l.apps[strings.ToLower(x.Name)] = x
		l.appName[x.ApplicationID] = x.Name
	}
	for _, x := range a.APIs {
		k := x.Name + ":" + x.Version
		l.apis[k] = x
		l.apiKey[x.ID] = k
	}
	for _, x := range a.Subscriptions {
		api := l.apiKey[x.APIID]
		name, version, _ := strings.Cut(api, ":")
		l.subs[SubKey(l.appName[x.ApplicationID], name, version)] = x
	}
	for _, x := range a.KeyManagers {
		l.kms[x.Name] = x
		l.kmName[x.ID] = x.Name
	}
	for _, x := range a.KeyMappings {
		l.keys[KeyKey(l.appName[x.ApplicationID], x.KeyType, l.kmName[x.KeyManagerID])] = x
	}
	for _, x := range a.ApplicationPolicies {
		l.appPols[x.PolicyName] = x
	}
	for _, x := range a.SubscriptionPolicies {
		l.subPols[x.PolicyName] = x
	}
	for _, x := range a.EndpointCertificates {
		l.epCerts[x.Alias] = x
	}
	for _, x := range a.ClientCertificates {
		l.clCerts[l.apiKey[x.APIID]+"/"+x.Alias] = x
	}
	for _, x := range st.IS.Users {
		n := strings.ToLower(x.UserName)
		l.users[n] = x
		l.userName[x.ID] = n
	}
	for _, x := range st.IS.Roles {
		l.roleName[x.ID] = x.DisplayName
		if x.AudienceType == "organization" || x.AudienceType == "" {
			l.roles[x.DisplayName] = x
		}
	}
	return l
}

// Check compares the simulator's state with the desired manifests and
// returns every violation found, sorted ("" none).
func Check(desired *spec.State, st sim.State, o Options) []string {
	l := index(st)
	var v violations
	checkPolicies(&v, desired, l)
	checkKeyManagers(&v, desired, l)
	checkApplications(&v, desired, l)
	checkSubscriptions(&v, desired, l)
	checkCertificates(&v, desired, l)
	checkUsersAndRoles(&v, desired, l)
	checkGone(&v, desired, l, o.Gone)
	if o.Baseline != nil {
		checkBaseline(&v, desired, l, index(*o.Baseline), o.Declared)
	}
	sort.Strings(v)
	return v
}

type violations []string

func (v *violations) add(format string, args ...any) { *v = append(*v, fmt.Sprintf(format, args...)) }

// field records a difference of one declared field.
func (v *violations) field(kind spec.Kind, key, field string, want, got any) {
	if !reflect.DeepEqual(want, got) {
		v.add("%s %s: %s is %v on the server, the manifests say %v", kind, key, field, show(got), show(want))
	}
}

func show(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

// policyCommon checks what application and subscription tiers share:
// description, display name (when declared) and default limit.
func policyCommon(v *violations, k string, s spec.ThrottlingPolicySpec, description, displayName string, limit simapim.ThrottleLimit) {
	v.field(spec.KindThrottlingPolicy, k, "description", s.Description, description)
	if s.DisplayName != "" {
		v.field(spec.KindThrottlingPolicy, k, "displayName", s.DisplayName, displayName)
	}
	limitEqual(v, k, s.DefaultLimit, limit)
}

func checkPolicies(v *violations, d *spec.State, l *live) {
	for _, p := range d.ThrottlingPolicies {
		k := Key(spec.KindThrottlingPolicy, p)
		s := p.Spec
		switch s.Level {
		case spec.LevelApplication:
			x, ok := l.appPols[p.Metadata.Name]
			if !ok {
				v.add("ThrottlingPolicy %s: missing on the server", k)
				continue
			}
			policyCommon(v, k, s, x.Description, x.DisplayName, x.DefaultLimit)
			if b := s.BurstLimit; b != nil { // left out: not managed
				var got simapim.BurstLimit
				if x.BurstLimit != nil {
					got = *x.BurstLimit
				}
				v.field(spec.KindThrottlingPolicy, k, "burstLimit", simapim.BurstLimit{RateLimitCount: b.RateLimitCount, RateLimitTimeUnit: b.RateLimitTimeUnit}, got)
			}
		case spec.LevelSubscription:
			x, ok := l.subPols[p.Metadata.Name]
			if !ok {
				v.add("ThrottlingPolicy %s: missing on the server", k)
				continue
			}
			policyCommon(v, k, s, x.Description, x.DisplayName, x.DefaultLimit)
			v.field(spec.KindThrottlingPolicy, k, "rateLimitCount", s.RateLimitCount, x.RateLimitCount)
			if s.RateLimitCount > 0 {
				v.field(spec.KindThrottlingPolicy, k, "rateLimitTimeUnit", s.RateLimitTimeUnit, x.RateLimitTimeUnit)
			}
			if s.StopOnQuotaReach != nil {
				v.field(spec.KindThrottlingPolicy, k, "stopOnQuotaReach", *s.StopOnQuotaReach, x.StopOnQuotaReach)
			}
			if s.BillingPlan != "" {
				v.field(spec.KindThrottlingPolicy, k, "billingPlan", s.BillingPlan, x.BillingPlan)
			}
		}
	}
}

func limitEqual(v *violations, k string, want spec.ThrottleLimit, got simapim.ThrottleLimit) {
	v.field(spec.KindThrottlingPolicy, k, "defaultLimit.type", want.Type, got.Type)
	if rc := want.RequestCount; rc != nil {
		var g simapim.RequestCountLimit
		if got.RequestCount != nil {
			g = *got.RequestCount
		}
		v.field(spec.KindThrottlingPolicy, k, "defaultLimit.requestCount",
			[3]string{rc.TimeUnit, strconv.Itoa(rc.UnitTime), strconv.Itoa(rc.RequestCount)},
			[3]string{g.TimeUnit, strconv.FormatInt(g.UnitTime, 10), strconv.FormatInt(g.RequestCount, 10)})
	}
}

func checkKeyManagers(v *violations, d *spec.State, l *live) {
	for _, km := range d.KeyManagers {
		x, ok := l.kms[km.Metadata.Name]
		if !ok {
			v.add("KeyManager %s: missing on the server", km.Metadata.Name)
			continue
		}
		v.field(spec.KindKeyManager, km.Metadata.Name, "enabled", km.Spec.Enabled, x.Enabled)
		v.field(spec.KindKeyManager, km.Metadata.Name, "type", km.Spec.Type, x.Type)
		if km.Spec.Description != "" {
			v.field(spec.KindKeyManager, km.Metadata.Name, "description", km.Spec.Description, x.Description)
		}
	}
}

func checkApplications(v *violations, d *spec.State, l *live) {
	for _, a := range d.Applications {
		k := Key(spec.KindApplication, a)
		x, ok := l.apps[k]
		if !ok {
			v.add("Application %s: missing on the server", k)
			continue
		}
		s := a.Spec
		v.field(spec.KindApplication, k, "owner", strings.ToLower(s.Owner), strings.ToLower(x.Owner))
		v.field(spec.KindApplication, k, "throttlingPolicy", s.ThrottlingPolicy, x.ThrottlingPolicy)
		v.field(spec.KindApplication, k, "description", s.Description, x.Description)
		v.field(spec.KindApplication, k, "tokenType", s.TokenType, x.TokenType)
		// Attributes a manifest leaves out are not managed (wso2sync's
		// documented semantics for fields left out), so only the declared
		// ones are checked.
		for name, val := range s.Attributes {
			v.field(spec.KindApplication, k, "attributes."+name, val, x.Attributes[name])
		}
		if len(s.Groups) > 0 || len(x.Groups) > 0 {
			v.field(spec.KindApplication, k, "groups", sorted(s.Groups), sorted(x.Groups))
		}
		// Keys: every declared key exists with its declared fields, and
		// no other key is on the application (wso2sync owns the
		// application, so its undeclared keys are pruned).
		want := map[string]bool{}
		for i, key := range s.Keys {
			kk := KeyKey(a.Metadata.Name, key.KeyType, key.KeyManager)
			want[kk] = true
			m, ok := l.keys[kk]
			if !ok {
				v.add("ApplicationKey %s: missing on the server", kk)
				continue
			}
			v.field(spec.KindApplication, kk, "grantTypes", sorted(key.GrantTypes), sorted(m.SupportedGrantTypes))
			if key.CallbackURL != "" || declared(&a.Object, fmt.Sprintf("spec.keys[%d].callbackUrl", i)) {
				v.field(spec.KindApplication, kk, "callbackUrl", key.CallbackURL, m.CallbackURL)
			}
			if key.Mode == spec.KeyModeMap {
				// map-keys carries no validity period (APIM keeps the
				// mapped client's own), so only the client id is checked.
				v.field(spec.KindApplication, kk, "clientId", key.ClientID, m.ConsumerKey)
			} else if _, byProp := key.AdditionalProperties["ext_application_token_lifetime"]; !byProp ||
				declared(&a.Object, fmt.Sprintf("spec.keys[%d].validityPeriod", i)) {
				// A manifest that sets the lifetime property itself and
				// leaves validityPeriod to its default means the property.
				v.field(spec.KindApplication, kk, "validityPeriod", int64(key.ValidityPeriod), tokenValidity(m))
			}
			for p, val := range key.AdditionalProperties {
				v.field(spec.KindApplication, kk, "additionalProperties."+p, val, fmt.Sprint(m.AdditionalProperties[p]))
			}
		}
		for kk := range l.keys {
			if strings.HasPrefix(kk, k+"/") && !want[kk] {
				v.add("ApplicationKey %s: on the server but not declared", kk)
			}
		}
	}
}

func checkSubscriptions(v *violations, d *spec.State, l *live) {
	declared := map[string]bool{}
	for _, s := range d.Subscriptions {
		k := Key(spec.KindSubscription, s)
		declared[k] = true
		x, ok := l.subs[k]
		if !ok {
			v.add("Subscription %s: missing on the server", k)
			continue
		}
		v.field(spec.KindSubscription, k, "throttlingPolicy", s.Spec.ThrottlingPolicy, x.ThrottlingPolicy)
	}
	// A declared application's subscriptions are exactly the declared
	// ones (wso2sync owns the application).
	apps := map[string]bool{}
	for _, a := range d.Applications {
		apps[strings.ToLower(a.Metadata.Name)] = true
	}
	for k := range l.subs {
		app, _, _ := strings.Cut(k, "->")
		if apps[app] && !declared[k] {
			v.add("Subscription %s: on the server but not declared", k)
		}
	}
}

func checkCertificates(v *violations, d *spec.State, l *live) {
	for _, c := range d.Certificates {
		k := Key(spec.KindCertificate, c)
		pem, err := certPEM(c)
		if err != nil {
			v.add("Certificate %s: reading the manifest's PEM: %v", k, err)
			continue
		}
		switch c.Spec.Usage {
		case spec.CertUsageEndpoint:
			x, ok := l.epCerts[c.AliasOrName()]
			if !ok {
				v.add("Certificate %s: endpoint certificate missing on the server", k)
				continue
			}
			v.field(spec.KindCertificate, k, "endpoint", c.Spec.Endpoint, x.Endpoint)
			v.field(spec.KindCertificate, k, "pem", normPEM(pem), normPEM(x.PEM))
		case spec.CertUsageClient:
			x, ok := l.clCerts[k]
			if !ok {
				v.add("Certificate %s: client certificate missing on the server", k)
				continue
			}
			v.field(spec.KindCertificate, k, "tier", c.Spec.Tier, x.Tier)
			v.field(spec.KindCertificate, k, "pem", normPEM(pem), normPEM(x.PEM))
		}
	}
}

func certPEM(c *spec.Certificate) (string, error) {
	if c.Spec.Source.PEM != "" {
		return c.Spec.Source.PEM, nil
	}
	if f := c.Spec.Source.File; f != "" {
		b, err := os.ReadFile(c.ResolvePath("spec.source.file", f))
		return string(b), err
	}
	return "", nil
}

func normPEM(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

func checkUsersAndRoles(v *violations, d *spec.State, l *live) {
	members := map[string][]string{} // role → declared users
	for _, u := range d.Users {
		k := Key(spec.KindUser, u)
		x, ok := l.users[k]
		if !ok {
			v.add("User %s: missing on the server", k)
			continue
		}
		if n := u.Spec.Name; n != nil {
			v.field(spec.KindUser, k, "name.givenName", n.GivenName, attr(x.Attributes, "name", "givenName"))
			v.field(spec.KindUser, k, "name.familyName", n.FamilyName, attr(x.Attributes, "name", "familyName"))
		}
		var want, got []string
		for _, e := range u.Spec.Emails {
			want = append(want, e.Value)
		}
		if es, ok := x.Attributes["emails"].([]any); ok {
			for _, e := range es {
				switch e := e.(type) {
				case map[string]any:
					got = append(got, fmt.Sprint(e["value"]))
				case string:
					got = append(got, e)
				}
			}
		}
		v.field(spec.KindUser, k, "emails", sorted(want), sorted(got))
		if u.Spec.Password != nil && !x.HasPassword {
			v.add("User %s: has no password on the server", k)
		}
		var roles []string
		for _, id := range x.RoleIDs {
			if n, ok := l.roleName[id]; ok && n != "everyone" {
				roles = append(roles, n)
			}
		}
		v.field(spec.KindUser, k, "roles", sorted(u.Spec.Roles), sorted(roles))
		for _, r := range u.Spec.Roles {
			members[r] = append(members[r], k)
		}
	}
	declaredUsers := map[string]bool{}
	for _, u := range d.Users {
		declaredUsers[Key(spec.KindUser, u)] = true
	}
	for _, r := range d.Roles {
		if r.Spec.Audience.Type == "application" {
			continue // application roles live under the application's audience
		}
		k := Key(spec.KindRole, r)
		x, ok := l.roles[k]
		if !ok {
			v.add("Role %s: missing on the server", k)
			continue
		}
		v.field(spec.KindRole, k, "permissions", sorted(r.Spec.Permissions), sorted(x.Permissions))
		// Members among the declared users: exactly those declaring it.
		var got []string
		for _, id := range x.UserIDs {
			if n := l.userName[id]; declaredUsers[n] {
				got = append(got, n)
			}
		}
		v.field(spec.KindRole, k, "members (declared users)", sorted(members[k]), sorted(got))
	}
}

// attr reads a nested SCIM attribute ("name", "givenName").
func attr(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

func checkGone(v *violations, d *spec.State, l *live, gone map[spec.Kind][]string) {
	declared := map[spec.Kind]map[string]bool{}
	for _, r := range d.Resources() {
		k := r.Meta().Kind
		if declared[k] == nil {
			declared[k] = map[string]bool{}
		}
		declared[k][Key(k, r)] = true
	}
	for kind, keys := range gone {
		for _, k := range keys {
			if declared[kind][k] {
				continue
			}
			var there bool
			switch kind {
			case spec.KindApplication:
				_, there = l.apps[k]
			case spec.KindSubscription:
				_, there = l.subs[k]
			case spec.KindThrottlingPolicy:
				level, name, _ := strings.Cut(k, "/")
				if level == spec.LevelApplication {
					_, there = l.appPols[name]
				} else {
					_, there = l.subPols[name]
				}
			case spec.KindUser:
				_, there = l.users[k]
			case spec.KindRole:
				_, there = l.roles[k]
			case spec.KindCertificate:
				_, there = l.clCerts[k]
				if !there {
					_, there = l.epCerts[k]
				}
			case spec.KindKeyManager:
				_, there = l.kms[k]
			}
			if there {
				v.add("%s %s: owned and no longer declared, but still on the server", kind, k)
			}
		}
	}
}

// checkBaseline: objects present before wso2sync ran and never declared
// are unchanged (same JSON in the dump).
func checkBaseline(v *violations, d *spec.State, l, base *live, declared func(spec.Kind, string) bool) {
	now := map[spec.Kind]map[string]bool{}
	for _, r := range d.Resources() {
		k := r.Meta().Kind
		if now[k] == nil {
			now[k] = map[string]bool{}
		}
		now[k][Key(k, r)] = true
	}
	isDeclared := func(kind spec.Kind, key string) bool {
		return now[kind][key] || (declared != nil && declared(kind, key))
	}
	same := func(kind spec.Kind, key string, before, after any, ok bool) {
		if isDeclared(kind, key) {
			return
		}
		if !ok {
			v.add("%s %s: not managed by wso2sync, but removed", kind, key)
			return
		}
		if show(before) != show(after) {
			v.add("%s %s: not managed by wso2sync, but changed: was %s, now %s", kind, key, show(before), show(after))
		}
	}
	for k, x := range base.apps {
		y, ok := l.apps[k]
		// Counts move with declared subscriptions to unmanaged apps' APIs;
		// the application itself must not change.
		x.SubscriptionCount, y.SubscriptionCount = 0, 0
		same(spec.KindApplication, k, x, y, ok)
	}
	for k, x := range base.subs {
		app, _, _ := strings.Cut(k, "->")
		if isDeclared(spec.KindApplication, app) {
			continue
		}
		y, ok := l.subs[k]
		same(spec.KindSubscription, k, x, y, ok)
	}
	for k, x := range base.keys {
		app, _, _ := strings.Cut(k, "/")
		if isDeclared(spec.KindApplication, app) {
			continue
		}
		y, ok := l.keys[k]
		same(spec.KindApplication, "key "+k, x, y, ok)
	}
	for k, x := range base.appPols {
		y, ok := l.appPols[k]
		same(spec.KindThrottlingPolicy, spec.LevelApplication+"/"+k, x, y, ok)
	}
	for k, x := range base.subPols {
		y, ok := l.subPols[k]
		x.SubscriberCount, y.SubscriberCount = 0, 0
		same(spec.KindThrottlingPolicy, spec.LevelSubscription+"/"+k, x, y, ok)
	}
	for k, x := range base.users {
		y, ok := l.users[k]
		// Role ids of an unmanaged user change only through declared
		// roles' memberships, which the roles' own check covers.
		x.RoleIDs, y.RoleIDs = nil, nil
		same(spec.KindUser, k, x, y, ok)
	}
	for k, x := range base.roles {
		y, ok := l.roles[k]
		same(spec.KindRole, k, x, y, ok)
	}
	for k, x := range base.epCerts {
		y, ok := l.epCerts[k]
		same(spec.KindCertificate, k, x, y, ok)
	}
	for k, x := range base.clCerts {
		y, ok := l.clCerts[k]
		same(spec.KindCertificate, k, x, y, ok)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

// tokenValidity is the application access token validity APIM applies to
// a key: the key manager's lifetime property when set (the IS 7
// connector's ext_application_token_lifetime, the Resident Key Manager's
// application_access_token_expiry_time; key updates change these), else
// the validityTime given to generate-keys.
func tokenValidity(m simapim.KeyMapping) int64 {
	for _, p := range []string{"ext_application_token_lifetime", "application_access_token_expiry_time"} {
		if n, err := strconv.ParseInt(fmt.Sprint(m.AdditionalProperties[p]), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return m.ValidityTime
}

// declared reports whether a manifest set the field at path (objects
// built in code count every field as declared).
func declared(o *spec.Object, path string) bool {
	if o.Positions == nil {
		return true
	}
	_, ok := o.Positions[path]
	return ok
}
