package apim

import (
	"context"
	"net/http"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Policies manages Admin v4 application and subscription throttling
// policies (tiers). Identity: (level, policyName); ids are UUIDs.
type Policies interface {
	// List reads both levels (two calls; the lists are not paginated and
	// carry full objects). Built-in tiers are included.
	List(ctx context.Context) ([]Found[*spec.ThrottlingPolicy], error)
	Create(ctx context.Context, p *spec.ThrottlingPolicy) (string, error)
	Update(ctx context.Context, id string, p *spec.ThrottlingPolicy) error
	Delete(ctx context.Context, level, id string) error
}

type wireRequestCount struct {
	TimeUnit     string `json:"timeUnit"`
	UnitTime     int    `json:"unitTime"`
	RequestCount int    `json:"requestCount"`
}

type wireBandwidth struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int    `json:"unitTime"`
	DataAmount int    `json:"dataAmount"`
	DataUnit   string `json:"dataUnit"`
}

type wireEventCount struct {
	TimeUnit   string `json:"timeUnit"`
	UnitTime   int    `json:"unitTime"`
	EventCount int    `json:"eventCount"`
}

type wireLimit struct {
	Type         string            `json:"type"`
	RequestCount *wireRequestCount `json:"requestCount,omitempty"`
	Bandwidth    *wireBandwidth    `json:"bandwidth,omitempty"`
	EventCount   *wireEventCount   `json:"eventCount,omitempty"`
}

type wireBurst struct {
	RateLimitCount    int    `json:"rateLimitCount"`
	RateLimitTimeUnit string `json:"rateLimitTimeUnit,omitempty"`
}

type wireAttr struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// wirePolicy covers both tier schemas; the level decides which fields are
// sent (application: burstLimit; subscription: the rest).
type wirePolicy struct {
	PolicyID          string           `json:"policyId,omitempty"`
	PolicyName        string           `json:"policyName"`
	DisplayName       string           `json:"displayName,omitempty"`
	Description       string           `json:"description,omitempty"`
	DefaultLimit      wireLimit        `json:"defaultLimit"`
	BurstLimit        *wireBurst       `json:"burstLimit,omitempty"`
	RateLimitCount    *int             `json:"rateLimitCount,omitempty"`
	RateLimitTimeUnit string           `json:"rateLimitTimeUnit,omitempty"`
	CustomAttributes  []wireAttr       `json:"customAttributes,omitempty"`
	StopOnQuotaReach  *bool            `json:"stopOnQuotaReach,omitempty"`
	BillingPlan       string           `json:"billingPlan,omitempty"`
	Permissions       *wirePermissions `json:"permissions,omitempty"`
}

type policies struct{ cl *Client }

func levelPath(level string) string {
	return AdminBase + "/throttling/policies/" + level
}

func (p *policies) List(ctx context.Context) ([]Found[*spec.ThrottlingPolicy], error) {
	var out []Found[*spec.ThrottlingPolicy]
	for _, level := range []string{spec.LevelApplication, spec.LevelSubscription} {
		var page struct {
			List []wirePolicy `json:"list"`
		}
		if err := p.cl.c.JSON(ctx, transport.Request{PathTemplate: levelPath(level), Scopes: scTierView}, &page); err != nil {
			return nil, err
		}
		for i := range page.List {
			out = append(out, Found[*spec.ThrottlingPolicy]{ID: page.List[i].PolicyID, Object: policyToSpec(level, &page.List[i])})
		}
	}
	return out, nil
}

func (p *policies) find(ctx context.Context, level, name string) (string, error) {
	var page struct {
		List []wirePolicy `json:"list"`
	}
	if err := p.cl.c.JSON(ctx, transport.Request{PathTemplate: levelPath(level), Scopes: scTierView}, &page); err != nil {
		return "", err
	}
	for _, w := range page.List {
		if w.PolicyName == name {
			return w.PolicyID, nil
		}
	}
	return "", nil
}

func (p *policies) Create(ctx context.Context, tp *spec.ThrottlingPolicy) (string, error) {
	level, name := tp.Spec.Level, tp.Metadata.Name
	var out wirePolicy
	err := p.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: levelPath(level), Body: policyFromSpec(tp),
		Scopes: scTierManage, Identity: "ThrottlingPolicy " + level + "/" + name,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			id, err := p.find(ctx, level, name)
			return id != "", err
		},
	}, &out)
	if transport.IsLanded(err) {
		return p.find(ctx, level, name)
	}
	return out.PolicyID, err
}

func (p *policies) Update(ctx context.Context, id string, tp *spec.ThrottlingPolicy) error {
	w := policyFromSpec(tp) // policyId is read-only in the request schema
	return p.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: levelPath(tp.Spec.Level) + "/{policyId}",
		PathParams: map[string]string{"policyId": id}, Body: w,
		Scopes: scTierManage, Identity: "ThrottlingPolicy " + tp.Spec.Level + "/" + tp.Metadata.Name,
	}, nil)
}

