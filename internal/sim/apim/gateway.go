package apim

import "strings"

// The read view the gateway simulator (internal/sim/gateway) takes of the
// APIM state: what a real gateway learns from the control plane through
// its event hub (deployed APIs, key managers, key mappings, subscriptions
// and tiers). Each call copies under the read lock, so the gateway never
// holds this server's lock while it answers.

// GatewayAPI is an API a gateway serves.
type GatewayAPI struct {
	ID, Name, Version, Context, Status string
}

// GatewayAPIs lists the APIs deployed on the gateway: PUBLISHED and
// DEPRECATED ones (a DEPRECATED API keeps serving its subscribers).
func (s *Server) GatewayAPIs() []GatewayAPI {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []GatewayAPI
	for _, a := range s.st.apiSorted {
		if a.LifeCycleStatus != "PUBLISHED" && a.LifeCycleStatus != "DEPRECATED" {
			continue
		}
		out = append(out, GatewayAPI{ID: a.ID, Name: a.Name, Version: a.Version, Context: a.Context, Status: a.LifeCycleStatus})
	}
	return out
}

// GatewayKeyManager is what the gateway needs of a key manager to accept
// its tokens.
type GatewayKeyManager struct {
	ID, Name, Type, Issuer string
	Enabled                bool
	// CertificatesType is JWKS or PEM; CertificatesValue the JWKS URL or
	// the PEM text.
	CertificatesType, CertificatesValue string
	ConsumerKeyClaim, ScopesClaim       string
}

// GatewayKeyManagers lists the key managers.
func (s *Server) GatewayKeyManagers() []GatewayKeyManager {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]GatewayKeyManager, 0, len(s.st.kmOrder))
	for _, id := range s.st.kmOrder {
		km := s.st.kms[id]
		g := GatewayKeyManager{ID: km.ID, Name: km.Name, Type: km.Type, Issuer: km.Issuer, Enabled: km.Enabled,
			ConsumerKeyClaim: km.ConsumerKeyClaim, ScopesClaim: km.ScopesClaim}
		if km.Certificates != nil {
			g.CertificatesType, g.CertificatesValue = km.Certificates.Type, km.Certificates.Value
		}
		out = append(out, g)
	}
	return out
}

// GatewayAccess is what the control plane knows about one consumer key
// calling one API.
type GatewayAccess struct {
	// KeyFound: the consumer key is mapped to an application on the key
	// manager (KeyManagerID "" matches any).
	KeyFound        bool
	Application     string
	ApplicationID   string
	KeyType         string // PRODUCTION | SANDBOX
	ApplicationTier string
	// Subscribed: the application subscribes to the API.
	Subscribed         bool
	SubscriptionStatus string // UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD, REJECTED, …
	SubscriptionTier   string
	// AppLimit and SubLimit are the tiers' request-count limits (nil when
	// the tier is unknown or not request-count based).
	AppLimit, SubLimit *RequestCountLimit
}

// GatewayAccessFor looks up the application behind a consumer key and its
// subscription to an API.
func (s *Server) GatewayAccessFor(consumerKey, keyManagerID, apiID string) GatewayAccess {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	var out GatewayAccess
	k := st.keyByCK[consumerKey]
	if k == nil || (keyManagerID != "" && k.KeyManagerID != keyManagerID) {
		return out
	}
	app := st.apps[k.ApplicationID]
	if app == nil {
		return out
	}
	out.KeyFound = true
	out.Application, out.ApplicationID, out.KeyType = app.Name, app.ApplicationID, k.KeyType
	out.ApplicationTier = app.ThrottlingPolicy
	if t := st.appTierByName(app.ThrottlingPolicy); t != nil {
		out.AppLimit = requestLimit(t.DefaultLimit)
	}
	sub := st.subFor(app.ApplicationID, apiID)
	if sub == nil || sub.pendingDelete {
		return out
	}
	out.Subscribed = true
	out.SubscriptionStatus = strings.ToUpper(sub.Status)
	out.SubscriptionTier = sub.ThrottlingPolicy
	if t := st.subTierByName(sub.ThrottlingPolicy); t != nil {
		out.SubLimit = requestLimit(t.DefaultLimit)
	}
	return out
}

func requestLimit(l ThrottleLimit) *RequestCountLimit {
	if l.RequestCount == nil {
		return nil
	}
	c := *l.RequestCount
	return &c
}
