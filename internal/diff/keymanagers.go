package diff

import (
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// IS7 connector keys as APIM stores them in additionalProperties
// (WSO2-API §3.1). Providers may hand the live connector over either as
// spec.IS7Connector or as these raw properties; both normalise alike.
const (
	is7Username     = "Username"
	is7Password     = "Password"
	is7APIResources = "api_resource_management_endpoint"
	is7Roles        = "is7_roles_endpoint"
	is7RolesCreate  = "enable_roles_creation"
	is7Auth         = "Authentication"
)

var is7Keys = []string{is7Username, is7Password, is7APIResources, is7Roles, is7RolesCreate, is7Auth}

const reasonKMType = "the type of a key manager cannot change in place (its connector configuration belongs to the type): it is deleted and re-created"

// keyManager normalises a key manager. Flags with schema defaults
// (enableTokenGeneration, …, tokenType, permissions) are compared only when
// the manifest writes them: APIM fills them differently for the Resident
// Key Manager and for key managers made elsewhere, and a plan must not flip
// settings nobody declared.
func (c *normCtx) keyManager(km *spec.KeyManager, desired bool) view {
	s := &km.Spec
	v := c.newView(spec.KindKeyManager, &km.Object, desired)
	v.key = km.Key()
	v.add(field{path: "spec.type", value: s.Type, always: true, replace: reasonKMType})
	v.add(field{path: "spec.displayName", value: s.DisplayName})
	v.add(field{path: "spec.description", value: s.Description})
	v.add(field{path: "spec.enabled", value: s.Enabled, always: true})
	for _, e := range []struct {
		path, value string
	}{
		{"wellKnownEndpoint", s.WellKnownEndpoint},
		{"clientRegistrationEndpoint", s.ClientRegistrationEndpoint},
		{"introspectionEndpoint", s.IntrospectionEndpoint},
		{"tokenEndpoint", s.TokenEndpoint},
		{"displayTokenEndpoint", s.DisplayTokenEndpoint},
		{"revokeEndpoint", s.RevokeEndpoint},
		{"displayRevokeEndpoint", s.DisplayRevokeEndpoint},
		{"userInfoEndpoint", s.UserInfoEndpoint},
		{"authorizeEndpoint", s.AuthorizeEndpoint},
		{"scopeManagementEndpoint", s.ScopeManagementEndpoint},
	} {
		v.add(field{path: "spec." + e.path, value: optURL(e.value)})
	}
	// The issuer is compared verbatim: it must equal the token's iss claim
	// byte for byte (WSO2-API §5.25), a trailing slash included.
	v.add(field{path: "spec.issuer", value: s.Issuer})
	if cert := s.Certificates; cert != nil {
		typ := strings.ToUpper(cert.Type)
		val := cert.Value
		if typ == "JWKS" {
			val = normURL(val)
		} else if fp, err := pemFingerprint([]byte(val)); err == nil {
			val = fp // PEM text differs in line breaks; the certificate does not
		}
		v.add(field{path: "spec.certificates.type", value: typ})
		v.add(field{path: "spec.certificates.value", value: val})
	}
	v.add(field{path: "spec.availableGrantTypes", value: set(s.AvailableGrantTypes, nil)})
	for _, f := range []struct {
		path  string
		value bool
	}{
		{"enableTokenGeneration", s.EnableTokenGeneration},
		{"enableTokenEncryption", s.EnableTokenEncryption},
		{"enableTokenHashing", s.EnableTokenHashing},
		{"enableMapOAuthConsumerApps", s.EnableMapOAuthConsumerApps},
		{"enableOAuthAppCreation", s.EnableOAuthAppCreation},
		{"enableSelfValidationJWT", s.EnableSelfValidationJWT},
	} {
		v.add(field{path: "spec." + f.path, value: f.value})
	}
	var claims []map[string]any
	for _, m := range s.ClaimMapping {
		claims = append(claims, map[string]any{"remoteClaim": m.RemoteClaim, "localClaim": m.LocalClaim})
	}
	v.add(field{path: "spec.claimMapping", value: sortMaps(claims, "remoteClaim", "localClaim")})
	v.add(field{path: "spec.consumerKeyClaim", value: s.ConsumerKeyClaim})
	v.add(field{path: "spec.scopesClaim", value: s.ScopesClaim})
	v.add(field{path: "spec.permissions.permissionType", value: strings.ToUpper(s.Permissions.PermissionType)})
	v.add(field{path: "spec.permissions.roles", value: set(s.Permissions.Roles, nil)})
	v.add(field{path: "spec.tokenType", value: strings.ToUpper(s.TokenType)})
	v.add(field{path: "spec.alias", value: s.Alias})
	v.add(field{path: "spec.allowedOrganizations", value: set(s.AllowedOrganizations, nil)})

	conn, props := c.is7Connector(s)
	if conn != nil {
		v.add(field{path: "spec.connector.username", value: conn.username})
		// Write-only: APIM answers "*****" (WSO2-API §5.14).
		v.add(field{path: "spec.connector.password", value: conn.password, sensitive: true, writeOnly: true})
		v.add(field{path: "spec.connector.apiResourceManagementEndpoint", value: optURL(conn.apiResources)})
		v.add(field{path: "spec.connector.rolesEndpoint", value: optURL(conn.roles)})
		v.add(field{path: "spec.connector.enableRolesCreation", value: conn.rolesCreation})
		v.add(field{path: "spec.connector.authentication", value: conn.auth})
	}
	for _, k := range sortedKeys(props) {
		c.addProperty(&v, "spec.additionalProperties."+k, props[k])
	}
	return v
}

// addProperty adds one free-form property. Properties named like secrets
// are fingerprinted and never compared: APIM masks them on GET.
func (c *normCtx) addProperty(v *view, path string, value any) {
	s := scalarString(value)
	name := path[strings.LastIndexByte(path, '.')+1:]
	if isSecretKey(name) {
		v.add(field{path: path, value: redactValue(s), sensitive: true, writeOnly: true})
		return
	}
	v.add(field{path: path, value: s})
}

type is7Conn struct {
	username, apiResources, roles, auth string
	password                            Redacted
	rolesCreation                       bool
}

// is7Connector returns the connector (from spec.connector or lifted out of
// additionalProperties) and the remaining free-form properties.
func (c *normCtx) is7Connector(s *spec.KeyManagerSpec) (*is7Conn, map[string]any) {
	props := map[string]any{}
	for k, val := range s.AdditionalProperties {
		props[k] = val
	}
	if s.Connector != nil {
		cn := s.Connector
		return &is7Conn{
			username: cn.Username, password: c.redactRef(cn.Password),
			apiResources: cn.APIResourceManagementEndpoint, roles: cn.RolesEndpoint,
			rolesCreation: cn.EnableRolesCreation, auth: cn.Authentication,
		}, props
	}
	if s.Type != "WSO2-IS-7" {
		return nil, props
	}
	cn := &is7Conn{
		username:     scalarString(props[is7Username]),
		password:     redactValue(scalarString(props[is7Password])),
		apiResources: scalarString(props[is7APIResources]),
		roles:        scalarString(props[is7Roles]),
		auth:         scalarString(props[is7Auth]),
		// A JSON boolean on the wire; tolerate the string a provider might keep.
		rolesCreation: scalarString(props[is7RolesCreate]) == "true",
	}
	for _, k := range is7Keys {
		delete(props, k)
	}
	return cn, props
}

func optURL(s string) string {
	if s == "" {
		return ""
	}
	return normURL(s)
}
