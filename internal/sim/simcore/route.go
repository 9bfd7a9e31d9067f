package simcore

import (
	"mime"
	"net/http"
	"slices"
	"strings"
)

// Route is one operation a simulated server serves, named as the official
// spec names it, so that the contract tests can check that every served
// operation has a contract test and find its schema.
type Route struct {
	// Method is the HTTP method, upper case.
	Method string
	// BasePath is the API's base path on the server, e.g.
	// "/api/am/devportal/v3" or "/scim2" ("" for root-level endpoints such
	// as "/oauth2/token").
	BasePath string
	// Path is the path template exactly as the spec file writes it,
	// relative to BasePath, e.g. "/applications/{applicationId}".
	Path string
	// Spec is the spec file in third_party/wso2-specs that defines the
	// operation, e.g. "apim-4.5.0_devportal-api-v3.yaml"; "" when no
	// official spec covers it (token endpoint, JWKS, well-known).
	Spec string
}

// Pattern is the net/http ServeMux pattern for the route.
func (r Route) Pattern() string {
	return r.Method + " " + r.BasePath + r.Path
}

// Consumes wraps h so that a request carrying a body whose media type is
// not one of types is refused with 415 and an empty body, as the servers'
// JAX-RS stack (CXF) does when no resource method's @Consumes matches.
// Requests without a body (no Content-Type, no length) pass: the bodyless
// POSTs (regenerate-secret, change-owner, …) send none.
func Consumes(h http.HandlerFunc, types ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if ct == "" && r.ContentLength == 0 {
			h(w, r)
			return
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(types, strings.ToLower(mt)) {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		h(w, r)
	}
}
