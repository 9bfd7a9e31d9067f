package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// SecretOptions are the secrets side of a pass (issue 7), given to Load as
// Options.Secrets: the run's seal recipients and the identity that opens
// {sealed:} inputs, from which Load builds the resolver of secret inputs and
// the sealer (whose Capture it makes the providers' OnSecret hook, so no
// caller can forget it), and the keys asked to rotate.
type SecretOptions struct {
	// Recipients are the run's extra seal recipients (--seal-recipient and
	// $WSO2SYNC_SEAL_RECIPIENTS, see secrets.RunRecipients), added to the
	// environment's spec.seal.recipients.
	Recipients []string
	// Identity is the age identity file that opens {sealed:} inputs
	// (--identity); empty means $WSO2SYNC_AGE_IDENTITY, read only when a
	// {sealed:} reference is resolved.
	Identity string
	// Sealer is built and configured by Load when nil; one per pass.
	Sealer *secrets.Sealer
	// OutBase, when set, replaces the environment's folder as the base of
	// the sealed outputs (secrets.SealerOptions.OutBase).
	OutBase string
	// Rotate asks for the rotation of keys now (wso2sync rotate).
	Rotate []RotateRequest
	// Now is the clock of rotation schedules (tests); default time.Now.
	Now func() time.Time
}

// RotateRequest names the keys of an application to rotate; KeyType ""
// means every key type.
type RotateRequest struct{ Application, KeyType string }

// sealField is the plan field of a sealed consumer secret.
func sealField(keyType, km string) string {
	return "spec.keys[" + keyType + "/" + km + "].consumerSecret (sealed)"
}

// Sealing reports whether the pass can seal (it has recipients).
func (o *SecretOptions) Sealing() bool {
	return o != nil && o.Sealer != nil && o.Sealer.HasRecipients()
}

// PlanSecrets adds the secret changes to a computed plan, when the pass can
// seal:
//
//   - a key whose live secret is not the sealed one (never sealed, changed
//     out of band, or left by an interrupted rotation) is an update of the
//     field "consumerSecret (sealed)", shown as changed only; with secretDrift
//     rotate an out-of-band change is a rotation instead, with report it is
//     a plan warning only. An interrupted rotation is always re-sealed: the
//     live value is the one clients now need.
//   - a key due for rotation (spec.keys[].rotate.every since it was last
//     created or rotated) or asked to rotate is a Rotate change (± rotate).
//
// Keys that are created or replaced in the same plan are sealed by their
// own step.
func (p *Pass) PlanSecrets(plan *diff.Plan, o *SecretOptions) error {
	if !o.Sealing() || p.Live == nil {
		return nil
	}
	ix, err := o.Sealer.Store.ReadIndex()
	if err != nil {
		return err
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	policy := cmpOr(p.State.Environment.Spec.Seal.SecretDrift, spec.SecretDriftReseal)
	var unverified []string
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Kind != diff.KindApplicationKey || (c.Action != diff.NoOp && c.Action != diff.Update) {
			continue
		}
		app, keyType, km, ok := splitKeyName(c.Name)
		if !ok {
			continue
		}
		lk := p.liveKey(app, keyType, km)
		dk := p.desiredKey(app, keyType, km)
		kid := secrets.KeyID{Application: app, KeyType: keyType, KeyManager: km}
		if lk == nil || dk == nil || !lk.HasSecret || !o.Sealer.Captured(kid) {
			continue
		}
		e := ix.Find(kid)
		unsealed := e == nil || e.Fingerprint == ""
		rotating := e != nil && e.Rotating != nil
		verdict := o.Sealer.Verify(kid, e)
		if verdict == secrets.Unknown && !unsealed && !rotating {
			// Recorded under another machine's key (the index travels in
			// git, the key stays in the state directory): cannot tell.
			unverified = append(unverified, c.Name)
		}
		drift := unsealed || verdict == secrets.Differs
		reason := ""
		switch {
		case rotating:
			reason = "an interrupted rotation left a new live secret: re-seal it"
		case drift && unsealed:
			reason = "the live secret is not sealed yet"
		case drift && policy == spec.SecretDriftReport:
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("secret drift: %s: the live secret is not the sealed one; secretDrift: report leaves it", c.Name))
		case drift && policy == spec.SecretDriftRotate:
			toRotate(c, "secret drift (changed out of band), secretDrift: rotate")
			continue
		case drift:
			reason = "secret drift: the live secret changed out of band; the live value wins (secretDrift: reseal)"
		}
		if reason != "" {
			c.Action = diff.Update
			c.Reason = joinReason(c.Reason, reason)
			c.Sensitive = true
			before := diff.SensitiveValue
			if unsealed {
				before = ""
			}
			c.Fields = append(c.Fields, diff.FieldDiff{Path: sealField(keyType, km), Before: before,
				After: diff.SensitiveValue, Sensitive: true, Source: c.Source})
			continue
		}
		if why := rotationDue(dk, e, o.Rotate, app, keyType, now); why != "" && lk.Spec.Mode != spec.KeyModeMap {
			toRotate(c, why)
		}
	}
	if len(unverified) > 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("secret drift not checked for %d key(s) (%s): %s was fingerprinted under another fingerprint key (%s is per machine); the next seal re-fingerprints them",
			len(unverified), strings.Join(unverified, ", "), secrets.IndexFile, secrets.MACKeyFile))
	}
	plan.Recount()
	return nil
}

