package apply

import (
	"fmt"
)

// Prune policies (spec.Prune.Policy).
const (
	// PruneOff never deletes an object for being no longer declared.
	PruneOff = "off"
	// PruneOwned deletes undeclared objects that wso2sync created.
	PruneOwned = "owned"
)

// PruneSet sorts the live objects that are no longer (or never were)
// declared.
type PruneSet struct {
	// Delete are owned objects to delete (prune "owned").
	Delete []Ref
	// Kept are owned objects left in place because pruning is off.
	Kept []Ref
	// Unmanaged are objects wso2sync did not create: reported, never
	// touched.
	Unmanaged []Ref
	// Protected are built-in objects: never touched.
	Protected []Ref
}

// Classify decides what happens to live objects that are not declared. An
// object is deleted only if pruning is "owned", wso2sync created it (the
// inventory says so) and it is not built in.
func Classify(undeclared []Ref, inv *Inventory, policy string) PruneSet {
	var ps PruneSet
	for _, r := range undeclared {
		switch {
		case Protected(r):
			ps.Protected = append(ps.Protected, r)
		case inv == nil || !inv.Owned(r):
			ps.Unmanaged = append(ps.Unmanaged, r)
		case policy == PruneOwned:
			ps.Delete = append(ps.Delete, r)
		default:
			ps.Kept = append(ps.Kept, r)
		}
	}
	return ps
}

// CheckDeletes is the last guard before a run deletes anything. It drops
// protected objects from deletes (they are never deleted) and refuses the
// whole apply when
//
//   - the desired state declares nothing (desiredCount 0) yet something
//     would be deleted: an empty desired state is far more likely a wrong
//     path, a broken checkout or a bad overlay than a wish to delete the
//     estate; or
//   - more objects would be deleted than maxDeletes allows, unless the
//     caller passed --allow-deletes N with N at least that many.
//
// allowDeletes is the --allow-deletes value (0 when not given).
func CheckDeletes(deletes []Ref, desiredCount, maxDeletes, allowDeletes int) ([]Ref, error) {
	var out []Ref
	for _, r := range deletes {
		if !Protected(r) {
			out = append(out, r)
		}
	}
	n := len(out)
	if n == 0 {
		return nil, nil
	}
	if desiredCount == 0 {
		return nil, &Error{
			Message: fmt.Sprintf("refusing to delete %d %s: the desired state declares no objects", n, plural(n, "object", "objects")),
			Hint:    "an empty desired state never means delete-all; check the environment directory and its includes, or, to retire the environment, remove it instead of emptying it",
		}
	}
	switch {
	case n <= max(maxDeletes, allowDeletes):
		return out, nil
	case allowDeletes > maxDeletes:
		return nil, &Error{
			Message: fmt.Sprintf("would delete %d %s, more than --allow-deletes (%d)", n, plural(n, "object", "objects"), allowDeletes),
			Hint:    fmt.Sprintf("review the deletes in the plan; if they are all intended, run again with --allow-deletes %d", n),
		}
	default:
		return nil, &Error{
			Message: fmt.Sprintf("would delete %d %s, more than maxDeletes (%d)", n, plural(n, "object", "objects"), maxDeletes),
			Hint:    fmt.Sprintf("review the deletes in the plan; if they are all intended, run again with --allow-deletes %d (or raise spec.prune.maxDeletes)", n),
		}
	}
}
