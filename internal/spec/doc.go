// Package spec is the manifest model of wso2sync: the Go types of every
// kind, loading YAML documents with their source positions, environment
// overlays, CUE schema validation and the reference checks between objects.
//
// The entry point is Load, which turns an environment directory into a
// desired State plus Diagnostics. Every object in the State carries the
// position of its document and of each field, so later stages (plan, apply)
// can point at the manifest line that asked for a change.
package spec
