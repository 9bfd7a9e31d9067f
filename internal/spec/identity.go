package spec

import (
	"path/filepath"
	"strings"
)

// Each kind's natural key: what identifies an object on its server, so
// what pairs a live object with a declared one, what the inventory records
// as owned and what prune asks about. metadata.name is a label where the
// server's identity is something else (a subscription is its application
// and API; a role its display name and audience). Defined here, once per
// kind, and used by the diff, the providers (adopting declared names for
// live objects) and the inventory alike. Keys are case-folded where the
// server compares case-insensitively, and readable: they are written to
// the inventory.

// Key is a key manager's name (unique per tenant, compared exactly).
func (k *KeyManager) Key() string { return k.Metadata.Name }

// Key is a tier's level and name: APIM keeps an application and a
// subscription tier of the same name apart.
func (p *ThrottlingPolicy) Key() string { return PolicyKey(p.Spec.Level, p.Metadata.Name) }

// PolicyKey is the natural key of a tier.
func PolicyKey(level, name string) string { return strings.ToLower(level) + "/" + name }

// Key is an application's name, case-folded (APIM compares application
// names case-insensitively, WSO2-API §3.3).
func (a *Application) Key() string { return strings.ToLower(a.Metadata.Name) }

// ApplicationKeyKey is the natural key of an application key: its
// application, key type and key manager (WSO2-API §3.4).
func ApplicationKeyKey(app, keyType, keyManager string) string {
	return strings.ToLower(app) + "/" + strings.ToUpper(keyType) + "/" + keyManager
}

// Key is a subscription's application and API (name and version): APIM
// keeps one subscription per pair (WSO2-API §3.5). API names are unique
// case-insensitively (§3.6).
func (s *Subscription) Key() string { return SubscriptionKey(s.Spec.Application, s.Spec.API) }

// SubscriptionKey is the natural key of a subscription.
func SubscriptionKey(app string, api APIRef) string {
	return strings.ToLower(app) + "/" + strings.ToLower(api.Name) + "/" + api.Version
}

// Key is a user's user store and userName ("PRIMARY/alice"; a userName
// may carry its store as "SECONDARY/bob"); names compare
// case-insensitively in the default user stores.
func (u *User) Key() string {
	name := u.Spec.UserName
	if name == "" {
		name = u.Metadata.Name
	}
	return UserKey(u.Spec.Domain, name)
}

// UserKey is the natural key of a user.
func UserKey(domain, name string) string {
	if d, n, ok := strings.Cut(name, "/"); ok {
		domain, name = d, n
	}
	if domain == "" {
		domain = "PRIMARY"
	}
	return strings.ToUpper(domain) + "/" + strings.ToLower(name)
}

// Key is a role's display name and audience: IS keys roles by both
// (WSO2-API §5.9).
func (r *Role) Key() string {
	display := r.Spec.DisplayName
	if display == "" {
		display = r.Metadata.Name
	}
	return RoleKey(display, r.Spec.Audience)
}

// RoleKey is the natural key of a role.
func RoleKey(display string, aud RoleAudience) string {
	k := strings.ToLower(display) + "/" + AudienceType(aud.Type)
	if aud.Application != "" {
		k += "/" + aud.Application
	}
	return k
}

// AudienceType lower-cases a role audience and repairs the spelling some
// IS schemas use ("applciation", WSO2-API §7.18); no audience is
// organization.
func AudienceType(t string) string {
	switch t = strings.ToLower(strings.TrimSpace(t)); t {
	case "", "org":
		return "organization"
	case "applciation", "app":
		return "application"
	}
	return t
}

// Key is a certificate's alias (APIM keeps endpoint and client
// certificates by alias); a key-manager certificate has no APIM object of
// its own (it is the key manager's certificates field), so its key is its
// key manager's: one per key manager.
func (c *Certificate) Key() string {
	if c.Spec.Usage == CertUsageKeyManager {
		return KeyManagerCertKey(c.Spec.KeyManager)
	}
	return c.AliasOrName()
}

// KeyManagerCertKey is the natural key of a key manager's certificate.
func KeyManagerCertKey(keyManager string) string { return "keyManager/" + keyManager }

// Key is a truststore's file path (cleaned).
func (t *Truststore) Key() string { return filepath.Clean(t.Spec.Path) }
