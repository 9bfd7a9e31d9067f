package apim

import (
	"fmt"
	"net/http"
)

// APIM error codes used by the simulator (WSO2-API.md §4). Legacy handlers
// put the HTTP status into `code`; newer ones a six-digit ExceptionCodes
// value; the simulator emits both styles, as the real server does.
const (
	codeAppExists            = 900301 // 409 duplicate application (per owner, case-insensitive)
	codeAppNotFound          = 900307 // 404
	codeAPINotFound          = 900308 // 404
	codeSubNotFound          = 900310 // 404
	codeKeyMappingNotFound   = 900331 // 404
	codeSubExists            = 900336 // 409
	codeResourceNotFound     = 900401 // 404
	codePendingWorkflow      = 900553 // 409
	codeMissingCredentials   = 900902 // 401
	codeScopeMismatch        = 900910 // 403
	codeKMTypeInvalid        = 901400 // 400
	codeKMConfigMissing      = 901401 // 400
	codeKMExists             = 901402 // 409
	codeKMNotRegistered      = 901403 // 400
	codeKMNoOAuthApps        = 901405 // 400 (also: no token generation)
	codeKMNotEnabled         = 901406 // 400
	codeKeyMappingExists     = 901409 // 409
	codeKMNotFound           = 901411 // 404
	codeSubTierNotAllowed    = 902002 // 403
	codeCertNotFound         = 904001 // 404
	codeCertBadRequest       = 904002 // 400
	codeCertExpired          = 904010 // 400
	codeCertExists           = 904011 // 409
	codeInvalidKeyType       = 904013 // 400
	codeGeneralError         = 900967 // 500 ExceptionCodes.INTERNAL_ERROR
	genericInternalErrorDesc = "The server encountered an internal error. Please contact administrator."
)

func apimError(w http.ResponseWriter, status int, code int64, message, description string) {
	writeJSON(w, status, Error{Code: code, Message: message, Description: description, MoreInfo: "", Error: []ErrorListItem{}})
}

func badRequest(w http.ResponseWriter, description string) {
	apimError(w, http.StatusBadRequest, 400, "Bad Request", description)
}

func notFound(w http.ResponseWriter, code int64, message, description string) {
	apimError(w, http.StatusNotFound, code, message, description)
}

func forbidden(w http.ResponseWriter, resource, id string) {
	apimError(w, http.StatusForbidden, 403, "Forbidden",
		fmt.Sprintf("You don't have permission to access the %s with Id %s", resource, id))
}

// internalError answers the generic 500 APIM gives for unhandled exceptions
// (KM failures, "Key Manager is already used…"). The real cause is only in
// the server log; the simulator exposes it in an X-Sim-Cause header.
func internalError(w http.ResponseWriter, cause string) {
	if cause != "" {
		w.Header().Set("X-Sim-Cause", cause)
	}
	apimError(w, http.StatusInternalServerError, 500, "Internal server error", genericInternalErrorDesc)
}

func appNotFound(w http.ResponseWriter, id string) {
	notFound(w, codeAppNotFound, "Application not found",
		fmt.Sprintf("Requested Application with Id '%s' not found", id))
}

func apiNotFound(w http.ResponseWriter, id string) {
	notFound(w, codeAPINotFound, "API Not Found", fmt.Sprintf("Requested API with id '%s' not found", id))
}
