package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// APIUse is what a published API holds on to that a delete may need: the
// subscription tiers it offers. APIs are not managed by wso2sync, so an API
// offering a tier always blocks the tier's delete.
type APIUse struct {
	Name, Version string
	Tiers         []string
}

// NeedsPreflight reports whether the plan has deletes Preflight checks
// (tiers and key managers), so a caller reads the API catalogue only then.
func NeedsPreflight(p *Plan) bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool {
		return (c.Action == Delete || c.Action == Replace) && (c.Kind == spec.KindThrottlingPolicy || c.Kind == spec.KindKeyManager)
	})
}

// Preflight turns the deletes the server would refuse into Blocked
// changes, with the reason and the objects in the way, so they are shown
// and never attempted (DESIGN §6). APIM refuses to delete
//
//   - a tier that an application (application tier), a subscription or a
//     published API (subscription tier) still uses: "Policy X already
//     attached to API/Resource" (WSO2-API §3.2), answered as a 500;
//   - a key manager that application keys use: "Key Manager is already
//     used by an API or an Application." (§3.1, §5.22), a 500.
//
// A live user stops blocking when the same plan moves it off the object
// (an update or replace whose new value no longer names it; those run
// before deletes) or deletes it (directly or with its application;
// deletes run bottom-up). A replace of a tier or key manager deletes it
// too, so it is checked the same way. Subscriptions of applications that
// the run did not read (neither declared nor owned) are not seen; an API
// offering the tier is, which covers the usual case.
func Preflight(p *Plan, live *spec.State, apis []APIUse) {
	if live == nil {
		live = &spec.State{}
	}
	gone := map[spec.Kind]map[string]bool{}    // deleted by the plan, by kind and name
	moved := map[spec.Kind]map[string]Change{} // changed by the plan: their new values count
	mark := func(m map[spec.Kind]map[string]bool, k spec.Kind, n string) {
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][strings.ToLower(n)] = true
	}
	for _, c := range p.Changes {
		switch c.Action {
		case Delete:
			mark(gone, c.Kind, c.Name)
			for _, r := range c.Cascade {
				mark(gone, r.Kind, r.Name)
			}
		case Update, Replace:
			if c.Action == Replace {
				// The old object is deleted: with its application (the
				// cascade), or under its old identity (a key moved to
				// another key manager).
				for _, r := range c.Cascade {
					mark(gone, r.Kind, r.Name)
				}
				if c.LiveName != "" && c.OldKey != "" {
					mark(gone, c.Kind, c.LiveName)
				}
			}
			if moved[c.Kind] == nil {
				moved[c.Kind] = map[string]Change{}
			}
			moved[c.Kind][strings.ToLower(c.Name)] = c
		}
	}
	// stillUses reports whether a live object keeps using what field names
	// after the plan: not deleted, and not changed to something else.
	stillUses := func(kind spec.Kind, name, field, value string) bool {
		if gone[kind][strings.ToLower(name)] {
			return false
		}
		if c, ok := moved[kind][strings.ToLower(name)]; ok {
			m, _ := c.After.(map[string]any)
			if v, ok := m[field]; ok && !slices.Contains(strs(v), value) {
				return false
			}
		}
		return true
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action != Delete && c.Action != Replace {
			continue
		}
		var by []Ref
		var why string
		switch c.Kind {
		case spec.KindThrottlingPolicy:
			level, _ := beforeValue(c, "spec.level")
			by = tierUsers(c.Name, level, live, apis, stillUses)
			why = "APIM refuses to delete a tier that is still used (WSO2-API §3.2: \"already attached to API/Resource\")"
		case spec.KindKeyManager:
			by = keyManagerUsers(c.Name, live, stillUses)
			why = "APIM refuses to delete a key manager that application keys use (WSO2-API §3.1, §5.22: \"already used by an API or an Application\")"
		}
		if len(by) == 0 {
			continue
		}
		slices.SortFunc(by, func(a, b Ref) int {
			return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
		})
		what := "delete"
		if c.Action == Replace {
			what = "replace (which deletes it first)"
		}
		c.Reason = fmt.Sprintf("the %s would be refused: %s; %d %s still %s it: remove or move %s first",
			what, why, len(by), plural(len(by), "object", "objects"), plural(len(by), "uses", "use"), plural(len(by), "it", "them"))
		c.Action = Blocked
		c.BlockedBy = by
	}
	p.Recount()
}

// beforeValue reads a string field of a change's live side.
func beforeValue(c *Change, path string) (string, bool) {
	m, _ := c.Before.(map[string]any)
	s, ok := m[path].(string)
	return s, ok
}

func tierUsers(tier, level string, live *spec.State, apis []APIUse, stillUses func(spec.Kind, string, string, string) bool) []Ref {
	var by []Ref
	if level == "" || strings.EqualFold(level, spec.LevelApplication) {
		for _, a := range live.Applications {
			if a.Spec.ThrottlingPolicy == tier && stillUses(spec.KindApplication, a.Metadata.Name, "spec.throttlingPolicy", tier) {
				by = append(by, Ref{Kind: spec.KindApplication, Name: a.Metadata.Name, Reason: "its application tier"})
			}
		}
	}
	if level == "" || strings.EqualFold(level, spec.LevelSubscription) {
		for _, s := range live.Subscriptions {
			if s.Spec.ThrottlingPolicy == tier && stillUses(spec.KindSubscription, s.Metadata.Name, "spec.throttlingPolicy", tier) {
				by = append(by, Ref{Kind: spec.KindSubscription, Name: s.Metadata.Name, Reason: "its subscription tier"})
			}
		}
		for _, a := range apis {
			if slices.Contains(a.Tiers, tier) {
				by = append(by, Ref{Kind: "API", Name: a.Name + " " + a.Version, Reason: "offers the tier (APIs are not managed by wso2sync: change the API in the Publisher)"})
			}
		}
	}
	return by
}

func keyManagerUsers(km string, live *spec.State, stillUses func(spec.Kind, string, string, string) bool) []Ref {
	var by []Ref
	for _, a := range live.Applications {
		for _, k := range a.Spec.Keys {
			if k.KeyManager != km {
				continue
			}
			name := KeyName(a.Metadata.Name, k.KeyType, k.KeyManager)
			if !stillUses(spec.KindApplication, a.Metadata.Name, "", "") || !stillUses(KindApplicationKey, name, "keyManager", km) {
				continue
			}
			by = append(by, Ref{Kind: KindApplicationKey, Name: name, Reason: "a key mapping of this key manager"})
		}
	}
	return by
}

// Recount sets the summary from the changes: the one count, for Compute
// and for whoever changes a plan's actions afterwards (pre-flight, secret
// rotations, truststore annotations).
func (p *Plan) Recount() {
	p.Summary = Summary{}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Summary.Create++
		case Update:
			p.Summary.Update++
		case Replace:
			p.Summary.Replace++
		case Delete:
			p.Summary.Delete++
		case NoOp:
			p.Summary.NoOp++
		case Blocked:
			p.Summary.Blocked++
		case Rotate:
			p.Summary.Rotate++
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	}
	return nil
}
