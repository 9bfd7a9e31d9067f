package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/export"
	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/secrets"
	"github.com/wso2sync/wso2sync/internal/spec"
)

func newExportCmd(g *globals) *cobra.Command {
	var (
		out            string
		kinds          []string
		includeBuiltin bool
		seal           sealFlags
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the live estate of an environment's servers as manifests",
		Long: `export reads the APIM and IS servers of the environment in --env and writes
what it finds as manifests in --out: one file per kind, sorted and stable
(exporting twice gives identical files), plus a wso2sync.yaml, so that
'wso2sync validate --env OUT' accepts the result.

Secrets are never written in clear: write-only ones become {env: WSO2SYNC_...}
references to fill in. The consumer secrets APIM returns for application keys
are sealed when the environment's seal.recipients, --seal-recipient or
WSO2SYNC_SEAL_RECIPIENTS name recipients: one age file per key in
OUT/sealed/<env> with its index.yaml (as apply writes them; a mapped key's
clientSecret refers to its sealed file). Without recipients they are left
out, with a note. Sealed files are random by nature: only the manifests are
identical between two exports. Built-in objects (Resident Key Manager, built-in
tiers, DefaultApplication, the admin user, system roles) are left out unless
--include-builtin.`,
		Example: `  wso2sync export --env examples/environments/dev --out /tmp/estate
  wso2sync export --env envs/prod --out prod-live --kinds Application,Subscription`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &cliError{msg: "--out is required", hint: "name the directory to write the manifests to", code: exitError}
			}
			ks, err := parseKinds(kinds)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, ds := spec.Load(ctx, g.envDir, g.loadOptions())
			if st == nil || st.Environment == nil {
				for _, d := range ds {
					fmt.Fprintln(g.stderr, d)
				}
				return &cliError{msg: "cannot read the environment in " + g.envDir, hint: "run 'wso2sync validate --env " + g.envDir + "' for details", code: exitError}
			}
			// The sealer captures the secrets the read sees, and seals them
			// only if it has recipients.
			sealer := &secrets.Sealer{}
			if err := sealer.Configure(st, secrets.SealerOptions{Recipients: seal.runRecipients(), APIMURL: g.apimURL}); err != nil {
				return secretsError(err)
			}
			p, err := providers.Open(ctx, st.Environment, providers.Options{APIMURL: g.apimURL, ISURL: g.isURL, StartupWait: g.startupWait,
				Logger: g.log, UserAgent: "wso2sync/" + buildVersion().Version, OnSecret: sealer.Capture})
			if err != nil {
				return providerError(err)
			}
			live, err := p.Read(ctx, providers.ReadOptions{Kinds: ks})
			if err != nil {
				return providerError(err)
			}
			eo := export.Options{Kinds: ks, IncludeBuiltin: includeBuiltin, Environment: st.Environment, OutDir: out}
			if sealer.HasRecipients() {
				eo.Sealer = sealer
				eo.SealRecipients = append(slices.Clone(st.Environment.Spec.Seal.Recipients), seal.runRecipients()...)
			}
			res, err := export.Write(live, eo)
			if err != nil {
				return &cliError{msg: "writing the export: " + err.Error(), code: exitError}
			}
			return writeExportReport(g, out, res, p.Calls().Total())
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write the manifests to (created if needed)")
	f.StringSliceVar(&kinds, "kinds", nil, "kinds to export (default all): KeyManager,ThrottlingPolicy,Application,Subscription,User,Role,Certificate")
	f.BoolVar(&includeBuiltin, "include-builtin", false, "also export built-in objects")
	seal.addRecipients(f)
	return cmd
}

func parseKinds(in []string) ([]spec.Kind, error) {
	if len(in) == 0 {
		return nil, nil
	}
	var out []spec.Kind
	for _, s := range in {
		s = strings.TrimSpace(s)
		i := slices.IndexFunc(providers.ServerKinds, func(k spec.Kind) bool { return strings.EqualFold(string(k), s) })
		if i < 0 {
			var names []string
			for _, k := range providers.ServerKinds {
				names = append(names, string(k))
			}
			return nil, &cliError{msg: fmt.Sprintf("unknown kind %q", s), hint: "use one of " + strings.Join(names, ", "), code: exitError}
		}
		out = append(out, providers.ServerKinds[i])
	}
	return out, nil
}

func providerError(err error) error {
	return &cliError{msg: err.Error(), hint: providers.HintOf(err), code: exitError}
}

type exportReport struct {
	Out      string         `json:"out"`
	Files    []string       `json:"files"`
	Objects  map[string]int `json:"objects"`
	Notes    []string       `json:"notes"`
	Requests int64          `json:"requests"`
}

func writeExportReport(g *globals, out string, res *export.Result, requests int64) error {
	rep := exportReport{Out: out, Files: res.Order, Objects: map[string]int{}, Notes: res.Notes, Requests: requests}
	total := 0
	for k, n := range res.Counts {
		rep.Objects[string(k)] = n
		total += n
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if g.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(g.stdout, "exported %d objects to %s (%d files, %d requests)\n", total, out, len(res.Order), requests)
	for _, k := range providers.ServerKinds {
		if n, ok := res.Counts[k]; ok {
			fmt.Fprintf(g.stdout, "  %-17s %d\n", k, n)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(g.stdout, "note: %s\n", n)
	}
	return nil
}
