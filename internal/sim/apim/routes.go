package apim

// Scopes accepted per operation, from each operation's `security` in the
// 4.5 specs (WSO2-API.md §2.3); any one suffices.
var (
	scAdminKM      = []string{"apim:admin", "apim:admin_operations"}
	scTierView     = []string{"apim:admin", "apim:tier_view"}
	scTierManage   = []string{"apim:admin", "apim:tier_manage"}
	scSettings     = []string{"apim:admin", "apim:admin_settings"}
	scAppList      = []string{"apim:subscribe", "apim:app_manage", "apim:app_import_export"}
	scApp          = []string{"apim:subscribe", "apim:app_manage"}
	scAppDelete    = []string{"apim:subscribe", "apim:app_manage", "apim:app_import_export"}
	scSub          = []string{"apim:subscribe", "apim:sub_manage"}
	scDevKM        = []string{"apim:subscribe"}
	scPubAPIs      = []string{"apim:api_view", "apim:api_manage", "apim:api_import_export", "apim:api_list_view"}
	scPubAPI       = []string{"apim:api_view", "apim:api_manage", "apim:api_import_export", "apim:api_product_import_export"}
	scPubSubs      = []string{"apim:api_view", "apim:subscription_view", "apim:subscription_manage"}
	scEPView       = []string{"apim:api_view", "apim:api_manage", "apim:ep_certificates_view", "apim:ep_certificates_manage"}
	scEPAdd        = []string{"apim:api_create", "apim:api_manage", "apim:ep_certificates_add", "apim:ep_certificates_manage"}
	scEPUpdate     = []string{"apim:api_create", "apim:api_manage", "apim:ep_certificates_update", "apim:ep_certificates_manage"}
	scClView       = []string{"apim:api_view", "apim:api_manage", "apim:client_certificates_view", "apim:client_certificates_manage"}
	scClAdd        = []string{"apim:api_create", "apim:api_manage", "apim:client_certificates_add", "apim:client_certificates_manage"}
	scClUpdate     = []string{"apim:api_create", "apim:api_manage", "apim:client_certificates_update", "apim:client_certificates_manage"}
	scClDeleteOnly = []string{"apim:api_create", "apim:api_manage", "apim:client_certificates_update"} // erratum: no _manage (§7.11)
	scAdminAppList = []string{"apim:admin", "apim:app_owner_change", "apim:app_import_export"}
	scAdminAppDel  = []string{"apim:admin", "apim:app_import_export"}
	scAdminAppOwn  = []string{"apim:admin", "apim:app_owner_change"}
	scPubSearch    = []string{"apim:api_view", "apim:api_manage", "apim:api_import_export", "apim:api_product_import_export"}
)

