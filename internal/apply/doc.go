// Package apply executes a plan against the live estate and keeps the
// bookkeeping that makes doing so safe to repeat:
//
//   - order.go: the dependency levels, declared once (Certificate, Truststore
//     → KeyManager, ThrottlingPolicy, Role → Application, User → application
//     keys → Subscription);
//   - run.go: the executor. Creates, updates and replaces run level by level
//     top-down, then deletes bottom-up; inside one level, steps run
//     concurrently with a bound; a failure stops only the steps that depend
//     on it;
//   - journal.go, recover.go: an fsync'd, append-only record of every write's
//     intent and result, so an interrupted run can be reported and the next
//     one converges without duplicates;
//   - inventory.go, protected.go, prune.go: what wso2sync created (and so may
//     prune), what it must never delete, and the maxDeletes / empty-state
//     guard;
//   - plan.go: steps and their dependencies from a diff.Plan;
//   - lock.go: one writer per environment.
//
// All of it lives in the environment's state directory (StateDir): by
// default <envDir>/.wso2sync/, which holds lock, journal.jsonl,
// inventory.json and a .gitignore so the state is never committed with the
// manifests.
//
// A pass, as the CLI wires it: Acquire the lock; OpenJournal and
// LoadInventory; Resolve what an interrupted run left (before reading the
// live state, so the plan sees what landed); compute the plan with
// Inventory.OwnedFunc; CheckDeletes(Deletes(plan), …); Run(Steps(plan, …));
// print Result.Report; close the journal; release the lock.
//
// The executor is generic over Step: the caller binds each change to the
// provider call that performs it. apply never talks to a server itself and
// never sees secret values.
package apply
