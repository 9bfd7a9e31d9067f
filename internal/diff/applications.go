package diff

import (
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const (
	reasonKeyManager = "the key manager of an application key cannot change in place: APIM has no DELETE for a key mapping (WSO2-API §5.5), " +
		"so the old mapping is removed with clean-up (its client in the old key manager may be left behind) and a new key is generated"
	reasonKeyMode     = "a key cannot switch between generated and mapped clients in place: the mapping is cleaned up and the key is generated or mapped again"
	reasonKeyClientID = "a mapped key's client cannot change in place: the mapping is cleaned up and the new client is mapped"
	// The owner is read-only in DevPortal (WSO2-API §3.3): APIM makes the
	// user who creates an application its owner, so the only way to give an
	// application to the user wso2sync signs in as is to create it again.
	reasonAppOwner = "the owner of an application is read-only (WSO2-API §3.3): it is deleted and created again by the user wso2sync signs in as; " +
		"APIM deletes its keys and subscriptions with it, so they are created again in the same run (new consumer keys and secrets)"
)

// application normalises an application without its keys, which are
// planned as their own Changes (see applicationKeys).
func (c *normCtx) application(a *spec.Application, desired bool) view {
	s := &a.Spec
	v := c.newView(spec.KindApplication, &a.Object, desired)
	// APIM compares application names case-insensitively (WSO2-API §3.3).
	v.key = a.Key()
	v.add(field{path: "spec.owner", value: owner(s.Owner), always: true, fold: true, replace: reasonAppOwner})
	v.add(field{path: "spec.throttlingPolicy", value: s.ThrottlingPolicy, always: true})
	// APIM forces JWT whatever is sent (WSO2-API §7.4): shown, never compared.
	v.add(field{path: "spec.tokenType", value: strings.ToUpper(s.TokenType), writeOnly: true})
	v.add(field{path: "spec.description", value: s.Description})
	for _, k := range sortedKeys(s.Attributes) {
		// Configured-but-unset attributes come back as "" (a zero value).
		c.addProperty(&v, "spec.attributes."+k, s.Attributes[k])
	}
	v.add(field{path: "spec.groups", value: set(s.Groups, nil)})
	v.add(field{path: "spec.visibility", value: strings.ToUpper(s.Visibility)})
	return v
}

// KeyName is the plan name of an application key.
func KeyName(app, keyType, keyManager string) string {
	return app + "/" + strings.ToUpper(keyType) + "/" + keyManager
}

// applicationKeys normalises the keys of an application, one view each,
// identified by (keyType, keyManager).
func (c *normCtx) applicationKeys(a *spec.Application, desired bool) []view {
	var out []view
	for i, k := range a.Spec.Keys {
		keyType := strings.ToUpper(k.KeyType)
		id := keyType + "/" + k.KeyManager
		p := "spec.keys[" + id + "]"
		pos := fmt.Sprintf("spec.keys[%d]", i)
		v := c.newView(KindApplicationKey, &a.Object, desired)
		v.name = KeyName(a.Metadata.Name, keyType, k.KeyManager)
		v.key = spec.ApplicationKeyKey(a.Metadata.Name, keyType, k.KeyManager)
		v.group = strings.ToLower(a.Metadata.Name) + "/" + keyType
		if desired {
			v.src = a.Pos(pos)
		}
		add := func(name string, f field) {
			f.path, f.pos, f.id = p+"."+name, pos+"."+name, name
			v.add(f)
		}
		add("keyType", field{value: keyType, always: true})
		add("keyManager", field{value: k.KeyManager, always: true, replace: reasonKeyManager})
		add("mode", field{value: keyMode(k.Mode), always: true, replace: reasonKeyMode})
		add("grantTypes", field{value: set(k.GrantTypes, nil), always: true})
		add("callbackUrl", field{value: callbackURLs(k.CallbackURL)})
		// The application token's validity: APIM keeps it in the key's
		// token-lifetime property (read back by the provider), so a change
		// is an in-place update (PUT oauth-keys); compared when the
		// manifest sets it.
		add("validityPeriod", field{value: k.ValidityPeriod})
		// Sent only when the key is generated; APIM has no field to read
		// them back, so they cannot drift.
		add("scopes", field{value: set(k.Scopes, nil), writeOnly: true})
		for _, name := range sortedKeys(k.AdditionalProperties) {
			f := field{value: k.AdditionalProperties[name]}
			if isSecretKey(name) {
				f = field{value: redactValue(k.AdditionalProperties[name]), sensitive: true, writeOnly: true}
			}
			add("additionalProperties."+name, f)
		}
		add("clientId", field{value: k.ClientID, replace: reasonKeyClientID})
		if k.ClientSecret != nil {
			// APIM can return the consumer secret, but the live state holds
			// references only: the secret is set when the key is mapped.
			add("clientSecret", field{value: c.redactRef(*k.ClientSecret), sensitive: true, writeOnly: true})
		}
		out = append(out, v)
	}
	return out
}

// keyMode maps APIM's CREATED/MAPPED onto the manifest's generate/map.
func keyMode(m string) string {
	switch strings.ToLower(m) {
	case "", spec.KeyModeGenerate, "created":
		return spec.KeyModeGenerate
	case spec.KeyModeMap, "mapped":
		return spec.KeyModeMap
	}
	return strings.ToLower(m)
}
