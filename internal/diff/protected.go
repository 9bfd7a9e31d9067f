package diff

import (
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// Protected lists the objects wso2sync never deletes or replaces, whoever
// created them: every APIM/IS install has them and other things depend on
// them (DESIGN §4). The Resident Key Manager is disabled, never deleted.
// Undeclared protected objects are not reported as unmanaged either.
var Protected = map[spec.Kind][]string{
	spec.KindApplication: {"DefaultApplication"},
	spec.KindUser:        {"admin"},
	spec.KindKeyManager:  spec.BuiltinKeyManagers,
	spec.KindRole:        spec.BuiltinRoles,
	// Built-in tiers of both levels, by name.
	spec.KindThrottlingPolicy: slices.Concat(spec.BuiltinApplicationTiers, spec.BuiltinSubscriptionTiers),
}

// IsProtected reports whether an object is in the Protected set. User
// names are matched without their PRIMARY/ prefix and case-insensitively,
// as IS matches them.
func IsProtected(kind spec.Kind, name string) bool {
	names := Protected[kind]
	if kind == spec.KindUser {
		name = stripDomain(name)
		return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) })
	}
	return slices.Contains(names, name)
}
