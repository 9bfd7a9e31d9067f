package apim

import (
	"fmt"
	"net/http"
)

// The application and subscription tier endpoints behave identically but for
// their body type, their level-specific checks and what may reference them,
// so one generic handler set serves both levels (tierLevel).

// policyFields points at the fields both throttling-policy bodies share, so
// the generic handlers can read and set them without knowing the level.
type policyFields struct {
	id, name, displayName, typ *string
	deployed                   *bool
	limit                      *ThrottleLimit
}

// throttlePolicy is a policy body (*ApplicationThrottlePolicy or
// *SubscriptionThrottlePolicy).
type throttlePolicy[P any] interface {
	*P
	shared() policyFields
}

func (p *ApplicationThrottlePolicy) shared() policyFields {
	return policyFields{&p.PolicyID, &p.PolicyName, &p.DisplayName, &p.Type, &p.IsDeployed, &p.DefaultLimit}
}

func (p *SubscriptionThrottlePolicy) shared() policyFields {
	return policyFields{&p.PolicyID, &p.PolicyName, &p.DisplayName, &p.Type, &p.IsDeployed, &p.DefaultLimit}
}

// tierLevel is one level of admin throttling policies: body P, stored tier T.
type tierLevel[P any, PP throttlePolicy[P], T any] struct {
	s        *Server
	label    string // "Application": as the error texts name the level
	path     string // "application": the path segment under /throttling/policies
	typ      string // the server-set `type`
	tiers    func(*store) map[string]*T
	sorted   func(*Server) []*T
	policy   func(*T) *P
	newTier  func(p P, intID int) *T
	builtin  func(*T) bool
	validate func(*P) string // level-specific checks and defaults; "" when valid
	inUse    func(st *store, name string) bool
}

func (l *tierLevel[P, PP, T]) nameOf(t *T) string { return *PP(l.policy(t)).shared().name }

func (l *tierLevel[P, PP, T]) byName(name string) *T {
	for _, t := range l.tiers(l.s.st) {
		if l.nameOf(t) == name {
			return t
		}
	}
	return nil
}

func (l *tierLevel[P, PP, T]) handleList(w http.ResponseWriter, _ *http.Request, _ *caller) {
	l.s.mu.RLock()
	list := []P{}
	for _, t := range l.sorted(l.s) {
		list = append(list, *l.policy(t))
	}
	l.s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "list": list})
}

func (l *tierLevel[P, PP, T]) handleGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	l.s.mu.RLock()
	t := l.tiers(l.s.st)[id]
	var out P
	if t != nil {
		out = *l.policy(t)
	}
	l.s.mu.RUnlock()
	if t == nil {
		policyNotFound(w, l.label, id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (l *tierLevel[P, PP, T]) decode(w http.ResponseWriter, r *http.Request) (*P, bool) {
	var p P
	if !decodeBody(w, r, &p) {
		return nil, false
	}
	f := PP(&p).shared()
	if msg := validatePolicyName(*f.name); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	if msg := validateLimit(f.limit); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	if msg := l.validate(&p); msg != "" {
		badRequest(w, msg)
		return nil, false
	}
	*f.typ = l.typ
	*f.deployed = true
	if *f.displayName == "" {
		*f.displayName = *f.name
	}
	return &p, true
}

func (l *tierLevel[P, PP, T]) handleCreate(w http.ResponseWriter, r *http.Request, _ *caller) {
	p, ok := l.decode(w, r)
	if !ok {
		return
	}
	f := PP(p).shared()
	l.s.mu.Lock()
	if l.byName(*f.name) != nil {
		l.s.mu.Unlock()
		policyExists(w, l.label, *f.name)
		return
	}
	*f.id = newUUID()
	l.s.st.tierIntSeq++
	l.tiers(l.s.st)[*f.id] = l.newTier(*p, l.s.st.tierIntSeq)
	l.s.mu.Unlock()
	w.Header().Set("Location", AdminBase+"/throttling/policies/"+l.path+"/"+*f.id)
	writeJSON(w, http.StatusCreated, p)
}

func (l *tierLevel[P, PP, T]) handleUpdate(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	p, ok := l.decode(w, r)
	if !ok {
		return
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	t := l.tiers(l.s.st)[id]
	if t == nil {
		policyNotFound(w, l.label, id)
		return
	}
	f := PP(p).shared()
	if *f.name != l.nameOf(t) {
		badRequest(w, "Policy name cannot be changed")
		return
	}
	*f.id = id
	*l.policy(t) = *p
	writeJSON(w, http.StatusOK, p)
}

func (l *tierLevel[P, PP, T]) handleDelete(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("policyId")
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	t := l.tiers(l.s.st)[id]
	if t == nil {
		policyNotFound(w, l.label, id)
		return
	}
	name := l.nameOf(t)
	if l.builtin(t) {
		badRequest(w, fmt.Sprintf("Policy %s is a default policy and cannot be deleted", name))
		return
	}
	if l.inUse(l.s.st, name) {
		internalError(w, "Policy "+name+" already attached to API/Resource")
		return
	}
	delete(l.tiers(l.s.st), id)
	w.WriteHeader(http.StatusOK)
}

// addTierRoutes registers one level's CRUD under /throttling/policies/<path>.
func addTierRoutes[P any, PP throttlePolicy[P], T any](l *tierLevel[P, PP, T]) {
	base := "/throttling/policies/" + l.path
	l.s.add("GET", AdminBase, base, AdminSpec, authRequired, scTierView, l.handleList)
	l.s.add("POST", AdminBase, base, AdminSpec, authRequired, scTierManage, l.handleCreate)
	l.s.add("GET", AdminBase, base+"/{policyId}", AdminSpec, authRequired, scTierView, l.handleGet)
	l.s.add("PUT", AdminBase, base+"/{policyId}", AdminSpec, authRequired, scTierManage, l.handleUpdate)
	l.s.add("DELETE", AdminBase, base+"/{policyId}", AdminSpec, authRequired, scTierManage, l.handleDelete)
}
