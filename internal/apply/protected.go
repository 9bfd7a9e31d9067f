package apply

import (
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// protected lists, per kind, the built-in objects wso2sync never deletes,
// whatever the inventory or the plan says. They exist on every fresh
// install and the servers (or their users) rely on them.
var protected = map[spec.Kind][]string{
	// Every DevPortal user's default application; APIM recreates it anyway.
	spec.KindApplication: {"DefaultApplication"},
	// The super admin: deleting it locks everyone out of both servers.
	spec.KindUser: {"admin"},
	// The Resident Key Manager can be disabled, never deleted.
	spec.KindKeyManager: spec.BuiltinKeyManagers,
	// Built-in tiers of both levels (a name protects it at either level;
	// manifests name policies uniquely across levels).
	spec.KindThrottlingPolicy: concat(spec.BuiltinApplicationTiers, spec.BuiltinSubscriptionTiers),
	// IS's own roles.
	spec.KindRole: spec.BuiltinRoles,
}

func concat(a, b []string) []string { return append(append([]string(nil), a...), b...) }

// Protected reports whether an object is built in and must never be
// deleted. User names compare without the PRIMARY/ user store prefix and
// without case, as IS does by default.
func Protected(r Ref) bool {
	name := r.Name
	if r.Kind == spec.KindUser {
		if d, n, ok := strings.Cut(name, "/"); ok && strings.EqualFold(d, "PRIMARY") {
			name = n
		}
	}
	for _, p := range protected[r.Kind] {
		if name == p || (r.Kind == spec.KindUser && strings.EqualFold(name, p)) {
			return true
		}
	}
	return false
}
