package apim

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// KeyManagers manages Admin v4 key managers. Identity: name.
type KeyManagers interface {
	// List reads every key manager in full (the list carries only a
	// summary, so one GET per key manager follows, concurrently).
	List(ctx context.Context) ([]Found[*spec.KeyManager], error)
	Get(ctx context.Context, id string) (*spec.KeyManager, error)
	// FindByName returns the id of the key manager with that name ("" if none).
	FindByName(ctx context.Context, name string) (string, error)
	// Create registers a key manager. password is the connector's
	// Password (WSO2-IS-7), already resolved; it is never logged.
	Create(ctx context.Context, km *spec.KeyManager, password string) (string, error)
	// Update replaces a key manager (PUT is a full replacement). An empty
	// password keeps the stored one (sent as "*****").
	Update(ctx context.Context, id string, km *spec.KeyManager, password string) error
	Delete(ctx context.Context, id string) error
}

// MaskedSecret is what APIM shows for masked connector properties and
// accepts on PUT to keep the stored value.
const MaskedSecret = "*****"

// IS7 connector keys of additionalProperties.
const (
	propUsername        = "Username"
	propPassword        = "Password"
	propAPIResourceMgmt = "api_resource_management_endpoint"
	propRolesEndpoint   = "is7_roles_endpoint"
	propRolesCreation   = "enable_roles_creation"
	propAuthentication  = "Authentication"
	typeIS7             = "WSO2-IS-7"
)

type wireKMCert struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

type wireClaim struct {
	RemoteClaim string `json:"remoteClaim"`
	LocalClaim  string `json:"localClaim"`
}

type wirePermissions struct {
	PermissionType string   `json:"permissionType"`
	Roles          []string `json:"roles"`
}

// wireKM is the Admin v4 KeyManager (the fields wso2sync manages; PUT
// replaces everything, so every field the spec knows is sent).
type wireKM struct {
	ID                         string          `json:"id,omitempty"`
	Name                       string          `json:"name"`
	DisplayName                string          `json:"displayName,omitempty"`
	Type                       string          `json:"type"`
	Description                string          `json:"description,omitempty"`
	WellKnownEndpoint          string          `json:"wellKnownEndpoint,omitempty"`
	IntrospectionEndpoint      string          `json:"introspectionEndpoint,omitempty"`
	ClientRegistrationEndpoint string          `json:"clientRegistrationEndpoint,omitempty"`
	TokenEndpoint              string          `json:"tokenEndpoint,omitempty"`
	DisplayTokenEndpoint       string          `json:"displayTokenEndpoint,omitempty"`
	RevokeEndpoint             string          `json:"revokeEndpoint,omitempty"`
	DisplayRevokeEndpoint      string          `json:"displayRevokeEndpoint,omitempty"`
	UserInfoEndpoint           string          `json:"userInfoEndpoint,omitempty"`
	AuthorizeEndpoint          string          `json:"authorizeEndpoint,omitempty"`
	Certificates               *wireKMCert     `json:"certificates,omitempty"`
	Issuer                     string          `json:"issuer,omitempty"`
	Alias                      string          `json:"alias,omitempty"`
	ScopeManagementEndpoint    string          `json:"scopeManagementEndpoint,omitempty"`
	AvailableGrantTypes        []string        `json:"availableGrantTypes"`
	EnableTokenGeneration      bool            `json:"enableTokenGeneration"`
	EnableTokenEncryption      bool            `json:"enableTokenEncryption"`
	EnableTokenHashing         bool            `json:"enableTokenHashing"`
	EnableMapOAuthConsumerApps bool            `json:"enableMapOAuthConsumerApps"`
	EnableOAuthAppCreation     bool            `json:"enableOAuthAppCreation"`
	EnableSelfValidationJWT    bool            `json:"enableSelfValidationJWT"`
	ClaimMapping               []wireClaim     `json:"claimMapping"`
	ConsumerKeyClaim           string          `json:"consumerKeyClaim,omitempty"`
	ScopesClaim                string          `json:"scopesClaim,omitempty"`
	TokenValidation            []any           `json:"tokenValidation,omitempty"`
	Enabled                    bool            `json:"enabled"`
	AdditionalProperties       map[string]any  `json:"additionalProperties"`
	Permissions                wirePermissions `json:"permissions"`
	TokenType                  string          `json:"tokenType,omitempty"`
	AllowedOrganizations       []string        `json:"allowedOrganizations,omitempty"`
}

type wireKMInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type keyManagers struct{ cl *Client }

func (k *keyManagers) list(ctx context.Context) ([]wireKMInfo, error) {
	var page struct {
		List []wireKMInfo `json:"list"`
	}
	// Not paginated (WSO2-API.md §3.1).
	err := k.cl.c.JSON(ctx, transport.Request{PathTemplate: AdminBase + "/key-managers", Scopes: scKM}, &page)
	return page.List, err
}

