package sim

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wso2sync/wso2sync/internal/sim/gateway"
)

// Gateway is the simulated APIM gateway (internal/sim/gateway) over this
// simulator's APIM and IS: mount it yourself, or serve it with
// ListenGateway.
func (s *Sim) Gateway() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gw == nil {
		s.gw = gateway.New(gateway.Options{APIM: s.apim, IS: s.is, HTTPClient: s.client, Clock: s.clock})
	}
	return s.gw
}

// ListenGateway serves the gateway on addr ("host:port"; port 0 picks a
// free one), over HTTPS when the simulator has TLS, until Close or
// Shutdown. The listener's URL is GatewayURL; the names wso2am:8243 and
// localhost:8243 reach it through HTTPClient.
func (s *Sim) ListenGateway(addr string) error {
	if s.certErr != nil {
		return s.certErr
	}
	h := s.Gateway()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen gateway on %s: %w", addr, err)
	}
	scheme := "http"
	if s.cert != nil {
		scheme = "https"
		l = tls.NewListener(l, s.cert.serverConfig())
	}
	u := scheme + "://" + urlHost(l.Addr())
	_, port, _ := net.SplitHostPort(l.Addr().String())
	s.transport.set(u, "wso2am:8243", "localhost:8243", "127.0.0.1:8243", "localhost:"+port)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	if s.opts.Logger != nil {
		srv.ErrorLog = slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn)
	}
	s.mu.Lock()
	s.gwURL = u
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
	return nil
}

// GatewayURL is the gateway listener's base URL ("" before ListenGateway).
func (s *Sim) GatewayURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gwURL
}
