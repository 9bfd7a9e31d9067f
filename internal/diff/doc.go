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
// Dependents of a replaced object: APIM deletes an application's keys and
// subscriptions with it, so when an application is replaced (its owner
// differs: the owner is read-only and APIM gives a new application to the
// user who creates it, WSO2-API §3.3) its declared keys and subscriptions
// are Creates with the reason "application <name> is replaced", and its
// undeclared ones are not planned (as for a deleted application); apply
// orders them after it (apply.Dependencies). An owner change is a replace
// only when it can succeed: when the owner is the user wso2sync signs in
// as (the owner of the live DefaultApplication), or when that is unknown;
// otherwise it is an Update with a warning (the Admin API's change-owner
// is not used). A replaced key manager is different: APIM refuses to
// delete a key manager that application keys use (§3.1) and has no DELETE
// for a key mapping (§5.5), so its keys are left as they are and the plan
// warns, naming them: removing them is the manifest author's decision (it
// revokes their clients' credentials).
//
// Secrets never enter a Plan, nor digests of them: secret fields hold
// Redacted descriptions ("(sensitive value)"), and renderers print nothing
// but those in sensitive fields ("(sensitive value changed)" on update;
// JSON gives "sensitive": true and no value).
//
// Pruning: undeclared live objects are deleted only when Options.Prune is
// "owned" and Options.Owned reports them; otherwise they are listed as
// unmanaged. Protected objects are never deleted, and an empty desired
// state deletes nothing. The maxDeletes guard belongs to apply.
package diff
