package spec

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the only manifest apiVersion this build understands.
const APIVersion = "wso2sync/v1alpha1"

// Kind names a manifest kind.
type Kind string

const (
	KindEnvironment      Kind = "Environment"
	KindKeyManager       Kind = "KeyManager"
	KindThrottlingPolicy Kind = "ThrottlingPolicy"
	KindApplication      Kind = "Application"
	KindSubscription     Kind = "Subscription"
	KindUser             Kind = "User"
	KindRole             Kind = "Role"
	KindCertificate      Kind = "Certificate"
	KindTruststore       Kind = "Truststore"
)

// Kinds lists every kind in a stable order (the order of the apply levels,
// Environment first).
var Kinds = []Kind{
	KindEnvironment, KindCertificate, KindTruststore, KindKeyManager,
	KindThrottlingPolicy, KindRole, KindApplication, KindUser, KindSubscription,
}

// Metadata is the metadata block of a document.
type Metadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Object is what every typed document has: its header and where it (and
// each of its fields) came from. Overlays keep the position of the document
// that last set a field.
type Object struct {
	APIVersion string   `json:"apiVersion"`
	Kind       Kind     `json:"kind"`
	Metadata   Metadata `json:"metadata"`

	// Source is the position of the first document that declared the object.
	Source Position `json:"-"`
	// Positions maps a dotted field path (spec.keys[0].keyType) to the
	// position of the key that set it.
	Positions map[string]Position `json:"-"`
}

// Name returns metadata.name.
func (o *Object) Name() string { return o.Metadata.Name }

// Pos returns the position of a field path, walking up to the nearest parent
// that has one, and finally the document's position. Fields that only exist
// because of a schema default have no position of their own.
func (o *Object) Pos(field string) Position {
	for p := field; p != ""; p = parentPath(p) {
		if pos, ok := o.Positions[p]; ok {
			return pos
		}
	}
	return o.Source
}

// Meta returns the embedded Object, so code can treat every kind alike
// through the Resource interface.
func (o *Object) Meta() *Object { return o }

// Resource is any typed manifest object.
type Resource interface{ Meta() *Object }

// ResolvePath resolves a path written in a field of this object: relative
// paths are relative to the directory of the file that set the field.
func (o *Object) ResolvePath(field, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(o.Pos(field).File), p)
}

// parentPath strips the last element of a dotted path: a.b[0].c → a.b[0] →
// a.b → a → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// ---------------------------------------------------------------- Environment

// Environment is the wso2sync.yaml of an environment directory.
type Environment struct {
	Object
	Spec EnvironmentSpec `json:"spec"`
}

type EnvironmentSpec struct {
	APIM        Server       `json:"apim"`
	IS          Server       `json:"is"`
	Credentials *Credentials `json:"credentials,omitempty"`
	TLS         TLS          `json:"tls"`
	Mode        Mode         `json:"mode"`
	Prune       Prune        `json:"prune"`
	Seal        Seal         `json:"seal"`
	// Include lists base folders (relative to the file) loaded before this one.
	Include []string `json:"include"`
	// APIs is the catalogue of APIs subscriptions may refer to.
	APIs []CatalogueAPI `json:"apis"`
	// Gateway is the APIM gateway that `wso2sync verify` calls the
	// catalogue's verify resources through (optional).
	Gateway *Gateway `json:"gateway,omitempty"`
	// Verify tunes `wso2sync verify` (and apply --verify, the daemon).
	Verify VerifySettings `json:"verify"`
}

// Gateway is where API traffic goes (seed 000: https://localhost:8243).
type Gateway struct {
	URL string `json:"url"`
}

// VerifySettings tune the post-apply verification.
type VerifySettings struct {
	// Users also proves declared users whose password is a reference
	// (a password-grant token each); off by default.
	Users bool `json:"users"`
}

// Server is one WSO2 server (APIM or IS).
type Server struct {
	URL         string       `json:"url"`
	Credentials *Credentials `json:"credentials,omitempty"`
}

