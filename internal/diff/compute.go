package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// normCtx carries what normalisers need beyond the object itself.
type normCtx struct {
	opts     Options
	desired  *spec.State // Truststore entries refer to declared Certificates
	warnings []string
}

func (c *normCtx) newView(kind spec.Kind, o *spec.Object, desired bool) view {
	v := view{kind: kind, name: o.Metadata.Name}
	if desired {
		v.obj, v.src = o, o.Source
	}
	return v
}

func (c *normCtx) warnf(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

func (c *normCtx) readFile(path string) ([]byte, error) {
	if c.opts.ReadFile != nil {
		return c.opts.ReadFile(path)
	}
	// Validation checked the file (inside the root, regular, bounded);
	// read it the same bounded, non-blocking way in case it changed.
	return spec.ReadRegular(path, path, spec.MaxPEMFile)
}

// views normalises every object of a state, by kind.
func (c *normCtx) views(st *spec.State, desired bool) map[spec.Kind][]view {
	m := map[spec.Kind][]view{}
	for _, x := range st.KeyManagers {
		m[spec.KindKeyManager] = append(m[spec.KindKeyManager], c.keyManager(x, desired))
	}
	for _, x := range st.ThrottlingPolicies {
		m[spec.KindThrottlingPolicy] = append(m[spec.KindThrottlingPolicy], c.throttlingPolicy(x, desired))
	}
	for _, x := range st.Applications {
		m[spec.KindApplication] = append(m[spec.KindApplication], c.application(x, desired))
		m[KindApplicationKey] = append(m[KindApplicationKey], c.applicationKeys(x, desired)...)
	}
	for _, x := range st.Subscriptions {
		m[spec.KindSubscription] = append(m[spec.KindSubscription], c.subscription(x, desired))
	}
	for _, x := range st.Users {
		m[spec.KindUser] = append(m[spec.KindUser], c.user(x, desired))
	}
	for _, x := range st.Roles {
		m[spec.KindRole] = append(m[spec.KindRole], c.role(x, desired))
	}
	for _, x := range st.Certificates {
		if v := c.certificate(x, desired); v != nil {
			m[spec.KindCertificate] = append(m[spec.KindCertificate], *v)
		}
	}
	for _, x := range st.Truststores {
		m[spec.KindTruststore] = append(m[spec.KindTruststore], c.truststore(x, desired))
	}
	return m
}

// Compute compares the desired state with the live one. Both may be nil
// (an empty state). It never deletes an object that is protected, not
// owned, or when the desired state declares nothing at all.
func Compute(desired, live *spec.State, opts Options) *Plan {
	if desired == nil {
		desired = &spec.State{}
	}
	if live == nil {
		live = &spec.State{}
	}
	c := &normCtx{opts: opts, desired: desired}
	dv, lv := c.views(desired, true), c.views(live, false)
	p := &Plan{Version: PlanVersion, Environment: desired.Name}

	// An empty desired state is far more often a wrong path or a failed
	// checkout than a wish to wipe the estate (DESIGN §6).
	empty := len(desired.Resources()) == 0 || (len(desired.Resources()) == 1 && desired.Environment != nil)
	if empty && opts.Prune == PruneOwned {
		c.warnf("the manifests declare no objects: nothing is deleted (an empty desired state never means delete-all)")
	}
	// Live applications without a declared counterpart: their keys go with
	// them (deleted by cascade, or left alone) and are not planned apart.
	appGone := map[string]bool{}
	// Replaced applications (by key): APIM deletes their keys and
	// subscriptions with them (WSO2-API §3.3), so the declared ones are
	// created again in the same run and the undeclared ones are gone.
	appReplaced := map[string]string{}
	// Replaced key managers with live keys: APIM refuses to delete them.
	kmReplaced := map[string]bool{}
	signedIn := signedInUser(live)
	// What the server deletes with each live application (WSO2-API §3.3).
	deps := map[string][]*view{}
	for _, kind := range []spec.Kind{KindApplicationKey, spec.KindSubscription} {
		for i := range lv[kind] {
			v := &lv[kind][i]
			deps[dependentApp(v)] = append(deps[dependentApp(v)], v)
		}
	}
	for _, kind := range KindOrder {
		pairs, onlyD, onlyL := match(dv[kind], lv[kind], c.label)
		for _, pr := range pairs {
			d := pr[0]
			if app, ok := appReplaced[dependentApp(d)]; ok {
				p.Changes = append(p.Changes, c.recreate(d, fmt.Sprintf("application %s is replaced", app)))
				continue
			}
			ch := c.compare(d, pr[1])
			switch {
			case kind == spec.KindApplication && ch.Action == Replace:
				if c.ownerUnreachable(&ch, d, signedIn) {
					break
				}
				appReplaced[d.key] = d.name
				ch.Cascade = cascade(deps[pr[1].key])
			case kind == spec.KindKeyManager && ch.Action == Replace:
				kmReplaced[d.name] = true
			}
			p.Changes = append(p.Changes, ch)
		}
		for _, d := range onlyD {
			p.Changes = append(p.Changes, c.create(d))
		}
		for _, l := range onlyL {
			if kind == spec.KindApplication {
				appGone[l.key] = true
			}
			if (kind == KindApplicationKey || kind == spec.KindSubscription) && appGone[dependentApp(l)] {
				continue // deleted with its application, or left alone with it
			}
			if _, ok := appReplaced[dependentApp(l)]; ok {
				continue // deleted with the application it belongs to
			}
			c.orphan(p, l, empty, deps[l.key])
		}
	}
	c.warnKeyManagersInUse(kmReplaced, lv[KindApplicationKey])
	sortPlan(p)
	p.Warnings = c.warnings
	p.Recount()
	return p
}

// label is the manifest name the inventory recorded for a live object.
func (c *normCtx) label(v *view) string {
	if c.opts.Label == nil || v.key == "" {
		return ""
	}
	return c.opts.Label(v.kind, v.key)
}

// cascade lists the live dependents a delete takes with it.
func cascade(vs []*view) []Ref {
	var out []Ref
	for _, v := range vs {
		out = append(out, Ref{Kind: v.kind, Name: v.name, Key: v.key,
			Reason: "deleted by the server with its application"})
	}
	slices.SortFunc(out, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// keyApp returns the application key (lower-case name) of a key view.
func keyApp(v *view) string {
	g, _, _ := strings.Cut(v.group, "/")
	return g
}

// dependentApp returns the application key (lower-case name) an
// application key or a subscription belongs to; "" for other kinds.
func dependentApp(v *view) string {
	switch v.kind {
	case KindApplicationKey:
		return keyApp(v)
	case spec.KindSubscription:
		f, _ := v.get("spec.application")
		app, _ := f.value.(string)
		return strings.ToLower(app)
	}
	return ""
}

// recreate plans a declared dependent of a replaced object, which the
// server deletes with it: a create, whatever the live copy looked like.
func (c *normCtx) recreate(d *view, reason string) Change {
	ch := c.create(d)
	ch.Reason = reason
	return ch
}

// signedInUser is the user wso2sync signs in to APIM as: the owner of the
// live DefaultApplication, which APIM creates for every user and which is
// listed only to its owner (DevPortal lists the caller's applications).
// "" when unknown.
func signedInUser(live *spec.State) string {
	for _, a := range live.Applications {
		if strings.EqualFold(a.Metadata.Name, "DefaultApplication") {
			return owner(a.Spec.Owner)
		}
	}
	return ""
}

// ownerUnreachable turns an application replace that only an owner change
// forces into an update when the new owner is not the user wso2sync signs
// in as: a re-created application belongs to its creator, so the replace
// would delete the application, its keys and subscriptions and still not
// change the owner, run after run. It reports whether it did.
func (c *normCtx) ownerUnreachable(ch *Change, d *view, signedIn string) bool {
	f, _ := d.get("spec.owner")
	want, _ := f.value.(string)
	if signedIn == "" || strings.EqualFold(want, signedIn) {
		return false
	}
	for _, fd := range ch.Fields {
		if fd.ForcesReplace && fd.Path != "spec.owner" {
			return false
		}
	}
	for i := range ch.Fields {
		ch.Fields[i].ForcesReplace = false
	}
	ch.Action = Update
	ch.Reason = fmt.Sprintf("spec.owner: APIM makes the user who creates an application its owner and wso2sync signs in as %s, "+
		"so replacing %s would not make %s its owner: set owner: %s, or change the owner with the Admin API (change-owner)", signedIn, d.name, want, signedIn)
	c.warnf("Application %s: owner %s cannot be set by wso2sync, which signs in as %s (see the plan's reason)", d.name, want, signedIn)
	return true
}

// warnKeyManagersInUse warns about replaced key managers that live
// application keys use: APIM refuses to delete a key manager that an
// application uses (WSO2-API §3.1) and has no DELETE for a key mapping
// (§5.5), so the replace fails until those keys are gone. wso2sync does
// not remove them on its own: that would revoke the credentials of every
// client of those applications.
func (c *normCtx) warnKeyManagersInUse(replaced map[string]bool, liveKeys []view) {
	if len(replaced) == 0 {
		return
	}
	uses := map[string][]string{}
	for _, k := range liveKeys {
		f, _ := k.get("keyManager")
		if km, _ := f.value.(string); replaced[km] {
			uses[km] = append(uses[km], k.name)
		}
	}
	for _, km := range sortedKeys(uses) {
		keys := uses[km]
		slices.Sort(keys)
		c.warnf("KeyManager %s is replaced but application keys use it (%s): APIM refuses to delete a key manager in use (WSO2-API §3.1) "+
			"and cannot delete a key mapping (§5.5); remove those keys from the manifests (prune owned) or move them to another key manager first, then apply the replace",
			km, strings.Join(keys, ", "))
	}
}

// match pairs desired and live objects: by server identity first, then by
// manifest name (the same object whose identity changed: a replace), then,
// for application keys, by application and key type (a new key manager).
// Indexed, because an IS may hold tens of thousands of users.
func match(d, l []view, label func(*view) string) (pairs [][2]*view, onlyD, onlyL []*view) {
	used := make([]bool, len(l))
	paired := make([]bool, len(d))
	type pass struct{ desired, live func(v *view) string }
	same := func(f func(v *view) string) pass { return pass{f, f} }
	for _, id := range []pass{
		same(func(v *view) string { return "k\x00" + v.key }),
		same(func(v *view) string { return "n\x00" + v.name }),
		// The inventory's label: the manifest name an owned live object
		// was created for, whose identity the manifest has since changed.
		{func(v *view) string { return "n\x00" + v.name }, func(v *view) string {
			if n := label(v); n != "" {
				return "n\x00" + n
			}
			return ""
		}},
		same(func(v *view) string {
			if v.group == "" {
				return ""
			}
			return "g\x00" + v.group
		}),
	} {
		index := map[string][]int{}
		for j := range l {
			if k := id.live(&l[j]); !used[j] && k != "" {
				index[k] = append(index[k], j)
			}
		}
		for i := range d {
			k := id.desired(&d[i])
			if paired[i] || k == "" {
				continue
			}
			for len(index[k]) > 0 {
				j := index[k][0]
				index[k] = index[k][1:]
				if !used[j] {
					pairs = append(pairs, [2]*view{&d[i], &l[j]})
					paired[i], used[j] = true, true
					break
				}
			}
		}
	}
	for i := range d {
		if !paired[i] {
			onlyD = append(onlyD, &d[i])
		}
	}
	for j := range l {
		if !used[j] {
			onlyL = append(onlyL, &l[j])
		}
	}
	return pairs, onlyD, onlyL
}

// compare plans a paired object: NoOp, Update, or Replace when a differing
// field cannot change in place.
func (c *normCtx) compare(d, l *view) Change {
	ch := Change{Kind: d.kind, Name: d.name, Source: d.src, Action: NoOp, Key: d.key}
	if l.key != d.key {
		ch.OldKey = l.key
	}
	if l.name != d.name {
		ch.LiveName = l.name
	}
	var paths, reasons []string
	for _, f := range d.fields {
		if !d.compared(f) {
			continue
		}
		lf, _ := l.get(f.id)
		if equal(f.value, lf.value, f.fold) {
			continue
		}
		ch.Fields = append(ch.Fields, FieldDiff{
			Path: f.path, Before: nonZero(lf.value), After: nonZero(f.value),
			Sensitive: f.sensitive, ForcesReplace: f.replace != "", Source: d.pos(f),
		})
		paths = append(paths, f.path)
		if f.replace != "" && !slices.Contains(reasons, f.replace) {
			reasons = append(reasons, f.replace)
		}
	}
	if len(ch.Fields) == 0 {
		return ch
	}
	ch.Before, ch.After = l.values(false), d.values(true)
	ch.Sensitive = d.hasSensitive() || l.hasSensitive()
	switch {
	case len(reasons) > 0 && IsProtected(d.kind, d.name):
		// Replacing means deleting, which a protected object never is.
		ch.Action = Update
		ch.Reason = fmt.Sprintf("%s cannot change in place and %s %q is protected from deletion: change it by hand", strings.Join(paths, ", "), d.kind, d.name)
	case len(reasons) > 0:
		ch.Action = Replace
		ch.Reason = strings.Join(reasons, "; ")
	default:
		ch.Action = Update
		ch.Reason = "drift: " + strings.Join(paths, ", ")
	}
	return ch
}

func (c *normCtx) create(d *view) Change {
	ch := Change{Kind: d.kind, Name: d.name, Action: Create, Source: d.src, Key: d.key,
		Reason: "declared, not found live", After: d.values(true), Sensitive: d.hasSensitive()}
	for _, f := range d.fields {
		if d.shown(f) && !absent(f.value) {
			ch.Fields = append(ch.Fields, FieldDiff{Path: f.path, After: f.value, Sensitive: f.sensitive, Source: d.pos(f)})
		}
	}
	return ch
}

// orphan plans a live object nobody declares: deleted when owned and
// pruning is on, else reported as unmanaged; protected ones are neither.
func (c *normCtx) orphan(p *Plan, l *view, empty bool, deps []*view) {
	if IsProtected(l.kind, l.name) {
		return
	}
	owned := c.opts.Owned != nil && c.opts.Owned(l.kind, l.key)
	var reason string
	switch {
	case !owned:
		reason = "not created by wso2sync"
	case empty:
		reason = "no longer declared, but the manifests declare nothing"
	case c.opts.Prune != PruneOwned:
		reason = "no longer declared; prune is off"
	}
	if reason != "" {
		p.Unmanaged = append(p.Unmanaged, Ref{Kind: l.kind, Name: l.name, Reason: reason})
		return
	}
	ch := Change{Kind: l.kind, Name: l.name, Action: Delete, Before: l.values(false), Sensitive: l.hasSensitive(),
		Key: l.key, Reason: "no longer declared; wso2sync created it and prune is owned"}
	switch l.kind {
	case KindApplicationKey:
		ch.Reason += "; APIM has no DELETE for a key mapping (WSO2-API §5.5): it is removed with clean-up"
	case spec.KindApplication:
		ch.Reason += "; APIM also removes its keys and subscriptions"
		ch.Cascade = cascade(deps)
	}
	for _, f := range l.fields {
		if !isZero(f.value) {
			ch.Fields = append(ch.Fields, FieldDiff{Path: f.path, Before: f.value, Sensitive: f.sensitive})
		}
	}
	p.Changes = append(p.Changes, ch)
}

// pos is the manifest position of a desired field.
func (v *view) pos(f field) spec.Position {
	if v.obj == nil {
		return spec.Position{}
	}
	return v.obj.Pos(f.posPath())
}

// values is the object as a flat map of field path to value: for the
// desired side the fields a create would send, for the live side every
// field the server reported.
func (v *view) values(desired bool) map[string]any {
	m := map[string]any{}
	for _, f := range v.fields {
		// Live false/0 are mostly server defaults: left out to keep deletes
		// and the JSON short.
		if (desired && (absent(f.value) || !v.shown(f))) || (!desired && isZero(f.value)) {
			continue
		}
		m[f.path] = f.value
	}
	return m
}

func (v *view) hasSensitive() bool {
	return slices.ContainsFunc(v.fields, func(f field) bool { return f.sensitive && !absent(f.value) })
}

// nonZero shows an absent value as nil ("(none)"); false and 0 are values.
func nonZero(v any) any {
	if absent(v) {
		return nil
	}
	return v
}

func sortPlan(p *Plan) {
	slices.SortStableFunc(p.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	slices.SortStableFunc(p.Unmanaged, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
}
