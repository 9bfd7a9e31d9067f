package verify

import "testing"

// TestRebase: an IS key manager's in-network endpoint keeps its path on
// the environment's IS URL (scheme, host, port and any path prefix).
func TestRebase(t *testing.T) {
	for _, c := range []struct{ u, base, want string }{
		{"https://wso2is:9443/oauth2/jwks", "http://127.0.0.1:19444", "http://127.0.0.1:19444/oauth2/jwks"},
		{"https://localhost:9444/oauth2/token", "https://is.example.com", "https://is.example.com/oauth2/token"},
		{"https://wso2is:9443/t/carbon.super/oauth2/token?x=1", "https://gw.example.com/identity/", "https://gw.example.com/identity/t/carbon.super/oauth2/token?x=1"},
		{"", "https://is.example.com", ""},
		{"https://wso2is:9443/oauth2/token", "", "https://wso2is:9443/oauth2/token"},
	} {
		if got := rebase(c.u, c.base); got != c.want {
			t.Errorf("rebase(%q, %q) = %q, want %q", c.u, c.base, got, c.want)
		}
	}
}

func TestBasePath(t *testing.T) {
	for _, c := range []struct{ context, version, want string }{
		{"/forex", "1.0.0", "/forex/1.0.0"},
		{"forex/", "1.0.0", "/forex/1.0.0"},
		{"/pizza/{version}/shack", "2.1", "/pizza/2.1/shack"},
	} {
		if got := BasePath(c.context, c.version); got != c.want {
			t.Errorf("BasePath(%q, %q) = %q, want %q", c.context, c.version, got, c.want)
		}
	}
}