func (k *keyManagers) List(ctx context.Context) ([]Found[*spec.KeyManager], error) {
	infos, err := k.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Found[*spec.KeyManager], len(infos))
	err = ForEach(ctx, indexes(len(infos)), 0, func(ctx context.Context, i int) error {
		km, err := k.Get(ctx, infos[i].ID)
		if transport.IsNotFound(err) { // deleted between list and get
			return nil
		}
		if err != nil {
			return err
		}
		out[i] = Found[*spec.KeyManager]{ID: infos[i].ID, Object: km}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(f Found[*spec.KeyManager]) bool { return f.Object == nil }), nil
}

func (k *keyManagers) Get(ctx context.Context, id string) (*spec.KeyManager, error) {
	var w wireKM
	err := k.cl.c.JSON(ctx, transport.Request{
		PathTemplate: AdminBase + "/key-managers/{keyManagerId}",
		PathParams:   map[string]string{"keyManagerId": id},
		Scopes:       scKM, Identity: "KeyManager " + id,
	}, &w)
	if err != nil {
		return nil, err
	}
	return kmToSpec(&w), nil
}

// FindByName returns the id of the key manager named name ("" if none).
func (k *keyManagers) FindByName(ctx context.Context, name string) (string, error) {
	infos, err := k.list(ctx)
	if err != nil {
		return "", err
	}
	for _, i := range infos {
		if i.Name == name {
			return i.ID, nil
		}
	}
	return "", nil
}

func (k *keyManagers) Create(ctx context.Context, km *spec.KeyManager, password string) (string, error) {
	w := kmFromSpec(km, password)
	var out wireKM
	err := k.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: AdminBase + "/key-managers", Body: w,
		Scopes: scKM, Identity: "KeyManager " + km.Metadata.Name, Sensitive: true,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			id, err := k.FindByName(ctx, km.Metadata.Name)
			return id != "", err
		},
	}, &out)
	if transport.IsLanded(err) {
		return k.FindByName(ctx, km.Metadata.Name)
	}
	return out.ID, err
}

func (k *keyManagers) Update(ctx context.Context, id string, km *spec.KeyManager, password string) error {
	w := kmFromSpec(km, password)
	return k.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: AdminBase + "/key-managers/{keyManagerId}",
		PathParams: map[string]string{"keyManagerId": id}, Body: w,
		Scopes: scKM, Identity: "KeyManager " + km.Metadata.Name, Sensitive: true,
	}, nil)
}

func (k *keyManagers) Delete(ctx context.Context, id string) error {
	_, err := k.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: AdminBase + "/key-managers/{keyManagerId}",
		PathParams: map[string]string{"keyManagerId": id}, Scopes: scKM, Identity: "KeyManager " + id,
	})
	if transport.KindOf(err) == transport.KindServer {
		return withHint(err, "APIM refuses to delete the Resident Key Manager and key managers still used by an application or API (it answers 500); remove those keys first")
	}
	return err
}

// kmToSpec maps a KeyManager read from APIM. Normalisation:
//   - additionalProperties of a WSO2-IS-7 key manager become
//     spec.Connector (Username, the two IS7 endpoints, enable_roles_creation
//     as a bool whether sent as bool or string, Authentication); the
//     Password is write-only ("*****" on GET), so the live Connector.Password
//     is the zero reference and must never be diffed;
//   - other additionalProperties stay in AdditionalProperties, without
//     masked ("*****") values;
//   - empty lists are nil; permissions.roles nil when empty.
func kmToSpec(w *wireKM) *spec.KeyManager {
	km := &spec.KeyManager{Object: object(spec.KindKeyManager, w.Name)}
	s := &km.Spec
	s.DisplayName, s.Type, s.Description, s.Enabled = w.DisplayName, w.Type, w.Description, w.Enabled
	s.WellKnownEndpoint, s.Issuer = w.WellKnownEndpoint, w.Issuer
	s.ClientRegistrationEndpoint, s.IntrospectionEndpoint = w.ClientRegistrationEndpoint, w.IntrospectionEndpoint
	s.TokenEndpoint, s.DisplayTokenEndpoint = w.TokenEndpoint, w.DisplayTokenEndpoint
	s.RevokeEndpoint, s.DisplayRevokeEndpoint = w.RevokeEndpoint, w.DisplayRevokeEndpoint
	s.UserInfoEndpoint, s.AuthorizeEndpoint, s.ScopeManagementEndpoint = w.UserInfoEndpoint, w.AuthorizeEndpoint, w.ScopeManagementEndpoint
	if w.Certificates != nil && (w.Certificates.Type != "" || w.Certificates.Value != "") {
		s.Certificates = &spec.KeyManagerCertificate{Type: w.Certificates.Type, Value: w.Certificates.Value}
	}
	s.AvailableGrantTypes = nilIfEmpty(w.AvailableGrantTypes)
	s.EnableTokenGeneration, s.EnableTokenEncryption, s.EnableTokenHashing = w.EnableTokenGeneration, w.EnableTokenEncryption, w.EnableTokenHashing
	s.EnableMapOAuthConsumerApps, s.EnableOAuthAppCreation, s.EnableSelfValidationJWT = w.EnableMapOAuthConsumerApps, w.EnableOAuthAppCreation, w.EnableSelfValidationJWT
	for _, c := range w.ClaimMapping {
		s.ClaimMapping = append(s.ClaimMapping, spec.ClaimMapping{RemoteClaim: c.RemoteClaim, LocalClaim: c.LocalClaim})
	}
	s.ConsumerKeyClaim, s.ScopesClaim = w.ConsumerKeyClaim, w.ScopesClaim
	s.Permissions = spec.KeyManagerPermissions{PermissionType: w.Permissions.PermissionType, Roles: nilIfEmpty(w.Permissions.Roles)}
	s.TokenType, s.Alias = w.TokenType, w.Alias
	s.AllowedOrganizations = nilIfEmpty(w.AllowedOrganizations)
	props := maps.Clone(w.AdditionalProperties)
	if w.Type == typeIS7 {
		c := &spec.IS7Connector{}
		c.Username, _ = props[propUsername].(string)
		c.APIResourceManagementEndpoint, _ = props[propAPIResourceMgmt].(string)
		c.RolesEndpoint, _ = props[propRolesEndpoint].(string)
		c.Authentication, _ = props[propAuthentication].(string)
		switch v := props[propRolesCreation].(type) {
		case bool:
			c.EnableRolesCreation = v
		case string:
			c.EnableRolesCreation, _ = strconv.ParseBool(v)
		}
		for _, p := range []string{propUsername, propPassword, propAPIResourceMgmt, propRolesEndpoint, propRolesCreation, propAuthentication} {
			delete(props, p)
		}
		s.Connector = c
	}
	for k, v := range props {
		if v == MaskedSecret {
			delete(props, k)
		}
	}
	if len(props) > 0 {
		s.AdditionalProperties = props
	}
	return km
}

