// Package trust is the provider for what no WSO2 REST API reaches: the JVM
// truststores (client-truststore.jks and friends) of APIM and IS
// (WSO2-API.md §1.3 fix-mtls, §3.7, §5.24). It reads and writes JKS
// (keystore-go) and PKCS#12 (go-pkcs12) files, entry by alias.
//
// Rules it keeps:
//
//   - Only declared aliases are written, and only aliases wso2sync owns are
//     ever removed. Ownership is recorded per truststore path in the
//     environment's state directory (<env>/.wso2sync/truststores.json, see
//     Ownership), next to the inventory of server objects: a truststore
//     ships with a hundred JVM CA entries nobody declares, and they stay.
//     A declared alias that already exists (an earlier manual keytool
//     -import) is taken over: declaring it is the opt-in.
//   - Writes are atomic (temporary file + rename, google/renameio) and the
//     previous file is kept as <path>.bak (overwritten by the next write:
//     one step of undo, the same as `keytool` users keep by hand). A file
//     whose content would not change is not written at all.
//   - A URL source is fetched over TLS and accepted only if a certificate
//     the server presents has the pinned SHA-256 fingerprint; the entry is
//     that certificate (the leaf, or a CA of the chain if the pin names
//     it). Never trust-on-first-use: a mismatch is an error that shows the
//     presented fingerprints so that the user can check one out of band
//     and pin it. A pem or file source with a sha256 is checked the same.
//   - The restart action (RestartAction: an argv, or an HTTP call) runs
//     once per pass after the truststores that name it changed; the JVM
//     reads its truststore only at start-up.
//
// PKCS#12: go-pkcs12 v0.7.4 decodes trust stores without their aliases
// (friendly names), so this package reads the friendly names itself for
// unencrypted and PBES2-encrypted certificate bags (what go-pkcs12's
// Modern encoders, keytool since JDK 18 and OpenSSL 3 write). A store whose
// certificate bags use the legacy RC2/3DES encryption is read by
// fingerprint only; rewriting it is refused while it holds entries
// wso2sync does not own, because their aliases would be lost (convert it
// with keytool -importkeystore, or use JKS). New PKCS#12 files are written
// with go-pkcs12's Modern2023 encoder (PBES2/AES-256, HMAC-SHA-256), which
// JDK 11.0.12+/17+ read.
//
// Certificates are parsed and described by internal/spec (ParseCertsPEM,
// DescribeCert, CertFingerprint): one implementation for validation, plans
// and this provider.
package trust
