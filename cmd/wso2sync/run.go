package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/daemon"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/secrets"
)

type runFlags struct {
	// verify runs 'wso2sync verify' after each enforcing pass that
	// applied something; verifyFlags tune it.
	verify                                  bool
	verifyFlags                             verifyFlags
	allowUnsealed                           bool
	gitURL, ref, path, cacheDir, outputsDir string
	gitUser, gitPasswordEnv                 string
	gitPasswordFile                         string
	sshKey, sshPassphraseEnv                string
	knownHosts, verifyKeys                  string
	poll                                    time.Duration

	listen                string
	interval, debounce    time.Duration
	passTimeout, shutdown time.Duration
	maxBackoff            time.Duration
	mode                  string
	secretEnv, secretFile string
	concurrency           int
	seal                  sealFlags
}

func newRunCmd(g *globals) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Keep an environment in line with a folder or a git repository (the daemon)",
		Long: `run is the reconciler daemon. It watches a folder (--env DIR, with fsnotify,
debounced) or a git repository (--git URL --ref REF --path SUBDIR, cloned into
a cache and fetched at every pass, every --git-poll and on POST /sync), and
runs the same pass as 'wso2sync apply --auto-approve' (or 'plan' in dry-run
mode): at start, when the manifests change, on the webhook and every
--interval (±10% jitter) to correct drift. One pass at a time; a request
during a pass queues exactly one follow-up; failing passes back off
exponentially up to --max-backoff. Invalid manifests are reported and
nothing is applied: the estate keeps the last good state.

The mode is the environment's spec.mode unless --mode says otherwise:
dry-run reports drift, enforce corrects it. As apply does, an enforcing
pass seals every consumer secret it generates or rotates (keys due under
spec.keys[].rotate, or whose live secret drifted from the sealed one as
spec.seal.secretDrift says) to spec.seal.recipients plus --seal-recipient
and WSO2SYNC_SEAL_RECIPIENTS; {sealed:} inputs open with --identity.

HTTP (--listen): POST /sync (webhook; HMAC-SHA256 of the body in
X-Hub-Signature-256 with the secret from --webhook-secret-env or
--webhook-secret-file; disabled without one), GET /healthz, /readyz,
/metrics (Prometheus), /status (JSON) and / (a status page).

SIGINT/SIGTERM stop the triggers, let the running pass finish (up to
--shutdown-timeout), release the lock and exit 0.`,
		Example: `  wso2sync run --env envs/dev --mode dry-run
  wso2sync run --git https://github.com/acme/estate.git --ref main --path environments/prod \
      --git-password-env GIT_TOKEN --webhook-secret-env WSO2SYNC_WEBHOOK_SECRET --listen :8080
  wso2sync run --git git@github.com:acme/estate.git --git-ssh-key ~/.ssh/deploy --git-known-hosts ~/.ssh/known_hosts
  wso2sync status --url http://localhost:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.gitURL != "" && cmd.Flags().Changed("env") {
				return &cliError{msg: "--env and --git both name the manifests", hint: "use --env DIR for a folder, or --git URL with --path for a repository", code: exitError}
			}
			if f.gitURL == "" && f.outputsDir != "" {
				return &cliError{msg: "--outputs-dir is for a git source", hint: "with --env DIR the sealed outputs go where the environment's spec.seal.outDir says", code: exitError}
			}
			return runDaemon(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.gitURL, "git", "", "git repository URL (https://, ssh://, git@host:path or a local path) instead of --env")
	fl.StringVar(&f.ref, "ref", "main", "branch, tag or commit to follow (with --git)")
	fl.StringVar(&f.path, "path", "", "environment folder inside the repository (with --git)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where the clone and the daemon's state live (default: the user cache dir)")
	fl.StringVar(&f.outputsDir, "outputs-dir", "", "where a git source's passes write the sealed outputs and their index, outside the checkout (default: <cache-dir>/outputs)")
	fl.StringVar(&f.gitUser, "git-username", "", "HTTPS username (default \"git\"; any name works with most token hosts)")
	fl.StringVar(&f.gitPasswordEnv, "git-password-env", "", "environment variable holding the HTTPS password or token")
	fl.StringVar(&f.gitPasswordFile, "git-password-file", "", "file holding the HTTPS password or token")
	fl.StringVar(&f.sshKey, "git-ssh-key", "", "SSH private key file (ssh:// and git@ URLs; default: the SSH agent)")
	fl.StringVar(&f.sshPassphraseEnv, "git-ssh-passphrase-env", "", "environment variable holding the SSH key's passphrase")
	fl.StringVar(&f.knownHosts, "git-known-hosts", "", "known_hosts file checking the server's SSH host key (default: $SSH_KNOWN_HOSTS, ~/.ssh/known_hosts)")
	fl.StringVar(&f.verifyKeys, "git-verify-keys", "", "armored OpenPGP public keys: only commits signed by one of them are applied")
	fl.DurationVar(&f.poll, "git-poll", time.Minute, "how often to ask the remote for a new commit between passes (0: only at passes and on /sync)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "HTTP address for /sync, /healthz, /readyz, /metrics, /status and /")
	fl.DurationVar(&f.interval, "interval", daemon.DefaultInterval, "drift-correction interval (±10% jitter)")
	fl.DurationVar(&f.debounce, "debounce", daemon.DefaultDebounce, "quiet time after a change in --env DIR before a pass")
	fl.DurationVar(&f.passTimeout, "pass-timeout", daemon.DefaultPassTimeout, "longest a pass may take")
	fl.DurationVar(&f.shutdown, "shutdown-timeout", daemon.DefaultShutdownTimeout, "how long a running pass may go on after SIGTERM (the process exits 4s after the signal in any case)")
	fl.DurationVar(&f.maxBackoff, "max-backoff", daemon.DefaultBackoffMax, "cap of the wait between failing passes (it starts at 15s and doubles)")
	fl.StringVar(&f.mode, "mode", "", "dry-run or enforce (default: the environment's spec.mode)")
	fl.BoolVar(&f.allowUnsealed, "allow-unsealed-secrets", false, "enforce even when consumer secrets would be generated with no seal recipient (they are then lost)")
	fl.StringVar(&f.secretEnv, "webhook-secret-env", "", "environment variable holding the POST /sync HMAC secret")
	fl.StringVar(&f.secretFile, "webhook-secret-file", "", "file holding the POST /sync HMAC secret")
	fl.IntVar(&f.concurrency, "concurrency", apply.DefaultConcurrency, "writes in flight at once inside one level")
	f.seal.addRecipients(fl)
	f.seal.addIdentity(fl)
	fl.BoolVar(&f.verify, "verify", true, "after each enforcing pass that applied something, prove each credential works as 'wso2sync verify' does (results in /status and wso2sync_verify_* metrics)")
	f.verifyFlags.add(fl)
	return cmd
}

func runDaemon(ctx context.Context, g *globals, f runFlags) error {
	usage := func(msg, hint string) error { return &cliError{msg: msg, hint: hint, code: exitError} }
	if f.mode != "" && f.mode != modeDryRun && f.mode != modeEnforce {
		return usage(fmt.Sprintf("unknown --mode %q", f.mode), "use --mode dry-run or --mode enforce")
	}
	if f.interval <= 0 {
		return usage("--interval must be positive", "e.g. --interval 10m")
	}
	if _, err := secrets.ParseRecipients(nil, f.seal.runRecipients()); err != nil {
		return usage(err.Error(), "seal recipients are age1… or ssh-ed25519/ssh-rsa public keys (--seal-recipient, "+secrets.EnvRecipients+")")
	}
	secret, err := readSecretRef("webhook secret", f.secretEnv, f.secretFile)
	if err != nil {
		return err
	}
	if secret == "" {
		g.log.Warn("no webhook secret: POST /sync is disabled (set --webhook-secret-env or --webhook-secret-file)")
	}

	var src daemon.Source
	if f.gitURL != "" {
		cache := f.cacheDir
		if cache == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				return usage("no cache directory for the clone: "+err.Error(), "pass --cache-dir DIR")
			}
			sum := sha256.Sum256([]byte(f.gitURL + "\x00" + f.ref + "\x00" + f.path))
			cache = filepath.Join(base, "wso2sync", "git", hex.EncodeToString(sum[:6]))
		}
		o := daemon.GitOptions{URL: f.gitURL, Ref: f.ref, Path: f.path, CacheDir: cache, OutputsDir: f.outputsDir, Username: f.gitUser,
			SSHKeyFile: f.sshKey, KnownHostsFile: f.knownHosts, PollInterval: f.poll, Log: g.log}
		if f.gitPasswordEnv != "" || f.gitPasswordFile != "" {
			if _, err := readSecretRef("git password", f.gitPasswordEnv, f.gitPasswordFile); err != nil {
				return err
			}
			// Read at each fetch, so a rotated token is picked up.
			o.Password = func() (string, error) {
				return readSecretRef("git password", f.gitPasswordEnv, f.gitPasswordFile)
			}
		}
		if f.sshPassphraseEnv != "" {
			o.SSHKeyPassphrase = func() (string, error) {
				return readSecretRef("SSH key passphrase", f.sshPassphraseEnv, "")
			}
		}
		if f.verifyKeys != "" {
			b, err := os.ReadFile(f.verifyKeys)
			if err != nil {
				return usage("reading --git-verify-keys: "+err.Error(), "give an armored OpenPGP public key file (gpg --export --armor KEYID)")
			}
			o.VerifyKeys = string(b)
		}
		if src, err = daemon.NewGitSource(o); err != nil {
			return usage(err.Error(), "check --git, --ref and --path")
		}
	} else {
		if _, err := os.Stat(g.envDir); err != nil {
			return usage(fmt.Sprintf("environment directory %s: %v", g.envDir, err), "pass --env DIR (the folder with wso2sync.yaml) or --git URL")
		}
		if src, err = daemon.NewDirSource(daemon.DirOptions{Dir: g.envDir, Debounce: f.debounce, Log: g.log}); err != nil {
			return usage(err.Error(), "")
		}
	}

	v := buildVersion().Version
	d, err := daemon.New(daemon.Options{
		Source: src, Mode: f.mode, Listen: f.listen, WebhookSecret: []byte(secret),
		Pass: daemon.Reconcile(daemon.ReconcileOptions{APIMURL: g.apimURL, ISURL: g.isURL, AllowDirs: g.allowDirs,
			Concurrency: f.concurrency, UserAgent: "wso2sync/" + v,
			Providers:      providers.Options{StartupWait: g.startupWait},
			SealRecipients: f.seal.runRecipients(), Identity: f.seal.identity, AllowUnsealed: f.allowUnsealed,
			Trust:  reconcile.TrustOptions{Root: g.trustRoot},
			Verify: daemon.VerifyOptions{Off: !f.verify, GatewayURL: f.verifyFlags.gatewayURL, Users: f.verifyFlags.users}}),
		Scheduler:   daemon.SchedulerOptions{Interval: f.interval, BackoffMax: f.maxBackoff},
		PassTimeout: f.passTimeout, ShutdownTimeout: f.shutdown, Version: v, Log: g.log,
	})
	if err != nil {
		return usage(err.Error(), "")
	}
	if err := d.Run(ctx); err != nil {
		return usage(err.Error(), "choose another --listen address")
	}
	return nil
}

// readSecretRef reads a secret named by an environment variable or a file
// (never given as a flag value, which would show in `ps`).
func readSecretRef(what, envName, file string) (string, error) {
	switch {
	case envName != "" && file != "":
		return "", &cliError{msg: what + ": both an environment variable and a file given", hint: "use one of them", code: exitError}
	case envName != "":
		v := os.Getenv(envName)
		if v == "" {
			return "", &cliError{msg: fmt.Sprintf("%s: environment variable %s is empty or unset", what, envName), hint: "export " + envName + " before starting wso2sync", code: exitError}
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", &cliError{msg: fmt.Sprintf("%s: %v", what, err), hint: "check the file's path and permissions", code: exitError}
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", &cliError{msg: fmt.Sprintf("%s: %s is empty", what, file), code: exitError}
		}
		return v, nil
	}
	return "", nil
}