func (s *Server) registerRoutes() {
	const (
		A, D, P = AdminSpec, DevportalSpec, PublisherSpec
	)
	// Root-level: DCR (Basic auth) and the token endpoint (client auth).
	s.add("POST", DCRBase, "/register", DCRSpec, authNone, nil, s.handleDCR)
	s.add("POST", "", "/oauth2/token", "", authNone, nil, s.handleToken)

	// Admin v4.
	s.add("GET", AdminBase, "/key-managers", A, authRequired, scAdminKM, s.handleKMList)
	s.add("POST", AdminBase, "/key-managers", A, authRequired, scAdminKM, s.handleKMCreate)
	s.add("POST", AdminBase, "/key-managers/discover", A, authRequired, scAdminKM, s.handleKMDiscover)
	s.add("GET", AdminBase, "/key-managers/{keyManagerId}", A, authRequired, scAdminKM, s.handleKMGet)
	s.add("PUT", AdminBase, "/key-managers/{keyManagerId}", A, authRequired, scAdminKM, s.handleKMUpdate)
	s.add("DELETE", AdminBase, "/key-managers/{keyManagerId}", A, authRequired, scAdminKM, s.handleKMDelete)
	s.add("GET", AdminBase, "/throttling/policies/search", A, authRequired, scTierView, s.handleTierSearch)
	addTierRoutes(s.appTierLevel())
	addTierRoutes(s.subTierLevel())
	s.add("GET", AdminBase, "/settings", A, authRequired, scSettings, s.handleAdminSettings)
	s.add("GET", AdminBase, "/applications", A, authRequired, scAdminAppList, s.handleAdminAppList)
	s.add("DELETE", AdminBase, "/applications/{applicationId}", A, authRequired, scAdminAppDel, s.handleAdminAppDelete)
	s.add("POST", AdminBase, "/applications/{applicationId}/change-owner", A, authRequired, scAdminAppOwn, s.handleAdminAppChangeOwner)

	// DevPortal v3.
	s.add("GET", DevportalBase, "/apis", D, authOptional, nil, s.handleDevportalAPIs)
	s.add("GET", DevportalBase, "/apis/{apiId}", D, authOptional, nil, s.handleDevportalAPIGet)
	s.add("GET", DevportalBase, "/applications", D, authRequired, scAppList, s.handleAppList)
	s.add("POST", DevportalBase, "/applications", D, authRequired, scApp, s.handleAppCreate)
	s.add("GET", DevportalBase, "/applications/{applicationId}", D, authRequired, scApp, s.handleAppGet)
	s.add("PUT", DevportalBase, "/applications/{applicationId}", D, authRequired, scApp, s.handleAppUpdate)
	s.add("DELETE", DevportalBase, "/applications/{applicationId}", D, authRequired, scAppDelete, s.handleAppDelete)
	s.add("POST", DevportalBase, "/applications/{applicationId}/generate-keys", D, authRequired, scApp, s.handleGenerateKeys)
	s.add("POST", DevportalBase, "/applications/{applicationId}/map-keys", D, authRequired, scApp, s.handleMapKeys)
	s.add("GET", DevportalBase, "/applications/{applicationId}/keys", D, authRequired, scApp, s.handleAppKeysList)
	s.add("GET", DevportalBase, "/applications/{applicationId}/oauth-keys", D, authRequired, scApp, s.handleOAuthKeysList)
	s.add("GET", DevportalBase, "/applications/{applicationId}/oauth-keys/{keyMappingId}", D, authRequired, scApp, s.handleOAuthKeyGet)
	s.add("PUT", DevportalBase, "/applications/{applicationId}/oauth-keys/{keyMappingId}", D, authRequired, scApp, s.handleOAuthKeyUpdate)
	s.add("POST", DevportalBase, "/applications/{applicationId}/oauth-keys/{keyMappingId}/regenerate-secret", D, authRequired, scApp, s.handleRegenerateSecret)
	s.add("POST", DevportalBase, "/applications/{applicationId}/oauth-keys/{keyMappingId}/clean-up", D, authRequired, scApp, s.handleCleanUp)
	s.add("POST", DevportalBase, "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token", D, authRequired, scApp, s.handleGenerateToken)
	s.add("GET", DevportalBase, "/subscriptions", D, authRequired, scSub, s.handleSubList)
	s.add("POST", DevportalBase, "/subscriptions", D, authRequired, scSub, s.handleSubCreate)
	s.add("POST", DevportalBase, "/subscriptions/multiple", D, authRequired, scSub, s.handleSubCreateMultiple)
	s.add("GET", DevportalBase, "/subscriptions/{subscriptionId}", D, authRequired, scSub, s.handleSubGet)
	s.add("PUT", DevportalBase, "/subscriptions/{subscriptionId}", D, authRequired, scSub, s.handleSubUpdate)
	s.add("DELETE", DevportalBase, "/subscriptions/{subscriptionId}", D, authRequired, scSub, s.handleSubDelete)
	s.add("GET", DevportalBase, "/key-managers", D, authRequired, scDevKM, s.handleDevportalKMs)
	s.add("GET", DevportalBase, "/throttling-policies/{policyLevel}", D, authOptional, nil, s.handleDevportalPolicies)
	s.add("GET", DevportalBase, "/throttling-policies/{policyLevel}/{policyId}", D, authOptional, nil, s.handleDevportalPolicyGet)

	// Publisher v4.
	s.add("GET", PublisherBase, "/apis", P, authRequired, scPubAPIs, s.handlePublisherAPIs)
	s.add("GET", PublisherBase, "/apis/{apiId}", P, authRequired, scPubAPI, s.handlePublisherAPIGet)
	s.add("GET", PublisherBase, "/search", P, authRequired, scPubSearch, s.handlePublisherSearch)
	s.add("GET", PublisherBase, "/subscriptions", P, authRequired, scPubSubs, s.handlePublisherSubs)
	s.add("GET", PublisherBase, "/endpoint-certificates", P, authRequired, scEPView, s.handleEPCertList)
	s.add("POST", PublisherBase, "/endpoint-certificates", P, authRequired, scEPAdd, s.handleEPCertCreate)
	s.add("GET", PublisherBase, "/endpoint-certificates/{alias}", P, authRequired, scEPView, s.handleEPCertGet)
	s.add("PUT", PublisherBase, "/endpoint-certificates/{alias}", P, authRequired, scEPUpdate, s.handleEPCertUpdate)
	s.add("DELETE", PublisherBase, "/endpoint-certificates/{alias}", P, authRequired, scEPUpdate, s.handleEPCertDelete)
	s.add("GET", PublisherBase, "/endpoint-certificates/{alias}/content", P, authRequired, scEPView, s.handleEPCertContent)
	s.add("GET", PublisherBase, "/apis/{apiId}/client-certificates", P, authRequired, scClView, s.handleClientCertList)
	s.add("POST", PublisherBase, "/apis/{apiId}/client-certificates", P, authRequired, scClAdd, s.handleClientCertCreate)
	s.add("GET", PublisherBase, "/apis/{apiId}/client-certificates/{alias}", P, authRequired, scClView, s.handleClientCertGet)
	s.add("PUT", PublisherBase, "/apis/{apiId}/client-certificates/{alias}", P, authRequired, scClUpdate, s.handleClientCertUpdate)
	s.add("DELETE", PublisherBase, "/apis/{apiId}/client-certificates/{alias}", P, authRequired, scClDeleteOnly, s.handleClientCertDelete)
	s.add("GET", PublisherBase, "/apis/{apiId}/client-certificates/{alias}/content", P, authRequired, scClView, s.handleClientCertContent)
}
