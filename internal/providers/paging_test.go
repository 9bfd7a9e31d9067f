package providers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/providers"
	"github.com/wso2sync/wso2sync/internal/providers/apim"
	"github.com/wso2sync/wso2sync/internal/providers/providertest"
	"github.com/wso2sync/wso2sync/internal/sim"
	"github.com/wso2sync/wso2sync/internal/sim/simcore"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// TestAPIMListsFollowEveryPage reads every paginated APIM list family
// (applications, subscriptions per application and per API, APIs,
// endpoint and client certificates) with more objects than one page:
// once with the server silently capping pages below the limit asked for,
// once with the client asking for small pages.
func TestAPIMListsFollowEveryPage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap      int
		pageSize int
	}{
		{"server caps pages", 4, 0},
		{"client asks small pages", 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			providertest.SetEnv(t)
			s := sim.Start(t, sim.Options{})
			st := providertest.LoadExample(t, s)
			opts := providertest.Options()
			opts.APIMPageSize = tc.pageSize
			p := providertest.Open(t, s, st.Environment, opts)
			ctx := context.Background()
			if err := providertest.Apply(ctx, p, st, providertest.SeedAPIs(s)); err != nil {
				t.Fatal(err)
			}
			// 10 applications each subscribed to all 6 generated APIs.
			if _, err := sim.GenerateEstate(s, sim.EstateSize{Apps: 10, APIs: 6, Subscriptions: 60}); err != nil {
				t.Fatal(err)
			}
			a := p.APIM
			apis, err := a.APIs.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			const nCerts = 6
			for i := range nCerts {
				c := &spec.Certificate{Object: spec.Object{Metadata: spec.Metadata{Name: fmt.Sprintf("pager-ep-%d", i)}},
					Spec: spec.CertificateSpec{Usage: spec.CertUsageEndpoint, Endpoint: fmt.Sprintf("https://backend-%d.example.com", i)}}
				must(t, a.Certificates.CreateEndpoint(ctx, c, selfSignedPEM(t, c.Metadata.Name)))
				cc := &spec.Certificate{Object: spec.Object{Metadata: spec.Metadata{Name: fmt.Sprintf("pager-cl-%d", i)}},
					Spec: spec.CertificateSpec{Usage: spec.CertUsageClient, Tier: "Unlimited"}}
				must(t, a.Certificates.CreateClient(ctx, apis[0].ID, cc, selfSignedPEM(t, cc.Metadata.Name)))
			}
			s.Knobs().SetPageCaps(simcore.PageCaps{APIM: tc.cap})

			dump := s.Dump().APIM
			apps, err := a.Applications.List(ctx)
			must(t, err)
			if len(apps) != len(dump.Applications) || len(apps) < 10 {
				t.Errorf("applications: %d read, server holds %d", len(apps), len(dump.Applications))
			}
			// A fresh client: APIs.List caches its first read (made by
			// Apply, before the generated APIs existed).
			fresh := providertest.Open(t, s, st.Environment, opts)
			allAPIs, err := fresh.APIM.APIs.List(ctx)
			if err != nil || len(allAPIs) != len(dump.APIs) || len(allAPIs) < 12 {
				t.Errorf("APIs: %d read (%v), server holds %d", len(allAPIs), err, len(dump.APIs))
			}
			appName := map[string]string{}
			for _, f := range apps {
				appName[f.ID] = f.Object.Metadata.Name
				if !strings.HasPrefix(f.Object.Metadata.Name, "app-") {
					continue
				}
				subs, err := a.Subscriptions.List(ctx, apim.AppRef{ID: f.ID, Name: f.Object.Metadata.Name})
				must(t, err)
				if len(subs) != 6 {
					t.Errorf("%s: %d subscriptions read, want 6", f.Object.Metadata.Name, len(subs))
				}
			}
			perAPI := 0
			for _, api := range allAPIs {
				if !strings.HasPrefix(api.Name, "api-") {
					continue
				}
				subs, err := a.Subscriptions.ListByAPI(ctx, api, func(id string) (string, bool) { n, ok := appName[id]; return n, ok })
				must(t, err)
				perAPI++
				if len(subs) != 10 {
					t.Errorf("%s: %d subscriptions read per API, want 10", api.Name, len(subs))
				}
			}
			if perAPI != 6 {
				t.Errorf("%d generated APIs read, want 6", perAPI)
			}
			eps, err := a.Certificates.ListEndpoint(ctx)
			must(t, err)
			if n := countPrefix(eps, "pager-ep-"); n != nCerts {
				t.Errorf("endpoint certificates: %d pager ones read, want %d", n, nCerts)
			}
			cls, err := a.Certificates.ListClient(ctx, apis[:1])
			must(t, err)
			if n := countPrefix(cls, "pager-cl-"); n != nCerts {
				t.Errorf("client certificates: %d read, want %d", n, nCerts)
			}

			// The whole read agrees (what plan and apply see).
			live, err := fresh.Read(ctx, providers.ReadOptions{Kinds: []spec.Kind{spec.KindApplication, spec.KindSubscription}})
			must(t, err)
			if len(live.State.Applications) != len(dump.Applications) || len(live.State.Subscriptions) < 60 {
				t.Errorf("Read: %d applications (server %d), %d subscriptions (want ≥ 60)",
					len(live.State.Applications), len(dump.Applications), len(live.State.Subscriptions))
			}
		})
	}
}

func countPrefix(certs []*spec.Certificate, prefix string) int {
	n := 0
	for _, c := range certs {
		if strings.HasPrefix(c.Metadata.Name, prefix) {
			n++
		}
	}
	return n
}
