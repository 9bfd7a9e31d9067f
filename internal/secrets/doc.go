// Package secrets is everything wso2sync does with secrets (DESIGN.md §8):
// the redaction type, fingerprints, secret inputs, and the sealed outputs.
//
// # Redaction and fingerprints
//
// Value is the single redaction mechanism: every printing and encoding path
// (fmt, %#v, JSON, text, YAML, slog) yields "[redacted]"; only Reveal
// returns the secret. No secret is ever written as a plain digest (a
// dictionary reverses one of a weak password): where a fingerprint is
// needed to detect drift (the sealed index) it is MACKey.Sum, HMAC-SHA256
// under a random per-environment key kept 0600 in the state directory
// (MACKeyFile); plans show secrets as changed/unchanged only.
//
// # Secret inputs
//
// NewResolver resolves {env: NAME}, {file: PATH} and {sealed: PATH[#field]}
// lazily, when a provider call needs the value; sealed inputs are opened
// with the identity of --identity or $WSO2SYNC_AGE_IDENTITY, read only on
// the first sealed reference. Errors (*RefError) name the reference and
// never the value.
//
// # Sealed outputs
//
// A Store is a sealed output dir (spec.seal.outDir, default sealed/<env>,
// relative to the environment folder; see OutDir). Each application key
// is one armored age file <application>.<keyType>.age (mode 0600; the key
// manager is added to the name when an application has the same key type
// on two key managers) holding a YAML document:
//
//	application: payments-web
//	keyType: PRODUCTION
//	keyManager: Resident Key Manager
//	consumerKey: …
//	consumerSecret: …
//	tokenEndpoint: https://…/oauth2/token
//	grantTypes: [client_credentials]
//	createdAt: 2026-11-23T10:00:00Z
//	rotatedAt: 2026-11-23T11:00:00Z
//
// Recipients are age X25519 public keys (age1…) and SSH public keys
// (ssh-ed25519, ssh-rsa), merged from the environment's seal.recipients,
// the application's sealTo, --seal-recipient and $WSO2SYNC_SEAL_RECIPIENTS
// (ParseRecipients, RunRecipients). The files are standard age files:
// `age -d -i key.txt payments-web.PRODUCTION.age` opens them.
//
// Beside them, index.yaml is public (safe to commit): per key the file,
// the secret's keyed fingerprint and the whole document's, the
// recipients' fingerprints and the created, rotated and sealed times, plus
// a rotating mark while a rotation is between the server call and the
// seal. Plans compare the live secrets (captured in memory) with it to
// show secret drift without opening anything; a seal whose document and
// recipients are unchanged leaves the file byte for byte as it was. An
// index an older version wrote (plain sha256 fingerprints) is migrated by
// Store.Migrate on the next enforcing pass.
//
// Every write is atomic (renameio: temp file, fsync, rename), the sealed
// file before the index: a failure at any point leaves the previous
// sealed file intact, and a crash between the two leaves an index whose
// fingerprint differs from the live secret, which the next run sees as
// drift and re-seals.
package secrets
