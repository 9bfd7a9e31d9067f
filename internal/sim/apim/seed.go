package apim

import (
	"errors"
	"fmt"
	"strings"
)

// Built-in tiers of a fresh APIM 4.x install.
var (
	BuiltinApplicationTiers  = []string{"10PerMin", "20PerMin", "50PerMin", "Unlimited"}
	BuiltinSubscriptionTiers = []string{"Bronze", "Silver", "Gold", "Unlimited", "Unauthenticated",
		"AsyncBronze", "AsyncSilver", "AsyncGold", "AsyncUnlimited"}
)

const (
	unlimitedCount = 2147483647
	appTierType    = "ApplicationThrottlePolicy"
	subTierType    = "SubscriptionThrottlePolicy"
	// DefaultApplicationName is the application APIM creates for admin.
	DefaultApplicationName = "DefaultApplication"
)

func (s *Server) freshStore() *store {
	st := newStore()
	st.users[s.opts.AdminUser] = &User{Name: s.opts.AdminUser, Password: s.opts.AdminPassword, Roles: []string{RoleAdmin}}

	for _, t := range []struct {
		name  string
		count int64
		desc  string
	}{
		{"10PerMin", 10, "Allows 10 request per minute"},
		{"20PerMin", 20, "Allows 20 request per minute"},
		{"50PerMin", 50, "Allows 50 request per minute"},
		{"Unlimited", unlimitedCount, "Allows unlimited requests"},
	} {
		st.tierIntSeq++
		p := &appTier{intID: st.tierIntSeq, builtin: true, ApplicationThrottlePolicy: ApplicationThrottlePolicy{
			PolicyID: newUUID(), PolicyName: t.name, DisplayName: t.name, Description: t.desc,
			IsDeployed: true, Type: appTierType,
			DefaultLimit: ThrottleLimit{Type: "REQUESTCOUNTLIMIT",
				RequestCount: &RequestCountLimit{TimeUnit: "min", UnitTime: 1, RequestCount: t.count}},
		}}
		st.appTiers[p.PolicyID] = p
	}
	for _, t := range []struct {
		name   string
		count  int64
		unit   string
		events bool
		desc   string
	}{
		{"Bronze", 1000, "min", false, "Allows 1000 requests per minute"},
		{"Silver", 2000, "min", false, "Allows 2000 requests per minute"},
		{"Gold", 5000, "min", false, "Allows 5000 requests per minute"},
		{"Unlimited", unlimitedCount, "min", false, "Allows unlimited requests"},
		{"Unauthenticated", 500, "min", false, "Allows 500 request(s) per minute"},
		{"AsyncBronze", 5000, "day", true, "Allows 5000 events per day"},
		{"AsyncSilver", 10000, "day", true, "Allows 10000 events per day"},
		{"AsyncGold", 50000, "day", true, "Allows 50000 events per day"},
		{"AsyncUnlimited", unlimitedCount, "day", true, "Allows unlimited events"},
	} {
		lim := ThrottleLimit{Type: "REQUESTCOUNTLIMIT", RequestCount: &RequestCountLimit{TimeUnit: t.unit, UnitTime: 1, RequestCount: t.count}}
		if t.events {
			lim = ThrottleLimit{Type: "EVENTCOUNTLIMIT", EventCount: &EventCountLimit{TimeUnit: t.unit, UnitTime: 1, EventCount: t.count}}
		}
		st.tierIntSeq++
		p := &subTier{intID: st.tierIntSeq, builtin: true, SubscriptionThrottlePolicy: SubscriptionThrottlePolicy{
			PolicyID: newUUID(), PolicyName: t.name, DisplayName: t.name, Description: t.desc,
			IsDeployed: true, Type: subTierType, DefaultLimit: lim, CustomAttributes: []CustomAttribute{},
			BillingPlan: "FREE", GraphQLMaxComplexity: 0, GraphQLMaxDepth: 0,
		}}
		st.subTiers[p.PolicyID] = p
	}

	km := &KeyManager{
		ID: newUUID(), Name: ResidentKeyManagerName, DisplayName: ResidentKeyManagerName, Type: "default",
		Description:                "This is Resident Key Manager",
		IntrospectionEndpoint:      "https://localhost:9443/oauth2/introspect",
		ClientRegistrationEndpoint: "https://localhost:9443/keymanager-operations/dcr/register",
		TokenEndpoint:              "https://localhost:9443/oauth2/token",
		DisplayTokenEndpoint:       "https://localhost:9443/oauth2/token",
		RevokeEndpoint:             "https://localhost:9443/oauth2/revoke",
		DisplayRevokeEndpoint:      "https://localhost:9443/oauth2/revoke",
		UserInfoEndpoint:           "https://localhost:9443/oauth2/userinfo?schema=openid",
		AuthorizeEndpoint:          "https://localhost:9443/oauth2/authorize",
		ScopeManagementEndpoint:    "https://localhost:9443/api/identity/oauth2/v1.0/scopes",
		Issuer:                     "https://localhost:9443/oauth2/token",
		Certificates:               &KMCertificates{Type: "JWKS", Value: "https://localhost:9443/oauth2/jwks"},
		AvailableGrantTypes: []string{"refresh_token", "urn:ietf:params:oauth:grant-type:saml2-bearer", "password",
			"client_credentials", "iwa:ntlm", "urn:ietf:params:oauth:grant-type:device_code", "authorization_code",
			"urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		EnableTokenGeneration: true, EnableMapOAuthConsumerApps: true, EnableOAuthAppCreation: true,
		EnableSelfValidationJWT: true, ClaimMapping: []ClaimMappingEntry{}, ConsumerKeyClaim: "azp", ScopesClaim: "scope",
		TokenValidation: []TokenValidation{}, Enabled: true,
		AdditionalProperties: map[string]any{"self_validate_jwt": true},
		Permissions:          KMPermissions{PermissionType: "PUBLIC", Roles: []string{}},
		TokenType:            "DIRECT", AllowedOrganizations: []string{"ALL"},
	}
	st.kms[km.ID] = km
	st.kmOrder = append(st.kmOrder, km.ID)

	app := &appRec{seq: st.nextSeq(), Application: Application{
		ApplicationID: newUUID(), Name: DefaultApplicationName, ThrottlingPolicy: "Unlimited",
		Description: "This is the default application", TokenType: "JWT", Status: "APPROVED",
		Groups: []string{}, Keys: []ApplicationKey{}, Attributes: map[string]string{},
		SubscriptionScopes: []ScopeInfo{}, Owner: s.opts.AdminUser, Visibility: "PRIVATE",
	}}
	st.insertApp(app)
	return st
}

// AddUser adds (or replaces) an APIM user with the given roles (RoleAdmin,
// RoleSubscriber, RolePublisher, RoleCreator). Without roles the user is a
// subscriber.
func (s *Server) AddUser(name, password string, roles ...string) error {
	if name == "" {
		return errors.New("apim: user name is empty")
	}
	if len(roles) == 0 {
		roles = []string{RoleSubscriber}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.users[name] = &User{Name: name, Password: password, Roles: append([]string(nil), roles...)}
	return nil
}

// APISeed describes an API to add with AddAPI. Name, Version and Context
// are required; LifeCycleStatus defaults to PUBLISHED, Provider to the admin
// user, Type to HTTP and Policies (the subscription tiers the API allows)
// to ["Unlimited"].
type APISeed struct {
	ID              string // optional; a UUID is generated when empty
	Name            string
	Version         string
	Context         string
	Provider        string
	Description     string
	Type            string
	LifeCycleStatus string // CREATED, PUBLISHED, PROTOTYPED, BLOCKED, DEPRECATED, RETIRED
	Policies        []string
	Tags            []string
	Visibility      string
	KeyManagers     []string // default ["all"]
}

// AddAPI adds an API directly to the store (APIs are not created over REST
// by the simulator). Like publishing on the real server, a new API is
// subject to the search-index lag knob in list/search results.
func (s *Server) AddAPI(seed APISeed) (string, error) {
	if seed.Name == "" || seed.Version == "" || seed.Context == "" {
		return "", errors.New("apim: API name, version and context are required")
	}
	if seed.ID == "" {
		seed.ID = newUUID()
	}
	if seed.LifeCycleStatus == "" {
		seed.LifeCycleStatus = "PUBLISHED"
	}
	if seed.Provider == "" {
		seed.Provider = s.opts.AdminUser
	}
	if seed.Type == "" {
		seed.Type = "HTTP"
	}
	if len(seed.Policies) == 0 {
		seed.Policies = []string{"Unlimited"}
	}
	if seed.Visibility == "" {
		seed.Visibility = "PUBLIC"
	}
	if len(seed.KeyManagers) == 0 {
		seed.KeyManagers = []string{"all"}
	}
	if !strings.HasPrefix(seed.Context, "/") {
		seed.Context = "/" + seed.Context
	}
	lag := s.searchLag()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.st.apis[seed.ID]; dup {
		return "", fmt.Errorf("apim: API id %s already exists", seed.ID)
	}
	for _, a := range s.st.apiSorted {
		if strings.EqualFold(a.Name, seed.Name) && a.Version == seed.Version {
			return "", fmt.Errorf("apim: API %s %s already exists", seed.Name, seed.Version)
		}
	}
	// A seed API may offer tiers that do not exist yet (a custom tier the
	// manifests create, such as the example estate's Platinum): subscribing
	// checks that the tier exists then, as APIM does.
	a := &apiRec{API: API{ID: seed.ID, Name: seed.Name, Version: seed.Version, Context: seed.Context,
		Provider: seed.Provider, Description: seed.Description, Type: seed.Type,
		LifeCycleStatus: seed.LifeCycleStatus, Policies: append([]string(nil), seed.Policies...),
		Tags: cloneStrings(seed.Tags), Visibility: seed.Visibility, KeyManagers: cloneStrings(seed.KeyManagers),
		CreatedTime: now, LastUpdatedTime: now}}
	s.st.insertAPI(a)
	if lag > 0 {
		s.st.lagAPIs[a.ID] = now.Add(lag)
	}
	return a.ID, nil
}

// SetAPIStatus changes an API's lifecycle status (e.g. to publish it).
func (s *Server) SetAPIStatus(apiID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.apis[apiID]
	if a == nil {
		return fmt.Errorf("apim: API %s not found", apiID)
	}
	a.LifeCycleStatus = status
	a.LastUpdatedTime = s.now()
	return nil
}

// ApplicationSeed describes an application to add with AddApplication.
type ApplicationSeed struct {
	ID               string // optional
	Name             string
	ThrottlingPolicy string // default Unlimited
	Description      string
	Attributes       map[string]string
	Groups           []string
	Status           string // default APPROVED
}

// AddApplication adds one application owned by owner (applications have no search lag).
func (s *Server) AddApplication(owner string, app ApplicationSeed) (string, error) {
	ids, err := s.AddApplications(owner, []ApplicationSeed{app})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// AddApplications adds many applications of one owner under one lock; it
// is what the benchmark generator uses (20,000 applications in well under a
// second). Names must be unique per owner case-insensitively.
func (s *Server) AddApplications(owner string, apps []ApplicationSeed) ([]string, error) {
	if owner == "" {
		return nil, errors.New("apim: application owner is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.owner(owner)
	ids := make([]string, 0, len(apps))
	for _, seed := range apps {
		if seed.Name == "" {
			return ids, errors.New("apim: application name is empty")
		}
		if o.byName[strings.ToLower(seed.Name)] != nil {
			return ids, fmt.Errorf("apim: application %q already exists for %s", seed.Name, owner)
		}
		if seed.ThrottlingPolicy == "" {
			seed.ThrottlingPolicy = "Unlimited"
		}
		if s.st.appTierByName(seed.ThrottlingPolicy) == nil {
			return ids, fmt.Errorf("apim: unknown application tier %q", seed.ThrottlingPolicy)
		}
		if seed.ID == "" {
			seed.ID = newUUID()
		}
		if _, dup := s.st.apps[seed.ID]; dup {
			return ids, fmt.Errorf("apim: application id %s already exists", seed.ID)
		}
		if seed.Status == "" {
			seed.Status = "APPROVED"
		}
		attrs := map[string]string{}
		for k, v := range seed.Attributes {
			attrs[k] = v
		}
		a := &appRec{seq: s.st.nextSeq(), Application: Application{
			ApplicationID: seed.ID, Name: seed.Name, ThrottlingPolicy: seed.ThrottlingPolicy,
			Description: seed.Description, TokenType: "JWT", Status: seed.Status,
			Groups: cloneStrings(seed.Groups), Keys: []ApplicationKey{}, Attributes: attrs,
			SubscriptionScopes: []ScopeInfo{}, Owner: owner, Visibility: "PRIVATE",
		}}
		s.st.insertApp(a)
		ids = append(ids, a.ApplicationID)
	}
	return ids, nil
}

// AddSubscription subscribes an application to an API directly (status
// UNBLOCKED). The tier must be one of the API's policies.
func (s *Server) AddSubscription(appID, apiID, tier string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.apps[appID] == nil {
		return "", fmt.Errorf("apim: application %s not found", appID)
	}
	api := s.st.apis[apiID]
	if api == nil {
		return "", fmt.Errorf("apim: API %s not found", apiID)
	}
	if tier == "" {
		tier = api.Policies[0]
	}
	if !containsStr(api.Policies, tier) {
		return "", fmt.Errorf("apim: tier %q not allowed for API %s", tier, api.Name)
	}
	if s.st.subFor(appID, apiID) != nil {
		return "", fmt.Errorf("apim: application %s already subscribed to API %s", appID, apiID)
	}
	sub := &subRec{seq: s.st.nextSeq(), Subscription: Subscription{SubscriptionID: newUUID(),
		ApplicationID: appID, APIID: apiID, ThrottlingPolicy: tier, Status: "UNBLOCKED"}}
	s.st.insertSub(sub)
	return sub.SubscriptionID, nil
}

// AddKeyManager adds a key manager with the same validation as POST
// /key-managers. Unlike the REST call, boolean fields are taken as given
// (set Enabled, EnableSelfValidationJWT, … explicitly); string defaults
// (tokenType, permissions, claims) are filled in.
func (s *Server) AddKeyManager(km KeyManager) (string, error) {
	in := kmInput{KeyManager: km, EnableTokenEncryption: &km.EnableTokenEncryption,
		EnableTokenHashing: &km.EnableTokenHashing, EnableSelfValidationJWT: &km.EnableSelfValidationJWT,
		Enabled: &km.Enabled}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, e := s.validateKM(&in, nil)
	if e != nil {
		return "", errors.New("apim: " + e.Description)
	}
	s.st.kms[out.ID] = out
	s.st.kmOrder = append(s.st.kmOrder, out.ID)
	return out.ID, nil
}

// KeySeed describes a key mapping to add with AddKeyMapping, without any
// call to the key manager (the IS side must be seeded separately).
type KeySeed struct {
	KeyManager     string // name or id; default Resident Key Manager
	KeyType        string // PRODUCTION | SANDBOX
	ConsumerKey    string // generated when empty
	ConsumerSecret string // generated when empty
	Mode           string // CREATED (default) | MAPPED
	GrantTypes     []string
	CallbackURL    string
}

// AddKeyMapping attaches keys to an application directly. For the Resident
// Key Manager the client is also registered in APIM's own client store.
func (s *Server) AddKeyMapping(appID string, k KeySeed) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.st.apps[appID]
	if app == nil {
		return "", fmt.Errorf("apim: application %s not found", appID)
	}
	if k.KeyManager == "" {
		k.KeyManager = ResidentKeyManagerName
	}
	km := s.st.kmByNameOrID(k.KeyManager)
	if km == nil {
		return "", fmt.Errorf("apim: key manager %s not found", k.KeyManager)
	}
	if k.KeyType != "PRODUCTION" && k.KeyType != "SANDBOX" {
		return "", fmt.Errorf("apim: invalid key type %q", k.KeyType)
	}
	if s.st.keyFor(appID, k.KeyType, km.ID) != nil {
		return "", fmt.Errorf("apim: key mapping exists for %s %s", k.KeyType, km.Name)
	}
	if k.ConsumerKey == "" {
		k.ConsumerKey = newKey()
	}
	if k.ConsumerSecret == "" {
		k.ConsumerSecret = newKey()
	}
	if s.st.keyByCK[k.ConsumerKey] != nil {
		return "", fmt.Errorf("apim: consumer key %s already mapped", k.ConsumerKey)
	}
	if k.Mode == "" {
		k.Mode = "CREATED"
	}
	m := &KeyMapping{KeyMappingID: newUUID(), ApplicationID: appID, KeyManagerID: km.ID, KeyType: k.KeyType,
		Mode: k.Mode, KeyState: "COMPLETED", ConsumerKey: k.ConsumerKey, ConsumerSecret: k.ConsumerSecret,
		SupportedGrantTypes: cloneStrings(k.GrantTypes), CallbackURL: k.CallbackURL, AdditionalProperties: map[string]any{}}
	s.st.insertKey(m)
	if km.Type == "default" && s.st.clients[k.ConsumerKey] == nil {
		s.st.clients[k.ConsumerKey] = &Client{ClientID: k.ConsumerKey, ClientSecret: k.ConsumerSecret,
			ClientName: app.Owner + "_" + app.Name + "_" + k.KeyType, Owner: app.Owner,
			GrantTypes: cloneStrings(k.GrantTypes), CallbackURL: k.CallbackURL}
	}
	return m.KeyMappingID, nil
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
