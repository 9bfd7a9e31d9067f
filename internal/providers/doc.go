// Package providers holds the typed clients wso2sync uses to read and write
// the live estate: apim/ (Admin, DevPortal and Publisher REST APIs), is/
// (SCIM2 users and roles, DCR) and trust/ (JVM truststores on the host),
// one file per kind with the same small List/Create/Update/Delete shape,
// over the shared HTTP plumbing in transport/.
package providers
