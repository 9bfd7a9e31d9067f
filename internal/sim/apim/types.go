package apim

// Wire types, named and tagged field for field as the APIM 4.5 specs
// (reference/specs/apim-4.5.0_*.yaml) name them. They double as the records
// of the simulator's state, so State (Dump) is what the REST API would show.

// ErrorListItem is one entry of Error.error.
type ErrorListItem struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	Description string `json:"description,omitempty"`
}

// Error is the APIM error body (WSO2-API.md §4).
type Error struct {
	Code        int64           `json:"code"`
	Message     string          `json:"message"`
	Description string          `json:"description"`
	MoreInfo    string          `json:"moreInfo"`
	Error       []ErrorListItem `json:"error"`
}

// Pagination is the spec's Pagination object.
type Pagination struct {
	Offset   int    `json:"offset"`
	Limit    int    `json:"limit"`
	Total    int    `json:"total"`
	Next     string `json:"next"`
	Previous string `json:"previous"`
}

// ---- Key managers (admin v4) ----

// KMCertificates is KeyManager.certificates.
type KMCertificates struct {
	Type  string `json:"type,omitempty"` // JWKS | PEM
	Value string `json:"value,omitempty"`
}

// ClaimMappingEntry is one KeyManager.claimMapping entry.
type ClaimMappingEntry struct {
	RemoteClaim string `json:"remoteClaim,omitempty"`
	LocalClaim  string `json:"localClaim,omitempty"`
}

// TokenValidation is one KeyManager.tokenValidation entry.
type TokenValidation struct {
	ID     int            `json:"id,omitempty"`
	Enable bool           `json:"enable"`
	Type   string         `json:"type,omitempty"`
	Value  map[string]any `json:"value,omitempty"`
}

// KMPermissions is KeyManager.permissions.
type KMPermissions struct {
	PermissionType string   `json:"permissionType"`
	Roles          []string `json:"roles"`
}

// KeyManager is the admin v4 KeyManager schema.
type KeyManager struct {
	ID                         string              `json:"id"`
	Name                       string              `json:"name"`
	DisplayName                string              `json:"displayName,omitempty"`
	Type                       string              `json:"type"`
	Description                string              `json:"description,omitempty"`
	WellKnownEndpoint          string              `json:"wellKnownEndpoint,omitempty"`
	IntrospectionEndpoint      string              `json:"introspectionEndpoint,omitempty"`
	ClientRegistrationEndpoint string              `json:"clientRegistrationEndpoint,omitempty"`
	TokenEndpoint              string              `json:"tokenEndpoint,omitempty"`
	DisplayTokenEndpoint       string              `json:"displayTokenEndpoint,omitempty"`
	RevokeEndpoint             string              `json:"revokeEndpoint,omitempty"`
	DisplayRevokeEndpoint      string              `json:"displayRevokeEndpoint,omitempty"`
	UserInfoEndpoint           string              `json:"userInfoEndpoint,omitempty"`
	AuthorizeEndpoint          string              `json:"authorizeEndpoint,omitempty"`
	Certificates               *KMCertificates     `json:"certificates,omitempty"`
	Issuer                     string              `json:"issuer,omitempty"`
	Alias                      string              `json:"alias,omitempty"`
	ScopeManagementEndpoint    string              `json:"scopeManagementEndpoint,omitempty"`
	AvailableGrantTypes        []string            `json:"availableGrantTypes"`
	EnableTokenGeneration      bool                `json:"enableTokenGeneration"`
	EnableTokenEncryption      bool                `json:"enableTokenEncryption"`
	EnableTokenHashing         bool                `json:"enableTokenHashing"`
	EnableMapOAuthConsumerApps bool                `json:"enableMapOAuthConsumerApps"`
	EnableOAuthAppCreation     bool                `json:"enableOAuthAppCreation"`
	EnableSelfValidationJWT    bool                `json:"enableSelfValidationJWT"`
	ClaimMapping               []ClaimMappingEntry `json:"claimMapping"`
	ConsumerKeyClaim           string              `json:"consumerKeyClaim,omitempty"`
	ScopesClaim                string              `json:"scopesClaim,omitempty"`
	TokenValidation            []TokenValidation   `json:"tokenValidation"`
	Enabled                    bool                `json:"enabled"`
	AdditionalProperties       map[string]any      `json:"additionalProperties"`
	Permissions                KMPermissions       `json:"permissions"`
	TokenType                  string              `json:"tokenType"`
	AllowedOrganizations       []string            `json:"allowedOrganizations"`
}

