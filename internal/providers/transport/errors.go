package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrorKind classifies a failed call so that callers can branch without
// looking at status codes (WSO2 codes vary between handlers; key on the
// kind, WSO2-API.md §4).
type ErrorKind int

// The kinds of failure. KindBadRequest covers every 4xx that has no kind of
// its own (400, 405, 412, 415, 422, ...).
const (
	KindUnknown ErrorKind = iota
	KindBadRequest
	KindUnauthorized
	KindForbidden
	KindNotFound
	KindConflict
	KindRateLimited
	KindServer
	KindTransport // no HTTP response: connection refused, reset, TLS, per-call timeout
	KindCanceled  // the caller's context was canceled or its deadline passed
)

var kindNames = [...]string{
	KindUnknown:      "unknown",
	KindBadRequest:   "bad request",
	KindUnauthorized: "unauthorized",
	KindForbidden:    "forbidden",
	KindNotFound:     "not found",
	KindConflict:     "conflict",
	KindRateLimited:  "rate limited",
	KindServer:       "server error",
	KindTransport:    "transport error",
	KindCanceled:     "canceled",
}

func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// kindFor maps an HTTP status to a kind.
func kindFor(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict:
		return KindConflict
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 400 && status < 500:
		return KindBadRequest
	case status >= 500:
		return KindServer
	}
	return KindUnknown
}

// kindSentinel is the comparable value behind ErrNotFound and friends; an
// *APIError matches the sentinel of its Kind under errors.Is.
type kindSentinel ErrorKind

func (k kindSentinel) Error() string { return "wso2: " + ErrorKind(k).String() }

// Sentinels for errors.Is. An *APIError of the matching Kind "is" the
// sentinel: errors.Is(err, transport.ErrNotFound).
var (
	ErrBadRequest   error = kindSentinel(KindBadRequest)
	ErrUnauthorized error = kindSentinel(KindUnauthorized)
	ErrForbidden    error = kindSentinel(KindForbidden)
	ErrNotFound     error = kindSentinel(KindNotFound)
	ErrConflict     error = kindSentinel(KindConflict)
	ErrRateLimited  error = kindSentinel(KindRateLimited)
	ErrServer       error = kindSentinel(KindServer)
	ErrTransport    error = kindSentinel(KindTransport)
)

// ErrLanded is matched (errors.Is) by the error a non-idempotent call returns
// when it failed (5xx or connection error) but Request.VerifyNotLanded
// reported that the write did take effect. The caller should fetch the object
// by its natural key instead of creating it again.
var ErrLanded = errors.New("the write took effect although the call failed")

// ErrNoRefresh is returned by Authenticator.Refresh when the credentials
// cannot be renewed (Basic auth): the client then reports the 401 without
// replaying, so that wrong passwords are not retried into an account lock
// (WSO2-API.md §5.21).
var ErrNoRefresh = errors.New("credentials cannot be refreshed")

// maxMessage bounds the server message kept in an APIError.
const maxMessage = 400

