package contract

import (
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

const dcrRoute = "POST /api/identity/oauth2/dcr/v1.1/register"

// TestConnectorOverHTTP: APIM's IS 7 key manager connector calls IS's DCR
// endpoint over HTTP (WSO2-API.md §3.4, §5.24), so the connector's calls
// are counted, validated, faulted and TLS-checked like any client's: an
// IS 5xx or an IS certificate APIM does not trust makes generate-keys fail
// with 500 and leaves no key mapping; the in-process shortcut is only
// there for a test that asks for it by name.
func TestConnectorOverHTTP(t *testing.T) {
	e := newEnv(t, sim.Options{TLS: true, Seed: sim.DefaultEstate()})
	e.apim("POST", admin+"/key-managers", isKMBody(e.s.Issuer())).want(t, 201)
	id := str(e.apim("POST", dp+"/applications", map[string]any{"name": "over-http",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)["applicationId"])
	gen := func(keyType string) resp {
		return e.apim("POST", dp+"/applications/"+id+"/generate-keys", map[string]any{"keyType": keyType,
			"keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}})
	}
	before := e.s.Stats().IS.Routes[dcrRoute]
	gen("PRODUCTION").want(t, 200)
	if got := e.s.Stats().IS.Routes[dcrRoute]; got != before+1 {
		t.Fatalf("IS saw %d DCR registrations for one generate-keys, want 1 more than %d", got, before)
	}

	// An IS failure reaches APIM's client as APIM's 500; nothing mapped.
	e.do("PUT", e.s.APIMURL()+"/_sim/faults", "route=is "+dcrRoute+":5xx=1", "Content-Type", "text/plain").want(t, 200)
	gen("SANDBOX").want(t, 500)
	e.do("DELETE", e.s.APIMURL()+"/_sim/faults", nil).want(t, 204)
	if n := keysOf(e, id); n != 1 {
		t.Fatalf("%d key mappings after the failed generate-keys, want 1", n)
	}

	// APIM's truststore without IS's certificate (§5.24): 500, then fine
	// once trusted.
	e.s.SetAPIMTrustsIS(false)
	r := gen("SANDBOX").want(t, 500)
	if cause := r.Header.Get("X-Sim-Cause"); !strings.Contains(cause, "certificate") {
		t.Fatalf("untrusted IS: cause %q", cause)
	}
	e.s.SetAPIMTrustsIS(true)
	gen("SANDBOX").want(t, 200)
	if n := keysOf(e, id); n != 2 {
		t.Fatalf("%d key mappings, want 2", n)
	}

	// Leniency by name: the in-process connector ignores IS faults.
	l := newEnv(t, sim.Options{InProcessConnector: true, Seed: sim.DefaultEstate()})
	l.apim("POST", admin+"/key-managers", isKMBody(l.s.Issuer())).want(t, 201)
	lid := str(l.apim("POST", dp+"/applications", map[string]any{"name": "in-process",
		"throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)["applicationId"])
	l.do("PUT", l.s.APIMURL()+"/_sim/faults", "route=is "+dcrRoute+":5xx=1", "Content-Type", "text/plain").want(t, 200)
	l.apim("POST", dp+"/applications/"+lid+"/generate-keys", map[string]any{"keyType": "PRODUCTION",
		"keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}}).want(t, 200)
	if n := l.s.Stats().IS.Routes[dcrRoute]; n != 0 {
		t.Fatalf("in-process connector: IS saw %d DCR calls", n)
	}
}

func keysOf(e *env, appID string) int {
	n := 0
	for _, k := range e.s.Dump().APIM.KeyMappings {
		if k.ApplicationID == appID {
			n++
		}
	}
	return n
}
