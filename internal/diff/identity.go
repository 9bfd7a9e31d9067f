package diff

import (
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// NameKeys maps a kind and a name the plan used (a manifest name, or a live
// object's) to the object's natural key: the declared object of that name
// first, else the live one, else, for kinds whose key follows from the
// name alone (key managers, applications, application keys), that key. It
// is how an inventory written under plan names (version 1) is re-keyed
// (apply.Inventory.Migrate).
func NameKeys(desired, live *spec.State) func(kind spec.Kind, name string) (string, bool) {
	m := map[spec.Kind]map[string]string{}
	put := func(k spec.Kind, name, key string) {
		if m[k] == nil {
			m[k] = map[string]string{}
		}
		if _, ok := m[k][name]; !ok {
			m[k][name] = key
		}
	}
	for _, st := range []*spec.State{desired, live} {
		if st == nil {
			continue
		}
		for _, x := range st.KeyManagers {
			put(spec.KindKeyManager, x.Metadata.Name, x.Key())
		}
		for _, x := range st.ThrottlingPolicies {
			put(spec.KindThrottlingPolicy, x.Metadata.Name, x.Key())
		}
		for _, x := range st.Applications {
			put(spec.KindApplication, x.Metadata.Name, x.Key())
			for _, k := range x.Spec.Keys {
				put(KindApplicationKey, KeyName(x.Metadata.Name, k.KeyType, k.KeyManager),
					spec.ApplicationKeyKey(x.Metadata.Name, k.KeyType, k.KeyManager))
			}
		}
		for _, x := range st.Subscriptions {
			put(spec.KindSubscription, x.Metadata.Name, x.Key())
		}
		for _, x := range st.Users {
			put(spec.KindUser, x.Metadata.Name, x.Key())
		}
		for _, x := range st.Roles {
			put(spec.KindRole, x.Metadata.Name, x.Key())
		}
		for _, x := range st.Certificates {
			put(spec.KindCertificate, x.Metadata.Name, x.Key())
		}
		for _, x := range st.Truststores {
			put(spec.KindTruststore, x.Metadata.Name, x.Key())
		}
	}
	return func(kind spec.Kind, name string) (string, bool) {
		if k, ok := m[kind][name]; ok {
			return k, true
		}
		switch kind {
		case spec.KindKeyManager:
			return name, true
		case spec.KindApplication:
			return strings.ToLower(name), true
		case KindApplicationKey:
			i := strings.LastIndex(name, "/")
			if i < 0 {
				return "", false
			}
			j := strings.LastIndex(name[:i], "/")
			if j < 0 {
				return "", false
			}
			return spec.ApplicationKeyKey(name[:j], name[j+1:i], name[i+1:]), true
		}
		return "", false
	}
}
