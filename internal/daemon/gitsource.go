package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"
)

// GitOptions configure a git source.
type GitOptions struct {
	// URL of the remote: https://, ssh://, git@host:path, file:// or a
	// local path.
	URL string
	// Ref is a branch, a tag or a commit hash (default "main");
	// refs/heads/… and refs/tags/… say which explicitly.
	Ref string
	// Path is the environment's folder inside the repository.
	Path string
	// CacheDir holds the clone (<CacheDir>/repo) and the passes' state
	// (<CacheDir>/state: lock, journal, inventory), so a fresh checkout
	// never loses what wso2sync owns.
	CacheDir string
	// OutputsDir holds the sealed outputs and their index (default
	// <CacheDir>/outputs; the environment's spec.seal.outDir, when
	// relative, resolves against it). Never inside the checkout: a new
	// commit replaces the work tree, and with it anything written there,
	// which made every pass re-seal every key.
	OutputsDir string

	// Username and Password authenticate HTTPS (basic auth; a token is a
	// password). Password is called at each fetch so a rotated secret is
	// picked up; it comes from a secret reference, never a flag value.
	Username string
	Password func() (string, error)
	// SSHKeyFile is a private key for ssh:// and git@ remotes;
	// SSHKeyPassphrase its passphrase, if any. KnownHostsFile checks the
	// server's host key (default: $SSH_KNOWN_HOSTS, ~/.ssh/known_hosts,
	// /etc/ssh/ssh_known_hosts). Host keys are always checked.
	SSHKeyFile       string
	SSHKeyPassphrase func() (string, error)
	KnownHostsFile   string

	// VerifyKeys, when set, is an armored OpenPGP key ring: only commits
	// whose signature verifies against it are checked out.
	VerifyKeys string

	// PollInterval is how often the remote is asked for a new commit
	// between passes (0: only at passes and on webhooks).
	PollInterval time.Duration
	Log          *slog.Logger
}

var hexRef = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// GitSource is a git remote cloned into a cache directory.
type GitSource struct {
	opts GitOptions

	mu      sync.Mutex // serialises repository operations
	repo    *git.Repository
	refName plumbing.ReferenceName // resolved ref (branch or tag), "" for a commit
	local   plumbing.ReferenceName // where fetches put it
	refHash plumbing.Hash          // the ref's hash at the last fetch (tag object for annotated tags)
	head    plumbing.Hash          // checked-out commit
	log     *slog.Logger           // the running pass's (under mu)
}

// NewGitSource returns a git source; the clone happens at the first Sync.
func NewGitSource(o GitOptions) (*GitSource, error) {
	if o.URL == "" {
		return nil, errors.New("no git URL")
	}
	if o.CacheDir == "" {
		return nil, errors.New("no cache directory for the git clone")
	}
	if o.Ref == "" {
		o.Ref = "main"
	}
	o.Path = filepath.Clean(filepath.FromSlash(strings.Trim(o.Path, "/")))
	if o.Path == ".." || strings.HasPrefix(o.Path, ".."+string(filepath.Separator)) || filepath.IsAbs(o.Path) {
		return nil, fmt.Errorf("git path %q is outside the repository", o.Path)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &GitSource{opts: o, log: o.Log}, nil
}

func (s *GitSource) repoDir() string { return filepath.Join(s.opts.CacheDir, "repo") }

// StateDir is <CacheDir>/state: beside the clone, not in it.
func (s *GitSource) StateDir() string { return filepath.Join(s.opts.CacheDir, "state") }

// OutputsDir is GitOptions.OutputsDir, default <CacheDir>/outputs: beside
// the clone, not in it.
func (s *GitSource) OutputsDir() string {
	if s.opts.OutputsDir != "" {
		return s.opts.OutputsDir
	}
	return filepath.Join(s.opts.CacheDir, "outputs")
}

func (s *GitSource) Describe() Revision {
	p := filepath.ToSlash(s.opts.Path)
	if p == "." {
		p = ""
	}
	return Revision{Source: "git", URL: RedactURL(s.opts.URL), Ref: s.opts.Ref, Path: p}
}

// RedactURL removes credentials from a URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Scheme == "" {
		return raw
	}
	if _, has := u.User.Password(); has || u.Scheme == "https" || u.Scheme == "http" {
		u.User = nil
	}
	return u.String()
}

