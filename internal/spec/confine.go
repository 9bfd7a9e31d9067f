package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Read bounds of the files a manifest names. A manifest comes from whoever
// opens a pull request, so every file it names is read with a bound (a
// {file: /dev/zero} must not fill memory).
const (
	MaxSecretFile = 64 << 10 // {file:} secret inputs
	MaxSealedFile = 1 << 20  // {sealed:} age files
	MaxPEMFile    = 1 << 20  // certificate files and CA bundles
)

// FileRules confine the files manifests name ({file:}, {sealed:},
// certificate file: sources, the CA bundle, include:) to the environment's
// root and the folders explicitly allowed: a pull request must not make
// CI read /etc/shadow and send it to a server. Paths are checked after
// symlinks are resolved, and only regular files are read (never a device
// or a FIFO, which would block or never end).
type FileRules struct {
	// Root is the folder every named file must be inside: --root, else the
	// git repository holding the environment, else the folder holding the
	// environment folder.
	// Absolute, symlinks resolved.
	Root string
	// Allow are further folders (--allow-dir, e.g. /run/secrets).
	// Absolute, symlinks resolved.
	Allow []string
}

// NewFileRules resolves root (empty: found from envDir, see FileRules.Root)
// and the allowed folders.
func NewFileRules(envDir, root string, allow []string) (FileRules, error) {
	var r FileRules
	if root == "" {
		root = findRoot(envDir)
	}
	real, err := realDir(root)
	if err != nil {
		return r, fmt.Errorf("root %s: %v", root, unwrapPathError(err))
	}
	r.Root = real
	for _, a := range allow {
		if a == "" {
			continue
		}
		real, err := realDir(a)
		if err != nil {
			return r, fmt.Errorf("allowed folder %s: %v", a, unwrapPathError(err))
		}
		r.Allow = append(r.Allow, real)
	}
	return r, nil
}

func realDir(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", errors.New("not a directory")
	}
	return real, nil
}

// DefaultRoot is the root a folder's environment gets without --root:
// the git repository holding it, else the folder's parent. The folder
// need not exist yet (an export's output).
func DefaultRoot(dir string) string { return findRoot(dir) }

// Within reports whether the path p is dir or below it, both made
// absolute with symlinks resolved where they exist.
func Within(p, dir string) bool {
	return within(realish(p), realish(dir))
}

// realish is p absolute, with symlinks resolved if it exists.
func realish(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// findRoot is the default root of an environment folder (see FileRules).
func findRoot(envDir string) string {
	abs, err := filepath.Abs(envDir)
	if err != nil {
		return envDir
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	// Not in a repository: the folder holding the environment folder,
	// which is where environments keep their shared base (envs/base,
	// envs/dev).
	return filepath.Dir(abs)
}

// within reports whether p is dir or below it (both clean and absolute).
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// FileError is a named file that breaks a rule. It names the path as
// written and the rule, never the content.
type FileError struct {
	Path string // as written (or as resolved, when nothing else is known)
	Rule string // what is wrong: "is outside the root /repo (it resolves to /etc/shadow)"
	Hint string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s %s", Truncate(e.Path), e.Rule) }
func (e *FileError) Unwrap() error { return e.Err }

// allowed reports whether the real path p is inside the root or an
// allowed folder. The zero FileRules allow everything (library callers
// that load no manifests of their own).
func (r FileRules) allowed(p string) bool {
	if r.Root == "" && len(r.Allow) == 0 {
		return true
	}
	if r.Root != "" && within(p, r.Root) {
		return true
	}
	for _, a := range r.Allow {
		if within(p, a) {
			return true
		}
	}
	return false
}

func (r FileRules) outsideHint() string {
	return "keep the file inside the repository (or the --root folder); to read a folder outside it on purpose, e.g. /run/secrets, pass --allow-dir FOLDER (env WSO2SYNC_ALLOW_DIRS)"
}

// CheckDir checks a folder named by include: it must resolve inside the
// root. It returns the real path.
func (r FileRules) CheckDir(written, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", &FileError{Path: written, Rule: "cannot be resolved: " + err.Error(), Err: err}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &FileError{Path: written, Rule: "does not exist (" + p + ")", Hint: "include paths are relative to the file that names them", Err: err}
	}
	if !r.allowed(real) {
		return "", &FileError{Path: written, Rule: r.outsideRule(real), Hint: r.outsideHint()}
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.IsDir() {
		return "", &FileError{Path: written, Rule: "is not a directory", Hint: "include names folders of manifests"}
	}
	return real, nil
}

func (r FileRules) outsideRule(real string) string {
	where := "the root " + r.Root
	if len(r.Allow) > 0 {
		where += " or an --allow-dir folder (" + strings.Join(r.Allow, ", ") + ")"
	}
	return "is outside " + where + "; it resolves to " + Truncate(real)
}

// Check checks a file named by a manifest: after symlinks it is inside
// the root (or an allowed folder), it is a regular file, and it is at most
// max bytes. It returns the real path. Nothing is opened, so a FIFO
// cannot block it.
func (r FileRules) Check(written, p string, max int64) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", &FileError{Path: written, Rule: "cannot be resolved: " + err.Error(), Err: err}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &FileError{Path: written, Rule: "does not exist", Hint: "paths are relative to the file that names them; create the file or fix the path", Err: err}
	}
	if !r.allowed(real) {
		return "", &FileError{Path: written, Rule: r.outsideRule(real), Hint: r.outsideHint()}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", &FileError{Path: written, Rule: "cannot be read: " + unwrapPathError(err).Error(), Err: err}
	}
	if !fi.Mode().IsRegular() {
		return "", &FileError{Path: written, Rule: "is not a regular file (" + fileType(fi.Mode()) + ")",
			Hint: "name a plain file; devices, FIFOs and folders are never read"}
	}
	if fi.Size() > max {
		return "", &FileError{Path: written, Rule: fmt.Sprintf("is larger than %s bytes (%s)", groupThousands(int(max)), groupThousands(int(fi.Size()))),
			Hint: "point at the file that holds only the value"}
	}
	return real, nil
}

// Read checks a file (Check) and reads it, at most max bytes, opening it
// without blocking and checking again that what was opened is a regular
// file (it may have been swapped for a FIFO since the check).
func (r FileRules) Read(written, p string, max int64) ([]byte, error) {
	real, err := r.Check(written, p, max)
	if err != nil {
		return nil, err
	}
	return ReadRegular(written, real, max)
}

// ReadRegular reads a regular file of at most max bytes; anything else (a
// device, a FIFO, a folder) is refused without blocking.
func ReadRegular(written, p string, max int64) ([]byte, error) {
	f, err := openNonBlocking(p)
	if err != nil {
		return nil, &FileError{Path: written, Rule: "cannot be read: " + unwrapPathError(err).Error(), Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: written, Rule: "cannot be read: " + unwrapPathError(err).Error(), Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{Path: written, Rule: "is not a regular file (" + fileType(fi.Mode()) + ")",
			Hint: "name a plain file; devices, FIFOs and folders are never read"}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &FileError{Path: written, Rule: "cannot be read: " + unwrapPathError(err).Error(), Err: err}
	}
	if int64(len(data)) > max {
		return nil, &FileError{Path: written, Rule: fmt.Sprintf("is larger than %s bytes", groupThousands(int(max))),
			Hint: "point at the file that holds only the value"}
	}
	return data, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.Type().String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
