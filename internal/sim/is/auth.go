package is

import (
	"net/http"
	"slices"
	"strings"
)

// principal is an authenticated caller.
type principal struct {
	user   *user       // nil for an application (client_credentials) token
	token  *tokenEntry // nil for Basic auth
	admin  bool        // member of the admin role (Basic auth only)
	scopes map[string]bool
}

// has reports whether the caller may use an operation guarded by scope.
func (p *principal) has(scope string) bool {
	if p.token != nil {
		return slices.Contains(p.token.Scopes, scope)
	}
	if p.admin && strings.HasPrefix(scope, "internal_") {
		return true
	}
	return p.scopes[scope]
}

// normaliseLogin strips the super-tenant suffix IS accepts on usernames.
func normaliseLogin(name string) string {
	return strings.TrimSuffix(name, "@"+superTenant)
}

// checkUserLocked verifies a username/password pair. Caller holds s.mu.
func (st *store) checkUserLocked(username, password string) *user {
	domain, name := splitDomain(normaliseLogin(username))
	u := st.userByKey[userKey(domain, name)]
	if u == nil || !u.checkPassword(password) {
		return nil
	}
	return u
}

// userScopesLocked is the set of scopes a user holds through its roles.
func (st *store) userScopesLocked(u *user) (scopes map[string]bool, admin bool) {
	scopes = map[string]bool{"internal_login": true}
	add := func(r *role) {
		for _, p := range r.Permissions {
			scopes[p.Value] = true
		}
	}
	for rid := range u.roles {
		if r := st.roles[rid]; r != nil {
			add(r)
			if rid == st.adminRoleID {
				admin = true
			}
		}
	}
	if r := st.roles[st.everyoneRoleID]; r != nil {
		add(r)
	}
	for gid := range u.groups {
		for _, r := range st.roleOrder {
			if slices.Contains(r.Groups, gid) {
				add(r)
				if r.ID == st.adminRoleID {
					admin = true
				}
			}
		}
	}
	return scopes, admin
}

// authenticate resolves Basic or Bearer credentials; nil when missing or
// invalid.
func (s *Server) authenticate(r *http.Request) *principal {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.authenticateLocked(r)
}

func (s *Server) authenticateLocked(r *http.Request) *principal {
	st := s.st
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Basic "):
		name, pw, ok := r.BasicAuth()
		if !ok {
			return nil
		}
		u := st.checkUserLocked(name, pw)
		if u == nil {
			return nil
		}
		sc, admin := st.userScopesLocked(u)
		return &principal{user: u, admin: admin, scopes: sc}
	case len(h) > 7 && strings.EqualFold(h[:7], "Bearer "):
		t := st.tokens[strings.TrimSpace(h[7:])]
		if t == nil || t.Revoked || !s.now().Before(t.Expires) {
			return nil
		}
		p := &principal{token: t}
		if t.UserID != "" {
			p.user = st.users[t.UserID]
			if p.user == nil {
				return nil
			}
		}
		return p
	}
	return nil
}

// guard authenticates the request and checks scope. On failure it writes
// the IS valve's answer (401 or 403, empty body) and returns nil.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, scope string) *principal {
	p := s.authenticate(r)
	if p == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSO2 Identity Server"`)
		writeStatus(w, http.StatusUnauthorized)
		return nil
	}
	if scope != "" && !p.has(scope) {
		writeStatus(w, http.StatusForbidden)
		return nil
	}
	return p
}