// Credentials are admin credentials, both by reference.
type Credentials struct {
	Username SecretRef `json:"username"`
	Password SecretRef `json:"password"`
}

// AdminCredentials returns the credentials for a server: its own, else the
// environment-wide ones (nil when neither is set).
func (e *EnvironmentSpec) AdminCredentials(s Server) *Credentials {
	if s.Credentials != nil {
		return s.Credentials
	}
	return e.Credentials
}

type TLS struct {
	CABundle           string `json:"caBundle,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify"`
	// ExpiryWarningDays is how close to its expiry a declared certificate
	// gets a warning (30 if unset; LoadOptions.ExpiryWarning wins).
	ExpiryWarningDays int `json:"expiryWarningDays,omitempty"`
}

// Mode says whether an environment's changes are applied.
type Mode string

const (
	ModeDryRun  Mode = "dry-run"
	ModeEnforce Mode = "enforce"
)

type Prune struct {
	// Policy is "off" (never delete) or "owned" (delete what wso2sync created).
	Policy     string `json:"policy"`
	MaxDeletes int    `json:"maxDeletes"`
}

type Seal struct {
	// Recipients are age X25519 (age1…) or SSH (ssh-ed25519/ssh-rsa)
	// public keys every sealed output is encrypted to.
	Recipients []string `json:"recipients"`
	OutDir     string   `json:"outDir"`
	// SecretDrift says what an enforcing run does when a live secret's
	// fingerprint differs from the sealed index: SecretDriftReseal (the
	// default; the live value wins), SecretDriftRotate or SecretDriftReport.
	SecretDrift string `json:"secretDrift"`
}

// Values of Seal.SecretDrift.
const (
	SecretDriftReseal = "reseal"
	SecretDriftRotate = "rotate"
	SecretDriftReport = "report"
)

// APIRef names an API by name and version.
type APIRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (a APIRef) String() string { return a.Name + " " + a.Version }

type CatalogueAPI struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Context string `json:"context,omitempty"`
	// Verify is a harmless resource `wso2sync verify` calls through the
	// gateway with each subscribed application's token.
	Verify *VerifyResource `json:"verify,omitempty"`
}

// VerifyResource is one resource of an API: its path below the API's base
// path and the method.
type VerifyResource struct {
	Path   string `json:"path"`
	Method string `json:"method"`
}

// ----------------------------------------------------------------- KeyManager

// ResidentKeyManager is the name of APIM's built-in key manager.
const ResidentKeyManager = "Resident Key Manager"

type KeyManager struct {
	Object
	Spec KeyManagerSpec `json:"spec"`
}

