package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Half-states (WSO2-API §3.4, §5.4, §5.11): generate-keys against an IS 7
// key manager first registers the OAuth client in IS, named
// <owner>_<appUUID>_<KEYTYPE>, then stores the mapping. When it fails after
// the registration, or when a mapping is cleaned up (clean-up leaves the IS
// client behind), the application has no key but IS has its client, and
// every later generate-keys fails with 500 (IS refuses the duplicate
// name). The plan finds such clients for the keys it creates, or re-creates
// in a replace (a key moved back to WSO2IS from another key manager whose
// earlier move left the client behind), and shows the repair; the key's
// step deletes the orphaned client before generating.
//
// Adopting the client instead (map-keys with the secret IS returns) would
// make a MAPPED key where the manifest asks for a generated one, a replace
// on the next plan; so generated keys are repaired by removing the orphan.

// orphanClientName is the name APIM's IS 7 connector gives the client of
// an application's key.
func orphanClientName(owner, appID, keyType string) string {
	return owner + "_" + appID + "_" + strings.ToUpper(keyType)
}

// findHalfStates looks up, for each generated key the plan creates (or
// replaces) on an existing application, whether IS already holds its
// client, and notes the repair in the change and in p.orphans.
func (p *Pass) findHalfStates(ctx context.Context, plan *diff.Plan) error {
	p.mu.Lock()
	p.orphans = map[string]string{}
	p.mu.Unlock()
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Kind != diff.KindApplicationKey || (c.Action != diff.Create && c.Action != diff.Replace) {
			continue
		}
		appName, keyType, km, ok := splitKeyName(c.Name)
		if !ok {
			continue
		}
		k := p.desiredKey(appName, keyType, km)
		if k == nil || k.Mode == spec.KeyModeMap || !p.isIS7(km) {
			continue
		}
		appID := p.id(spec.KindApplication, appName)
		owner := p.liveOwner(appName)
		if appID == "" || owner == "" {
			continue // a new application: no client can exist yet
		}
		name := orphanClientName(owner, appID, keyType)
		cl, err := p.Providers.IS.Clients.GetByName(ctx, name)
		if err != nil {
			return fmt.Errorf("looking for a half-created key of %s: %w", c.Name, err)
		}
		if cl == nil || p.replacedOwnClient(*c, cl.ClientID) {
			continue
		}
		p.mu.Lock()
		p.orphans[c.Name] = cl.ClientID
		p.mu.Unlock()
		repair := fmt.Sprintf("repairs a half-state: IS still holds the client %s (client_id %s) of an earlier "+
			"generate-keys that failed or whose mapping was cleaned up, so generate-keys would fail (WSO2-API §5.4): "+
			"the orphaned client is deleted, then the key is generated", name, cl.ClientID)
		if c.Reason == "" {
			c.Reason = repair
		} else {
			c.Reason += "; " + repair
		}
	}
	return nil
}

// replacedOwnClient reports whether clientID is the live key's own client,
// which a replace already deletes after its clean-up (keys.go): not an
// orphan.
func (p *Pass) replacedOwnClient(c diff.Change, clientID string) bool {
	if c.Action != diff.Replace {
		return false
	}
	name := c.Name
	if c.LiveName != "" {
		name = c.LiveName
	}
	app, keyType, km, ok := splitKeyName(name)
	if !ok {
		return false
	}
	lk := p.liveKey(app, keyType, km)
	return lk != nil && lk.Spec.Mode != spec.KeyModeMap && lk.ConsumerKey == clientID && p.isIS7(km)
}

// isIS7 reports whether the key manager registers clients in IS.
func (p *Pass) isIS7(km string) bool {
	if d := p.State.KeyManager(km); d != nil {
		return d.Spec.Type == kmTypeIS7
	}
	if p.Live != nil {
		if l := p.Live.State.KeyManager(km); l != nil {
			return l.Spec.Type == kmTypeIS7
		}
	}
	return false
}

// liveOwner is the owner of a live application ("" if unknown).
func (p *Pass) liveOwner(app string) string {
	if p.Live == nil {
		return ""
	}
	if a := p.Live.State.Application(app); a != nil {
		return a.Spec.Owner
	}
	return ""
}

// removeOrphanClient deletes the orphaned IS client of a key the plan
// found in a half-state (a no-op for other keys).
func (p *Pass) removeOrphanClient(ctx context.Context, keyName string) error {
	p.mu.Lock()
	id := p.orphans[keyName]
	p.mu.Unlock()
	if id == "" {
		return nil
	}
	if err := p.Providers.IS.Clients.Delete(ctx, id); err != nil {
		return fmt.Errorf("removing the orphaned IS client %s of %s: %w", id, keyName, err)
	}
	return nil
}
