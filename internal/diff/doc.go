// Package diff compares the desired State (internal/spec) with the live
// state the providers read and produces a Plan: one Change per object
// (create, update, replace, delete, noop) with the differing fields, the
// reason, and the manifest position that asked for it. Renderers turn one
// Plan into terminal text, JSON (docs/plan-json.md) and Markdown; they
// never recompute anything.
//
// Normalisation lives beside each kind (keymanagers.go, policies.go, …):
// both sides are reduced to the same canonical fields (sorted sets, URL and
// enum forms, IS's regexp= callbacks, PRIMARY/ user names), and only the
// fields a manifest writes, plus identity and required fields, are
// compared, so a freshly applied estate plans empty (WSO2-API §5.12).
//
// Objects are paired by their server identity (alias, userName+domain,
// application+API, tier level+name, …) and then by manifest name; a pair
// whose identity differs is a replace with the reason shown. Application
// keys are planned as Changes of their own kind, ApplicationKey, because
// they are applied at their own level.
//
// Secrets never enter a Plan: secret fields hold Redacted fingerprints, and
// renderers print nothing but Redacted values in sensitive fields.
//
// Pruning: undeclared live objects are deleted only when Options.Prune is
// "owned" and Options.Owned reports them; otherwise they are listed as
// unmanaged. Protected objects are never deleted, and an empty desired
// state deletes nothing. The maxDeletes guard belongs to apply.
package diff