type KeyManagerSpec struct {
	DisplayName                string                 `json:"displayName,omitempty"`
	Type                       string                 `json:"type"`
	Description                string                 `json:"description,omitempty"`
	Enabled                    bool                   `json:"enabled"`
	WellKnownEndpoint          string                 `json:"wellKnownEndpoint,omitempty"`
	Issuer                     string                 `json:"issuer,omitempty"`
	ClientRegistrationEndpoint string                 `json:"clientRegistrationEndpoint,omitempty"`
	IntrospectionEndpoint      string                 `json:"introspectionEndpoint,omitempty"`
	TokenEndpoint              string                 `json:"tokenEndpoint,omitempty"`
	DisplayTokenEndpoint       string                 `json:"displayTokenEndpoint,omitempty"`
	RevokeEndpoint             string                 `json:"revokeEndpoint,omitempty"`
	DisplayRevokeEndpoint      string                 `json:"displayRevokeEndpoint,omitempty"`
	UserInfoEndpoint           string                 `json:"userInfoEndpoint,omitempty"`
	AuthorizeEndpoint          string                 `json:"authorizeEndpoint,omitempty"`
	ScopeManagementEndpoint    string                 `json:"scopeManagementEndpoint,omitempty"`
	Certificates               *KeyManagerCertificate `json:"certificates,omitempty"`
	AvailableGrantTypes        []string               `json:"availableGrantTypes,omitempty"`
	EnableTokenGeneration      bool                   `json:"enableTokenGeneration"`
	EnableTokenEncryption      bool                   `json:"enableTokenEncryption"`
	EnableTokenHashing         bool                   `json:"enableTokenHashing"`
	EnableMapOAuthConsumerApps bool                   `json:"enableMapOAuthConsumerApps"`
	EnableOAuthAppCreation     bool                   `json:"enableOAuthAppCreation"`
	EnableSelfValidationJWT    bool                   `json:"enableSelfValidationJWT"`
	ClaimMapping               []ClaimMapping         `json:"claimMapping,omitempty"`
	ConsumerKeyClaim           string                 `json:"consumerKeyClaim,omitempty"`
	ScopesClaim                string                 `json:"scopesClaim,omitempty"`
	Permissions                KeyManagerPermissions  `json:"permissions"`
	TokenType                  string                 `json:"tokenType"`
	Alias                      string                 `json:"alias,omitempty"`
	AllowedOrganizations       []string               `json:"allowedOrganizations,omitempty"`
	Connector                  *IS7Connector          `json:"connector,omitempty"`
	AdditionalProperties       map[string]any         `json:"additionalProperties,omitempty"`
}

// KeyManagerCertificate verifies the signatures of the KM's JWTs.
type KeyManagerCertificate struct {
	Type  string `json:"type"` // JWKS | PEM
	Value string `json:"value"`
}

type ClaimMapping struct {
	RemoteClaim string `json:"remoteClaim"`
	LocalClaim  string `json:"localClaim"`
}

type KeyManagerPermissions struct {
	PermissionType string   `json:"permissionType"`
	Roles          []string `json:"roles"`
}

// IS7Connector is the WSO2-IS-7 connector configuration (additionalProperties
// Username, Password, api_resource_management_endpoint, is7_roles_endpoint,
// enable_roles_creation, Authentication on the wire).
type IS7Connector struct {
	Username                      string    `json:"username,omitempty"`
	Password                      SecretRef `json:"password"`
	APIResourceManagementEndpoint string    `json:"apiResourceManagementEndpoint,omitempty"`
	RolesEndpoint                 string    `json:"rolesEndpoint,omitempty"`
	EnableRolesCreation           bool      `json:"enableRolesCreation"`
	Authentication                string    `json:"authentication,omitempty"`
}

// ----------------------------------------------------------- ThrottlingPolicy

type ThrottlingPolicy struct {
	Object
	Spec ThrottlingPolicySpec `json:"spec"`
}

// Policy levels.
const (
	LevelApplication  = "application"
	LevelSubscription = "subscription"
)

type ThrottlingPolicySpec struct {
	Level             string             `json:"level"`
	DisplayName       string             `json:"displayName,omitempty"`
	Description       string             `json:"description,omitempty"`
	DefaultLimit      ThrottleLimit      `json:"defaultLimit"`
	BurstLimit        *BurstLimit        `json:"burstLimit,omitempty"`
	RateLimitCount    int                `json:"rateLimitCount,omitempty"`
	RateLimitTimeUnit string             `json:"rateLimitTimeUnit,omitempty"`
	CustomAttributes  []CustomAttribute  `json:"customAttributes,omitempty"`
	StopOnQuotaReach  *bool              `json:"stopOnQuotaReach,omitempty"`
	BillingPlan       string             `json:"billingPlan,omitempty"`
	Permissions       *PolicyPermissions `json:"permissions,omitempty"`
}

type ThrottleLimit struct {
	Type         string             `json:"type"`
	RequestCount *RequestCountLimit `json:"requestCount,omitempty"`
	Bandwidth    *BandwidthLimit    `json:"bandwidth,omitempty"`
	EventCount   *EventCountLimit   `json:"eventCount,omitempty"`
}