// KeyManagerInfo is the admin v4 list item.
type KeyManagerInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	TokenType   string `json:"tokenType"`
}

// KeyManagerConfiguration describes one connector configuration key
// (admin Settings, devportal KeyManagerInfo.applicationConfiguration).
//
// erratum: the spec types `default` as an object while the real server
// sends strings/booleans; the simulator leaves `default` out so responses
// stay valid against the spec.
type KeyManagerConfiguration struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Mask     bool   `json:"mask"`
	Multiple bool   `json:"multiple"`
	Tooltip  string `json:"tooltip"`
	Values   []any  `json:"values"`
}

// DevportalKeyManagerInfo is the devportal v3 KeyManagerInfo.
type DevportalKeyManagerInfo struct {
	ID                         string                    `json:"id"`
	Name                       string                    `json:"name"`
	Type                       string                    `json:"type"`
	DisplayName                string                    `json:"displayName,omitempty"`
	Description                string                    `json:"description,omitempty"`
	Enabled                    bool                      `json:"enabled"`
	AvailableGrantTypes        []string                  `json:"availableGrantTypes"`
	TokenEndpoint              string                    `json:"tokenEndpoint,omitempty"`
	RevokeEndpoint             string                    `json:"revokeEndpoint,omitempty"`
	UserInfoEndpoint           string                    `json:"userInfoEndpoint,omitempty"`
	EnableTokenGeneration      bool                      `json:"enableTokenGeneration"`
	EnableTokenEncryption      bool                      `json:"enableTokenEncryption"`
	EnableTokenHashing         bool                      `json:"enableTokenHashing"`
	EnableOAuthAppCreation     bool                      `json:"enableOAuthAppCreation"`
	EnableMapOAuthConsumerApps bool                      `json:"enableMapOAuthConsumerApps"`
	ApplicationConfiguration   []KeyManagerConfiguration `json:"applicationConfiguration"`
	Alias                      string                    `json:"alias,omitempty"`
	AdditionalProperties       map[string]any            `json:"additionalProperties"`
	TokenType                  string                    `json:"tokenType"`
}

// ---- Throttling policies ----

// RequestCountLimit is ThrottleLimit.requestCount.
type RequestCountLimit struct {
	TimeUnit     string `json:"timeUnit"`
	UnitTime     int64  `json:"unitTime"`
	RequestCount int64  `json:"requestCount"`
}

// BandwidthLimit is ThrottleLimit.bandwidth.
type BandwidthLimit struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int64  `json:"unitTime"`
	DataAmount int64  `json:"dataAmount"`
	DataUnit   string `json:"dataUnit"`
}

// EventCountLimit is ThrottleLimit.eventCount.
type EventCountLimit struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int64  `json:"unitTime"`
	EventCount int64  `json:"eventCount"`
}

// ThrottleLimit is the admin ThrottleLimit schema.
type ThrottleLimit struct {
	Type         string             `json:"type"`
	RequestCount *RequestCountLimit `json:"requestCount,omitempty"`
	Bandwidth    *BandwidthLimit    `json:"bandwidth,omitempty"`
	EventCount   *EventCountLimit   `json:"eventCount,omitempty"`
	AIAPIQuota   map[string]any     `json:"aiApiQuota,omitempty"`
}

// BurstLimit is ApplicationThrottlePolicy.burstLimit.
type BurstLimit struct {
	RateLimitCount    int    `json:"rateLimitCount"`
	RateLimitTimeUnit string `json:"rateLimitTimeUnit,omitempty"`
}

// ApplicationThrottlePolicy is the admin application tier.
type ApplicationThrottlePolicy struct {
	PolicyID     string        `json:"policyId"`
	PolicyName   string        `json:"policyName"`
	DisplayName  string        `json:"displayName,omitempty"`
	Description  string        `json:"description,omitempty"`
	IsDeployed   bool          `json:"isDeployed"`
	Type         string        `json:"type"`
	DefaultLimit ThrottleLimit `json:"defaultLimit"`
	BurstLimit   *BurstLimit   `json:"burstLimit,omitempty"`
}

// CustomAttribute is a name/value pair.
type CustomAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SubscriptionThrottlePolicyPermission is SubscriptionThrottlePolicy.permissions.
type SubscriptionThrottlePolicyPermission struct {
	PermissionType string   `json:"permissionType"`
	Roles          []string `json:"roles"`
}

