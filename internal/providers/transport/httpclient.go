package transport

import (
	"log/slog"
	"net/http"
	"time"
)

// HTTPClient is a plain *http.Client with the TLS settings of o (the
// environment's CA bundle, insecureSkipVerify), for the calls that are not
// WSO2 REST calls and so need none of Client's retries, limiting or error
// parsing: `wso2sync verify` minting tokens at a key manager, reading its
// JWKS and calling the gateway, where the raw answer is the result. It does
// not follow redirects (a token request must not be replayed elsewhere).
func HTTPClient(o TLSOptions, timeout time.Duration, log *slog.Logger) (*http.Client, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg, err := buildTLSConfig(o, log, "verify")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: cmpOr(timeout, DefaultTimeout),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}
