package apim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
)

// APIM's REST APIs bind request bodies with Jackson, which refuses a
// property the DTO does not declare (FAIL_ON_UNKNOWN_PROPERTIES); the
// global exception mapper answers 400
// (carbon-apimgt components/apimgt/org.wso2.carbon.apimgt.rest.api.util/
// src/main/java/org/wso2/carbon/apimgt/rest/api/util/exception/
// GlobalThrowableMapper.java): "Unrecognized property 'x'", "One or more
// request body parameters contain disallowed values.", "Malformed request
// body." and "Request payload cannot be empty.". The simulator refuses the
// same instead of silently dropping what it does not know.

var (
	appBody = []string{"applicationId", "attributes", "description", "groups", "hashEnabled", "keys", "name",
		"owner", "status", "subscriptionCount", "subscriptionScopes", "throttlingPolicy", "tokenType", "visibility"}
	subBody = []string{"apiId", "apiInfo", "applicationId", "applicationInfo", "redirectionParams",
		"requestedThrottlingPolicy", "status", "subscriptionId", "throttlingPolicy"}
	kmBody = []string{"additionalProperties", "alias", "allowedOrganizations", "authorizeEndpoint",
		"availableGrantTypes", "certificates", "claimMapping", "clientRegistrationEndpoint", "consumerKeyClaim",
		"description", "displayName", "displayRevokeEndpoint", "displayTokenEndpoint", "enableMapOAuthConsumerApps",
		"enableOAuthAppCreation", "enableSelfValidationJWT", "enableTokenEncryption", "enableTokenGeneration",
		"enableTokenHashing", "enabled", "id", "introspectionEndpoint", "issuer", "name", "permissions",
		"revokeEndpoint", "scopeManagementEndpoint", "scopesClaim", "tokenEndpoint", "tokenType", "tokenValidation",
		"type", "userInfoEndpoint", "wellKnownEndpoint"}
	appTierBody = []string{"burstLimit", "defaultLimit", "description", "displayName", "isDeployed", "policyId",
		"policyName", "type"}
	subTierBody = []string{"billingPlan", "customAttributes", "defaultLimit", "description", "displayName",
		"graphQLMaxComplexity", "graphQLMaxDepth", "isDeployed", "monetization", "permissions", "policyId",
		"policyName", "rateLimitCount", "rateLimitTimeUnit", "stopOnQuotaReach", "subscriberCount", "type"}
	keyMappingBody = []string{"additionalProperties", "callbackUrl", "consumerKey", "consumerSecret", "groupId",
		"keyManager", "keyMappingId", "keyState", "keyType", "mode", "supportedGrantTypes", "token"}
)

// BodyFields maps each JSON write the simulator checks strictly ("METHOD
// /base/path", as ServeMux names it) to the top-level properties its
// request schema declares in the 4.5 specs. A contract test keeps the
// lists equal to the specs.
var BodyFields = map[string][]string{
	"POST " + DevportalBase + "/applications":                appBody,
	"PUT " + DevportalBase + "/applications/{applicationId}": appBody,
	"POST " + DevportalBase + "/applications/{applicationId}/generate-keys": {"additionalProperties", "callbackUrl", "clientId",
		"clientSecret", "grantTypesToBeSupported", "keyManager", "keyType", "scopes", "validityTime"},
	"POST " + DevportalBase + "/applications/{applicationId}/map-keys":                 {"consumerKey", "consumerSecret", "keyManager", "keyType"},
	"PUT " + DevportalBase + "/applications/{applicationId}/oauth-keys/{keyMappingId}": keyMappingBody,
	"POST " + DevportalBase + "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token": {"additionalProperties",
		"consumerSecret", "grantType", "revokeToken", "scopes", "validityPeriod"},
	"POST " + DevportalBase + "/subscriptions":                          subBody,
	"POST " + DevportalBase + "/subscriptions/multiple":                 subBody, // an array of Subscription
	"PUT " + DevportalBase + "/subscriptions/{subscriptionId}":          subBody,
	"POST " + AdminBase + "/key-managers":                               kmBody,
	"PUT " + AdminBase + "/key-managers/{keyManagerId}":                 kmBody,
	"POST " + AdminBase + "/throttling/policies/application":            appTierBody,
	"PUT " + AdminBase + "/throttling/policies/application/{policyId}":  appTierBody,
	"POST " + AdminBase + "/throttling/policies/subscription":           subTierBody,
	"PUT " + AdminBase + "/throttling/policies/subscription/{policyId}": subTierBody,
}

// decodeBody reads a JSON request body into v as APIM's Jackson binding
// would: unknown properties are refused with 400, as are a malformed or
// empty body and values of the wrong JSON type. (Enum values are not
// checked here: the generated DTOs' fromValue returns null for an unknown
// value, and each handler refuses the null as the real one does.) It reports whether v was filled
// (false: the 400 has been written).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil || len(bytes.TrimSpace(raw)) == 0 {
		badRequest(w, "Request payload cannot be empty.")
		return false
	}
	if msg := checkBody(r.Pattern, raw); msg != "" {
		badRequest(w, msg)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			badRequest(w, "Malformed request body.")
		} else {
			badRequest(w, "One or more request body parameters contain disallowed values.")
		}
		return false
	}
	return true
}

// checkBody returns the 400 description for a body with an undeclared
// property, "" when it is acceptable (or the route is not checked
// strictly).
func checkBody(pattern string, raw []byte) string {
	fields, ok := BodyFields[pattern]
	if !ok {
		return ""
	}
	var objs []map[string]json.RawMessage
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(raw, &objs); err != nil {
			return "Malformed request body."
		}
	} else {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return "Malformed request body."
			}
			return "One or more request body parameters contain disallowed values."
		}
		objs = append(objs, m)
	}
	for _, m := range objs {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !slices.Contains(fields, k) {
				return fmt.Sprintf("Unrecognized property '%s'", k)
			}
		}
	}
	return ""
}
