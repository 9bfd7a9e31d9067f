package apim

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// SubscriptionName is the metadata.name wso2sync gives a live
// subscription: "<application>--<API name>--<API version>". The identity
// of a subscription is (application, API name, API version); manifests
// may name theirs freely, and providers.Read adopts the desired name when
// the identity matches.
func SubscriptionName(app string, api spec.APIRef) string {
	return app + "--" + api.Name + "--" + api.Version
}

// Subscription is a live subscription.
type Subscription struct {
	ID            string
	APIID         string
	ApplicationID string
	Object        *spec.Subscription
	// Status: UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD (approval
	// pending), REJECTED, TIER_UPDATE_PENDING. Pending states are
	// converging: never recreate them (§3.5).
	Status string
	// RequestedThrottlingPolicy is the pending tier of TIER_UPDATE_PENDING.
	RequestedThrottlingPolicy string
}

// Subscriptions manages DevPortal v3 subscriptions. The list needs an
// applicationId or apiId (§3.5): providers.Read lists them per API when
// there are fewer APIs than applications, else per application.
type Subscriptions interface {
	// List pages through one application's subscriptions.
	List(ctx context.Context, app AppRef) ([]Subscription, error)
	// ListByAPI pages through one API's subscriptions (of the token
	// user's applications). appName names the application of an item by
	// its applicationId; items it reports false for are left out.
	ListByAPI(ctx context.Context, api API, appName func(appID string) (string, bool)) ([]Subscription, error)
	// Create subscribes app to the API; a lost response is not repeated
	// when the subscription turns out to exist.
	Create(ctx context.Context, app AppRef, apiID string, api spec.APIRef, tier string) (*Subscription, error)
	// Update changes the tier.
	Update(ctx context.Context, app AppRef, sub *Subscription, tier string) (*Subscription, error)
	Delete(ctx context.Context, id string) error
}

type wireSubAPI struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type wireSub struct {
	SubscriptionID  string      `json:"subscriptionId,omitempty"`
	ApplicationID   string      `json:"applicationId"`
	APIID           string      `json:"apiId"`
	APIInfo         *wireSubAPI `json:"apiInfo,omitempty"`
	ApplicationInfo *struct {
		Name string `json:"name"`
	} `json:"applicationInfo,omitempty"`
	ThrottlingPolicy          string `json:"throttlingPolicy"`
	RequestedThrottlingPolicy string `json:"requestedThrottlingPolicy,omitempty"`
	Status                    string `json:"status,omitempty"`
}

type subscriptions struct{ cl *Client }

func (s *subscriptions) List(ctx context.Context, app AppRef) ([]Subscription, error) {
	list, err := listAll[wireSub](ctx, s.cl, transport.Request{
		PathTemplate: DevportalBase + "/subscriptions", Query: url.Values{"applicationId": {app.ID}},
		Scopes: scSub, Identity: "Application " + app.Name,
	})
	if err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(list))
	for i := range list {
		out = append(out, subToSpec(app.Name, &list[i], spec.APIRef{}))
	}
	return out, nil
}

func (s *subscriptions) ListByAPI(ctx context.Context, api API, appName func(string) (string, bool)) ([]Subscription, error) {
	list, err := listAll[wireSub](ctx, s.cl, transport.Request{
		PathTemplate: DevportalBase + "/subscriptions", Query: url.Values{"apiId": {api.ID}},
		Scopes: scSub, Identity: "API " + api.Name + ":" + api.Version,
	})
	if err != nil {
		return nil, err
	}
	ref := spec.APIRef{Name: api.Name, Version: api.Version}
	out := make([]Subscription, 0, len(list))
	for i := range list {
		name, ok := appName(list[i].ApplicationID)
		if !ok {
			continue
		}
		out = append(out, subToSpec(name, &list[i], ref))
	}
	return out, nil
}

func (s *subscriptions) find(ctx context.Context, app AppRef, apiID string) (*Subscription, error) {
	list, err := s.List(ctx, app)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].APIID == apiID {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (s *subscriptions) Create(ctx context.Context, app AppRef, apiID string, api spec.APIRef, tier string) (*Subscription, error) {
	var out wireSub
	err := s.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: DevportalBase + "/subscriptions",
		Body:   wireSub{ApplicationID: app.ID, APIID: apiID, ThrottlingPolicy: cmpOr(tier, "Unlimited")},
		Scopes: scSub, Identity: "Subscription " + SubscriptionName(app.Name, api),
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			got, err := s.find(ctx, app, apiID)
			return got != nil, err
		},
	}, &out)
	if transport.IsLanded(err) {
		return s.find(ctx, app, apiID)
	}
	if err != nil {
		if transport.KindOf(err) == transport.KindNotFound {
			err = withHint(err, "APIM only allows subscriptions to PUBLISHED APIs; check the API's lifecycle state")
		}
		return nil, err
	}
	sub := subToSpec(app.Name, &out, api)
	return &sub, nil
}

func (s *subscriptions) Update(ctx context.Context, app AppRef, cur *Subscription, tier string) (*Subscription, error) {
	var out wireSub
	err := s.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: DevportalBase + "/subscriptions/{subscriptionId}",
		PathParams: map[string]string{"subscriptionId": cur.ID},
		Body: wireSub{ApplicationID: app.ID, APIID: cur.APIID, ThrottlingPolicy: cur.Object.Spec.ThrottlingPolicy,
			RequestedThrottlingPolicy: tier},
		Scopes: scSub, Identity: "Subscription " + cur.Object.Metadata.Name,
	}, &out)
	if err != nil {
		return nil, err
	}
	sub := subToSpec(app.Name, &out, cur.Object.Spec.API)
	return &sub, nil
}

func (s *subscriptions) Delete(ctx context.Context, id string) error {
	_, err := s.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: DevportalBase + "/subscriptions/{subscriptionId}",
		PathParams: map[string]string{"subscriptionId": id}, Scopes: scSub, Identity: "Subscription " + id,
	})
	return err
}

// subToSpec maps a subscription; the API is named from apiInfo (name and
// version), or from api when the response has no apiInfo.
func subToSpec(app string, w *wireSub, api spec.APIRef) Subscription {
	if w.APIInfo != nil {
		api = spec.APIRef{Name: w.APIInfo.Name, Version: w.APIInfo.Version}
	}
	o := &spec.Subscription{Object: object(spec.KindSubscription, SubscriptionName(app, api)),
		Spec: spec.SubscriptionSpec{Application: app, API: api, ThrottlingPolicy: w.ThrottlingPolicy}}
	return Subscription{ID: w.SubscriptionID, APIID: w.APIID, ApplicationID: w.ApplicationID, Object: o, Status: w.Status,
		RequestedThrottlingPolicy: w.RequestedThrottlingPolicy}
}
