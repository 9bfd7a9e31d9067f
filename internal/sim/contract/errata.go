package contract

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Erratum is one known deviation between an official spec file and what
// WSO2 really does (WSO2-API.md §7), which the simulator reproduces on
// purpose. An erratum either fixes the loaded spec (Fix) or excuses the
// validation errors it matches — never more: Spec and Op pin it to one
// operation, Phase to the request or the response, Status to one status
// and Match to a substring of the validator's message.
type Erratum struct {
	// Spec is the spec file.
	Spec string
	// Op is the operation, "METHOD /base/path{template}" (Route.Pattern);
	// "" only for a Fix or for an erratum that concerns every operation
	// of the spec (say so in Reason).
	Op string
	// Phase is PhaseRequest or PhaseResponse (unused with Fix).
	Phase Phase
	// Status limits a response erratum to one status (0 = any).
	Status int
	// Match is a substring of the validation error excused.
	Match string
	// Reason says what the spec gets wrong, with the WSO2-API.md section.
	Reason string
	// Evidence is where the behaviour is shown: a WSO2-API.md section
	// ("WSO2-API.md §7.8"), a WSO2 source file ("wso2/carbon-apimgt
	// path/File.java (method)"), or, for a defect of the spec file alone,
	// "spec: <file> <path>" (TestErrataCiteEvidence).
	Evidence string
	// Fix, if set, corrects the loaded spec instead.
	Fix func(*openapi3.T) error
	// DedupKeys makes the loader drop repeated YAML mapping keys of Spec
	// (keeping the last, as PyYAML does) before parsing.
	DedupKeys bool
}

const (
	specAdmin     = "apim-4.5.0_admin-api-v4.yaml"
	specDevportal = "apim-4.5.0_devportal-api-v3.yaml"
	specPublisher = "apim-4.5.0_publisher-api-v4.yaml"
	specAPIMDCR   = "apim-4.x_client-registration-v0.17_dcr.yaml"
	specSCIM      = "is-7.0-7.1_scim2.yaml"
	specISDCR     = "is-7.1-7.2_oauth-dcr-v1.1.yaml"
	specAPIRes    = "is-7.1_api-resources-v1.yaml"
	specKeystores = "is-7.0-7.3_keystores-v1.yaml"
)