// APIError is the error of every failed call. It never holds the request
// body; for Sensitive requests, body values the server echoes back in its
// message are redacted.
type APIError struct {
	Kind         ErrorKind
	Method       string
	PathTemplate string // "/applications/{applicationId}", not the expanded path
	Status       int    // 0 when no HTTP response was received
	// Code is the server's machine-readable code: APIM numeric code
	// ("900301"), SCIM scimType ("uniqueness"), OAuth/DCR error
	// ("invalid_client"), IS server API code ("APP-65001").
	Code string
	// Message is the server's human message, parsed per API family and
	// truncated.
	Message  string
	TraceID  string // IS correlation id, when given
	Identity string // "Application payments-web"
	// Hint says what the user can do about it (set by authenticators for
	// bad credentials and missing scopes).
	Hint     string
	Attempts int   // HTTP attempts made for this call
	Err      error // underlying cause for KindTransport/KindCanceled and friends
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.PathTemplate)
	if e.Identity != "" {
		b.WriteString(" (")
		b.WriteString(e.Identity)
		b.WriteByte(')')
	}
	b.WriteString(": ")
	switch {
	case e.Status > 0:
		b.WriteString(strconv.Itoa(e.Status))
		if t := http.StatusText(e.Status); t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	default:
		b.WriteString(e.Kind.String())
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" {
		b.WriteString(" [")
		b.WriteString(e.Code)
		b.WriteByte(']')
	}
	if e.TraceID != "" {
		b.WriteString(" (trace ")
		b.WriteString(e.TraceID)
		b.WriteByte(')')
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// Unwrap exposes the underlying cause (a context error, a network error).
func (e *APIError) Unwrap() error { return e.Err }

// Is matches the sentinel of the error's kind.
func (e *APIError) Is(target error) bool {
	s, ok := target.(kindSentinel)
	return ok && ErrorKind(s) == e.Kind
}

// LandedError is returned when a non-idempotent call failed but
// Request.VerifyNotLanded found that it took effect. It matches ErrLanded
// and unwraps to the failure (an *APIError).
type LandedError struct {
	Method, PathTemplate, Identity string
	Cause                          error
}

func (e *LandedError) Error() string {
	id := ""
	if e.Identity != "" {
		id = " (" + e.Identity + ")"
	}
	return fmt.Sprintf("%s %s%s: the call failed but the write took effect: %v", e.Method, e.PathTemplate, id, e.Cause)
}

// Unwrap returns ErrLanded and the failure.
func (e *LandedError) Unwrap() []error { return []error{ErrLanded, e.Cause} }

// IsNotFound reports whether err is (or wraps) a not-found APIError.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is (or wraps) a conflict APIError.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsUnauthorized reports whether err is (or wraps) an unauthorized APIError.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsForbidden reports whether err is (or wraps) a forbidden APIError.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsRateLimited reports whether err is (or wraps) a rate-limited APIError.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// IsBadRequest reports whether err is (or wraps) a bad-request APIError.
func IsBadRequest(err error) bool { return errors.Is(err, ErrBadRequest) }

// IsServer reports whether err is (or wraps) a 5xx APIError.
func IsServer(err error) bool { return errors.Is(err, ErrServer) }

// IsTransport reports whether err is (or wraps) a transport APIError.
func IsTransport(err error) bool { return errors.Is(err, ErrTransport) }

// IsLanded reports whether err says that a failed write took effect.
func IsLanded(err error) bool { return errors.Is(err, ErrLanded) }

// KindOf returns the kind of the first APIError in err's chain, or
// KindUnknown.
func KindOf(err error) ErrorKind {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return KindUnknown
}

// HintOf returns the hint of the first APIError in err's chain that has one.
func HintOf(err error) string {
	for err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return ""
		}
		if ae.Hint != "" {
			return ae.Hint
		}
		err = ae.Err
	}
	return ""
}

// serverError is what parseErrorBody extracts from a response body.
type serverError struct {
	Code, Message, TraceID string
}

// parseErrorBody understands the error formats of each API family
// (WSO2-API.md §4):
//
//   - APIM (and DCR v0.17): {code:int, message, description, moreInfo, error:[{code,message,description}]}
//   - IS SCIM2:             {schemas:[...], scimType, detail, status:"409"}
//   - OAuth / IS DCR v1.1:  {error, error_description, traceId?}
//   - IS server APIs:       {code:"APP-65001", message, description, traceId}
//
// Anything else that is not HTML is kept as plain text; empty bodies give
// an empty result.
func parseErrorBody(body []byte) serverError {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return serverError{}
	}
	var m map[string]json.RawMessage
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal([]byte(trimmed), &m) == nil {
		var se serverError
		_, hasSchemas := m["schemas"]
		_, hasScimType := m["scimType"]
		_, hasDetail := m["detail"]
		switch {
		case hasSchemas || hasScimType || hasDetail:
			se.Code = jsonScalar(m["scimType"])
			se.Message = jsonScalar(m["detail"])
		case jsonString(m["error"]) != "":
			se.Code = jsonString(m["error"])
			se.Message = jsonScalar(m["error_description"])
		default:
			se.Code = jsonScalar(m["code"])
			se.Message = jsonScalar(m["description"])
			if se.Message == "" {
				se.Message = jsonScalar(m["message"])
			}
			if items := apimErrorItems(m["error"]); items != "" {
				if se.Message != "" {
					se.Message += " (" + items + ")"
				} else {
					se.Message = items
				}
			}
		}
		se.TraceID = jsonScalar(m["traceId"])
		se.Message = truncate(collapseSpace(se.Message), maxMessage)
		return se
	}
	if strings.HasPrefix(trimmed, "<") { // an HTML error page from a proxy or the servlet container
		return serverError{}
	}
	return serverError{Message: truncate(collapseSpace(trimmed), maxMessage)}
}

// jsonString returns raw's value if it is a JSON string.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// jsonScalar returns a JSON string or number as text ("" otherwise).
func jsonScalar(raw json.RawMessage) string {
	if s := jsonString(raw); s != "" {
		return s
	}
	var n json.Number
	if len(raw) > 0 && json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// apimErrorItems renders APIM's error[] (per-field validation errors).
func apimErrorItems(raw json.RawMessage) string {
	var items []struct {
		Code        json.RawMessage `json:"code"`
		Message     string          `json:"message"`
		Description string          `json:"description"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		return ""
	}
	var parts []string
	for _, it := range items {
		p := it.Message
		if it.Description != "" && it.Description != it.Message {
			if p != "" {
				p += ": "
			}
			p += it.Description
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
