package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// newSimCmd serves the embedded simulator (wso2sim) on two ports, so people
// can try wso2sync, or follow the seed's curl flows, without a WSO2 install.
func newSimCmd(g *globals) *cobra.Command {
	var o sim.ServeOptions
	var verbose bool
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the embedded APIM 4.5 + IS 7.1 simulator (wso2sim)",
		Long: `Serve wso2sim, an in-memory simulator of the WSO2 API Manager 4.5 and
Identity Server 7.1 REST APIs that wso2sync uses, until interrupted.

A fresh simulator is a fresh WSO2 install (admin/admin, DefaultApplication,
built-in tiers, the Resident Key Manager) plus a seed estate: by default the
six backend services' APIs, published. With --gw-listen, a simulated
gateway serves the published APIs at /<context>/<version>/…: it validates
the IS-issued JWT, the application's subscription and its tiers and answers
as the WSO2 gateway does (900901, 900908, 900804…). Fault injection (--faults) and a
control API under /_sim/ (stats, state, faults, knobs, expire-tokens) are
described in internal/sim/README.md.`,
		Example: `  wso2sync sim
  wso2sync sim --gw-listen 127.0.0.1:8243 --is-base-url https://localhost:9444
  wso2sync sim --tls --cert-out /tmp/wso2sim.pem --latency 20ms
  wso2sync sim --faults '5xx=0.05,429=10@2s,route=POST /api/am/devportal/v3/applications:5xx=1.0'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = g.stdout
			if verbose {
				o.Logger = g.log
			}
			if err := sim.Serve(cmd.Context(), o); err != nil {
				return &cliError{msg: "sim: " + err.Error(), hint: "check the flags with 'wso2sync sim --help'", code: exitError}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.APIMListen, "apim-listen", "127.0.0.1:9443", "address the simulated APIM listens on")
	f.StringVar(&o.ISListen, "is-listen", "127.0.0.1:9444", "address the simulated IS listens on")
	f.StringVar(&o.GWListen, "gw-listen", "", `address the simulated APIM gateway listens on, e.g. 127.0.0.1:8243 ("" = no gateway)`)
	f.StringVar(&o.ISBaseURL, "is-base-url", "", "base URL IS derives its token issuer from (issuer = URL + /oauth2/token; default: the IS listener's URL), e.g. https://localhost:9444 to match a key manager's issuer")
	f.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate generated at start")
	f.StringVar(&o.CertOut, "cert-out", "", "with --tls, write the certificate (never the key) to this file for clients to trust")
	f.StringVar(&o.SeedFile, "seed", "", `seed estate YAML ("" = the six seed APIs, "none" = empty)`)
	f.DurationVar(&o.Latency, "latency", 0, "latency added to every call, e.g. 20ms")
	f.StringVar(&o.Faults, "faults", "", "fault injection spec, e.g. '5xx=0.05,429=10@2s,reset=0.01'")
	f.IntVar(&o.MaxInFlight, "max-in-flight", 0, "cap on concurrent requests per server (0 = none)")
	f.Uint64Var(&o.RandSeed, "rand-seed", 0, "seed for probabilistic faults, for repeatable runs")
	f.DurationVar(&o.TokenTTL, "token-ttl", time.Hour, "lifetime of access tokens")
	f.DurationVar(&o.SearchLag, "search-lag", 0, "keep new APIs out of API lists and searches this long (APIM's search-index lag)")
	f.BoolVar(&verbose, "log-requests", false, "log every request (method, route, status, duration; never headers or bodies)")
	return cmd
}
