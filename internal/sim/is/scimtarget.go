package is

import "net/http"

// The SCIM GET/PUT/PATCH/DELETE handlers of Users, Groups and Roles open the
// same way: guard the scope, read the body (before locking, so a malformed
// body is a 400 even for an unknown id), lock, find the {id} or answer 404.
// These helpers hold those steps once.

// guardedJSON guards scope and decodes the body into in; it returns the
// path's id, or false once it has written the error.
func (s *Server) guardedJSON(w http.ResponseWriter, r *http.Request, scope string, in any) (string, bool) {
	if s.guard(w, r, scope) == nil {
		return "", false
	}
	if e := readJSON(r, in); e != nil {
		writeSCIMError(w, e)
		return "", false
	}
	return r.PathValue("id"), true
}

// guardedPatch guards scope and reads a SCIM PatchOp body; it returns the
// path's id, or false once it has written the error.
func (s *Server) guardedPatch(w http.ResponseWriter, r *http.Request, scope string) (string, *patchRequest, bool) {
	if s.guard(w, r, scope) == nil {
		return "", nil, false
	}
	pr, e := readPatch(r)
	if e != nil {
		writeSCIMError(w, e)
		return "", nil, false
	}
	return r.PathValue("id"), pr, true
}

// foundLocked returns the resource with the id, or nil once it has written
// the resource's 404. Callers hold s.mu.
func foundLocked[T any](w http.ResponseWriter, all map[string]*T, id string, notFound func(string) *scimErr) *T {
	x := all[id]
	if x == nil {
		writeSCIMError(w, notFound(id))
	}
	return x
}

// serveSCIMGet answers GET <resource>/{id} with the resource's wire form cut
// down to the query's attributes/excludedAttributes. all reads the map from
// the store current under the lock (a reset replaces the store).
func serveSCIMGet[T any](s *Server, w http.ResponseWriter, r *http.Request, scope string,
	all func(*store) map[string]*T, notFound func(string) *scimErr, wire func(*T) map[string]any) {
	if s.guard(w, r, scope) == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if x := foundLocked(w, all(s.st), r.PathValue("id"), notFound); x != nil {
		writeJSON(w, http.StatusOK, scimCT, projectQuery(wire(x), queryMap(r)))
	}
}
