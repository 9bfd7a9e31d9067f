// Package reconcile is the one pass of DESIGN.md §1 that validate, plan,
// apply and the daemon share: Load (manifests, validation) → Open
// (providers) → Read (live state) → Compute (diff.Plan), and Apply, which
// binds each diff.Change to the provider calls that perform it (one file
// per kind: keymanagers.go, policies.go, applications.go, keys.go,
// subscriptions.go, users.go, roles.go, certificates.go) and runs them with
// internal/apply's executor, journal and inventory.
//
// Commands stay thin: they take the lock, open the journal and inventory
// (apply.StateDir), call Resolve with the Pass's Resolver after a crash,
// then Plan and Apply, and render the results.
//
// Secrets: consumer secrets that APIM returns go to Options.OnSecret (the
// secrets issue seals them); this package logs only fingerprints.
package reconcile