func toRotate(c *diff.Change, why string) {
	c.Action = diff.Rotate
	c.Reason = joinReason(c.Reason, why)
	c.Sensitive = true
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// rotationDue says why a key must rotate now ("" if it need not).
func rotationDue(dk *spec.ApplicationKey, e *secrets.IndexEntry, reqs []RotateRequest, app, keyType string, now time.Time) string {
	for _, r := range reqs {
		if strings.EqualFold(r.Application, app) && (r.KeyType == "" || strings.EqualFold(r.KeyType, keyType)) {
			return "rotation requested (wso2sync rotate)"
		}
	}
	if dk.Rotate == nil || e == nil {
		return ""
	}
	every, err := dk.Rotate.Interval()
	if err != nil {
		return ""
	}
	last := e.CreatedAt
	if e.RotatedAt.After(last) {
		last = e.RotatedAt
	}
	if !last.IsZero() && now.Sub(last) >= every {
		return fmt.Sprintf("rotation due (every %s; last %s)", dk.Rotate.Every, last.UTC().Format(time.DateOnly))
	}
	return ""
}

// ApplySealed is Apply with the secrets wiring: every key step seals the
// secret it produced before it reports success (a failed seal fails the
// step, and so the run), seal-only changes re-seal the live value, and
// Rotate changes rotate the secret on the server and seal the new one.
func (p *Pass) ApplySealed(ctx context.Context, plan *diff.Plan, o ApplyOptions, so *SecretOptions) *apply.Result {
	p.trustBegin(plan)   // restart actions once per truststore group (truststores.go)
	p.beginMembers(plan) // role memberships batched per role (members.go)
	steps := apply.Steps(plan, func(c diff.Change) func(context.Context) error {
		if c.Kind != diff.KindApplicationKey || c.Action == diff.Delete {
			return p.Do(c)
		}
		return func(ctx context.Context) error { return p.keySealed(ctx, c, so) }
	})
	res := apply.Run(ctx, steps, apply.RunOptions{Concurrency: o.Concurrency, Journal: o.Journal,
		Inventory: o.Inventory, Progress: o.Progress})
	p.endMembers(ctx, res)
	p.trustEnd(ctx, res)
	return res
}

func (p *Pass) keySealed(ctx context.Context, c diff.Change, so *SecretOptions) error {
	app, keyType, km, ok := splitKeyName(c.Name)
	if !ok {
		return fmt.Errorf("ApplicationKey %s: malformed name", c.Name)
	}
	kid := secrets.KeyID{Application: app, KeyType: keyType, KeyManager: km}
	// The server-side part of the change, without the sealed field.
	rest := c
	rest.Fields = slices.DeleteFunc(slices.Clone(c.Fields), func(f diff.FieldDiff) bool { return f.Path == sealField(keyType, km) })
	switch {
	case c.Action == diff.Rotate:
		if len(rest.Fields) > 0 {
			rest.Action = diff.Update
			if err := p.key(ctx, rest); err != nil {
				return err
			}
		}
		return p.rotate(ctx, kid, so)
	case c.Action == diff.Update && len(rest.Fields) == 0:
		// Seal only: the live value was captured when the key was read.
	default:
		if so.Sealing() {
			// Forget what the read captured: only this step's secret counts.
			so.Sealer.Forget(kid)
		}
		if err := p.key(ctx, rest); err != nil {
			return err
		}
	}
	if !so.Sealing() {
		return nil
	}
	if c.Action == diff.Update && len(rest.Fields) > 0 && !so.Sealer.Captured(kid) {
		return nil // an update that returned no secret: nothing new to seal
	}
	return p.seal(kid, false, so)
}

func (p *Pass) seal(kid secrets.KeyID, rotated bool, so *SecretOptions) error {
	var grants []string
	if dk := p.desiredKey(kid.Application, kid.KeyType, kid.KeyManager); dk != nil {
		grants = dk.GrantTypes
	}
	start := time.Now()
	e, err := so.Sealer.Seal(kid, grants, rotated)
	p.sealed.Add(1)
	p.sealNanos.Add(int64(time.Since(start)))
	if err != nil {
		return err
	}
	p.log.Info("sealed", "key", kid.String(), "file", e.File, "recipients", len(e.Recipients))
	return nil
}

// errNoRotation is APIM's regenerate-secret with a key manager whose
// connector returns no new secret (WSO2-API §3.4, §5.15).
var errNoRotation = errors.New("APIM's regenerate-secret does not rotate secrets of this key manager (WSO2-API §5.15: the connector returns no new secret)")

// kmTypeIS7 is the key manager type whose secrets rotate in IS.
const kmTypeIS7 = "WSO2-IS-7"

// rotate renews a key's consumer secret and seals the new one. The index
// is marked first, so a crash between the server call and the seal is seen
// by the next run, which re-seals the live (new) value. The old sealed file
// stays until the new one replaces it atomically.
//
// Where the secret really changes depends on the key manager: the Resident
// KM rotates through APIM's oauth-keys regenerate-secret; the IS 7 key
// manager in IS (WSO2-API §3.4, §5.15: APIM's call rotates nothing there),
// through the IS application behind the client (rotateInIS).
func (p *Pass) rotate(ctx context.Context, kid secrets.KeyID, so *SecretOptions) error {
	if !so.Sealing() {
		return fmt.Errorf("cannot rotate %s: no seal recipients, so the new secret could not be kept (set spec.seal.recipients or pass --seal-recipient)", kid)
	}
	lk := p.liveKey(kid.Application, kid.KeyType, kid.KeyManager)
	if lk == nil || lk.KeyMappingID == "" {
		return fmt.Errorf("cannot rotate %s: no live key mapping (re-run plan)", kid)
	}
	if km := p.State.KeyManager(kid.KeyManager); km != nil && km.Spec.Type == kmTypeIS7 {
		return p.rotateInIS(ctx, kid, lk.ConsumerKey, so)
	}
	if err := so.Sealer.Store.MarkRotating(kid); err != nil {
		return fmt.Errorf("cannot rotate %s: %w", kid, err)
	}
	so.Sealer.Forget(kid)
	rotated, err := p.Providers.APIM.RegenerateSecret(ctx, p.appRef(kid.Application), kid.KeyType, kid.KeyManager, lk.KeyMappingID)
	if err == nil && !rotated {
		err = errNoRotation
	}
	if err != nil {
		_ = so.Sealer.Store.ClearRotating(kid)
		return fmt.Errorf("rotating %s: %w", kid, err)
	}
	p.log.Info("rotated", "key", kid.String())
	return p.sealRotated(kid, so)
}

// rotateInIS rotates the secret of an IS 7 key manager's key in IS: the
// IS application behind the client is looked up by client id (before the
// index is marked, so a key IS does not know fails with nothing changed),
// then its OIDC secret is regenerated, captured and sealed. APIM reads
// these secrets live from IS, so the next read sees the new one.
func (p *Pass) rotateInIS(ctx context.Context, kid secrets.KeyID, clientID string, so *SecretOptions) error {
	if clientID == "" {
		return fmt.Errorf("cannot rotate %s: the live key has no consumer key (re-run plan)", kid)
	}
	apps := p.Providers.IS.Applications
	appID, err := apps.FindByClientID(ctx, clientID)
	if err != nil {
		return fmt.Errorf("cannot rotate %s: finding the IS application of client %s: %w", kid, clientID, err)
	}
	if appID == "" {
		return fmt.Errorf("cannot rotate %s: IS has no application for client %s (is key manager %s backed by another IS than spec.is.url?)",
			kid, clientID, kid.KeyManager)
	}
	if err := so.Sealer.Store.MarkRotating(kid); err != nil {
		return fmt.Errorf("cannot rotate %s: %w", kid, err)
	}
	so.Sealer.Forget(kid)
	secret, err := apps.RegenerateSecret(ctx, appID)
	if err != nil {
		var ae *transport.APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
			// Refused: nothing rotated.
			_ = so.Sealer.Store.ClearRotating(kid)
			return fmt.Errorf("rotating %s in IS: %w", kid, err)
		}
		// The secret may have changed: keep the mark, so the next run
		// re-seals whatever is live.
		return fmt.Errorf("rotating %s in IS (application %s): %w; the secret may have been rotated: run again, the next run re-seals the live value", kid, appID, err)
	}
	if secret.IsZero() {
		return fmt.Errorf("the secret of %s was rotated in IS (application %s) but IS returned none (secret hashing on?); "+
			"the previous sealed file is unchanged and no longer valid", kid, appID)
	}
	so.Sealer.Capture(kid.Application, kid.KeyType, kid.KeyManager, clientID, secret.Reveal())
	p.log.Info("rotated", "key", kid.String(), "in", "IS application "+appID)
	return p.sealRotated(kid, so)
}

