package apply

import (
	"fmt"
)

// Which undeclared objects to delete (owned, not protected, prune "owned")
// is the plan's decision (diff.Compute, given Inventory.Owned); the
// objects it leaves alone are its Unmanaged list.

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
