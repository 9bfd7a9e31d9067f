package contract

import (
	"strings"
	"testing"
)

// TestGenerateKeysHalfFailure: with the "half" fault, generate-keys does
// what WSO2-API.md §3.4/§5.4 documents for a failure after the key
// manager call: the IS client <owner>_<appUUID>_<KEYTYPE> is created, the
// application has no key mapping, and APIM answers 500. A retry then meets
// the orphaned client (IS refuses the duplicate name) and fails too, until
// the client is deleted in IS.
func TestGenerateKeysHalfFailure(t *testing.T) {
	e, _ := withKM(t)
	app := e.apim("POST", dp+"/applications", map[string]any{"name": "Half", "throttlingPolicy": "Unlimited"}).want(t, 201).obj(t)
	appID := str(app["applicationId"])
	gen := map[string]any{"keyType": "PRODUCTION", "keyManager": "WSO2IS", "grantTypesToBeSupported": []string{"client_credentials"}}
	if err := e.s.Faults().SetSpec("route=POST /api/am/devportal/v3/applications/{applicationId}/generate-keys:half=1"); err != nil {
		t.Fatal(err)
	}
	e.apim("POST", dp+"/applications/"+appID+"/generate-keys", gen).want(t, 500)

	clientName := "admin_" + appID + "_PRODUCTION"
	var clientID string
	for _, c := range e.s.Dump().IS.Clients {
		if c.ClientName == clientName {
			clientID = c.ClientID
		}
	}
	if clientID == "" {
		t.Fatalf("no IS client %s after the half-failure", clientName)
	}
	for _, k := range e.s.Dump().APIM.KeyMappings {
		if k.ApplicationID == appID {
			t.Fatalf("the half-failure stored a mapping: %+v", k)
		}
	}
	if n := e.s.Stats().APIM.Faults.Half; n != 1 {
		t.Fatalf("half counter %d", n)
	}
	// The fault is spent; the retry fails on the orphaned client.
	r := e.apim("POST", dp+"/applications/"+appID+"/generate-keys", gen).want(t, 500)
	if !strings.Contains(r.Header.Get("X-Sim-Cause"), "already") {
		t.Fatalf("retry: want the duplicate-client cause, got %v", r.Header)
	}
	// Deleting the orphan in IS (DCR, as the connector user) lets it through.
	e.is("DELETE", "/api/identity/oauth2/dcr/v1.1/register/"+clientID, nil).want(t, 204)
	e.apim("POST", dp+"/applications/"+appID+"/generate-keys", gen).want(t, 200)
}
