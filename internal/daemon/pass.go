package daemon

import (
	"context"
	"errors"
	"log/slog"
	"time"

	verifier "github.com/wso2sync/wso2sync/internal/verify"
)

// Revision identifies what a source holds: for git the commit, for a
// directory the time it was read.
type Revision struct {
	// Source is "dir" or "git".
	Source string `json:"source"`
	// URL is the git remote (credentials removed) or the directory.
	URL string `json:"url"`
	// Ref is the branch, tag or commit asked for (git only).
	Ref string `json:"ref,omitempty"`
	// Path is the environment's sub-path inside the repository (git only).
	Path string `json:"path,omitempty"`
	// Commit is the full commit hash checked out (git only).
	Commit string `json:"commit,omitempty"`
	// Message is the first line of the commit message (git only).
	Message string `json:"message,omitempty"`
	// Author is the commit's author (git only).
	Author string `json:"author,omitempty"`
	// CommitURL is the commit's page on the forge, for remotes on a
	// known host (git only; see forge.go).
	CommitURL string `json:"commitURL,omitempty"`
	// Digest identifies a directory's content: "sha256:" and 12 hex
	// digits over the names and contents of its files (dir only); it
	// changes when a manifest does.
	Digest string `json:"digest,omitempty"`
	// Files is the number of files the digest covers (dir only).
	Files int `json:"files,omitempty"`
	// Time is the commit time (git) or when the directory was read.
	Time time.Time `json:"time"`
}

// Short is the revision for people: the short commit, the directory's
// digest, or the directory.
func (r Revision) Short() string {
	if r.Commit != "" {
		c := r.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		return c
	}
	if r.Digest != "" {
		return r.Digest
	}
	return r.URL
}

// PassRequest is what a PassFunc is asked to do.
type PassRequest struct {
	// ID is the pass ID that every log line of the pass carries.
	ID string
	// Reason is why the pass runs: "start", "interval", "change",
	// "webhook", "retry".
	Reason string
	// Dir is the environment directory (holds wso2sync.yaml).
	Dir string
	// StateDir is where the lock, journal and inventory live; empty means
	// the default beside the manifests (apply.StateDir).
	StateDir string
	// OutputsDir, when set, is where the sealed outputs and their index
	// go instead of beside the manifests (a relative spec.seal.outDir
	// resolves against it): a git source keeps them out of its checkout.
	OutputsDir string
	// Revision is what Dir holds.
	Revision Revision
	// Mode overrides the environment's mode when not empty ("dry-run" or
	// "enforce").
	Mode string
	// Log carries the pass ID.
	Log *slog.Logger
	// Writes, if set, is told the files and folders the pass is about to
	// write beside the manifests (PassResult.OutputDirs), before it
	// writes them: a directory source ignores their changes from then on.
	Writes func(paths []string)
}

// PassFunc runs one pass. It returns what it saw even when it fails; an
// error wrapped with Invalid means the manifests are invalid and nothing
// was applied.
type PassFunc func(ctx context.Context, req PassRequest) (PassResult, error)

// PlanSummary counts the plan's changes by action.
type PlanSummary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	NoOp    int `json:"noop"`
}

// Changes is the number of changes that are not no-ops.
func (s PlanSummary) Changes() int { return s.Create + s.Update + s.Replace + s.Delete }

// ObjectRef names one object.
type ObjectRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// CallCount is a number of API calls to one server with one status
// ("0" when no HTTP response came back).
type CallCount struct {
	Server string `json:"server"`
	Status string `json:"status"`
	Count  int64  `json:"count"`
}

// Certificate is a certificate's expiry.
type Certificate struct {
	Name     string    `json:"name"`
	NotAfter time.Time `json:"notAfter"`
}

// PassResult is what a pass saw and did.
type PassResult struct {
	// Mode is the mode the pass ran in.
	Mode string `json:"mode,omitempty"`
	// Plan counts the plan's changes (drift and new manifests alike).
	Plan PlanSummary `json:"plan"`
	// Applied counts the changes applied, by kind and then action.
	Applied map[string]map[string]int `json:"applied,omitempty"`
	// Drift counts the changes planned by kind: the objects whose live
	// state differs from the manifests when the pass began.
	Drift map[string]int `json:"drift,omitempty"`
	// Unmanaged lists live objects no manifest declares.
	Unmanaged []ObjectRef `json:"unmanaged,omitempty"`
	// Calls counts the API calls of the pass by server and status.
	Calls []CallCount `json:"calls,omitempty"`
	// Retries counts retried API calls.
	Retries int64 `json:"retries,omitempty"`
	// Validated counts the documents the pass validated with CUE, Reused
	// those it took unchanged from the validation of an earlier pass.
	Validated int `json:"validated,omitempty"`
	Reused    int `json:"reused,omitempty"`
	// Concurrency is each server's limiter concurrency at the end.
	Concurrency map[string]int `json:"concurrency,omitempty"`
	// Certificates are the certificates' expiries.
	Certificates []Certificate `json:"certificates,omitempty"`
	// FailedSteps is the number of changes whose apply failed.
	FailedSteps int `json:"failedSteps,omitempty"`
	// Estate is every managed object with its state, as this pass saw it
	// (nil when the pass did not get as far as a plan). /status shows the
	// last one as Status.Estate.
	Estate *Estate `json:"-"`
	// Errors are the pass's problems (manifest diagnostics, failed steps).
	Errors []string `json:"errors,omitempty"`
	// Warnings are the plan's warnings.
	Warnings []string `json:"warnings,omitempty"`
	// WatchDirs are folders outside the environment directory that the
	// manifests include (a directory source watches them too).
	WatchDirs []string `json:"-"`
	// OutputDirs are folders the pass writes into beside the manifests
	// (the sealed outputs): a directory source ignores their changes, so
	// sealing a key does not trigger another pass.
	OutputDirs []string `json:"-"`
	// Verify is the verification run after an enforcing pass that
	// applied something (nil otherwise; verify.go).
	Verify *verifier.Report `json:"verify,omitempty"`
}

// invalidError marks an error as "the manifests are invalid".
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// Invalid marks err as "the manifests are invalid": the pass applied
// nothing and retrying the same revision cannot help.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &invalidError{err}
}

// IsInvalid reports whether err was marked with Invalid.
func IsInvalid(err error) bool {
	var ie *invalidError
	return errors.As(err, &ie)
}

// Results of a pass, as the passes_total metric and /status name them.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	ResultInvalid = "invalid"
	ResultTimeout = "timeout"
)
