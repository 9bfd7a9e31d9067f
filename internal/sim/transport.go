package sim

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// aliasTransport sends requests for the servers' well-known names to the
// simulator's real listeners, so that URLs stored in a key manager
// configuration ("https://wso2is:9443/oauth2/jwks",
// "https://localhost:9444/...") reach the IS simulator wherever it really
// listens, with or without TLS. Other hosts go to base unchanged.
type aliasTransport struct {
	base http.RoundTripper

	mu      sync.RWMutex
	targets map[string]*url.URL // host[:port] or bare host → listener base URL
}

func newAliasTransport(tlsConf *tls.Config) *aliasTransport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	tr.ForceAttemptHTTP2 = false
	return &aliasTransport{base: tr, targets: map[string]*url.URL{}}
}

// set maps hosts (a bare name matches any port) to the listener at base.
func (t *aliasTransport) set(base string, hosts ...string) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hosts {
		t.targets[strings.ToLower(h)] = u
	}
}

func (t *aliasTransport) lookup(u *url.URL) *url.URL {
	t.mu.RLock()
	defer t.mu.RUnlock()
	host := strings.ToLower(u.Host)
	if tgt, ok := t.targets[host]; ok {
		return tgt
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if tgt, ok := t.targets[name]; ok {
		return tgt
	}
	return nil
}

func (t *aliasTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tgt := t.lookup(r.URL)
	if tgt == nil {
		return t.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.Scheme = tgt.Scheme
	u.Host = tgt.Host
	r2.URL = &u
	if r2.Host == "" {
		r2.Host = r.URL.Host
	}
	return t.base.RoundTrip(r2)
}

func (t *aliasTransport) closeIdle() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
