// Package providers reads and writes the live estate through typed
// clients: apim/ (Admin v4, DevPortal v3, Publisher v4 of API Manager
// 4.5) and is/ (SCIM2 users and Roles v2, DCR v1.1 of Identity Server
// 7.1), one file per kind with the same small List/Create/Update/Delete
// shape and the manifest types of internal/spec as values, over the HTTP
// plumbing in transport/ (retries, AIMD limiter, call counter, typed
// errors, DCR and token sources). trust/ reads and writes the JVM
// truststores (local files; reconcile wires it, see its truststores.go).
//
// # Opening and reading
//
// Open builds both clients from an Environment: URLs (overridable with
// Options.APIMURL/ISURL for --apim-url/--is-url), the admin credentials
// from the environment's secret references (Options.Resolve; NewResolver
// handles {env:} and {file:} until the secrets package replaces it), TLS
// from spec.tls. APIM authenticates with DCR v0.17 + password-grant tokens
// for apim.Scopes (refreshed before expiry and after a 401); IS with Basic
// admin or a client_credentials token for is.Scopes (Options.ISAuth).
//
// (*Providers).Read returns a *Live: the live estate as a *spec.State
// plus the server ids the apply step needs. Reads run concurrently and
// make the fewest calls: applications are listed once (DevPortal, 1000
// per page), keys and subscriptions per application (only applications
// the desired state declares, when ReadOptions.Desired is given), SCIM
// users and roles page with startIndex. Every request counts in the run's
// Counter (Providers.Counter, Live.Calls).
//
// # Names (metadata.name of live objects)
//
//	KeyManager        name
//	ThrottlingPolicy  policyName (IDs key "<level>/<name>": names repeat across levels)
//	Application       name (APIM compares names case-insensitively)
//	Subscription      "<application>--<API name>--<API version>" (apim.SubscriptionName)
//	User              userName; "DOMAIN/userName" outside PRIMARY (is.UserName)
//	Role              displayName; "<application>:<displayName>" for application roles (is.RoleName)
//	Certificate       alias
//
// Identity is the natural key, not the name: a subscription is (application,
// API name, API version), a role (displayName, audience), a user (domain,
// userName). With ReadOptions.Desired, live objects whose identity matches
// a desired object take the desired metadata.name, so the diff can pair
// objects by kind and name.
//
// # Live values and normalisation
//
// Live values are written so that a freshly applied estate equals its
// manifest after the diff's normalisation. What the diff must know:
//
//   - Secrets are never in Live: the KM connector password is write-only
//     (zero SecretRef), of key consumer secrets Live.Keys keeps only
//     whether there is one (HasSecret, no digest); their values go
//     to Options.OnSecret (generate, map and read). User passwords are
//     write-only (nil).
//   - Application keys: validityPeriod and scopes are not readable (zero);
//     grant types keep the server's order (compare as sets); callbackUrl is
//     as stored (regexp=(a|b) for several URLs); additionalProperties are
//     strings again; clientId is set for mapped keys only.
//   - Applications: tokenType is JWT (forced by the server); visibility is
//     not listed ("" = unknown); "" attribute values are dropped.
//   - Tiers: subscription tiers always carry stopOnQuotaReach; burst and
//     rate limits of 0 are absent. Key managers: server defaults (tokenType
//     DIRECT, consumerKeyClaim azp, permissions PUBLIC) are as the server
//     reports them; diff only fields the manifest sets.
//   - Users: roles are role names (everyone excluded), sorted; roles:
//     permissions sorted, audience organization unless an application.
//
// Built-in objects (Resident Key Manager, built-in tiers,
// DefaultApplication, the admin user, system roles) are part of Live and
// flagged by Live.IsBuiltin: never delete them; export leaves them out.
package providers