// sealRotated seals a rotated secret; a failure is loud and names the key.
func (p *Pass) sealRotated(kid secrets.KeyID, so *SecretOptions) error {
	if err := p.seal(kid, true, so); err != nil {
		return fmt.Errorf("the secret of %s was rotated on the server but could not be sealed: %w; "+
			"the previous sealed file is unchanged and no longer valid; fix sealing and run again: the next run re-seals the live value", kid, err)
	}
	return nil
}

// UnsealedError is a plan that would generate consumer secrets with no
// recipient to seal them to: APIM shows a generated secret once, so they
// would be lost (only a rotation gets a usable secret back).
type UnsealedError struct{ Keys []string }

func (e *UnsealedError) Error() string {
	return fmt.Sprintf("%d consumer secret(s) would be generated and lost: nothing to seal them to (%s)", len(e.Keys), strings.Join(e.Keys, ", "))
}

// Hint is the fix.
func (e *UnsealedError) Hint() string {
	return "set spec.seal.recipients in wso2sync.yaml or pass --seal-recipient age1… (age-keygen makes one), so each secret is sealed; or pass --allow-unsealed-secrets to accept losing them"
}

// GeneratedSecrets lists the keys a plan would generate a consumer secret
// for: new or replaced keys in generate mode, and rotations.
func (p *Pass) GeneratedSecrets(plan *diff.Plan) []string {
	var out []string
	for _, c := range plan.Changes {
		if c.Kind != diff.KindApplicationKey {
			continue
		}
		switch c.Action {
		case diff.Rotate:
		case diff.Create, diff.Replace:
			app, keyType, km, ok := splitKeyName(c.Name)
			if !ok {
				continue
			}
			if dk := p.desiredKey(app, keyType, km); dk == nil || dk.Mode == spec.KeyModeMap {
				continue // a mapped key's secret comes from the manifests
			}
		default:
			continue
		}
		out = append(out, c.Name)
	}
	return out
}

// CheckUnsealed refuses a plan that would generate consumer secrets when
// the pass cannot seal them (*UnsealedError naming the keys).
func (p *Pass) CheckUnsealed(plan *diff.Plan) error {
	if p.Options.Secrets.Sealing() {
		return nil
	}
	if keys := p.GeneratedSecrets(plan); len(keys) > 0 {
		return &UnsealedError{Keys: keys}
	}
	return nil
}

type sealCount struct {
	n int64
	d time.Duration
}

// sealStats are the seals this pass made and their total time.
func (p *Pass) sealStats() sealCount {
	return sealCount{n: p.sealed.Load(), d: time.Duration(p.sealNanos.Load())}
}
