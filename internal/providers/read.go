package providers

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/is"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// ServerKinds are the kinds the providers read from the servers
// (Truststores are local files; Certificates of usage trust/keyManager
// have no REST object).
var ServerKinds = []spec.Kind{spec.KindCertificate, spec.KindKeyManager, spec.KindThrottlingPolicy,
	spec.KindRole, spec.KindApplication, spec.KindUser, spec.KindSubscription}

// ReadOptions tune Read.
type ReadOptions struct {
	// Kinds to read; nil reads ServerKinds. Subscriptions and keys need
	// the applications, which are then read too (but only returned when
	// asked for).
	Kinds []spec.Kind
	// Desired, if set, narrows and aligns the read: application keys and
	// subscriptions are read only for applications it declares, client
	// certificates only for the APIs it references, and live objects whose
	// identity matches a desired one take its metadata.name (subscriptions
	// by (application, API name, version), roles by (displayName,
	// audience), users by (domain, userName)), so that the diff can pair
	// objects by kind and name.
	Desired *spec.State
	// Pending, if set (and Desired nil), is the desired state still being
	// loaded: the read starts without it and waits for it only where it
	// must (client certificates, names), reading application keys and
	// subscriptions speculatively for every application until it is known
	// and then keeping only the desired applications' (Read's result is
	// the same as with Desired). Its error fails the Read.
	Pending *Pending
	// Owned, if set, widens the narrowed read: the keys and subscriptions
	// of owned applications that are no longer declared are read too, so
	// that the plan can show (and the prune guard count) what deleting them
	// takes with it. Asked by kind and natural key.
	Owned func(kind spec.Kind, key string) bool
	// Concurrency bounds the goroutines fanning out per application or
	// API (default: the APIM transport limiter's maximum, so that the
	// limiter, which adapts to 429s, is the only throttle).
	Concurrency int
	// OnRead, if set, is told as objects arrive (n more live objects:
	// key managers, tiers, applications, keys, subscriptions,
	// certificates, users, roles), for a progress display. It is called
	// from the reading goroutines and must be safe for concurrent use.
	OnRead func(n int)
}

// read reports n more objects read to OnRead.
func (o ReadOptions) read(n int) {
	if o.OnRead != nil && n > 0 {
		o.OnRead(n)
	}
}

// Pending is a desired state that a Read can start without (ReadOptions.Pending).
type Pending struct {
	done chan struct{}
	once sync.Once
	st   *spec.State
	err  error
}

// NewPending returns a Pending to Resolve later.
func NewPending() *Pending { return &Pending{done: make(chan struct{})} }

// Resolve sets the desired state (or the error that failed it); only the
// first call counts.
func (d *Pending) Resolve(st *spec.State, err error) {
	d.once.Do(func() { d.st, d.err = st, err; close(d.done) })
}

// peek returns the desired state if it is known.
func (d *Pending) peek() (*spec.State, bool) {
	select {
	case <-d.done:
		return d.st, d.err == nil
	default:
		return nil, false
	}
}

