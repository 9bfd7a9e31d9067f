package reconcile

import (
	"context"
	"strings"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/diff"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Resolver is the apply.Resolver of this pass: it looks a pending write's
// object up by its natural key on the server. A create (or replace) landed
// when the object exists; a delete landed when it is gone; updates are
// unknown (the next plan compares with the live state anyway).
func (p *Pass) Resolver() apply.Resolver {
	return func(ctx context.Context, pe apply.Pending) (apply.Outcome, error) {
		var creates bool
		switch pe.Action {
		case apply.ActionCreate, apply.ActionReplace:
			creates = true
		case apply.ActionDelete:
		default:
			return apply.OutcomeUnknown, nil
		}
		found, err := p.exists(ctx, pe.Ref.Kind, pe.Ref.Name)
		if err != nil {
			return apply.OutcomeUnknown, err
		}
		if found == creates {
			return apply.OutcomeLanded, nil
		}
		return apply.OutcomeNotLanded, nil
	}
}

// exists looks an object up by its natural key.
func (p *Pass) exists(ctx context.Context, kind spec.Kind, name string) (bool, error) {
	a := p.Providers.APIM
	switch kind {
	case spec.KindKeyManager:
		id, err := a.KeyManagers.FindByName(ctx, name)
		return id != "", err
	case spec.KindThrottlingPolicy:
		list, err := a.Policies.List(ctx)
		for _, f := range list {
			if f.Object.Metadata.Name == name {
				return true, err
			}
		}
		return false, err
	case spec.KindApplication:
		id, err := a.Applications.FindByName(ctx, name)
		return id != "", err
	case diff.KindApplicationKey:
		app, keyType, km, ok := splitKeyName(name)
		if !ok {
			return false, nil
		}
		id, err := a.Applications.FindByName(ctx, app)
		if err != nil || id == "" {
			return false, err
		}
		keys, err := a.Keys.List(ctx, apim.AppRef{ID: id, Name: app})
		for _, k := range keys {
			if strings.EqualFold(k.Spec.KeyType, keyType) && k.Spec.KeyManager == km {
				return true, err
			}
		}
		return false, err
	case spec.KindSubscription:
		var appName string
		var api spec.APIRef
		if s := find(p.State.Subscriptions, name); s != nil {
			appName, api = s.Spec.Application, s.Spec.API
		} else if parts := strings.Split(name, "--"); len(parts) == 3 {
			appName, api = parts[0], spec.APIRef{Name: parts[1], Version: parts[2]}
		} else {
			return false, nil
		}
		id, err := a.Applications.FindByName(ctx, appName)
		if err != nil || id == "" {
			return false, err
		}
		subs, err := a.Subscriptions.List(ctx, apim.AppRef{ID: id, Name: appName})
		for _, s := range subs {
			if s.Object != nil && s.Object.Spec.API == api {
				return true, err
			}
		}
		return false, err
	case spec.KindUser:
		domain, user := "", name
		if u := find(p.State.Users, name); u != nil {
			domain, user = u.Spec.Domain, u.Spec.UserName
		} else if i := strings.Index(name, "/"); i > 0 {
			domain, user = name[:i], name[i+1:]
		}
		id, err := p.Providers.IS.Users.Find(ctx, domain, user)
		return id != "", err
	case spec.KindRole:
		display, aud := name, "organization"
		if r := p.State.Role(name); r != nil {
			display = cmpOr(r.Spec.DisplayName, name)
			aud = cmpOr(r.Spec.Audience.Type, aud)
		}
		id, err := p.Providers.IS.Roles.Find(ctx, display, aud)
		return id != "", err
	case spec.KindCertificate:
		alias := name
		if c := p.State.Certificate(name); c != nil {
			alias = c.AliasOrName()
		}
		list, err := a.Certificates.ListEndpoint(ctx)
		for _, c := range list {
			if c.AliasOrName() == alias {
				return true, err
			}
		}
		return false, err
	}
	return false, nil
}

func cmpOr(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