func (s *GitSource) auth() (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(s.opts.URL)
	if err != nil {
		return nil, fmt.Errorf("git URL %s: %w", RedactURL(s.opts.URL), err)
	}
	switch ep.Protocol {
	case "ssh":
		user := cmpOr(ep.User, s.opts.Username, "git")
		var auth *gitssh.PublicKeys
		if s.opts.SSHKeyFile != "" {
			pass := ""
			if s.opts.SSHKeyPassphrase != nil {
				if pass, err = s.opts.SSHKeyPassphrase(); err != nil {
					return nil, err
				}
			}
			if auth, err = gitssh.NewPublicKeysFromFile(user, s.opts.SSHKeyFile, pass); err != nil {
				return nil, fmt.Errorf("ssh key %s: %w", s.opts.SSHKeyFile, err)
			}
		}
		var files []string
		if s.opts.KnownHostsFile != "" {
			files = []string{s.opts.KnownHostsFile}
		}
		cb, err := gitssh.NewKnownHostsCallback(files...)
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		if auth == nil {
			agent, err := gitssh.NewSSHAgentAuth(user)
			if err != nil {
				return nil, fmt.Errorf("no ssh key given and no ssh agent: %w", err)
			}
			agent.HostKeyCallback = cb
			return agent, nil
		}
		auth.HostKeyCallback = cb
		return auth, nil
	case "http", "https":
		if s.opts.Password == nil {
			return nil, nil
		}
		pass, err := s.opts.Password()
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: cmpOr(s.opts.Username, "git"), Password: pass}, nil
	}
	return nil, nil
}

// resolveRef decides whether Ref names a branch, a tag or a commit, asking
// the remote (ls-remote) when it is not explicit.
func (s *GitSource) resolveRef(ctx context.Context, auth transport.AuthMethod) error {
	ref := s.opts.Ref
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		s.refName = plumbing.ReferenceName(ref)
	case strings.HasPrefix(ref, "refs/tags/"):
		s.refName = plumbing.ReferenceName(ref)
	default:
		refs, err := s.lsRemote(ctx, auth)
		if err != nil {
			return err
		}
		for _, n := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)} {
			if _, ok := refs[n]; ok {
				s.refName = n
				break
			}
		}
		if s.refName == "" {
			if !hexRef.MatchString(ref) {
				return fmt.Errorf("%s has no branch or tag %q", RedactURL(s.opts.URL), ref)
			}
			return nil // a commit
		}
	}
	if s.refName.IsBranch() {
		s.local = plumbing.NewRemoteReferenceName("origin", s.refName.Short())
	} else {
		s.local = s.refName
	}
	return nil
}

func (s *GitSource) lsRemote(ctx context.Context, auth transport.AuthMethod) (map[plumbing.ReferenceName]plumbing.Hash, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{s.opts.URL}})
	list, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", RedactURL(s.opts.URL), err)
	}
	m := make(map[plumbing.ReferenceName]plumbing.Hash, len(list))
	for _, r := range list {
		m[r.Name()] = r.Hash()
	}
	return m, nil
}

// Sync fetches the ref and checks it out. A fetch that fails with a
// clone in place keeps the last checkout (and returns its revision with
// the error, so the pass can still correct drift).
func (s *GitSource) Sync(ctx context.Context) (string, Revision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = loggerFrom(ctx, s.opts.Log)
	auth, err := s.auth()
	if err != nil {
		return "", s.Describe(), err
	}
	if s.repo == nil {
		if err := s.open(ctx, auth); err != nil {
			return "", s.Describe(), err
		}
	} else if err := s.fetch(ctx, auth); err != nil {
		return s.dir(), s.revision(), err
	}
	h, err := s.target()
	if err != nil {
		return s.dir(), s.revision(), err
	}
	if h != s.head {
		if err := s.checkout(h); err != nil {
			return s.dir(), s.revision(), err
		}
	}
	return s.dir(), s.revision(), nil
}

func (s *GitSource) dir() string { return filepath.Join(s.repoDir(), s.opts.Path) }

func (s *GitSource) revision() Revision {
	r := s.Describe()
	if s.head.IsZero() {
		return r
	}
	r.Commit = s.head.String()
	if c, err := s.repo.CommitObject(s.head); err == nil {
		r.Message, _, _ = strings.Cut(strings.TrimSpace(c.Message), "\n")
		r.Author = c.Author.Name
		r.Time = c.Committer.When.UTC()
	}
	r.CommitURL = commitURL(r.URL, r.Commit)
	return r
}

