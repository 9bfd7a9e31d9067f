package providers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/spec"
)

func selfSignedPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestKindsUpdateDelete exercises Update and Delete of every kind (Create
// and List are exercised by the example apply and read), with every
// exchange validated against the official specs.
func TestKindsUpdateDelete(t *testing.T) {
	s, st, p := startContract(t)
	ctx := context.Background()
	read := func() *providers.Live {
		t.Helper()
		l, err := p.Read(ctx, providers.ReadOptions{Desired: st})
		must(t, err)
		return l
	}
	live := read()
	a := p.APIM

	// Key manager: update keeps the connector password ("*****").
	km := live.State.KeyManager("WSO2IS")
	km.Spec.Description = "changed"
	must(t, a.KeyManagers.Update(ctx, live.ID(spec.KindKeyManager, "WSO2IS"), km, ""))
	for _, k := range s.Dump().APIM.KeyManagers {
		if k.Name == "WSO2IS" && (k.Description != "changed" || k.AdditionalProperties["Password"] != "admin") {
			t.Errorf("WSO2IS after update: %q, password kept: %v", k.Description, k.AdditionalProperties["Password"] == "admin")
		}
	}
	extra := &spec.KeyManager{Object: spec.Object{Metadata: spec.Metadata{Name: "Other"}},
		Spec: spec.KeyManagerSpec{Type: "default", Enabled: true, TokenType: "DIRECT"}}
	id, err := a.KeyManagers.Create(ctx, extra, "")
	must(t, err)
	must(t, a.KeyManagers.Delete(ctx, id))

	// Throttling policies.
	tp := live.State.ThrottlingPolicy(spec.LevelApplication, "ServiceToService")
	tp.Spec.DefaultLimit.RequestCount.RequestCount = 2000
	must(t, a.Policies.Update(ctx, live.ID(spec.KindThrottlingPolicy, providers.PolicyKey(spec.LevelApplication, "ServiceToService")), tp))
	tmp := &spec.ThrottlingPolicy{Object: spec.Object{Metadata: spec.Metadata{Name: "Temp"}}, Spec: spec.ThrottlingPolicySpec{
		Level: spec.LevelSubscription, DefaultLimit: spec.ThrottleLimit{Type: "REQUESTCOUNTLIMIT",
			RequestCount: &spec.RequestCountLimit{TimeUnit: "min", UnitTime: 1, RequestCount: 10}}}}
	id, err = a.Policies.Create(ctx, tmp)
	must(t, err)
	must(t, a.Policies.Delete(ctx, spec.LevelSubscription, id))

	// Applications, keys, subscriptions.
	pay := apim.AppRef{ID: live.ID(spec.KindApplication, "payment-client"), Name: "payment-client"}
	app := live.State.Application("payment-client")
	app.Spec.Description = "new description"
	must(t, a.Applications.Update(ctx, pay.ID, app))
	k := live.Keys["payment-client"][0]
	k.Spec.GrantTypes = []string{"client_credentials"}
	k.Spec.AdditionalProperties = map[string]string{"ext_application_token_lifetime": "1800"}
	got, err := a.Keys.Update(ctx, pay, k.KeyMappingID, k.Spec)
	must(t, err)
	if got.Spec.AdditionalProperties["ext_application_token_lifetime"] != "1800" || !slices.Equal(got.Spec.GrantTypes, []string{"client_credentials"}) {
		t.Errorf("key after update: %+v", got.Spec)
	}
	sub := live.Subscriptions["payment-client--forex"]
	if _, err := a.Subscriptions.Update(ctx, pay, &sub, "Silver"); err != nil {
		t.Fatal(err)
	}
	must(t, a.Subscriptions.Delete(ctx, live.ID(spec.KindSubscription, "payment-client--ledger")))
	must(t, a.Keys.CleanUp(ctx, pay, k.KeyMappingID))
	wallet := live.ID(spec.KindApplication, "wallet-client")
	must(t, a.Applications.Delete(ctx, wallet))

	// IS: users and roles.
	bob := findUser(live.State, "bob")
	bob.Spec.Name.FamilyName = "Jones"
	bobID := live.ID(spec.KindUser, "bob")
	must(t, p.IS.Users.Update(ctx, bobID, bob))
	must(t, p.IS.Users.SetPassword(ctx, bobID, "N3w!password"))
	roleID := live.ID(spec.KindRole, "ledger-auditor")
	must(t, p.IS.Roles.SetPermissions(ctx, roleID, []string{"internal_login", "internal_user_mgt_list"}))
	must(t, p.IS.Roles.RemoveUsers(ctx, roleID, []string{bobID}))
	must(t, p.IS.Users.Delete(ctx, live.ID(spec.KindUser, "alice")))
	must(t, p.IS.Roles.Delete(ctx, live.ID(spec.KindRole, "payments-operator")))

	// IS DCR clients: unknown ids are "not there", not errors.
	if c, err := p.IS.Clients.Get(ctx, "no_such_client_0000"); c != nil || err != nil {
		t.Errorf("Get unknown client = %v, %v", c, err)
	}
	must(t, p.IS.Clients.Delete(ctx, "no_such_client_0000"))

	// Certificates.
	pem1, pem2 := selfSignedPEM(t, "ledger"), selfSignedPEM(t, "ledger2")
	ep := &spec.Certificate{Object: spec.Object{Metadata: spec.Metadata{Name: "ledger-backend"}},
		Spec: spec.CertificateSpec{Usage: spec.CertUsageEndpoint, Endpoint: "https://ledger-service:8002"}}
	must(t, a.Certificates.CreateEndpoint(ctx, ep, pem1))
	must(t, a.Certificates.UpdateEndpoint(ctx, "ledger-backend", pem2))
	forex, err := a.APIs.Lookup(ctx, spec.APIRef{Name: "forexapi", Version: "1.0.0"})
	must(t, err)
	cl := &spec.Certificate{Object: spec.Object{Metadata: spec.Metadata{Name: "forex-client-cert"}},
		Spec: spec.CertificateSpec{Usage: spec.CertUsageClient, Tier: "Gold", API: &spec.APIRef{Name: "ForexAPI", Version: "1.0.0"}}}
	must(t, a.Certificates.CreateClient(ctx, forex.ID, cl, pem1))
	must(t, a.Certificates.UpdateClient(ctx, forex.ID, "forex-client-cert", "Silver", nil))

	live2, err := p.Read(ctx, providers.ReadOptions{})
	must(t, err)
	if app := live2.State.Application("payment-client"); app.Spec.Description != "new description" || len(app.Spec.Keys) != 0 {
		t.Errorf("payment-client: %+v", app.Spec)
	}
	if live2.State.Application("wallet-client") != nil || findSub(live2.State, "wallet-client--PaymentAPI--1.0.0") != nil {
		t.Errorf("wallet-client or its subscriptions survived the delete")
	}
	if s := findSub(live2.State, "payment-client--ForexAPI--1.0.0"); s == nil || s.Spec.ThrottlingPolicy != "Silver" {
		t.Errorf("tier update: %+v", s)
	}
	if findSub(live2.State, "payment-client--LedgerAPI--1.0.0") != nil {
		t.Errorf("deleted subscription still there")
	}
	if u := findUser(live2.State, "bob"); u == nil || u.Spec.Name.FamilyName != "Jones" || slices.Contains(u.Spec.Roles, "ledger-auditor") {
		t.Errorf("bob: %+v", u)
	}
	if findUser(live2.State, "alice") != nil || live2.State.Role("payments-operator") != nil {
		t.Errorf("deleted user/role still there")
	}
	if r := live2.State.Role("ledger-auditor"); r == nil || !slices.Contains(r.Spec.Permissions, "internal_user_mgt_list") {
		t.Errorf("ledger-auditor: %+v", r)
	}
	if tp := live2.State.ThrottlingPolicy(spec.LevelApplication, "ServiceToService"); tp.Spec.DefaultLimit.RequestCount.RequestCount != 2000 {
		t.Errorf("policy update lost")
	}
	var certs []string
	for _, c := range live2.State.Certificates {
		certs = append(certs, c.Metadata.Name+"/"+c.Spec.Usage+"/"+c.Spec.Tier)
		if c.Metadata.Name == "ledger-backend" && c.Spec.Source.PEM != string(pem2) {
			t.Errorf("endpoint certificate content not updated")
		}
	}
	if !slices.Equal(certs, []string{"forex-client-cert/client/Silver", "ledger-backend/endpoint/"}) {
		t.Errorf("certificates = %v", certs)
	}
	if id := live2.ID(spec.KindCertificate, "forex-client-cert"); id != forex.ID+"/forex-client-cert" {
		t.Errorf("client cert id %q", id)
	}
	must(t, a.Certificates.DeleteClient(ctx, forex.ID, "forex-client-cert"))
	must(t, a.Certificates.DeleteEndpoint(ctx, "ledger-backend"))
}

// TestOnSecret: generated and read consumer secrets go to the hook; the
// live state keeps no secret and no digest of one.
func TestOnSecret(t *testing.T) {
	s, st, p := startContract(t)
	_ = s
	ctx := context.Background()
	var seen []string
	opts := testOptions()
	opts.OnSecret = func(app, keyType, km, ck, secret string) {
		seen = append(seen, app+"/"+keyType+"/"+km)
	}
	p2 := openWith(t, s, st, opts)
	live, err := p2.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindApplication}})
	must(t, err)
	if len(seen) != 7 { // 6 applications, ledger-client has two keys
		t.Errorf("OnSecret saw %d secrets: %v", len(seen), seen)
	}
	for _, k := range live.Keys["ledger-client"] {
		if !k.HasSecret || !slices.Contains(seen, "ledger-client/"+k.Spec.KeyType+"/WSO2IS") {
			t.Errorf("key %s/%s: secret %v, not seen by the hook", "ledger-client", k.Spec.KeyType, k.HasSecret)
		}
	}
	_ = p
}