func (p *policies) Delete(ctx context.Context, level, id string) error {
	_, err := p.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: levelPath(level) + "/{policyId}",
		PathParams: map[string]string{"policyId": id}, Scopes: scTierManage,
		Identity: "ThrottlingPolicy " + level + "/" + id,
	})
	return err
}

// policyToSpec maps a tier. Normalisation: server-set isDeployed/type and
// subscriberCount/graphQL limits are dropped; an application tier's
// burstLimit with rateLimitCount 0 is "no burst limit" (nil); a
// subscription tier's rateLimitCount 0 leaves RateLimitTimeUnit empty;
// stopOnQuotaReach is always set on subscription tiers (the server has a
// value) and nil on application tiers; empty customAttributes are nil.
func policyToSpec(level string, w *wirePolicy) *spec.ThrottlingPolicy {
	tp := &spec.ThrottlingPolicy{Object: object(spec.KindThrottlingPolicy, w.PolicyName)}
	s := &tp.Spec
	s.Level, s.DisplayName, s.Description = level, w.DisplayName, w.Description
	s.DefaultLimit = spec.ThrottleLimit{Type: w.DefaultLimit.Type}
	if r := w.DefaultLimit.RequestCount; r != nil {
		s.DefaultLimit.RequestCount = &spec.RequestCountLimit{TimeUnit: r.TimeUnit, UnitTime: r.UnitTime, RequestCount: r.RequestCount}
	}
	if b := w.DefaultLimit.Bandwidth; b != nil {
		s.DefaultLimit.Bandwidth = &spec.BandwidthLimit{TimeUnit: b.TimeUnit, UnitTime: b.UnitTime, DataAmount: b.DataAmount, DataUnit: b.DataUnit}
	}
	if e := w.DefaultLimit.EventCount; e != nil {
		s.DefaultLimit.EventCount = &spec.EventCountLimit{TimeUnit: e.TimeUnit, UnitTime: e.UnitTime, EventCount: e.EventCount}
	}
	if level == spec.LevelApplication {
		if b := w.BurstLimit; b != nil && b.RateLimitCount > 0 {
			s.BurstLimit = &spec.BurstLimit{RateLimitCount: b.RateLimitCount, RateLimitTimeUnit: b.RateLimitTimeUnit}
		}
		return tp
	}
	if w.RateLimitCount != nil && *w.RateLimitCount > 0 {
		s.RateLimitCount, s.RateLimitTimeUnit = *w.RateLimitCount, w.RateLimitTimeUnit
	}
	for _, a := range w.CustomAttributes {
		s.CustomAttributes = append(s.CustomAttributes, spec.CustomAttribute{Name: a.Name, Value: a.Value})
	}
	stop := w.StopOnQuotaReach != nil && *w.StopOnQuotaReach
	s.StopOnQuotaReach = &stop
	s.BillingPlan = w.BillingPlan
	if pm := w.Permissions; pm != nil && pm.PermissionType != "" {
		s.Permissions = &spec.PolicyPermissions{PermissionType: pm.PermissionType, Roles: nilIfEmpty(pm.Roles)}
	}
	return tp
}

func policyFromSpec(tp *spec.ThrottlingPolicy) *wirePolicy {
	s := &tp.Spec
	w := &wirePolicy{PolicyName: tp.Metadata.Name, DisplayName: s.DisplayName, Description: s.Description,
		DefaultLimit: wireLimit{Type: s.DefaultLimit.Type}}
	if r := s.DefaultLimit.RequestCount; r != nil {
		w.DefaultLimit.RequestCount = &wireRequestCount{TimeUnit: r.TimeUnit, UnitTime: r.UnitTime, RequestCount: r.RequestCount}
	}
	if b := s.DefaultLimit.Bandwidth; b != nil {
		w.DefaultLimit.Bandwidth = &wireBandwidth{TimeUnit: b.TimeUnit, UnitTime: b.UnitTime, DataAmount: b.DataAmount, DataUnit: b.DataUnit}
	}
	if e := s.DefaultLimit.EventCount; e != nil {
		w.DefaultLimit.EventCount = &wireEventCount{TimeUnit: e.TimeUnit, UnitTime: e.UnitTime, EventCount: e.EventCount}
	}
	if s.Level == spec.LevelApplication {
		if b := s.BurstLimit; b != nil {
			w.BurstLimit = &wireBurst{RateLimitCount: b.RateLimitCount, RateLimitTimeUnit: b.RateLimitTimeUnit}
		}
		return w
	}
	n := s.RateLimitCount
	w.RateLimitCount = &n
	w.RateLimitTimeUnit = s.RateLimitTimeUnit
	w.CustomAttributes = []wireAttr{}
	for _, a := range s.CustomAttributes {
		w.CustomAttributes = append(w.CustomAttributes, wireAttr(a))
	}
	stop := s.StopOnQuotaReach != nil && *s.StopOnQuotaReach
	w.StopOnQuotaReach = &stop
	w.BillingPlan = s.BillingPlan
	if pm := s.Permissions; pm != nil {
		w.Permissions = &wirePermissions{PermissionType: pm.PermissionType, Roles: orEmpty(pm.Roles)}
	}
	return w
}
