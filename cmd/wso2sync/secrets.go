package main

import (
	"context"
	"encoding/json"
	"errors"
	"filippo.io/age"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/apply"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// sealFlags are the secrets flags of the commands that seal or open:
// --seal-recipient (repeatable; also WSO2SYNC_SEAL_RECIPIENTS) and
// --identity (also WSO2SYNC_AGE_IDENTITY).
type sealFlags struct {
	recipients []string
	identity   string
}

func (f *sealFlags) addRecipients(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.recipients, "seal-recipient", nil,
		"also seal to this age1… or SSH public key for this run (repeatable; env "+secrets.EnvRecipients+", comma-separated)")
}

func (f *sealFlags) addIdentity(fs *pflag.FlagSet) {
	fs.StringVar(&f.identity, "identity", "", "age identity file (age-keygen) or SSH private key that opens sealed files (env "+secrets.EnvIdentity+")")
}

// runRecipients are the run's extra recipients: flags, then the variable.
func (f *sealFlags) runRecipients() []string { return secrets.RunRecipients(f.recipients, nil) }

// identityFile is --identity, else WSO2SYNC_AGE_IDENTITY.
func (f *sealFlags) identityFile() string {
	if f.identity != "" {
		return f.identity
	}
	return os.Getenv(secrets.EnvIdentity)
}

// secretsError turns a secrets error into a cliError with its hint.
func secretsError(err error) error {
	return &cliError{msg: err.Error(), hint: secrets.HintOf(err), code: exitError}
}

// loadSealer loads the environment (manifests only; no server) and its
// sealer.
func loadSealer(cmd *cobra.Command, g *globals, f *sealFlags) (*spec.State, *secrets.Sealer, error) {
	st, ds := spec.Load(cmd.Context(), g.envDir, g.loadOptions())
	if st == nil || st.Environment == nil || ds.HasErrors() {
		for _, d := range ds.Errors() {
			fmt.Fprintln(g.stderr, d)
		}
		return nil, nil, &cliError{msg: "cannot read the environment in " + g.envDir,
			hint: "run 'wso2sync validate --env " + g.envDir + "' for details", code: exitError}
	}
	s, err := secrets.NewSealer(st, secrets.SealerOptions{Recipients: f.runRecipients(), APIMURL: g.apimURL})
	if err != nil {
		return nil, nil, secretsError(err)
	}
	return st, s, nil
}