// open clones the remote into the cache. The clone goes to a new folder
// that replaces the old one only once it succeeded, so an unreachable
// remote never costs the last checkout.
func (s *GitSource) open(ctx context.Context, auth transport.AuthMethod) error {
	if err := s.resolveRef(ctx, auth); err != nil {
		return err
	}
	dir := s.repoDir()
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(s.opts.CacheDir, 0o700); err != nil {
		return err
	}
	co := &git.CloneOptions{URL: s.opts.URL, Auth: auth, NoCheckout: true, Tags: git.NoTags}
	if s.refName != "" {
		// A branch or tag: only it, and only its last commit.
		co.ReferenceName, co.SingleBranch, co.Depth = s.refName, true, 1
	}
	if _, err := git.PlainCloneContext(ctx, tmp, false, co); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("cloning %s: %w", RedactURL(s.opts.URL), err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return err
	}
	s.repo, s.head = repo, plumbing.ZeroHash
	s.log.Info("cloned", "url", RedactURL(s.opts.URL), "ref", s.opts.Ref, "shallow", co.Depth == 1)
	return nil
}

func (s *GitSource) refSpec() config.RefSpec {
	return config.RefSpec("+" + s.refName.String() + ":" + s.local.String())
}

func (s *GitSource) fetch(ctx context.Context, auth transport.AuthMethod) error {
	if s.refName == "" {
		return nil // a commit does not move
	}
	err := s.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", Auth: auth, RefSpecs: []config.RefSpec{s.refSpec()},
		Depth: 1, Force: true, Tags: git.NoTags,
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	// A shallow fetch go-git cannot complete (history rewritten, objects
	// missing): clone afresh.
	s.log.Warn("fetch failed; cloning afresh", "err", err)
	if cerr := s.open(ctx, auth); cerr != nil {
		return fmt.Errorf("fetching %s: %w", RedactURL(s.opts.URL), err)
	}
	return nil
}

// target is the commit the ref points at now.
func (s *GitSource) target() (plumbing.Hash, error) {
	if s.refName == "" {
		h, err := s.repo.ResolveRevision(plumbing.Revision(s.opts.Ref))
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("commit %s: %w", s.opts.Ref, err)
		}
		return *h, nil
	}
	ref, err := s.repo.Reference(s.local, true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s after fetch: %w", s.refName, err)
	}
	s.refHash = ref.Hash()
	h := ref.Hash()
	if tag, err := s.repo.TagObject(h); err == nil { // annotated tag
		c, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		h = c.Hash
	}
	return h, nil
}

func (s *GitSource) checkout(h plumbing.Hash) error {
	c, err := s.repo.CommitObject(h)
	if err != nil {
		return err
	}
	if s.opts.VerifyKeys != "" {
		if err := verify(c, s.opts.VerifyKeys); err != nil {
			// Not applied: the previous checkout stays.
			return Invalid(err)
		}
	}
	wt, err := s.repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: h, Force: true}); err != nil {
		return fmt.Errorf("checking out %s: %w", h, err)
	}
	s.head = h
	s.log.Info("checked out", "commit", h.String())
	return nil
}

func verify(c *object.Commit, keyRing string) error {
	if c.PGPSignature == "" {
		return fmt.Errorf("commit %s is not signed and only signed commits are applied", c.Hash)
	}
	if _, err := c.Verify(keyRing); err != nil {
		return fmt.Errorf("commit %s: signature does not verify against the configured keys: %w", c.Hash, err)
	}
	return nil
}

// Watch polls the remote every PollInterval (if set) and reports a moved
// ref; webhooks and the interval trigger passes without it.
func (s *GitSource) Watch(ctx context.Context, changed func(reason string)) error {
	if s.opts.PollInterval <= 0 || (!strings.HasPrefix(s.opts.Ref, "refs/") && hexRef.MatchString(s.opts.Ref)) {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	var reported plumbing.Hash // the last commit a poll reported
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		name, known, ready := s.refName, s.refHash, s.repo != nil
		s.mu.Unlock()
		if !ready || name == "" {
			continue
		}
		auth, err := s.auth()
		if err != nil {
			s.opts.Log.Warn("polling the remote", "err", err)
			continue
		}
		refs, err := s.lsRemote(ctx, auth)
		if err != nil {
			s.opts.Log.Warn("polling the remote", "err", err)
			continue
		}
		// Reported once: until the pass it asked for has fetched, the
		// next polls still see the ref ahead of the last fetch.
		if h, ok := refs[name]; ok && h != known && h != reported {
			reported = h
			changed("git: " + name.Short() + " at " + h.String()[:12])
		}
	}
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