// kmFromSpec builds the request body. The connector becomes
// additionalProperties (enable_roles_creation as a JSON boolean, which the
// connector requires, WSO2-API.md §5.13); an empty password is sent as
// "*****", which keeps the stored secret on PUT.
func kmFromSpec(km *spec.KeyManager, password string) *wireKM {
	s := &km.Spec
	w := &wireKM{
		Name: km.Metadata.Name, DisplayName: s.DisplayName, Type: s.Type, Description: s.Description,
		WellKnownEndpoint: s.WellKnownEndpoint, Issuer: s.Issuer,
		ClientRegistrationEndpoint: s.ClientRegistrationEndpoint, IntrospectionEndpoint: s.IntrospectionEndpoint,
		TokenEndpoint: s.TokenEndpoint, DisplayTokenEndpoint: s.DisplayTokenEndpoint,
		RevokeEndpoint: s.RevokeEndpoint, DisplayRevokeEndpoint: s.DisplayRevokeEndpoint,
		UserInfoEndpoint: s.UserInfoEndpoint, AuthorizeEndpoint: s.AuthorizeEndpoint,
		ScopeManagementEndpoint: s.ScopeManagementEndpoint,
		AvailableGrantTypes:     orEmpty(s.AvailableGrantTypes),
		EnableTokenGeneration:   s.EnableTokenGeneration, EnableTokenEncryption: s.EnableTokenEncryption,
		EnableTokenHashing: s.EnableTokenHashing, EnableMapOAuthConsumerApps: s.EnableMapOAuthConsumerApps,
		EnableOAuthAppCreation: s.EnableOAuthAppCreation, EnableSelfValidationJWT: s.EnableSelfValidationJWT,
		ClaimMapping:     []wireClaim{},
		ConsumerKeyClaim: s.ConsumerKeyClaim, ScopesClaim: s.ScopesClaim, Enabled: s.Enabled,
		Permissions: wirePermissions{PermissionType: cmpOr(s.Permissions.PermissionType, "PUBLIC"), Roles: orEmpty(s.Permissions.Roles)},
		TokenType:   s.TokenType, Alias: s.Alias, AllowedOrganizations: s.AllowedOrganizations,
		AdditionalProperties: map[string]any{},
	}
	if s.Certificates != nil {
		w.Certificates = &wireKMCert{Type: s.Certificates.Type, Value: s.Certificates.Value}
	}
	for _, c := range s.ClaimMapping {
		w.ClaimMapping = append(w.ClaimMapping, wireClaim(c))
	}
	for k, v := range s.AdditionalProperties {
		w.AdditionalProperties[k] = v
	}
	if c := s.Connector; c != nil {
		p := w.AdditionalProperties
		p[propUsername] = c.Username
		p[propPassword] = cmpOr(password, MaskedSecret)
		p[propAPIResourceMgmt] = c.APIResourceManagementEndpoint
		p[propRolesEndpoint] = c.RolesEndpoint
		p[propRolesCreation] = c.EnableRolesCreation
		if c.Authentication != "" {
			p[propAuthentication] = c.Authentication
		}
	}
	return w
}

// withHint adds a hint to an *APIError that has none.
func withHint(err error, hint string) error {
	if ae, ok := err.(*transport.APIError); ok && ae.Hint == "" {
		cp := *ae
		cp.Hint = hint
		return &cp
	}
	return err
}

func object(kind spec.Kind, name string) spec.Object {
	return spec.Object{APIVersion: spec.APIVersion, Kind: kind, Metadata: spec.Metadata{Name: name}}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
