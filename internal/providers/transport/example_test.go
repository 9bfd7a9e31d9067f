package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// Application is a slice of the DevPortal v3 Application.
type Application struct {
	ApplicationID    string `json:"applicationId,omitempty"`
	Name             string `json:"name"`
	ThrottlingPolicy string `json:"throttlingPolicy"`
}

// DevPortal is what a typed client built on transport looks like.
type DevPortal struct{ c *transport.Client }

const devportal = "/api/am/devportal/v3"

func (d DevPortal) Get(ctx context.Context, id string) (*Application, error) {
	var app Application
	err := d.c.JSON(ctx, transport.Request{
		Method:       http.MethodGet,
		PathTemplate: devportal + "/applications/{applicationId}",
		PathParams:   map[string]string{"applicationId": id},
		Scopes:       []string{"apim:app_manage"},
		Identity:     "Application " + id,
	}, &app)
	if transport.IsNotFound(err) {
		return nil, nil
	}
	return &app, err
}

func (d DevPortal) FindByName(ctx context.Context, name string) (*Application, error) {
	var page struct{ List []Application }
	err := d.c.JSON(ctx, transport.Request{
		PathTemplate: devportal + "/applications",
		Query:        url.Values{"query": {name}, "limit": {"100"}},
		Scopes:       []string{"apim:app_manage"},
	}, &page)
	if err != nil {
		return nil, err
	}
	for _, a := range page.List { // query is a substring match (WSO2-API.md §5.6)
		if a.Name == name {
			return &a, nil
		}
	}
	return nil, nil
}

func (d DevPortal) Create(ctx context.Context, app Application) (*Application, error) {
	var out Application
	err := d.c.JSON(ctx, transport.Request{
		Method:       http.MethodPost,
		PathTemplate: devportal + "/applications",
		Body:         app,
		Scopes:       []string{"apim:app_manage"},
		Identity:     "Application " + app.Name,
		// A POST is retried after a 5xx only if the application is not there.
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			got, err := d.FindByName(ctx, app.Name)
			return got != nil, err
		},
	}, &out)
	if transport.IsLanded(err) {
		return d.FindByName(ctx, app.Name)
	}
	return &out, err
}

func Example() {
	ctx := context.Background()
	counter := &transport.Counter{} // one per run, shared by both servers
	base, err := transport.NewClient(transport.Options{
		BaseURL:   "https://localhost:9443",
		Server:    "apim",
		UserAgent: "wso2sync/1.0.0",
		TLS:       transport.TLSOptions{CAFile: "wso2-ca.pem"},
		Counter:   counter,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	tokens := transport.NewAPIMTokenSource(base, transport.APIMTokenConfig{
		Username:        func(context.Context) (string, error) { return os.Getenv("WSO2SYNC_ADMIN_USERNAME"), nil },
		Password:        func(context.Context) (string, error) { return os.Getenv("WSO2SYNC_ADMIN_PASSWORD"), nil },
		InitialScopes:   []string{"apim:admin", "apim:subscribe", "apim:app_manage", "apim:sub_manage"},
		CredentialsHint: "check WSO2SYNC_ADMIN_USERNAME/WSO2SYNC_ADMIN_PASSWORD (the environment's credentials references)",
	})
	dp := DevPortal{c: base.WithAuth(tokens)}
	app, err := dp.Create(ctx, Application{Name: "payments-web", ThrottlingPolicy: "Unlimited"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "wso2sync: error: %v\n", err)
		if h := transport.HintOf(err); h != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", h)
		}
		return
	}
	fmt.Println(app.ApplicationID, counter.Snapshot().Total(), base.Limiter().Current())
}
