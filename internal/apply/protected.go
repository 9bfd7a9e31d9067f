package apply

import "github.com/wso2sync/wso2sync/internal/diff"

// Protected reports whether an object is built in (DefaultApplication, the
// admin user, the Resident Key Manager, the built-in tiers and IS roles)
// and so must never be deleted, whatever the inventory or the plan says.
// The set is diff.Protected, declared once as data: the plan never
// proposes these deletes, and Run and CheckDeletes refuse them should one
// get through.
func Protected(r Ref) bool { return diff.IsProtected(r.Kind, r.Name) }
