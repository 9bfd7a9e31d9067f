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
//     prune), what it must never delete, and the maxDeletes guard;
//   - lock.go: one writer per environment.
//
// All of it lives in the environment's state directory (StateDir): by
// default <envDir>/.wso2sync/, which holds lock, journal.jsonl,
// inventory.json and a .gitignore so the state is never committed with the
// manifests.
//
// The package is generic over Step: the caller (the CLI, the daemon) turns
// each planned change into a Step whose Do calls the right provider. apply
// never talks to a server itself and never sees secret values.
package apply