type RequestCountLimit struct {
	TimeUnit     string `json:"timeUnit"`
	UnitTime     int    `json:"unitTime"`
	RequestCount int    `json:"requestCount"`
}

type BandwidthLimit struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int    `json:"unitTime"`
	DataAmount int    `json:"dataAmount"`
	DataUnit   string `json:"dataUnit"`
}

type EventCountLimit struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int    `json:"unitTime"`
	EventCount int    `json:"eventCount"`
}

type BurstLimit struct {
	RateLimitCount    int    `json:"rateLimitCount"`
	RateLimitTimeUnit string `json:"rateLimitTimeUnit"`
}

type CustomAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type PolicyPermissions struct {
	PermissionType string   `json:"permissionType"`
	Roles          []string `json:"roles"`
}

// ---------------------------------------------------------------- Application

type Application struct {
	Object
	Spec ApplicationSpec `json:"spec"`
}

type ApplicationSpec struct {
	Owner            string            `json:"owner"`
	ThrottlingPolicy string            `json:"throttlingPolicy"`
	TokenType        string            `json:"tokenType"`
	Description      string            `json:"description,omitempty"`
	Attributes       map[string]string `json:"attributes,omitempty"`
	Groups           []string          `json:"groups,omitempty"`
	Visibility       string            `json:"visibility,omitempty"`
	Keys             []ApplicationKey  `json:"keys"`
	// SealTo adds recipients (age1… or SSH public keys) for this
	// application's sealed keys, on top of the environment's.
	SealTo []string `json:"sealTo,omitempty"`
}

// Key modes.
const (
	KeyModeGenerate = "generate"
	KeyModeMap      = "map"
)

// ApplicationKey is one OAuth client of an application, identified by
// (keyType, keyManager).
type ApplicationKey struct {
	KeyType              string            `json:"keyType"` // PRODUCTION | SANDBOX
	KeyManager           string            `json:"keyManager"`
	Mode                 string            `json:"mode"` // generate | map
	GrantTypes           []string          `json:"grantTypes"`
	CallbackURL          string            `json:"callbackUrl,omitempty"`
	ValidityPeriod       int               `json:"validityPeriod"`
	Scopes               []string          `json:"scopes"`
	AdditionalProperties map[string]string `json:"additionalProperties,omitempty"`
	ClientID             string            `json:"clientId,omitempty"`
	ClientSecret         *SecretRef        `json:"clientSecret,omitempty"`
	// Rotate schedules the rotation of a generated key's secret.
	Rotate *KeyRotation `json:"rotate,omitempty"`
}

// KeyRotation is a key's rotation schedule.
type KeyRotation struct {
	// Every is the secret's maximum age: a number and a unit, d (days),
	// h or m, e.g. "90d".
	Every string `json:"every"`
}

// Interval parses Every ("90d", "12h", "30m").
func (r KeyRotation) Interval() (time.Duration, error) {
	s := r.Every
	if len(s) < 2 {
		return 0, fmt.Errorf("rotate.every %q: want a number and a unit (d, h or m), e.g. 90d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rotate.every %q: want a positive number and a unit (d, h or m), e.g. 90d", s)
	}
	switch s[len(s)-1] {
	case 'd':
		return time.Duration(n) * 24 * time.Hour, nil
	case 'h':
		return time.Duration(n) * time.Hour, nil
	case 'm':
		return time.Duration(n) * time.Minute, nil
	}
	return 0, fmt.Errorf("rotate.every %q: the unit must be d, h or m", s)
}

// --------------------------------------------------------------- Subscription

type Subscription struct {
	Object
	Spec SubscriptionSpec `json:"spec"`
}

type SubscriptionSpec struct {
	Application      string `json:"application"`
	API              APIRef `json:"api"`
	ThrottlingPolicy string `json:"throttlingPolicy"`
}

// ----------------------------------------------------------------------- User

type User struct {
	Object
	Spec UserSpec `json:"spec"`
}

