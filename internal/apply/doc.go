// Package apply executes a Plan: creates and updates top-down through the
// dependency levels declared once here (Certificate, Truststore → KeyManager,
// ThrottlingPolicy, Role → Application, User → application keys →
// Subscription), deletes bottom-up, independent changes of one level
// concurrently with a bound. It honours dry-run vs enforce, guards pruning
// (only owned objects, at most maxDeletes), holds the per-environment lock
// and journals every write so an interrupted run can be reported and
// resumed.
//
// Nothing is implemented yet: the apply issue fills this package.
package apply