// Wait waits for the desired state.
func (d *Pending) Wait(ctx context.Context) (*spec.State, error) {
	select {
	case <-d.done:
		return d.st, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// resolveDesired fills o.Desired from o.Pending, waiting for it.
func (o *ReadOptions) resolveDesired(ctx context.Context) error {
	if o.Pending == nil || o.Desired != nil {
		return nil
	}
	st, err := o.Pending.Wait(ctx)
	if err != nil {
		return err
	}
	o.Desired, o.Pending = st, nil
	return nil
}

// Live is the estate as read from the servers.
type Live struct {
	// State holds the live objects as manifest values (Environment nil),
	// sorted by name. Built-in objects are included (see IsBuiltin).
	State *spec.State
	// IDs maps kind → metadata.name → server id: KeyManager id,
	// ThrottlingPolicy policyId (keyed "<level>/<name>", as names repeat
	// across levels), Application applicationId, Subscription
	// subscriptionId, User and Role SCIM id, Certificate alias (keyed by
	// name; client certificates "<apiId>/<alias>").
	IDs map[spec.Kind]map[string]string
	// Keys are the key mappings per application name (also in the
	// application's spec.keys, without ids).
	Keys map[string][]apim.Key
	// Subscriptions carry the API id and status per subscription name.
	Subscriptions map[string]apim.Subscription
	// RoleMembers maps role name → names of the users assigned to it.
	RoleMembers map[string][]string
	// APIs is the DevPortal catalogue when it was read (client
	// certificates), else nil.
	APIs []apim.API
	// Calls are the requests this Read made.
	Calls transport.CallCounts

	builtin map[spec.Kind]map[string]bool
}

// ID returns the server id of an object ("" if unknown). For
// ThrottlingPolicy pass "<level>/<name>".
func (l *Live) ID(kind spec.Kind, name string) string { return l.IDs[kind][name] }

// IsBuiltin reports whether the object exists on every install (Resident
// Key Manager, built-in tiers, DefaultApplication, the admin user, system
// roles): never deleted, left out of exports unless asked.
func (l *Live) IsBuiltin(kind spec.Kind, name string) bool { return l.builtin[kind][name] }

func (l *Live) setID(kind spec.Kind, name, id string) {
	if l.IDs[kind] == nil {
		l.IDs[kind] = map[string]string{}
	}
	l.IDs[kind][name] = id
}

func (l *Live) markBuiltin(kind spec.Kind, name string) {
	if l.builtin[kind] == nil {
		l.builtin[kind] = map[string]bool{}
	}
	l.builtin[kind][name] = true
}

// PolicyKey is the IDs key of a throttling policy.
func PolicyKey(level, name string) string { return level + "/" + name }

// Read reads the live estate concurrently with the fewest calls: key
// managers (1 list + 1 GET each), tiers (2), applications (1 page per
// PageSize), per application its keys (1), subscriptions per API (1 GET
// /apis + 1 page per API) or per application (1 page each), whichever
// is fewer (readApplications), certificates (1 page + 1 content each;
// client certificates 1 list per API), users and roles (1 SCIM page per
// PageSize each).
func (p *Providers) Read(ctx context.Context, o ReadOptions) (*Live, error) {
	before := p.Counter.Snapshot()
	kinds := o.Kinds
	if kinds == nil {
		kinds = ServerKinds
	}
	want := func(k spec.Kind) bool { return slices.Contains(kinds, k) }
	limit := o.Concurrency
	if limit <= 0 {
		limit = p.APIM.Transport().Limiter().Max()
	}
	l := &Live{State: &spec.State{}, IDs: map[spec.Kind]map[string]string{}, Keys: map[string][]apim.Key{},
		Subscriptions: map[string]apim.Subscription{}, RoleMembers: map[string][]string{},
		builtin: map[spec.Kind]map[string]bool{}}
	if p.env != nil {
		l.State.Name = p.env.Metadata.Name
	}

	var (
		mu    sync.Mutex // guards l while the readers run
		users []is.User
		roles []is.Role
	)
	tasks := []func(context.Context) error{}
	if want(spec.KindKeyManager) {
		tasks = append(tasks, func(ctx context.Context) error {
			kms, err := p.APIM.KeyManagers.List(ctx)
			if err != nil {
				return err
			}
			o.read(len(kms))
			mu.Lock()
			defer mu.Unlock()
			for _, f := range kms {
				l.State.KeyManagers = append(l.State.KeyManagers, f.Object)
				l.setID(spec.KindKeyManager, f.Object.Metadata.Name, f.ID)
				if c := kmCertificate(f.Object); c != nil && want(spec.KindCertificate) {
					l.State.Certificates = append(l.State.Certificates, c)
				}
				if slices.Contains(spec.BuiltinKeyManagers, f.Object.Metadata.Name) {
					l.markBuiltin(spec.KindKeyManager, f.Object.Metadata.Name)
				}
			}
			return nil
		})
	}
	if want(spec.KindThrottlingPolicy) {
		tasks = append(tasks, func(ctx context.Context) error {
			ps, err := p.APIM.Policies.List(ctx)
			if err != nil {
				return err
			}
			o.read(len(ps))
			mu.Lock()
			defer mu.Unlock()
			for _, f := range ps {
				tp := f.Object
				l.State.ThrottlingPolicies = append(l.State.ThrottlingPolicies, tp)
				l.setID(spec.KindThrottlingPolicy, PolicyKey(tp.Spec.Level, tp.Metadata.Name), f.ID)
				builtins := spec.BuiltinApplicationTiers
				if tp.Spec.Level == spec.LevelSubscription {
					builtins = spec.BuiltinSubscriptionTiers
				}
				if slices.Contains(builtins, tp.Metadata.Name) {
					l.markBuiltin(spec.KindThrottlingPolicy, tp.Metadata.Name)
				}
			}
			return nil
		})
	}
	if want(spec.KindApplication) || want(spec.KindSubscription) {
		tasks = append(tasks, func(ctx context.Context) error {
			return p.readApplications(ctx, l, &mu, o, want, limit)
		})
	}
	if want(spec.KindCertificate) {
		tasks = append(tasks, func(ctx context.Context) error {
			return p.readCertificates(ctx, l, &mu, o, limit)
		})
	}
	if want(spec.KindUser) || want(spec.KindRole) {
		tasks = append(tasks, func(ctx context.Context) error {
			var err error
			users, err = p.IS.Users.List(ctx)
			o.read(len(users))
			return err
		})
	}
	if want(spec.KindRole) {
		tasks = append(tasks, func(ctx context.Context) error {
			var err error
			roles, err = p.IS.Roles.List(ctx)
			o.read(len(roles))
			return err
		})
	}
	if err := apim.ForEach(ctx, tasks, len(tasks), func(ctx context.Context, f func(context.Context) error) error {
		return f(ctx)
	}); err != nil {
		return nil, err
	}
	if err := o.resolveDesired(ctx); err != nil {
		return nil, err
	}
	p.assembleIS(l, o, want, users, roles)
	adoptCertNames(l, o.Desired)
	if !want(spec.KindApplication) {
		l.State.Applications = nil
		delete(l.IDs, spec.KindApplication)
	}
	sortState(l.State)
	l.Calls = diffCounts(before, p.Counter.Snapshot())
	return l, nil
}

// readApplications reads the applications (one list page), the keys of
// each needed application (one oauth-keys call each: DevPortal has no bulk
// key read, §3.4) and the subscriptions. The subscription list needs an
// applicationId or an apiId (§3.5): with fewer APIs than applications it
// is read per API (one GET /apis, then one page per API), else per
// application. Every key and subscription read runs as its own task in one
// pool of limit goroutines (the transport limiter's bound), so the
// limiter is the only throttle.
//
// Per API, a subscription to an API the DevPortal does not list (not
// PUBLISHED/PROTOTYPED) would be missed: the count read per application is
// checked against the list item's subscriptionCount, and an application
// whose count differs is re-read per application.
func (p *Providers) readApplications(ctx context.Context, l *Live, mu *sync.Mutex, o ReadOptions, want func(spec.Kind) bool, limit int) error {
	apps, err := p.APIM.Applications.List(ctx)
	if err != nil {
		return err
	}
	o.read(len(apps))
	// With the desired state still pending, every application is read
	// (skipping those it turns out not to declare once it is known), and
	// the result is narrowed to the desired ones afterwards.
	desiredSet := func(st *spec.State) map[string]bool {
		if st == nil {
			return nil
		}
		m := make(map[string]bool, len(st.Applications))
		for _, a := range st.Applications {
			m[strings.ToLower(a.Metadata.Name)] = true
		}
		return m
	}
	speculative := o.Pending != nil && o.Desired == nil
	if speculative {
		if st, ok := o.Pending.peek(); ok {
			o.Desired, o.Pending, speculative = st, nil, false
		}
	}
	narrow := func(desiredApps map[string]bool) []apim.Found[*spec.Application] {
		var needed []apim.Found[*spec.Application]
		for _, f := range apps {
			if desiredApps == nil || desiredApps[strings.ToLower(f.Object.Metadata.Name)] ||
				(o.Owned != nil && o.Owned(spec.KindApplication, f.Object.Key())) {
				needed = append(needed, f)
			}
		}
		return needed
	}
	var needed []apim.Found[*spec.Application]
	if speculative {
		needed = narrow(nil)
	} else {
		needed = narrow(desiredSet(o.Desired))
	}
	// skip reports whether a speculative read for an application is moot:
	// the desired state came and does not declare it.
	var skipOnce sync.Once
	var skipSet map[string]bool
	skip := func(name string) bool {
		if !speculative {
			return false
		}
		st, ok := o.Pending.peek()
		if !ok || st == nil {
			return false
		}
		skipOnce.Do(func() { skipSet = desiredSet(st) })
		return !skipSet[strings.ToLower(name)] && (o.Owned == nil || !o.Owned(spec.KindApplication, strings.ToLower(name)))
	}
	// errs holds the errors of speculative reads, returned only for
	// applications that turn out to be desired.
	errs := map[string]error{}
	fail := func(id string, err error) error {
		if !speculative {
			return err
		}
		mu.Lock()
		errs[id] = err
		mu.Unlock()
		return nil
	}
	keysByApp := map[string][]apim.Key{} // app id → keys
	var apis []apim.API
	if want(spec.KindSubscription) && len(needed) > 1 {
		if apis, err = p.APIM.APIs.List(ctx); err != nil {
			return err
		}
	}
	perAPI := want(spec.KindSubscription) && len(needed) > 1 && len(apis) < len(needed)

	subsByApp := make(map[string][]apim.Subscription, len(needed)) // app id → subscriptions
	var tasks []func(context.Context) error
	if want(spec.KindApplication) {
		for i := range needed {
			f := &needed[i]
			tasks = append(tasks, func(ctx context.Context) error {
				if skip(f.Object.Metadata.Name) {
					return nil
				}
				keys, err := p.APIM.Keys.List(ctx, apim.AppRef{ID: f.ID, Name: f.Object.Metadata.Name})
				if err != nil {
					return fail(f.ID, err)
				}
				o.read(len(keys))
				mu.Lock()
				defer mu.Unlock()
				keysByApp[f.ID] = keys
				return nil
			})
		}
	}
	perApp := func(f *apim.Found[*spec.Application]) func(context.Context) error {
		return func(ctx context.Context) error {
			if skip(f.Object.Metadata.Name) {
				return nil
			}
			subs, err := p.APIM.Subscriptions.List(ctx, apim.AppRef{ID: f.ID, Name: f.Object.Metadata.Name})
			if err != nil {
				return fail(f.ID, err)
			}
			o.read(len(subs))
			mu.Lock()
			subsByApp[f.ID] = subs
			mu.Unlock()
			return nil
		}
	}
	switch {
	case perAPI:
		names := make(map[string]string, len(needed))
		for _, f := range needed {
			names[f.ID] = f.Object.Metadata.Name
		}
		appName := func(id string) (string, bool) { n, ok := names[id]; return n, ok }
		for _, a := range apis {
			tasks = append(tasks, func(ctx context.Context) error {
				subs, err := p.APIM.Subscriptions.ListByAPI(ctx, a, appName)
				if err != nil {
					return err
				}
				o.read(len(subs))
				mu.Lock()
				defer mu.Unlock()
				for _, s := range subs {
					subsByApp[s.ApplicationID] = append(subsByApp[s.ApplicationID], s)
				}
				return nil
			})
		}
	case want(spec.KindSubscription):
		for i := range needed {
			tasks = append(tasks, perApp(&needed[i]))
		}
	}
	run := func(ctx context.Context, f func(context.Context) error) error { return f(ctx) }
	if err := apim.ForEach(ctx, tasks, limit, run); err != nil {
		return err
	}
	if speculative {
		if err := o.resolveDesired(ctx); err != nil {
			return err
		}
		needed = narrow(desiredSet(o.Desired))
		speculative = false // from here on, reads are for desired applications
		for _, f := range needed {
			if err := errs[f.ID]; err != nil {
				return err
			}
		}
	}
	// Adopt the desired subscription names by identity.
	subNames := map[string]string{}
	if o.Desired != nil {
		for _, s := range o.Desired.Subscriptions {
			subNames[s.Key()] = s.Metadata.Name
		}
	}
	if perAPI {
		var recheck []func(context.Context) error
		for i := range needed {
			if f := &needed[i]; len(subsByApp[f.ID]) != f.SubscriptionCount {
				recheck = append(recheck, perApp(f))
			}
		}
		if err := apim.ForEach(ctx, recheck, limit, run); err != nil {
			return err
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, f := range needed {
		if keys := keysByApp[f.ID]; keys != nil {
			l.Keys[f.Object.Metadata.Name] = keys
			for _, k := range keys {
				f.Object.Spec.Keys = append(f.Object.Spec.Keys, k.Spec)
			}
		}
	}
	for _, f := range needed {
		for _, s := range subsByApp[f.ID] {
			if n, ok := subNames[s.Object.Key()]; ok {
				s.Object.Metadata.Name = n
			}
			l.State.Subscriptions = append(l.State.Subscriptions, s.Object)
			l.Subscriptions[s.Object.Metadata.Name] = s
			l.setID(spec.KindSubscription, s.Object.Metadata.Name, s.ID)
		}
	}
	for _, f := range apps {
		l.State.Applications = append(l.State.Applications, f.Object)
		l.setID(spec.KindApplication, f.Object.Metadata.Name, f.ID)
		if f.Object.Metadata.Name == apim.DefaultApplication {
			l.markBuiltin(spec.KindApplication, f.Object.Metadata.Name)
		}
	}
	return nil
}

func (p *Providers) readCertificates(ctx context.Context, l *Live, mu *sync.Mutex, o ReadOptions, limit int) error {
	eps, err := p.APIM.Certificates.ListEndpoint(ctx)
	if err != nil {
		return err
	}
	o.read(len(eps))
	if err := o.resolveDesired(ctx); err != nil {
		return err
	}
	// Client certificates are read for every API of the environment's
	// catalogue (the APIs wso2sync may write them to) and every API a
	// declared certificate names: one removed from the manifests is then
	// seen, and pruned when owned (or listed as unmanaged).
	var catalogue []spec.CatalogueAPI
	if p.env != nil {
		catalogue = p.env.Spec.APIs
	}
	var apis []apim.API
	clientCerts := o.Desired == nil || len(catalogue) > 0
	if o.Desired != nil {
		for _, c := range o.Desired.Certificates {
			if c.Spec.Usage == spec.CertUsageClient {
				clientCerts = true
			}
		}
	}
	var cls []*spec.Certificate
	if clientCerts {
		all, err := p.APIM.APIs.List(ctx)
		if err != nil {
			return err
		}
		apis = all
		if o.Desired != nil {
			apis = slices.DeleteFunc(slices.Clone(all), func(a apim.API) bool {
				inCatalogue := slices.ContainsFunc(catalogue, func(c spec.CatalogueAPI) bool {
					return strings.EqualFold(c.Name, a.Name) && c.Version == a.Version
				})
				return !inCatalogue && !slices.ContainsFunc(o.Desired.Certificates, func(c *spec.Certificate) bool {
					return c.Spec.API != nil && strings.EqualFold(c.Spec.API.Name, a.Name) && c.Spec.API.Version == a.Version
				})
			})
		}
		if cls, err = p.APIM.Certificates.ListClient(ctx, apis); err != nil {
			return err
		}
		o.read(len(cls))
		l.APIs = all
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range eps {
		l.State.Certificates = append(l.State.Certificates, c)
		l.setID(spec.KindCertificate, c.Metadata.Name, c.Spec.Alias)
	}
	for _, c := range cls {
		l.State.Certificates = append(l.State.Certificates, c)
		id := c.Spec.Alias
		for _, a := range apis {
			if c.Spec.API != nil && a.Name == c.Spec.API.Name && a.Version == c.Spec.API.Version {
				id = a.ID + "/" + c.Spec.Alias
			}
		}
		l.setID(spec.KindCertificate, c.Metadata.Name, id)
	}
	return nil
}

// assembleIS names users and roles (adopting desired names), resolves
// user → role references to role names and fills RoleMembers.
func (p *Providers) assembleIS(l *Live, o ReadOptions, want func(spec.Kind) bool, users []is.User, roles []is.Role) {
	roleName := map[string]string{} // SCIM id → metadata.name
	desiredRoles := map[string]string{}
	desiredUsers := map[string]string{}
	if o.Desired != nil {
		for _, r := range o.Desired.Roles {
			desiredRoles[r.Key()] = r.Metadata.Name
		}
		for _, u := range o.Desired.Users {
			desiredUsers[u.Key()] = u.Metadata.Name
		}
	}
	for _, r := range roles {
		if n, ok := desiredRoles[r.Object.Key()]; ok {
			r.Object.Metadata.Name = n
		}
		roleName[r.ID] = r.Object.Metadata.Name
		if r.System {
			l.markBuiltin(spec.KindRole, r.Object.Metadata.Name)
		}
		l.State.Roles = append(l.State.Roles, r.Object)
		l.setID(spec.KindRole, r.Object.Metadata.Name, r.ID)
	}
	for _, u := range users {
		if n, ok := desiredUsers[u.Object.Key()]; ok {
			u.Object.Metadata.Name = n
		}
		if roles != nil {
			u.Object.Spec.Roles = nil
			for _, id := range u.RoleIDs {
				n := roleName[id]
				if n == "" {
					continue
				}
				u.Object.Spec.Roles = append(u.Object.Spec.Roles, n)
				l.RoleMembers[n] = append(l.RoleMembers[n], u.Object.Metadata.Name)
			}
			slices.Sort(u.Object.Spec.Roles)
		}
		if strings.EqualFold(u.Object.Spec.UserName, p.adminUser) && strings.EqualFold(u.Object.Spec.Domain, "PRIMARY") {
			l.markBuiltin(spec.KindUser, u.Object.Metadata.Name)
		}
		if want(spec.KindUser) {
			l.State.Users = append(l.State.Users, u.Object)
			l.setID(spec.KindUser, u.Object.Metadata.Name, u.ID)
		}
	}
	for _, m := range l.RoleMembers {
		slices.Sort(m)
	}
}

// kmCertificate is a key manager's PEM certificate as a Certificate of
// usage keyManager (nil for JWKS or none): the object a keyManager
// Certificate manifest writes, read back so that it is compared and,
// when no longer declared, removed.
func kmCertificate(km *spec.KeyManager) *spec.Certificate {
	c := km.Spec.Certificates
	if c == nil || !strings.EqualFold(c.Type, "PEM") || c.Value == "" {
		return nil
	}
	return &spec.Certificate{
		Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindCertificate,
			Metadata: spec.Metadata{Name: spec.KeyManagerCertKey(km.Metadata.Name)}},
		Spec: spec.CertificateSpec{Usage: spec.CertUsageKeyManager, KeyManager: km.Metadata.Name,
			Source: spec.CertSource{PEM: c.Value}},
	}
}

// adoptCertNames gives live key-manager certificates the names of the
// declared ones with the same key, and leaves out those of key managers
// whose manifest sets spec.certificates itself (compared there).
func adoptCertNames(l *Live, desired *spec.State) {
	if desired == nil {
		return
	}
	names := map[string]string{}
	for _, c := range desired.Certificates {
		if c.Spec.Usage == spec.CertUsageKeyManager {
			names[c.Key()] = c.Metadata.Name
		}
	}
	l.State.Certificates = slices.DeleteFunc(l.State.Certificates, func(c *spec.Certificate) bool {
		if c.Spec.Usage != spec.CertUsageKeyManager {
			return false
		}
		if n, ok := names[c.Key()]; ok {
			c.Metadata.Name = n
			return false
		}
		km := desired.KeyManager(c.Spec.KeyManager)
		return km != nil && km.Spec.Certificates != nil
	})
}

func sortState(s *spec.State) {
	byName := func(a, b spec.Resource) int { return strings.Compare(a.Meta().Metadata.Name, b.Meta().Metadata.Name) }
	slices.SortFunc(s.KeyManagers, func(a, b *spec.KeyManager) int { return byName(a, b) })
	slices.SortFunc(s.ThrottlingPolicies, func(a, b *spec.ThrottlingPolicy) int {
		if c := byName(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.Spec.Level, b.Spec.Level)
	})
	slices.SortFunc(s.Applications, func(a, b *spec.Application) int { return byName(a, b) })
	slices.SortFunc(s.Subscriptions, func(a, b *spec.Subscription) int { return byName(a, b) })
	slices.SortFunc(s.Users, func(a, b *spec.User) int { return byName(a, b) })
	slices.SortFunc(s.Roles, func(a, b *spec.Role) int { return byName(a, b) })
	slices.SortFunc(s.Certificates, func(a, b *spec.Certificate) int { return byName(a, b) })
}

func diffCounts(a, b transport.CallCounts) transport.CallCounts {
	out := transport.CallCounts{Reads: b.Reads - a.Reads, Writes: b.Writes - a.Writes, Auth: b.Auth - a.Auth,
		Retries: b.Retries - a.Retries, RateLimited: b.RateLimited - a.RateLimited,
		TransportErrors: b.TransportErrors - a.TransportErrors, ByStatus: map[int]int64{}}
	for k, v := range b.ByStatus {
		if d := v - a.ByStatus[k]; d != 0 {
			out.ByStatus[k] = d
		}
	}
	return out
}
