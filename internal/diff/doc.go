// Package diff compares the desired State (internal/spec) with the live
// state read by the providers and produces a Plan: a list of Changes
// (Create, Update, Delete, Replace, Rotate, NoOp) per object, each with the
// field differences, the reason, and the manifest position that asked for
// it. Normalisation per kind (server-filled defaults, list order, enum case)
// lives here, so a freshly applied estate plans empty. Renderers turn one
// Plan into terminal text, JSON and Markdown.
//
// Nothing is implemented yet: the plan issue fills this package.
package diff
