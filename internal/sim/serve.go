package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// ServeOptions are the flags of `wso2sync sim`.
type ServeOptions struct {
	// APIMListen and ISListen are the listen addresses (--apim-listen,
	// --is-listen); defaults 127.0.0.1:9443 and 127.0.0.1:9444, the
	// host-side ports of seed 000.
	APIMListen string
	ISListen   string
	// GWListen is the gateway's listen address (--gw-listen); "" serves
	// no gateway. Seed 000's gateway port is 8243.
	GWListen string
	// TLS serves HTTPS with a fresh self-signed certificate (--tls).
	TLS bool
	// CertOut, with TLS, is where the certificate is written (0644; the
	// key is never written) for clients to trust (--cert-out).
	CertOut string
	// SeedFile is a seed estate YAML file (--seed); "" is the default seed
	// (the six backend APIs), "none" an empty estate.
	SeedFile string
	// Latency is a fixed latency added to every request (--latency); it is
	// merged into Faults as a global rule unless Faults sets latency.
	Latency time.Duration
	// Faults is a fault spec in ParseFaults syntax (--faults).
	Faults string
	// AdminUser/AdminPassword default to admin/admin.
	AdminUser, AdminPassword string
	// ISBaseURL overrides the base of the token issuer (default: the IS
	// URL, e.g. https://127.0.0.1:9444).
	ISBaseURL string
	// MaxInFlight caps concurrent requests per server (0 = none).
	MaxInFlight int
	// RandSeed makes probabilistic faults repeatable (0 → 1).
	RandSeed uint64
	// TokenTTL defaults to 3600s.
	TokenTTL time.Duration
	// SearchLag keeps new APIs out of lists and searches this long
	// (--search-lag; WSO2-API.md §5.1).
	SearchLag time.Duration
	// Out receives the startup banner (URLs, certificate path); nil = none.
	Out io.Writer
	// Logger, if set, logs every request (method, path, route, status,
	// duration; never headers or bodies) at Info.
	Logger *slog.Logger
	// Ready is called once both listeners accept connections.
	Ready func(*Sim)
}

// Serve runs the simulator until ctx is cancelled, then shuts down
// gracefully. It is the body of `wso2sync sim`.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.APIMListen == "" {
		o.APIMListen = "127.0.0.1:9443"
	}
	if o.ISListen == "" {
		o.ISListen = "127.0.0.1:9444"
	}
	var seed *Estate
	switch o.SeedFile {
	case "":
		seed = DefaultEstate()
	case "none":
	default:
		e, err := LoadEstateFile(o.SeedFile)
		if err != nil {
			return err
		}
		seed = e
	}
	faults, err := ParseFaults(o.Faults)
	if err != nil {
		return err
	}
	if o.Latency < 0 {
		return fmt.Errorf("latency %s is negative", o.Latency)
	}
	if o.Latency > 0 {
		has := false
		for _, r := range faults.Rules {
			if r.Server == "" && r.Route == "" && r.Latency > 0 {
				has = true
			}
		}
		if !has {
			faults.Rules = append([]FaultRule{{Latency: Duration(o.Latency)}}, faults.Rules...)
		}
	}
	if o.CertOut != "" && !o.TLS {
		return fmt.Errorf("--cert-out needs --tls")
	}
	opts := Options{
		AdminUser: o.AdminUser, AdminPassword: o.AdminPassword, TokenTTL: o.TokenTTL,
		ISBaseURL: o.ISBaseURL, TLS: o.TLS, Faults: faults, RandSeed: o.RandSeed, SearchLag: o.SearchLag,
		MaxInFlight: o.MaxInFlight,
	}
	opts.Logger = o.Logger
	s := New(opts)
	// Seed before listening: a client that connects as soon as the port
	// opens (wso2sync waits for a server that refuses connections) must
	// see the whole seed estate, never a half-seeded one.
	if err := s.ApplySeed(seed); err != nil {
		return err
	}
	if err := s.Listen(o.APIMListen, o.ISListen); err != nil {
		return err
	}
	defer s.Close()
	if o.GWListen != "" {
		if err := s.ListenGateway(o.GWListen); err != nil {
			return err
		}
	}
	if o.CertOut != "" {
		if err := writeCertFile(o.CertOut, s.CACertPEM()); err != nil {
			return err
		}
	}
	if o.Out != nil {
		fmt.Fprintf(o.Out, "wso2sim: APIM 4.5 at %s\n", s.APIMURL())
		fmt.Fprintf(o.Out, "wso2sim: IS 7.1   at %s (issuer %s)\n", s.ISURL(), s.Issuer())
		if u := s.GatewayURL(); u != "" {
			fmt.Fprintf(o.Out, "wso2sim: gateway at %s (published APIs at /<context>/<version>/…)\n", u)
		}
		fmt.Fprintf(o.Out, "wso2sim: admin user %q; control API at %s/_sim/stats\n", s.opts.AdminUser, s.APIMURL())
		if o.CertOut != "" {
			fmt.Fprintf(o.Out, "wso2sim: certificate written to %s\n", o.CertOut)
		}
		if len(faults.Rules) > 0 {
			fmt.Fprintf(o.Out, "wso2sim: faults %s\n", faults)
		}
	}
	if o.Ready != nil {
		o.Ready(s)
	}
	<-ctx.Done()
	// Stopping on a signal is a normal stop: let requests in flight finish
	// for a moment, then close whatever is left. A connection that sent no
	// request yet counts as busy to http.Server.Shutdown for its first 5
	// s, which would otherwise outlast the CLI's interrupt grace.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// shutdownGrace bounds Serve's graceful stop, well inside the CLI's
// interrupt grace (4 s).
const shutdownGrace = 2 * time.Second
