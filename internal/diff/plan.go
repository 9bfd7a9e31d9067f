package diff

import (
	"slices"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// PlanVersion is the version of the Plan's JSON form (docs/plan-json.md).
// Bump it when a field changes meaning or disappears; adding fields does
// not bump it.
const PlanVersion = 1

// KindApplicationKey is the kind of one OAuth key of an application, named
// "<application>/<KEYTYPE>/<keyManager>". Keys are declared inside an
// Application manifest but planned as their own Changes, so apply can run
// them at their own level (DESIGN §4 level 3: after the application and the
// key manager exist, before subscriptions) and seal one output per key.
const KindApplicationKey spec.Kind = "ApplicationKey"

// KindOrder is the order of Changes in a Plan: the apply levels top-down
// (spec.Kinds, with application keys between applications/users and
// subscriptions). Environment has no live counterpart and never appears.
var KindOrder = []spec.Kind{
	spec.KindCertificate, spec.KindTruststore,
	spec.KindKeyManager, spec.KindThrottlingPolicy, spec.KindRole,
	spec.KindApplication, spec.KindUser,
	KindApplicationKey,
	spec.KindSubscription,
}

// Action is what apply will do to one object.
type Action string

const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	NoOp    Action = "noop"
	// Rotate renews a server-generated secret (an application key's
	// consumer secret); added by the secrets wiring, never by Compute.
	Rotate Action = "rotate"
	// Blocked is a delete the server would refuse (a tier still offered
	// by an API, a key manager still used by keys): shown with its reason
	// and BlockedBy, never attempted; apply exits 1 (Preflight).
	Blocked Action = "blocked"
)

// Plan is the difference between the manifests and the live estate, as
// data: renderers and apply read it, nothing in it is recomputed.
type Plan struct {
	Version     int
	Environment string
	// Changes holds one entry per object on either side, NoOps included,
	// ordered by KindOrder, then name.
	Changes []Change
	// Unmanaged lists live objects that are not declared and that wso2sync
	// will not delete (not owned, or prune is off). Built-in objects are
	// never listed: every install has them.
	Unmanaged []Ref
	// Warnings are things the plan could not decide or deliberately
	// skipped (an empty desired state, an unreadable certificate file).
	Warnings []string
	Summary  Summary
	// LiveHash identifies the live state the plan was computed from; the
	// caller sets it so apply can refuse a stale plan.
	LiveHash string
}

// Summary counts Changes by action.
type Summary struct {
	Create, Update, Replace, Delete, NoOp int
	Rotate                                int
	Blocked                               int `json:",omitempty"`
}

// Change is what happens to one object.
type Change struct {
	Kind   spec.Kind
	Name   string
	Action Action
	// Before and After are the normalised objects as map[string]any keyed
	// by field path (nil for the side that does not exist, and for NoOp).
	// Secret fields hold Redacted values, never the secret.
	Before, After any
	// Fields lists the differing fields of an update or replace, and every
	// field of a create or delete.
	Fields []FieldDiff
	// Reason says why: "declared, not found live", "drift: spec.x",
	// the field that forces a replace, "no longer declared; owned".
	Reason string
	// Source is the manifest document (or key entry) that asked for it;
	// zero for deletes.
	Source    spec.Position
	Sensitive bool

	// Key is the object's natural key (spec, one definition per kind):
	// what the inventory records and prune asks about. For a delete, the
	// live object's.
	Key string `json:",omitempty"`
	// LiveName is the live object's name when it differs from Name: a
	// replace paired through the inventory's label (a subscription moved
	// to another API), whose old object is found by it.
	LiveName string `json:",omitempty"`
	// OldKey is the live object's key when a replace changes it.
	OldKey string `json:",omitempty"`
	// Cascade lists what the server deletes with the object (a delete or
	// replace of an application takes its keys and subscriptions): shown
	// under the change, counted by maxDeletes, dropped from the inventory.
	Cascade []Ref `json:",omitempty"`
	// BlockedBy lists the live objects that make the server refuse a
	// Blocked delete.
	BlockedBy []Ref `json:",omitempty"`
}

// FieldDiff is one field of a Change, in manifest terms
// (spec.throttlingPolicy, spec.keys[PRODUCTION/WSO2IS].grantTypes).
type FieldDiff struct {
	Path          string
	Before, After any
	Sensitive     bool
	ForcesReplace bool
	// Source is where the manifest sets the field (or its nearest parent).
	Source spec.Position
}

// Ref names a live object the plan leaves alone, and why.
type Ref struct {
	Kind   spec.Kind
	Name   string
	Reason string
	// Key is the object's natural key, when it matters (cascades).
	Key string `json:",omitempty"`
}

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Action != NoOp })
}

// InSync lists the objects the plan leaves as they are (its NoOp
// changes), in plan order: the daemon's status reports them as in sync
// beside the ones that drifted.
func (p *Plan) InSync() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action == NoOp {
			out = append(out, c)
		}
	}
	return out
}

// Options are the inputs of Compute beyond the two states.
type Options struct {
	// Prune is the environment's prune policy: "owned" deletes undeclared
	// objects that Owned reports; anything else ("off", "") deletes nothing.
	Prune string
	// Owned reports whether wso2sync created an object (the inventory),
	// asked by kind and natural key (spec: Subscription.Key, …; application
	// keys as spec.ApplicationKeyKey). nil owns nothing.
	Owned func(kind spec.Kind, key string) bool
	// Label returns the manifest name an owned object was created for ("":
	// unknown), so that a declared object whose identity changed (a
	// subscription moved to another API) pairs with its old self as a
	// replace. nil knows none.
	Label func(kind spec.Kind, key string) string
	// ReadFile reads certificate files named by manifests; nil is os.ReadFile.
	ReadFile func(path string) ([]byte, error)
}

const PruneOwned = "owned"

func kindRank(k spec.Kind) int {
	if i := slices.Index(KindOrder, k); i >= 0 {
		return i
	}
	return len(KindOrder)
}