// newSecretsCmd is `wso2sync secrets`: list, open and reseal the sealed
// outputs of an environment.
func newSecretsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "List, open and re-seal the sealed outputs (age) of an environment",
		Long: `Server-generated credentials (the consumer key and secret of every application
key) are never printed: wso2sync seals each one to the environment's
recipients (spec.seal.recipients, the application's spec.sealTo and
--seal-recipient) as an armored age file <application>.<keyType>.age in the
environment's sealed output dir (spec.seal.outDir, default "sealed" beside
wso2sync.yaml), with a public index.yaml (keyed fingerprints, recipients,
times). The directory is safe to commit; 'age -d -i KEY FILE' opens a file
too. 'wso2sync secrets keygen' makes an age identity if you have no age-keygen.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSecretsListCmd(g), newSecretsOpenCmd(g), newSecretsResealCmd(g), newSecretsKeygenCmd(g))
	return cmd
}

// newSecretsKeygenCmd is `wso2sync secrets keygen --out FILE`: age-keygen
// for people without it. The identity goes to FILE (mode 0600, never
// overwritten); the public key (the recipient) to stdout, so that
// `export WSO2SYNC_SEAL_RECIPIENTS=$(wso2sync secrets keygen --out key.txt)`
// works.
func newSecretsKeygenCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Make an age identity (FILE, mode 0600) and print its public key (a seal recipient)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &cliError{msg: "keygen needs --out FILE", hint: "the identity is a private key: it goes to a file, never to the terminal", code: exitError}
			}
			id, err := age.GenerateX25519Identity()
			if err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return &cliError{msg: "cannot create " + out + ": " + err.Error(), hint: "keygen never overwrites an identity: pick a new file", code: exitError}
			}
			_, err = fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return &cliError{msg: "writing " + out + ": " + err.Error(), code: exitError}
			}
			_, err = fmt.Fprintln(g.stdout, id.Recipient())
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the identity to (created with mode 0600)")
	return cmd
}

func newSecretsListCmd(g *globals) *cobra.Command {
	var f sealFlags
	return &cobra.Command{
		Use:   "list",
		Short: "List what is sealed (from the public index; no identity needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := loadSealer(cmd, g, &f)
			if err != nil {
				return err
			}
			ix, err := s.Store.ReadIndex()
			if err != nil {
				return secretsError(err)
			}
			if g.output == "json" {
				type entry struct {
					Application string     `json:"application"`
					KeyType     string     `json:"keyType"`
					KeyManager  string     `json:"keyManager"`
					File        string     `json:"file"`
					State       string     `json:"state"`
					Recipients  []string   `json:"recipients"`
					CreatedAt   time.Time  `json:"createdAt"`
					RotatedAt   *time.Time `json:"rotatedAt,omitempty"`
					SealedAt    time.Time  `json:"sealedAt"`
					Rotating    *time.Time `json:"rotating,omitempty"`
				}
				out := struct {
					Dir     string  `json:"dir"`
					Entries []entry `json:"entries"`
				}{Dir: s.Store.Dir, Entries: []entry{}}
				for _, e := range ix.Entries {
					j := entry{e.Application, e.KeyType, e.KeyManager, e.File, sealState(e), e.Recipients, e.CreatedAt, nil, e.SealedAt, e.Rotating}
					if !e.RotatedAt.IsZero() {
						j.RotatedAt = &e.RotatedAt
					}
					out.Entries = append(out.Entries, j)
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(ix.Entries) == 0 {
				_, err := fmt.Fprintf(g.stdout, "nothing sealed in %s\n", s.Store.Dir)
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "APPLICATION\tKEY TYPE\tKEY MANAGER\tSTATE\tRECIPIENTS\tCREATED\tROTATED\tFILE")
			day := func(t time.Time) string {
				if t.IsZero() {
					return "-"
				}
				return t.UTC().Format("2006-01-02")
			}
			for _, e := range ix.Entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Application, e.KeyType, e.KeyManager, sealState(e),
					len(e.Recipients), day(e.CreatedAt), day(e.RotatedAt), e.File)
			}
			return tw.Flush()
		},
	}
}

func newSecretsOpenCmd(g *globals) *cobra.Command {
	var (
		f        sealFlags
		keyType  string
		keyMgr   string
		field    string
		jsonForm bool
	)
	cmd := &cobra.Command{
		Use:   "open APPLICATION",
		Short: "Decrypt an application's sealed key and print it (or one --field)",
		Long: `open decrypts the sealed key of an application with --identity (or
WSO2SYNC_AGE_IDENTITY) and prints its document (YAML; JSON with -o json), or
only the value of --field (consumerSecret, consumerKey, tokenEndpoint, …)
followed by a newline, for scripts:

  export CLIENT_SECRET=$(wso2sync secrets open payments-web --field consumerSecret)

This is the one command that prints a secret, and only when asked to.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, s, err := loadSealer(cmd, g, &f)
			if err != nil {
				return err
			}
			ix, err := s.Store.ReadIndex()
			if err != nil {
				return secretsError(err)
			}
			var match []secrets.IndexEntry
			for _, e := range ix.Lookup(args[0], keyType) {
				if keyMgr == "" || e.KeyManager == keyMgr {
					match = append(match, e)
				}
			}
			switch {
			case len(match) == 0:
				return &cliError{msg: fmt.Sprintf("nothing sealed for application %q%s in %s", args[0], keyTypeSuffix(keyType), s.Store.Dir),
					hint: "'wso2sync secrets list' shows what is sealed", code: exitError}
			case len(match) > 1:
				var ks []string
				for _, e := range match {
					ks = append(ks, e.KeyType+"/"+e.KeyManager)
				}
				return &cliError{msg: fmt.Sprintf("application %q has %d sealed keys (%s)", args[0], len(match), strings.Join(ks, ", ")),
					hint: "pick one with --key-type PRODUCTION|SANDBOX (and --key-manager NAME)", code: exitError}
			}
			ids, err := secrets.LoadIdentities(f.identityFile())
			if err != nil {
				return secretsError(err)
			}
			c, err := s.Store.OpenFile(match[0].File, ids)
			if err != nil {
				return secretsError(err)
			}
			if field != "" {
				v, ok := c.Field(field)
				if !ok {
					return &cliError{msg: "unknown --field " + field, hint: "fields: " + strings.Join(secrets.Fields, ", "), code: exitError}
				}
				_, err := fmt.Fprintln(g.stdout, v.Reveal())
				return err
			}
			pt, err := c.Plaintext()
			if err != nil {
				return err
			}
			if g.output == "json" || jsonForm {
				var m map[string]any
				if err := yamlToMap(pt, &m); err != nil {
					return err
				}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			_, err = g.stdout.Write(pt)
			return err
		},
	}
	f.addIdentity(cmd.Flags())
	cmd.Flags().StringVar(&keyType, "key-type", "", "PRODUCTION or SANDBOX (needed when the application has both)")
	cmd.Flags().StringVar(&keyMgr, "key-manager", "", "key manager name (needed when a key type has keys on two key managers)")
	cmd.Flags().StringVar(&field, "field", "", "print only this field: "+strings.Join(secrets.Fields, ", "))
	cmd.Flags().BoolVar(&jsonForm, "json", false, "print the document as JSON (as -o json)")
	return cmd
}