// Errata is the one allow-list of spec deviations. Every entry must be
// needed by the suite (TestMain fails on unused entries in a full run).
var Errata = []Erratum{
	{
		Spec: specISDCR, DedupKeys: true,
		Reason: "§7.25: the DCR v1.1 YAML repeats description/x-wso2-request/x-wso2-response inside POST /register; " +
			"strict YAML parsers reject the file, so the loader keeps the last occurrence as PyYAML does",
		Evidence: "WSO2-API.md §7.25",
	},
	{
		Spec: specISDCR, Op: "GET /api/identity/oauth2/dcr/v1.1/register",
		Reason: "§7.21: getApplicationByName declares client_name as a path parameter of /register; " +
			"it is the query parameter /register?client_name=",
		Fix: func(doc *openapi3.T) error {
			op := opOf(doc, "/register", "GET")
			if op == nil {
				return fmt.Errorf("GET /register not found")
			}
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "client_name" {
					p.Value.In = openapi3.ParameterInQuery
					return nil
				}
			}
			return fmt.Errorf("client_name parameter not found")
		},
		Evidence: "WSO2-API.md §7.21",
	},
	{
		Spec: specAdmin, Op: "POST /api/am/admin/v4/key-managers/discover",
		Reason: "spec defect (not in §7): the multipart/form-data schema of discover has properties but " +
			"no type: object, so no validator can decode the form fields url and type",
		Fix:      func(doc *openapi3.T) error { return multipartObject(doc, "/key-managers/discover", "POST") },
		Evidence: "spec: apim-4.5.0_admin-api-v4.yaml POST /api/am/admin/v4/key-managers/discover (the multipart request schema has no type: object)",
	},

	{
		Spec: specPublisher, Op: "POST /api/am/publisher/v4/endpoint-certificates",
		Reason:   "spec defect (not in §7): multipart schema without type: object (see discover)",
		Fix:      func(doc *openapi3.T) error { return multipartObject(doc, "/endpoint-certificates", "POST") },
		Evidence: "spec: apim-4.5.0_publisher-api-v4.yaml POST /api/am/publisher/v4/endpoint-certificates (the multipart request schema has no type: object)",
	},
	{
		Spec: specPublisher, Op: "PUT /api/am/publisher/v4/endpoint-certificates/{alias}",
		Reason:   "spec defect (not in §7): multipart schema without type: object (see discover)",
		Fix:      func(doc *openapi3.T) error { return multipartObject(doc, "/endpoint-certificates/{alias}", "PUT") },
		Evidence: "spec: apim-4.5.0_publisher-api-v4.yaml PUT /api/am/publisher/v4/endpoint-certificates/{alias} (the multipart request schema has no type: object)",
	},
	{
		Spec: specPublisher, Op: "POST /api/am/publisher/v4/apis/{apiId}/client-certificates",
		Reason:   "spec defect (not in §7): multipart schema without type: object (see discover)",
		Fix:      func(doc *openapi3.T) error { return multipartObject(doc, "/apis/{apiId}/client-certificates", "POST") },
		Evidence: "spec: apim-4.5.0_publisher-api-v4.yaml POST /api/am/publisher/v4/apis/{apiId}/client-certificates (the multipart request schema has no type: object)",
	},
	{
		Spec: specPublisher, Op: "PUT /api/am/publisher/v4/apis/{apiId}/client-certificates/{alias}",
		Reason: "spec defect (not in §7): multipart schema without type: object (see discover)",
		Fix: func(doc *openapi3.T) error {
			return multipartObject(doc, "/apis/{apiId}/client-certificates/{alias}", "PUT")
		},
		Evidence: "spec: apim-4.5.0_publisher-api-v4.yaml PUT /api/am/publisher/v4/apis/{apiId}/client-certificates/{alias} (the multipart request schema has no type: object)",
	},

	// Authentication failures: the three APIM REST specs declare 401/403
	// on almost no operation, yet every secured operation answers 401 for
	// a missing, invalid or expired token (code 900902) and 403 when the
	// token lacks the operation's scopes (900910), WSO2-API.md §3 / §4.
	{Spec: specAdmin, Phase: PhaseResponse, Status: 401, Match: "status is not supported",
		Reason:   "§4: every Admin v4 operation answers 401 (900902) without a valid token; the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specAdmin, Phase: PhaseResponse, Status: 403, Match: "status is not supported",
		Reason:   "§4: every Admin v4 operation answers 403 (900910) when scopes are missing; the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specDevportal, Phase: PhaseResponse, Status: 401, Match: "status is not supported",
		Reason:   "§4: every secured DevPortal v3 operation answers 401 (900902) without a valid token; the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specDevportal, Phase: PhaseResponse, Status: 403, Match: "status is not supported",
		Reason: "§4: every secured DevPortal v3 operation answers 403 (900910) when scopes are missing, or when " +
			"the object belongs to another user (§3); the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specPublisher, Phase: PhaseResponse, Status: 401, Match: "status is not supported",
		Reason:   "§4: every Publisher v4 operation answers 401 (900902) without a valid token; the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specPublisher, Phase: PhaseResponse, Status: 403, Match: "status is not supported",
		Reason:   "§4: every Publisher v4 operation answers 403 (900910) when scopes are missing; the spec omits it (every operation)",
		Evidence: "WSO2-API.md §4",
	},

	{
		Spec: specAdmin, Op: "POST /api/am/admin/v4/key-managers/discover", Phase: PhaseResponse, Status: 200,
		Match: `"/value/name": property "name" is missing`,
		Reason: "inferred (not in §7): discover's value is a KeyManager, whose schema requires name, but a " +
			"configuration read from a well-known document has no name until the user gives one",
		Evidence: "wso2/carbon-apimgt components/apimgt/org.wso2.carbon.apimgt.rest.api.admin.v1/src/main/java/org/wso2/carbon/apimgt/rest/api/admin/v1/impl/KeyManagersApiServiceImpl.java (keyManagersDiscoverPost: the value is built from the well-known document, with no name)",
	},

	// APIM DCR v0.17.
	{
		Spec: specAPIMDCR, Op: "POST /client-registration/v0.17/register", Phase: PhaseRequest,
		Match: "readOnly",
		Reason: "§7.8: every RegistrationRequest property is readOnly: true, so a spec-correct " +
			"validator rejects every real registration request",
		Evidence: "WSO2-API.md §7.8",
	},
	{
		Spec: specAPIMDCR, Op: "POST /client-registration/v0.17/register", Phase: PhaseResponse, Status: 200,
		Match:    `"/isSaasApplication": value must be a string`,
		Reason:   "§7.8: isSaasApplication is typed string but APIM returns a JSON boolean",
		Evidence: "WSO2-API.md §7.8",
	},
	{
		Spec: specAPIMDCR, Op: "POST /client-registration/v0.17/register", Phase: PhaseResponse, Status: 200,
		Match:    `"/tokenType": Value is not nullable`,
		Reason:   "§2.1: APIM answers \"tokenType\":null when the request named none; the schema is not nullable",
		Evidence: "WSO2-API.md §2.1",
	},

	// APIM Admin v4.
	{
		Spec: specAdmin, Op: "POST /api/am/admin/v4/key-managers", Phase: PhaseResponse, Status: 409,
		Match:    "status is not supported",
		Reason:   "§3.1: a duplicate key manager name is refused with 409 (code 901402); the spec lists only 201 and 400",
		Evidence: "WSO2-API.md §3.1",
	},
	{
		Spec: specAdmin, Op: "PUT /api/am/admin/v4/key-managers/{keyManagerId}", Phase: PhaseRequest,
		Match: `readOnly property "id" in request`,
		Reason: "§1.3 step 4 / §3.1: the toolkit (and any GET-modify-PUT client) sends the full KeyManager " +
			"back, including the readOnly id, which the server ignores",
		Evidence: "WSO2-API.md §1.3, §3.1",
	},

	{
		Spec: specAdmin, Op: "GET /api/am/admin/v4/throttling/policies/search", Phase: PhaseResponse, Status: 500,
		Match: "status is not supported",
		Reason: "a query without \"type:\" (apictl sends query=null when `get policies rate-limiting` has no -q) is " +
			"\"Invalid query format\", INTERNAL_ERROR_WITH_SPECIFIC_MESSAGE, a 500 the spec does not list",
		Evidence: "wso2/carbon-apimgt components/apimgt/org.wso2.carbon.apimgt.rest.api.admin.v1/src/main/java/org/wso2/carbon/apimgt/rest/api/admin/v1/impl/ThrottlingApiServiceImpl.java (throttlingPolicySearch)",
	},
	{
		Spec: specAdmin, Op: "POST /api/am/admin/v4/applications/{applicationId}/change-owner", Phase: PhaseResponse,
		Status: 500, Match: "status is not supported",
		Reason: "an owner APIM has no subscriber record for, or a name the new owner already uses, fails in the DAO and " +
			"the REST layer answers a generic 500 (handleInternalServerError); the spec lists 200, 400, 404, 412",
		Evidence: "wso2/carbon-apimgt components/apimgt/org.wso2.carbon.apimgt.rest.api.admin.v1/src/main/java/org/wso2/carbon/apimgt/rest/api/admin/v1/impl/ApplicationsApiServiceImpl.java " +
			"(applicationsApplicationIdChangeOwnerPost); components/apimgt/org.wso2.carbon.apimgt.impl/src/main/java/org/wso2/carbon/apimgt/impl/dao/ApiMgtDAO.java (updateApplicationOwner)",
	},

	// APIM DevPortal v3.
	{
		Spec: specDevportal, Op: "POST /api/am/devportal/v3/applications/{applicationId}/generate-keys", Phase: PhaseRequest,
		Match: `"/validityTime": value must be a string`,
		Reason: "validityTime is typed string, but clients send a JSON number (WSO2's own apictl does) and Jackson's " +
			"StringDeserializer coerces a scalar into the String field, so the server accepts it",
		Evidence: "wso2/product-apim-tooling import-export-cli/utils/structs.go (KeygenRequest.ValidityTime int); " +
			"wso2/carbon-apimgt components/apimgt/org.wso2.carbon.apimgt.rest.api.store.v1/src/gen/java/org/wso2/carbon/apimgt/rest/api/store/v1/dto/ApplicationKeyGenerateRequestDTO.java (validityTime String)",
	},
	{
		Spec: specDevportal, Op: "POST /api/am/devportal/v3/applications/{applicationId}/generate-keys", Phase: PhaseResponse,
		Status: 409, Match: "status is not supported",
		Reason: "§3.4: a second generate-keys for the same app, key type and key manager is refused with 409 " +
			"(901408/901409); the spec lists 200, 400, 404, 412",
		Evidence: "WSO2-API.md §3.4",
	},
	{
		Spec: specDevportal, Op: "POST /api/am/devportal/v3/applications/{applicationId}/map-keys", Phase: PhaseResponse,
		Status: 409, Match: "status is not supported",
		Reason:   "§3.4: mapping a consumer key that is already mapped is refused with 409 (901409); the spec omits 409",
		Evidence: "WSO2-API.md §3.4",
	},
	{
		Spec: specDevportal, Op: "DELETE /api/am/devportal/v3/applications/{applicationId}", Phase: PhaseResponse,
		Status: 409, Match: "status is not supported",
		Reason: "§5.3: deleting an application whose workflow is pending answers 409 (900553 \"Pending workflow " +
			"task exists\"); the spec lists 200, 202, 404, 412",
		Evidence: "WSO2-API.md §5.3",
	},
	{
		Spec: specDevportal, Op: "POST /api/am/devportal/v3/subscriptions", Phase: PhaseResponse, Status: 404,
		Match:    "status is not supported",
		Reason:   "§3.5: subscribing to an unknown or unpublished API answers 404; the spec lists 201, 202, 400, 415",
		Evidence: "WSO2-API.md §3.5",
	},
	{
		Spec: specDevportal, Op: "GET /api/am/devportal/v3/subscriptions", Phase: PhaseResponse, Status: 400,
		Match:    "status is not supported",
		Reason:   "§7.3: without apiId or applicationId the server answers 400; the rule is prose only and 400 is not listed",
		Evidence: "WSO2-API.md §7.3",
	},
	{
		Spec: specDevportal, Op: "POST /api/am/devportal/v3/subscriptions", Phase: PhaseResponse, Status: 409,
		Match:    "status is not supported",
		Reason:   "§7.2: a duplicate subscription is refused with 409, which the spec does not list",
		Evidence: "WSO2-API.md §7.2",
	},

	// IS SCIM2 (is-7.0-7.1_scim2.yaml). Schema-level bugs hit every
	// operation that carries the schema, so these entries name no Op.
	{Spec: specSCIM, Phase: PhaseRequest, Match: `header Content-Type has unexpected value "application/json"`,
		Reason: "§3.8: requests may use application/json (what WSO2's own clients and the IS7 connector send); " +
			"the spec consumes only application/scim+json (every operation)",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Phase: PhaseResponse, Match: `schemas": value must be an object`,
		Reason:   "§7.13: UserObject/Group/Role/ListResponse type schemas as object; on the wire it is an array of URNs (every operation)",
		Evidence: "WSO2-API.md §7.13",
	},
	{Spec: specSCIM, Phase: PhaseResponse, Match: `"/schema": property "schema" is missing`,
		Reason:   "§7.15: the error schemas require \"schema\" although the property is \"schemas\" (every error response)",
		Evidence: "WSO2-API.md §7.15",
	},
	{Spec: specSCIM, Phase: PhaseResponse, Match: `"/schemas": value must be a string`,
		Reason:   "§7.15: the error schemas type schemas as a string; the wire format is an array (every error response)",
		Evidence: "WSO2-API.md §7.15",
	},
	{Spec: specSCIM, Phase: PhaseResponse, Status: 401, Match: `response header Content-Type has unexpected value: ""`,
		Reason:   "§4: 401 from the IS authentication valve has an empty body, not a SCIM error (every operation)",
		Evidence: "WSO2-API.md §4",
	},
	{Spec: specSCIM, Op: "POST /scim2/Users", Phase: PhaseResponse,
		Match:    `response header Content-Type has unexpected value: "application/scim+json"`,
		Reason:   "§3.8: IS answers application/scim+json; this operation declares application/json only",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Op: "GET /scim2/Me", Phase: PhaseResponse, Status: 200,
		Match:    `response header Content-Type has unexpected value: "application/scim+json"`,
		Reason:   "§3.8: IS answers application/scim+json; /Me declares application/json only",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Op: "POST /scim2/Users", Phase: PhaseResponse, Status: 409, Match: "status is not supported",
		Reason:   "§3.8: a duplicate userName answers 409 (scimType uniqueness); the 7.1 spec omits 409 (7.2 adds ErrorUserConflict)",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Op: "GET /scim2/Users", Phase: PhaseResponse, Status: 400, Match: "status is not supported",
		Reason:   "§3.8: a bad filter answers 400 (scimType invalidFilter); the spec omits 400",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Op: "POST /scim2/Users/.search", Phase: PhaseResponse, Status: 400, Match: "status is not supported",
		Reason:   "§3.8: a bad filter answers 400 (scimType invalidFilter); the spec omits 400",
		Evidence: "WSO2-API.md §3.8",
	},
	{Spec: specSCIM, Op: "POST /scim2/Groups/.search", Phase: PhaseResponse, Status: 400, Match: "status is not supported",
		Reason:   "§3.8/§3.10: a bad filter answers 400 (scimType invalidFilter); the spec omits 400",
		Evidence: "WSO2-API.md §3.8, §3.10",
	},
	{Spec: specSCIM, Op: "POST /scim2/v2/Roles/.search", Phase: PhaseResponse, Status: 400, Match: "status is not supported",
		Reason:   "§3.8/§3.9: a bad filter answers 400 (scimType invalidFilter); the spec omits 400",
		Evidence: "WSO2-API.md §3.8, §3.9",
	},

	{Spec: specDevportal, Op: "POST /api/am/devportal/v3/applications/{applicationId}/generate-keys", Phase: PhaseResponse,
		Status: 500, Match: "status is not supported",
		Reason: "§3.4/§5.4: a failure in or after the key manager call (an IS client that exists already, the token step) " +
			"answers a generic 500, which the spec does not list (200, 400, 404, 412 only)",
		Evidence: "WSO2-API.md §3.4, §5.4",
	},

	// SCIM request bodies (validated under application/scim+json even when
	// sent as application/json).
	{Spec: specSCIM, Phase: PhaseRequest, Match: `"/schemas": value must be an object`,
		Reason:   "§7.13: the request schemas type schemas as an object; SCIM sends an array of URNs (every operation)",
		Evidence: "WSO2-API.md §7.13"},
	{Spec: specSCIM, Phase: PhaseRequest, Match: `property "username" is missing`,
		Reason:   "§7.13: UserObject requires \"username\"; the attribute is userName (every operation with a user body)",
		Evidence: "WSO2-API.md §7.13"},
	{Spec: specSCIM, Phase: PhaseRequest, Match: `/value": value must be an object`, // any /Operations/N/value
		Reason: "the PATCH schemas type an operation's value as an object; RFC 7644 §3.5.2 and charon take any JSON " +
			"value (a string for a simple attribute, an array for members/users/permissions) (every PATCH operation)",
		Evidence: "wso2/charon modules/charon-core/src/main/java/org/wso2/charon3/core/utils/codeutils/PatchOperation.java (values is an Object)"},

	// IS api-resources v1.
	{Spec: specAPIRes, Op: "POST /api/server/v1/api-resources", Phase: PhaseResponse, Status: 201,
		Match: "status is not supported", Reason: "§7.26: POST /api-resources returns 201 + Location; the spec says 200",
		Evidence: "WSO2-API.md §7.26",
	},
	{Spec: specAPIRes, Op: "GET /api/server/v1/api-resources/{apiResourceId}", Phase: PhaseResponse, Status: 404,
		Match:    "status is not supported",
		Reason:   "inferred (not in §7): an unknown id answers 404 as on the sibling operations; this one lists only 200, 401, 403, 500",
		Evidence: "wso2/identity-api-server components/org.wso2.carbon.identity.api.server.api.resource/org.wso2.carbon.identity.api.server.api.resource.v1/src/main/java/org/wso2/carbon/identity/api/server/api/resource/v1/core/ServerAPIResourceManagementService.java (getAPIResourceById: not found → 404)",
	},
	{Spec: specAPIRes, Op: "DELETE /api/server/v1/api-resources/{apiResourceId}/scopes/{scopeName}", Phase: PhaseResponse,
		Status: 204, Match: "status is not supported",
		Reason:   "§3.12: removing a scope answers 204; the spec declares no success status at all (only 401, 403, 500)",
		Evidence: "WSO2-API.md §3.12",
	},

	// IS DCR v1.1.
	{
		Spec: specISDCR, Op: "POST /api/identity/oauth2/dcr/v1.1/register", Phase: PhaseRequest,
		Match: `Error at "/ext_`,
		Reason: "§5.13: APIM's IS 7 key manager connector passes the key's additionalProperties on as strings " +
			"(ext_application_token_lifetime \"3600\", ext_pkce_mandatory \"true\"); the spec types the ext_* members " +
			"int64/boolean and IS's Jackson binding coerces the strings",
		Evidence: "WSO2-API.md §5.13",
	},
	{
		Spec: specISDCR, Op: "PUT /api/identity/oauth2/dcr/v1.1/register/{client_id}", Phase: PhaseRequest,
		Match:    `Error at "/ext_`,
		Reason:   "§5.13: as for register, the connector's key update sends the ext_* members as strings",
		Evidence: "WSO2-API.md §5.13",
	},
	{
		Spec: specISDCR, Op: "GET /api/identity/oauth2/dcr/v1.1/register", Phase: PhaseResponse, Status: 401,
		Match:    `response header Content-Type has unexpected value: ""`,
		Reason:   "§4 / product-is#16612: an unknown client_name answers 401 with an empty body, not the declared error JSON",
		Evidence: "WSO2-API.md §4; https://github.com/wso2/product-is/issues/16612",
	},
	{
		Spec: specISDCR, Op: "PUT /api/identity/oauth2/dcr/v1.1/register/{client_id}", Phase: PhaseResponse, Status: 401,
		Match:    "status is not supported",
		Reason:   "§7.23 / product-is#21624: an unknown client_id answers 401 (empty body); the spec lists 200, 400, 409, 500",
		Evidence: "WSO2-API.md §7.23; https://github.com/wso2/product-is/issues/21624",
	},
	{
		Spec: specISDCR, Op: "DELETE /api/identity/oauth2/dcr/v1.1/register/{client_id}", Phase: PhaseResponse, Status: 401,
		Match:    "status is not supported",
		Reason:   "§7.23 / product-is#21624: an unknown client_id answers 401 (empty body), not the documented 404",
		Evidence: "WSO2-API.md §7.23; https://github.com/wso2/product-is/issues/21624",
	},
	{
		Spec: specISDCR, Op: "POST /api/identity/oauth2/dcr/v1.1/register", Phase: PhaseRequest,
		Match:    `property "redirect_uris" is missing`,
		Reason:   "§7.22: redirect_uris is listed as required but may be omitted without redirect-based grants (the spec's own prose says so)",
		Evidence: "WSO2-API.md §7.22",
	},
	{
		Spec: specISDCR, Op: "GET /api/identity/oauth2/dcr/v1.1/register/{client_id}", Phase: PhaseResponse, Status: 401,
		Match:    "status is not supported",
		Reason:   "§7.23 / product-is#21624: an unknown client_id answers 401 (empty body), not the documented 404",
		Evidence: "WSO2-API.md §7.23; https://github.com/wso2/product-is/issues/21624",
	},
}

// multipartObject adds the missing type: object to an operation's
// multipart/form-data request schema.
func multipartObject(doc *openapi3.T, path, method string) error {
	op := opOf(doc, path, method)
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return fmt.Errorf("%s %s has no request body", method, path)
	}
	mt := op.RequestBody.Value.Content.Get("multipart/form-data")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return fmt.Errorf("%s %s has no multipart/form-data schema", method, path)
	}
	if mt.Schema.Value.Type == nil || len(*mt.Schema.Value.Type) == 0 {
		mt.Schema.Value.Type = &openapi3.Types{openapi3.TypeObject}
	}
	return nil
}

func opOf(doc *openapi3.T, path, method string) *openapi3.Operation {
	pi := doc.Paths.Value(path)
	if pi == nil {
		return nil
	}
	return pi.GetOperation(method)
}