type UserSpec struct {
	UserName string     `json:"userName"`
	Domain   string     `json:"domain"`
	Name     *UserName  `json:"name,omitempty"`
	Emails   []Email    `json:"emails,omitempty"`
	Roles    []string   `json:"roles"`
	Password *SecretRef `json:"password,omitempty"`
}

type UserName struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type Email struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
	Type    string `json:"type,omitempty"`
}

// ----------------------------------------------------------------------- Role

type Role struct {
	Object
	Spec RoleSpec `json:"spec"`
}

type RoleSpec struct {
	DisplayName string       `json:"displayName"`
	Audience    RoleAudience `json:"audience"`
	Permissions []string     `json:"permissions"`
}

type RoleAudience struct {
	Type        string `json:"type"` // organization | application
	Application string `json:"application,omitempty"`
}

// ---------------------------------------------------------------- Certificate

// Certificate usages.
const (
	CertUsageEndpoint   = "endpoint"
	CertUsageClient     = "client"
	CertUsageKeyManager = "keyManager"
	CertUsageTrust      = "trust" // only referenced by Truststore entries
)

type Certificate struct {
	Object
	Spec CertificateSpec `json:"spec"`
}

type CertificateSpec struct {
	Usage      string     `json:"usage"`
	Alias      string     `json:"alias,omitempty"`
	Source     CertSource `json:"source"`
	Endpoint   string     `json:"endpoint,omitempty"`
	API        *APIRef    `json:"api,omitempty"`
	Tier       string     `json:"tier,omitempty"`
	KeyManager string     `json:"keyManager,omitempty"`
}

// AliasOrName returns the alias, defaulting to metadata.name.
func (c *Certificate) AliasOrName() string {
	if c.Spec.Alias != "" {
		return c.Spec.Alias
	}
	return c.Metadata.Name
}

// CertSource is where a public certificate comes from: inline PEM, a PEM
// file (relative to the manifest), or a URL pinned by SHA-256 fingerprint.
type CertSource struct {
	PEM    string `json:"pem,omitempty"`
	File   string `json:"file,omitempty"`
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// ----------------------------------------------------------------- Truststore

type Truststore struct {
	Object
	Spec TruststoreSpec `json:"spec"`
}

type TruststoreSpec struct {
	Path           string            `json:"path"`
	Type           string            `json:"type"` // JKS | PKCS12
	Password       SecretRef         `json:"password"`
	Entries        []TruststoreEntry `json:"entries"`
	RestartCommand []string          `json:"restartCommand,omitempty"`
	// Restart is the general form of restartCommand: a command, or an
	// HTTP call (an orchestrator's restart hook). One of the two at most.
	Restart *RestartAction `json:"restart,omitempty"`
}

// RestartAction runs once after a truststore changed: the JVM reads its
// truststore only at start-up.
type RestartAction struct {
	Command []string     `json:"command,omitempty"`
	HTTP    *RestartHTTP `json:"http,omitempty"`
}

// RestartHTTP is a restart hook called without credentials (put none in
// the URL: the plan shows it).
type RestartHTTP struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// RestartOf returns a truststore's restart action (restart, else
// restartCommand), or nil.
func (t *Truststore) RestartOf() *RestartAction {
	switch {
	case t.Spec.Restart != nil && (len(t.Spec.Restart.Command) > 0 || t.Spec.Restart.HTTP != nil):
		return t.Spec.Restart
	case len(t.Spec.RestartCommand) > 0:
		return &RestartAction{Command: t.Spec.RestartCommand}
	}
	return nil
}

// TruststoreEntry is one trusted certificate by alias; its source is a PEM
// (inline or file), a pinned URL, or a declared Certificate by name.
type TruststoreEntry struct {
	Alias       string `json:"alias"`
	PEM         string `json:"pem,omitempty"`
	File        string `json:"file,omitempty"`
	URL         string `json:"url,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	Certificate string `json:"certificate,omitempty"`
}