// SubscriptionThrottlePolicy is the admin subscription tier.
type SubscriptionThrottlePolicy struct {
	PolicyID             string                                `json:"policyId"`
	PolicyName           string                                `json:"policyName"`
	DisplayName          string                                `json:"displayName,omitempty"`
	Description          string                                `json:"description,omitempty"`
	IsDeployed           bool                                  `json:"isDeployed"`
	Type                 string                                `json:"type"`
	GraphQLMaxComplexity int                                   `json:"graphQLMaxComplexity"`
	GraphQLMaxDepth      int                                   `json:"graphQLMaxDepth"`
	DefaultLimit         ThrottleLimit                         `json:"defaultLimit"`
	Monetization         map[string]any                        `json:"monetization,omitempty"`
	RateLimitCount       int                                   `json:"rateLimitCount"`
	RateLimitTimeUnit    string                                `json:"rateLimitTimeUnit,omitempty"`
	CustomAttributes     []CustomAttribute                     `json:"customAttributes"`
	StopOnQuotaReach     bool                                  `json:"stopOnQuotaReach"`
	BillingPlan          string                                `json:"billingPlan,omitempty"`
	Permissions          *SubscriptionThrottlePolicyPermission `json:"permissions,omitempty"`
	SubscriberCount      int                                   `json:"subscriberCount"`
}

// ThrottlePolicyDetails is the admin search result item.
//
// erratum: policyId is an integer and uuid the real id (WSO2-API.md §7.10).
type ThrottlePolicyDetails struct {
	PolicyID    int    `json:"policyId"`
	UUID        string `json:"uuid"`
	PolicyName  string `json:"policyName"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
	IsDeployed  bool   `json:"isDeployed"`
	Type        string `json:"type"`
}

// DevportalThrottlingPolicy is the devportal v3 ThrottlingPolicy.
type DevportalThrottlingPolicy struct {
	Name              string            `json:"name"`
	Description       string            `json:"description,omitempty"`
	PolicyLevel       string            `json:"policyLevel"`
	Attributes        map[string]string `json:"attributes"`
	RequestCount      int64             `json:"requestCount"`
	DataUnit          string            `json:"dataUnit,omitempty"`
	UnitTime          int64             `json:"unitTime"`
	TimeUnit          string            `json:"timeUnit,omitempty"`
	RateLimitCount    int               `json:"rateLimitCount"`
	RateLimitTimeUnit string            `json:"rateLimitTimeUnit,omitempty"`
	QuotaPolicyType   string            `json:"quotaPolicyType,omitempty"`
	TierPlan          string            `json:"tierPlan"`
	StopOnQuotaReach  bool              `json:"stopOnQuotaReach"`
}

// ---- Applications, keys, subscriptions (devportal v3) ----

// ScopeInfo is the devportal ScopeInfo.
type ScopeInfo struct {
	Key         string   `json:"key,omitempty"`
	Name        string   `json:"name,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Application is the devportal Application.
type Application struct {
	ApplicationID      string            `json:"applicationId"`
	Name               string            `json:"name"`
	ThrottlingPolicy   string            `json:"throttlingPolicy"`
	Description        string            `json:"description"`
	TokenType          string            `json:"tokenType"`
	Status             string            `json:"status"`
	Groups             []string          `json:"groups"`
	SubscriptionCount  int               `json:"subscriptionCount"`
	Keys               []ApplicationKey  `json:"keys"`
	Attributes         map[string]string `json:"attributes"`
	SubscriptionScopes []ScopeInfo       `json:"subscriptionScopes"`
	Owner              string            `json:"owner"`
	HashEnabled        bool              `json:"hashEnabled"`
	Visibility         string            `json:"visibility,omitempty"`
}

// ApplicationInfo is the devportal list item.
type ApplicationInfo struct {
	ApplicationID     string            `json:"applicationId"`
	Name              string            `json:"name"`
	ThrottlingPolicy  string            `json:"throttlingPolicy"`
	Description       string            `json:"description"`
	Status            string            `json:"status"`
	Groups            []string          `json:"groups"`
	SubscriptionCount int               `json:"subscriptionCount"`
	Attributes        map[string]string `json:"attributes"`
	Owner             string            `json:"owner"`
}

// ApplicationToken is the devportal ApplicationToken.
type ApplicationToken struct {
	AccessToken  string   `json:"accessToken"`
	TokenScopes  []string `json:"tokenScopes"`
	ValidityTime int64    `json:"validityTime"`
}

// ApplicationKey is the devportal ApplicationKey.
type ApplicationKey struct {
	KeyMappingID         string            `json:"keyMappingId"`
	KeyManager           string            `json:"keyManager"`
	ConsumerKey          string            `json:"consumerKey,omitempty"`
	ConsumerSecret       string            `json:"consumerSecret,omitempty"`
	SupportedGrantTypes  []string          `json:"supportedGrantTypes"`
	CallbackURL          string            `json:"callbackUrl"`
	KeyState             string            `json:"keyState"`
	KeyType              string            `json:"keyType"`
	Mode                 string            `json:"mode"`
	GroupID              string            `json:"groupId,omitempty"`
	Token                *ApplicationToken `json:"token,omitempty"`
	AdditionalProperties map[string]any    `json:"additionalProperties"`
}

// APIInfo is the devportal APIInfo (list item).
type APIInfo struct {
	ID                      string   `json:"id"`
	Name                    string   `json:"name"`
	Description             string   `json:"description,omitempty"`
	Context                 string   `json:"context"`
	Version                 string   `json:"version"`
	Type                    string   `json:"type"`
	CreatedTime             string   `json:"createdTime,omitempty"`
	Provider                string   `json:"provider"`
	LifeCycleStatus         string   `json:"lifeCycleStatus"`
	ThrottlingPolicies      []string `json:"throttlingPolicies"`
	IsSubscriptionAvailable bool     `json:"isSubscriptionAvailable"`
}

// Subscription is the devportal Subscription.
type Subscription struct {
	SubscriptionID            string           `json:"subscriptionId"`
	ApplicationID             string           `json:"applicationId"`
	APIID                     string           `json:"apiId"`
	APIInfo                   *APIInfo         `json:"apiInfo,omitempty"`
	ApplicationInfo           *ApplicationInfo `json:"applicationInfo,omitempty"`
	ThrottlingPolicy          string           `json:"throttlingPolicy"`
	RequestedThrottlingPolicy string           `json:"requestedThrottlingPolicy,omitempty"`
	Status                    string           `json:"status"`
	RedirectionParams         string           `json:"redirectionParams,omitempty"`
}

// WorkflowResponse is the 202 body of workflow-backed operations.
type WorkflowResponse struct {
	WorkflowStatus string `json:"workflowStatus"`
	JSONPayload    string `json:"jsonPayload"`
}

// ---- Publisher v4 ----

// PublisherAPIInfo is the publisher APIInfo.
type PublisherAPIInfo struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Description     string   `json:"description,omitempty"`
	Context         string   `json:"context"`
	Version         string   `json:"version"`
	Provider        string   `json:"provider"`
	Type            string   `json:"type"`
	LifeCycleStatus string   `json:"lifeCycleStatus"`
	HasThumbnail    bool     `json:"hasThumbnail"`
	SecurityScheme  []string `json:"securityScheme"`
	CreatedTime     string   `json:"createdTime,omitempty"`
	UpdatedTime     string   `json:"updatedTime,omitempty"`
	GatewayVendor   string   `json:"gatewayVendor"`
	AdvertiseOnly   bool     `json:"advertiseOnly"`
}

