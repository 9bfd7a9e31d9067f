package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/is"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// splitKeyName splits "<application>/<KEYTYPE>/<keyManager>".
func splitKeyName(name string) (app, keyType, km string, ok bool) {
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return "", "", "", false
	}
	j := strings.LastIndex(name[:i], "/")
	if j < 0 {
		return "", "", "", false
	}
	return name[:j], name[j+1 : i], name[i+1:], true
}

// desiredKey finds a key entry of a desired application.
func (p *Pass) desiredKey(app, keyType, km string) *spec.ApplicationKey {
	a := p.State.Application(app)
	if a == nil {
		return nil
	}
	for i := range a.Spec.Keys {
		k := &a.Spec.Keys[i]
		if strings.EqualFold(k.KeyType, keyType) && k.KeyManager == km {
			return k
		}
	}
	return nil
}

// liveKey finds a live key mapping.
func (p *Pass) liveKey(app, keyType, km string) *apim.Key {
	if p.Live == nil {
		return nil
	}
	for i, k := range p.Live.Keys[app] {
		if strings.EqualFold(k.Spec.KeyType, keyType) && k.Spec.KeyManager == km {
			return &p.Live.Keys[app][i]
		}
	}
	return nil
}

// withValidity returns the key with its validityPeriod written as the key
// manager's token-lifetime property (a string, which is what the IS 7
// connector honours, WSO2-API §3.1), unless the manifest sets that
// property itself: APIM keeps a key's token validity there, and PUT
// oauth-keys changes it in place.
func (p *Pass) withValidity(k spec.ApplicationKey) spec.ApplicationKey {
	if k.ValidityPeriod <= 0 {
		return k
	}
	prop := apim.PropTokenLifetimeResident
	if p.isIS7(k.KeyManager) {
		prop = apim.PropTokenLifetimeIS7
	}
	if _, set := k.AdditionalProperties[prop]; set {
		return k
	}
	props := make(map[string]string, len(k.AdditionalProperties)+1)
	for n, v := range k.AdditionalProperties {
		props[n] = v
	}
	props[prop] = strconv.Itoa(k.ValidityPeriod)
	k.AdditionalProperties = props
	return k
}

// key generates, maps, updates or removes one application key:
//
//   - generate mode: generate-keys on the named key manager;
//   - map mode: the client is registered in IS by DCR (with the fixed
//     client id and the secret from its reference) unless it exists, then
//     mapped with map-keys;
//   - changed grant types, callback URL or properties update the key in
//     place; a replace (mode or client id changed) cleans up and redoes it.
func (p *Pass) key(ctx context.Context, c diff.Change) error {
	appName, keyType, km, ok := splitKeyName(c.Name)
	if !ok {
		return fmt.Errorf("ApplicationKey %s: malformed name", c.Name)
	}
	a := p.Providers.APIM.Keys
	ref := p.appRef(appName)
	if c.Action == diff.Delete || c.Action == diff.Replace {
		// The live key of a replace may be another key manager's (LiveName).
		lApp, lType, lKM := appName, keyType, km
		if c.LiveName != "" {
			if a, t, k, ok := splitKeyName(c.LiveName); ok {
				lApp, lType, lKM = a, t, k
			}
		}
		if lk := p.liveKey(lApp, lType, lKM); lk != nil && lk.KeyMappingID != "" {
			if err := a.CleanUp(ctx, ref, lk.KeyMappingID); err != nil {
				return err
			}
			// clean-up leaves a generated key's client in IS (WSO2-API
			// §3.4, §5.5): remove it too, or it is an orphan that breaks
			// the next generate-keys of this key. A mapped key's client was
			// made for it out of band and may serve others: it stays.
			if lk.Spec.Mode != spec.KeyModeMap && lk.ConsumerKey != "" && p.isIS7(lKM) {
				if err := p.Providers.IS.Clients.Delete(ctx, lk.ConsumerKey); err != nil {
					return fmt.Errorf("%s: removing its IS client after clean-up: %w", c.Name, err)
				}
			}
		}
		if c.Action == diff.Delete {
			return nil
		}
	}
	k := p.desiredKey(appName, keyType, km)
	if k == nil {
		return notFound(c, "desired")
	}
	wk := p.withValidity(*k)
	k = &wk
	if c.Action == diff.Update {
		lk := p.liveKey(appName, keyType, km)
		if lk == nil {
			return notFound(c, "live")
		}
		_, err := a.Update(ctx, ref, lk.KeyMappingID, *k)
		return err
	}
	var (
		got *apim.Key
		err error
	)
	if k.Mode == spec.KeyModeMap {
		secret, serr := p.secret(ctx, k.ClientSecret)
		if serr != nil {
			return serr
		}
		cl, gerr := p.Providers.IS.Clients.Get(ctx, k.ClientID)
		if gerr != nil {
			return gerr
		}
		if cl == nil {
			reg := is.ClientRegistration{ClientName: appName + "_" + k.KeyType, GrantTypes: k.GrantTypes,
				ClientID: k.ClientID, ClientSecret: secret}
			if k.CallbackURL != "" {
				reg.RedirectURIs = []string{k.CallbackURL}
			}
			if _, rerr := p.Providers.IS.Clients.Register(ctx, reg); rerr != nil {
				return rerr
			}
		}
		got, err = a.Map(ctx, ref, *k, secret)
	} else {
		if err := p.removeOrphanClient(ctx, c.Name); err != nil {
			return err
		}
		got, err = a.Generate(ctx, ref, *k)
	}
	if err != nil {
		return err
	}
	if got != nil {
		p.log.Info("application key ready", "key", c.Name, "consumerKey", got.ConsumerKey,
			"secretReturned", got.HasSecret)
	}
	return nil
}
