package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wso2sync/wso2sync/internal/reconcile"
	"github.com/wso2sync/wso2sync/internal/verify"
)

// verifyFlags are the flags verify and apply --verify share.
type verifyFlags struct {
	gatewayURL string
	users      bool
}

func (f *verifyFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.gatewayURL, "gateway-url", "", "APIM gateway base URL, overriding spec.gateway.url (env "+verify.GatewayEnv+")")
	fs.BoolVar(&f.users, "users", false, "also prove declared users whose password is a reference (password grant; spec.verify.users)")
}

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		f      verifyFlags
		seal   sealFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove that each declared credential works (tokens, subscriptions through the gateway)",
		Long: `verify acts as a client of the environment, read-only: every declared
application key opens its sealed secret (--identity; mapped keys use their
secret reference), mints a token at its key manager's token endpoint
(client_credentials where the key allows it) and checks the token: a JWT's
signature against the key manager's JWKS or certificate, its issuer,
consumer-key claim, scopes and expiry; an opaque token by introspection.

With spec.gateway.url (or --gateway-url) and a verify resource per API in
the catalogue (spec.apis[].verify: {path: /health, method: GET}), every
declared subscription calls that resource through the gateway with its
application's token: a 401 or 403 names the key or subscription at fault.
--users (or spec.verify.users) also proves declared users whose password is
a reference with a password grant, and reads their roles back.

Each check is verified, failed (with the server's answer and a hint) or
skipped (with why). Exit status: 0 nothing failed, 1 a check failed or
verify could not run.`,
		Example: `  wso2sync verify --env examples/environments/dev --identity key.txt
  wso2sync verify --env envs/prod --identity key.txt --gateway-url https://gw.example.com --users
  wso2sync verify --env envs/prod --identity key.txt --format markdown > verify.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := loadPass(ctx, g, &seal, nil, nil)
			if err != nil {
				return err
			}
			rep, err := runVerify(ctx, g, p, f)
			if err != nil {
				return err
			}
			if err := renderVerify(g, g.stdout, rep, format); err != nil {
				return err
			}
			if code := rep.ExitCode(); code != 0 {
				return &cliError{code: code, reported: true}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	f.add(fl)
	seal.addIdentity(fl)
	fl.StringVar(&format, "format", "text", "view on stdout: text or markdown (--output json for JSON)")
	return cmd
}

// runVerify verifies a loaded pass's environment.
func runVerify(ctx context.Context, g *globals, p *reconcile.Pass, f verifyFlags) (*verify.Report, error) {
	rep, err := verify.Run(ctx, p, verify.Options{GatewayURL: f.gatewayURL, Users: f.users})
	if err != nil {
		return nil, &cliError{msg: "verify: " + err.Error(), hint: "check spec.tls in " + g.envDir, code: exitError}
	}
	g.log.Info("verified", "env", rep.Environment, "verified", rep.Summary.Verified, "failed", rep.Summary.Failed,
		"skipped", rep.Summary.Skipped, "duration", rep.Duration)
	return rep, nil
}

// renderVerify writes the report in the chosen view.
func renderVerify(g *globals, w io.Writer, rep *verify.Report, format string) error {
	switch {
	case g.output == "json":
		return verify.RenderJSON(w, rep)
	case format == "markdown":
		return verify.RenderMarkdown(w, rep)
	case format == "" || format == "text":
		return verify.RenderText(w, rep)
	}
	return &cliError{msg: fmt.Sprintf("unknown --format %q", format), hint: "use --format text or --format markdown", code: exitError}
}