// sealState describes an index entry for `secrets list`. Fingerprints are
// not shown: they exist to compare, and even a keyed one is of no use to
// a reader.
func sealState(e secrets.IndexEntry) string {
	switch {
	case e.Rotating != nil:
		return "rotation interrupted"
	case e.Fingerprint == "":
		return "not sealed"
	case secrets.IsLegacy(e.Fingerprint):
		return "sealed (unkeyed fingerprint: the next apply replaces it)"
	}
	return "sealed"
}

func keyTypeSuffix(kt string) string {
	if kt == "" {
		return ""
	}
	return " (" + strings.ToUpper(kt) + ")"
}

func newSecretsResealCmd(g *globals) *cobra.Command {
	var f sealFlags
	cmd := &cobra.Command{
		Use:   "reseal",
		Short: "Re-encrypt every sealed file to the current recipients",
		Long: `reseal opens every sealed file of the environment with --identity and encrypts
it again to the recipients the manifests name now (spec.seal.recipients, each
application's spec.sealTo, plus --seal-recipient), for example after adding
or removing a person. Nothing is rewritten unless every file opens; each file
is replaced atomically.

A removed recipient can still open copies of the old files (in git history,
for example): rotate the keys to really revoke access.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := loadSealer(cmd, g, &f)
			if err != nil {
				return err
			}
			ids, err := secrets.LoadIdentities(f.identityFile())
			if err != nil {
				return secretsError(err)
			}
			start := time.Now()
			n, err := s.Store.Reseal(ids, s.RecipientsFor)
			if err != nil {
				return secretsError(err)
			}
			g.log.Debug("resealed", "dir", s.Store.Dir, "files", n, "duration", time.Since(start))
			_, err = fmt.Fprintf(g.stdout, "resealed %d file(s) in %s\n", n, s.Store.Dir)
			return err
		},
	}
	f.addIdentity(cmd.Flags())
	f.addRecipients(cmd.Flags())
	return cmd
}

func yamlToMap(b []byte, m *map[string]any) error { return yaml.Unmarshal(b, m) }

// loadPass loads the environment and opens its providers (no request yet)
// with the secrets wiring, which reconcile.Load sets up: sealed inputs open
// with --identity, and every consumer secret the providers see goes to the
// pass's sealer (in memory until an enforcing apply seals it), whose
// recipients are the environment's plus --seal-recipient and
// WSO2SYNC_SEAL_RECIPIENTS. rotate lists keys asked to rotate. readAhead
// (reconcile.Options.ReadAhead) starts the live read during the load when
// it only plans.
func loadPass(ctx context.Context, g *globals, f *sealFlags, rotate []reconcile.RotateRequest, readAhead func(*spec.Environment) bool) (*reconcile.Pass, error) {
	p, err := reconcile.Load(ctx, reconcile.Options{EnvDir: g.envDir, APIMURL: g.apimURL, ISURL: g.isURL, Root: g.root, AllowDirs: g.allowDirs,
		Logger: g.log, UserAgent: "wso2sync/" + buildVersion().Version,
		Providers: providers.Options{StartupWait: g.startupWait},
		Trust:     reconcile.TrustOptions{Root: g.trustRoot},
		Secrets:   reconcile.SecretOptions{Recipients: f.runRecipients(), Identity: f.identity, Rotate: rotate},
		ReadAhead: readAhead, OnRead: g.progress.onRead()})
	var le *reconcile.LoadError
	if errors.As(err, &le) {
		g.progress.done()
		for _, d := range le.Diagnostics {
			fmt.Fprintln(g.stderr, d)
		}
		return nil, &cliError{msg: le.Error(), hint: "run 'wso2sync validate --env " + g.envDir + "' for details", code: exitError}
	}
	if err != nil {
		return nil, passError(g, err)
	}
	return p, nil
}

// passError maps a failure of a pass (reconcile.StageError) to the CLI's
// message and hint; other errors (a cliError of a callback) pass as is.
func passError(g *globals, err error) error {
	var se *reconcile.StageError
	if !errors.As(err, &se) {
		var ce *cliError
		if errors.As(err, &ce) {
			return err
		}
		return providerError(err)
	}
	stateDir := apply.StateDir(g.envDir)
	switch se.Stage {
	case reconcile.StageLock:
		return stateError(se.Err, "another wso2sync apply or run holds the lock of "+stateDir+"; wait for it to finish")
	case reconcile.StageJournal:
		return stateError(se.Err, "check that "+stateDir+" is writable")
	case reconcile.StageInventory:
		return &cliError{msg: se.Err.Error(), hint: "the state directory " + stateDir + " belongs to another environment or is damaged", code: exitError}
	case reconcile.StageSecrets:
		var ue *reconcile.UnsealedError
		if errors.As(se.Err, &ue) {
			return &cliError{msg: ue.Error(), hint: ue.Hint(), code: exitError}
		}
		return secretsError(se.Err)
	case reconcile.StageDeletes:
		return stateError(se.Err, "")
	default: // StageRecover, StageRead
		return providerError(se.Err)
	}
}

// sealSummary is the line apply ends with about sealed outputs.
func sealSummary(p *reconcile.Pass) string {
	so := p.Secrets()
	if !so.Sealing() {
		return "consumer secrets were not sealed: no seal recipients (set spec.seal.recipients or pass --seal-recipient age1…); any generated here were neither printed nor stored (--allow-unsealed-secrets)"
	}
	ix, err := so.Sealer.Store.ReadIndex()
	if err != nil {
		return "sealed outputs: " + err.Error()
	}
	return fmt.Sprintf("sealed outputs: %d key(s) in %s", len(ix.Entries), so.Sealer.Store.Dir)
}

// newRotateCmd is `wso2sync rotate APP [--key-type T]`: plan the rotation
// of an application's key secrets (± rotate, with the rest of the plan)
// and apply it in enforce mode.
func newRotateCmd(g *globals) *cobra.Command {
	var (
		f       applyFlags
		keyType string
	)
	cmd := &cobra.Command{
		Use:   "rotate APPLICATION",
		Short: "Rotate the consumer secrets of an application's keys and seal the new ones",
		Long: `rotate marks the keys of APPLICATION (one --key-type, or all) for rotation,
plans (the plan shows ± rotate with the reason, beside any other change of
the environment) and applies in enforce mode after a confirmation (or
--auto-approve). --mode dry-run only shows the plan.

For each key, the index of the sealed outputs is marked first, the secret is
regenerated on the server, and the new secret is sealed before the step
reports success; the previous sealed file stays until the new one replaces
it. Resident Key Manager keys rotate through APIM's regenerate-secret; keys
of the IS 7 key manager rotate in IS (APIM's regenerate-secret rotates
nothing there): the IS application behind the client is found by client id
and its OIDC secret regenerated, so the old secret stops working at once.
If sealing fails the run fails and the journal names the rotated key; the
next plan re-seals the live value.

Keys can also rotate on a schedule: spec.keys[].rotate: {every: 90d}.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.mode == "" {
				f.mode = modeEnforce
			}
			f.rotate = []reconcile.RotateRequest{{Application: args[0], KeyType: strings.ToUpper(keyType)}}
			return runApply(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&keyType, "key-type", "", "PRODUCTION or SANDBOX (default: every key of the application)")
	fl.StringVar(&f.mode, "mode", "", "enforce (default) or dry-run")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking (for CI and scripts)")
	fl.IntVar(&f.concurrency, "concurrency", apply.DefaultConcurrency, "writes in flight at once inside one level")
	fl.StringVar(&f.format, "format", "text", "view of the plan on stdout: text or markdown (--output json for JSON)")
	f.seal.addRecipients(fl)
	f.seal.addIdentity(fl)
	return cmd
}
