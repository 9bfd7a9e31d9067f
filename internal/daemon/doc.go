// Package daemon is `wso2sync run`: it decides *when* to run the one pass
// of DESIGN.md §1 and never how. A Source (a directory watched with
// fsnotify, or a git remote cloned with go-git) yields a folder and the
// Revision in it; the Scheduler runs the pass on start, on source change,
// on POST /sync and every interval with jitter, one pass at a time (a
// request during a pass queues exactly one follow-up), with exponential
// backoff after failures and a timeout per pass; the HTTP Server exposes
// /healthz, /readyz, /metrics, /status and a small HTML page at /.
//
// The pass itself is a PassFunc that the command wires to
// internal/reconcile; tests use fakes. A PassFunc reports what it saw in a
// PassResult (plan summary, changes applied, drift, unmanaged objects,
// calls); the daemon keeps the last results for /status and turns them
// into Prometheus metrics.
//
// Invalid manifests: the PassFunc returns an error wrapped with Invalid;
// nothing is applied, the errors are reported, and the estate keeps the
// last good state that was applied (DESIGN.md §6: a half-edited tree is
// never applied). Such a pass counts as "invalid", not as a failure that
// backs off, because only a new revision can fix it.
//
// Shutdown: when the context given to Run ends, the triggers stop, the
// running pass gets up to Options.ShutdownTimeout to finish (then its
// context is cancelled and the journal records what was interrupted), the
// HTTP server closes and Run returns nil.
package daemon