// PublisherApplicationInfo is the publisher ApplicationInfo.
type PublisherApplicationInfo struct {
	ApplicationID     string `json:"applicationId"`
	Name              string `json:"name"`
	Subscriber        string `json:"subscriber"`
	Description       string `json:"description"`
	SubscriptionCount int    `json:"subscriptionCount"`
}

// PublisherSubscription is the publisher Subscription (no apiId, §7.11).
type PublisherSubscription struct {
	SubscriptionID     string                   `json:"subscriptionId"`
	ApplicationInfo    PublisherApplicationInfo `json:"applicationInfo"`
	ThrottlingPolicy   string                   `json:"throttlingPolicy"`
	SubscriptionStatus string                   `json:"subscriptionStatus"`
}

// CertMetadata is the publisher endpoint certificate list item / POST body.
type CertMetadata struct {
	Alias    string `json:"alias"`
	Endpoint string `json:"endpoint"`
}

// ClientCertMetadata is the publisher client certificate metadata.
type ClientCertMetadata struct {
	Alias string `json:"alias"`
	APIID string `json:"apiId"`
	Tier  string `json:"tier"`
}

// CertificateValidity is CertificateInfo.validity.
type CertificateValidity struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// CertificateInfo is the publisher CertificateInfo.
type CertificateInfo struct {
	Status   string              `json:"status"`
	Validity CertificateValidity `json:"validity"`
	Version  string              `json:"version"`
	Subject  string              `json:"subject"`
}
