package apim

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// DefaultApplication is the application APIM creates for every user.
const DefaultApplication = "DefaultApplication"

// Applications manages DevPortal v3 applications of the token's user
// (WSO2-API.md §5.7). Identity: name, compared case-insensitively.
type Applications interface {
	// List pages through every application with the largest page (one
	// call for up to PageSize applications). Keys are not read here.
	List(ctx context.Context) ([]Found[*spec.Application], error)
	// FindByName looks one application up (the server's query is a
	// substring match; the result is filtered client-side). "" if none.
	FindByName(ctx context.Context, name string) (string, error)
	// Create makes an application (keys are created with Keys). A
	// create whose response was lost is not repeated when the application
	// turns out to exist (the id is returned).
	Create(ctx context.Context, app *spec.Application) (string, error)
	Update(ctx context.Context, id string, app *spec.Application) error
	// Delete removes the application; APIM cascades to its subscriptions
	// and key mappings (and the KM clients of generated keys).
	Delete(ctx context.Context, id string) error
}

type wireApp struct {
	ApplicationID    string            `json:"applicationId,omitempty"`
	Name             string            `json:"name"`
	ThrottlingPolicy string            `json:"throttlingPolicy"`
	Description      string            `json:"description"`
	TokenType        string            `json:"tokenType,omitempty"`
	Status           string            `json:"status,omitempty"`
	Groups           []string          `json:"groups"`
	Attributes       map[string]string `json:"attributes"`
	Owner            string            `json:"owner,omitempty"`
	Visibility       string            `json:"visibility,omitempty"`
	// SubscriptionCount is read-only (list items and GET).
	SubscriptionCount int `json:"subscriptionCount,omitempty"`
}

type applications struct{ cl *Client }

func (a *applications) List(ctx context.Context) ([]Found[*spec.Application], error) {
	list, err := listAll[wireApp](ctx, a.cl, transport.Request{PathTemplate: DevportalBase + "/applications", Scopes: scApp})
	if err != nil {
		return nil, err
	}
	out := make([]Found[*spec.Application], 0, len(list))
	for i := range list {
		out = append(out, Found[*spec.Application]{ID: list[i].ApplicationID, Object: appToSpec(&list[i]),
			SubscriptionCount: list[i].SubscriptionCount})
	}
	return out, nil
}

func (a *applications) FindByName(ctx context.Context, name string) (string, error) {
	list, err := listAll[wireApp](ctx, a.cl, transport.Request{
		PathTemplate: DevportalBase + "/applications", Query: url.Values{"query": {name}}, Scopes: scApp,
	})
	if err != nil {
		return "", err
	}
	for _, w := range list {
		if strings.EqualFold(w.Name, name) {
			return w.ApplicationID, nil
		}
	}
	return "", nil
}

func (a *applications) Create(ctx context.Context, app *spec.Application) (string, error) {
	name := app.Metadata.Name
	var out wireApp
	err := a.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: DevportalBase + "/applications", Body: appFromSpec(app),
		Scopes: scApp, Identity: "Application " + name,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			id, err := a.FindByName(ctx, name)
			return id != "", err
		},
	}, &out)
	if transport.IsLanded(err) {
		return a.FindByName(ctx, name)
	}
	return out.ApplicationID, err
}

func (a *applications) Update(ctx context.Context, id string, app *spec.Application) error {
	return a.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: DevportalBase + "/applications/{applicationId}",
		PathParams: map[string]string{"applicationId": id}, Body: appFromSpec(app),
		Scopes: scApp, Identity: "Application " + app.Metadata.Name,
	}, nil)
}

func (a *applications) Delete(ctx context.Context, id string) error {
	_, err := a.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: DevportalBase + "/applications/{applicationId}",
		PathParams: map[string]string{"applicationId": id}, Scopes: scApp, Identity: "Application " + id,
	})
	return err
}

// appToSpec maps a list item (ApplicationInfo). Normalisation: tokenType
// is "JWT" (the server forces it, §5.12; the list does not carry it);
// visibility is not in the list and stays "" (unknown: do not diff it
// unless desired sets it and a GET says otherwise); attributes with ""
// values are configured-but-unset attributes and are dropped; empty
// groups/attributes are nil. Keys are filled in by the caller.
func appToSpec(w *wireApp) *spec.Application {
	app := &spec.Application{Object: object(spec.KindApplication, w.Name)}
	s := &app.Spec
	s.Owner, s.ThrottlingPolicy, s.Description = w.Owner, w.ThrottlingPolicy, w.Description
	s.TokenType = "JWT"
	if w.TokenType != "" {
		s.TokenType = w.TokenType
	}
	s.Visibility = w.Visibility
	s.Groups = nilIfEmpty(w.Groups)
	for k, v := range w.Attributes {
		if v == "" {
			continue
		}
		if s.Attributes == nil {
			s.Attributes = map[string]string{}
		}
		s.Attributes[k] = v
	}
	return app
}

// appFromSpec is the full writable representation (PUT replaces all).
// tokenType is always JWT (the server ignores anything else).
func appFromSpec(app *spec.Application) *wireApp {
	s := &app.Spec
	attrs := maps.Clone(s.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &wireApp{Name: app.Metadata.Name, ThrottlingPolicy: cmpOr(s.ThrottlingPolicy, "Unlimited"),
		Description: s.Description, TokenType: "JWT", Groups: orEmpty(s.Groups), Attributes: attrs,
		Visibility: s.Visibility}
}
