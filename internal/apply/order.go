package apply

import (
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// KindApplicationKey is the kind of one OAuth key of an application
// (keyType × key manager), which the plan gives changes of its own so keys
// run at their own level. It is diff's constant: one name for both.
const KindApplicationKey = diff.KindApplicationKey

// levels is the dependency order of the kinds, declared once. A kind may
// only depend on kinds of a lower level, so creating and updating level by
// level ascending never meets a missing dependency, and deleting level by
// level descending never deletes something still in use by wso2sync's own
// objects. The comments name each edge.
var levels = [][]spec.Kind{
	// 0: trust comes first: a KeyManager's endpoints are called over TLS
	// (Truststore entries) and its JWTs may be verified with a PEM
	// (Certificate of usage keyManager is uploaded as the KM's certificate,
	// wired by the caller as an explicit dependency where needed).
	{spec.KindCertificate, spec.KindTruststore},
	// 1: KeyManager ← Certificate/Truststore (above). ThrottlingPolicy and
	// Role depend on nothing wso2sync manages (policy permissions name IS
	// roles by string, checked by APIM only at runtime).
	{spec.KindKeyManager, spec.KindThrottlingPolicy, spec.KindRole},
	// 2: Application ← ThrottlingPolicy (its application tier) and
	// KeyManager (its keys, when the plan keeps them inside the app);
	// User ← Role (role membership is assigned by role id).
	{spec.KindApplication, spec.KindUser},
	// 3: ApplicationKey ← Application (keys belong to an app) and
	// KeyManager (keys are generated or mapped against one).
	{KindApplicationKey},
	// 4: Subscription ← Application and ThrottlingPolicy (its subscription
	// tier); the API must be PUBLISHED, which wso2sync checks, not creates.
	{spec.KindSubscription},
}

// levelOf indexes levels by kind.
var levelOf = func() map[spec.Kind]int {
	m := map[spec.Kind]int{}
	for l, kinds := range levels {
		for _, k := range kinds {
			m[k] = l
		}
	}
	return m
}()

// Level returns the apply level of a kind, or -1 for a kind that is not
// applied (Environment) or unknown.
func Level(k spec.Kind) int {
	if l, ok := levelOf[k]; ok {
		return l
	}
	return -1
}

// MaxLevel is the highest level.
func MaxLevel() int { return len(levels) - 1 }

// Levels returns the kinds of each level, lowest first (a copy).
func Levels() [][]spec.Kind {
	out := make([][]spec.Kind, len(levels))
	for i, l := range levels {
		out[i] = append([]spec.Kind(nil), l...)
	}
	return out
}
