package apim

import (
	"slices"
	"strings"
	"time"
)

// User is an APIM user (the carbon user store as far as the simulator
// needs it: password-grant login, DCR Basic auth, scope grants by role).
type User struct {
	Name     string   `json:"name"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

// Client is an OAuth client of APIM's own (resident) key manager: either a
// DCR v0.17 REST-API client or the keys of an application generated against
// the Resident Key Manager.
type Client struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	ClientName   string   `json:"clientName"`
	Owner        string   `json:"owner"`
	GrantTypes   []string `json:"grantTypes"`
	CallbackURL  string   `json:"callbackUrl"`
	SaaS         bool     `json:"saasApp"`
	TokenType    string   `json:"tokenType,omitempty"`
	// DCR marks REST-API clients registered through /client-registration.
	DCR bool `json:"dcr"`
}

// Token is an access token issued by /oauth2/token (or for resident keys).
type Token struct {
	AccessToken   string    `json:"accessToken"`
	RefreshToken  string    `json:"refreshToken,omitempty"`
	ClientID      string    `json:"clientId"`
	User          string    `json:"user"`
	Scopes        []string  `json:"scopes"`
	Expiry        time.Time `json:"expiry"`
	RefreshExpiry time.Time `json:"refreshExpiry,omitzero"`
}

// API is an API of the estate (the simulator does not implement API
// creation over REST; seed APIs with AddAPI).
type API struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	Context         string   `json:"context"`
	Provider        string   `json:"provider"`
	Description     string   `json:"description,omitempty"`
	Type            string   `json:"type"`
	LifeCycleStatus string   `json:"lifeCycleStatus"`
	Policies        []string `json:"policies"`
	Tags            []string `json:"tags"`
	Visibility      string   `json:"visibility"`
	// KeyManagers are the key managers the API accepts tokens of: ["all"]
	// (the default) or key manager names.
	KeyManagers     []string  `json:"keyManagers"`
	CreatedTime     time.Time `json:"createdTime"`
	LastUpdatedTime time.Time `json:"lastUpdatedTime"`
}

// KeyMapping is an application's key mapping (one per app, key type and
// key manager).
type KeyMapping struct {
	KeyMappingID         string         `json:"keyMappingId"`
	ApplicationID        string         `json:"applicationId"`
	KeyManagerID         string         `json:"keyManagerId"`
	KeyType              string         `json:"keyType"`
	Mode                 string         `json:"mode"`     // CREATED | MAPPED
	KeyState             string         `json:"keyState"` // COMPLETED | CREATED
	ConsumerKey          string         `json:"consumerKey,omitempty"`
	ConsumerSecret       string         `json:"consumerSecret,omitempty"`
	SupportedGrantTypes  []string       `json:"supportedGrantTypes"`
	CallbackURL          string         `json:"callbackUrl"`
	AdditionalProperties map[string]any `json:"additionalProperties"`
	// Scopes/ValidityTime of the generate request, used when a pending
	// (workflow) key generation is approved.
	Scopes       []string `json:"scopes,omitempty"`
	ValidityTime int64    `json:"validityTime,omitempty"`
}

// EndpointCertificate is a Publisher endpoint certificate.
type EndpointCertificate struct {
	Alias    string `json:"alias"`
	Endpoint string `json:"endpoint"`
	PEM      string `json:"pem"`
}

// ClientCertificate is a Publisher client certificate of an API.
type ClientCertificate struct {
	Alias string `json:"alias"`
	APIID string `json:"apiId"`
	Tier  string `json:"tier"`
	PEM   string `json:"pem"`
}

// State is a deep copy of everything the APIM simulator holds, as Dump
// returns it. It is JSON-serialisable.
type State struct {
	Users                []User                       `json:"users"`
	Clients              []Client                     `json:"clients"`
	Tokens               []Token                      `json:"tokens"`
	KeyManagers          []KeyManager                 `json:"keyManagers"`
	ApplicationPolicies  []ApplicationThrottlePolicy  `json:"applicationPolicies"`
	SubscriptionPolicies []SubscriptionThrottlePolicy `json:"subscriptionPolicies"`
	APIs                 []API                        `json:"apis"`
	Applications         []Application                `json:"applications"`
	Subscriptions        []Subscription               `json:"subscriptions"`
	KeyMappings          []KeyMapping                 `json:"keyMappings"`
	EndpointCertificates []EndpointCertificate        `json:"endpointCertificates"`
	ClientCertificates   []ClientCertificate          `json:"clientCertificates"`
}

// ---- internal records and indexes ----

type appRec struct {
	Application
	seq           int64
	pendingDelete bool
	subCount      int
}

type subRec struct {
	Subscription
	seq           int64
	pendingDelete bool
}

type apiRec struct {
	API
}

type appTier struct {
	ApplicationThrottlePolicy
	intID   int
	builtin bool
}

type subTier struct {
	SubscriptionThrottlePolicy
	intID   int
	builtin bool
}

// ownerIdx keeps one owner's applications sorted by name so that a page of
// GET /applications costs O(page) (plus O(log n) per insert).
type ownerIdx struct {
	sorted []*appRec
	byName map[string]*appRec // lower-cased name → app
}

func appLess(a, b *appRec) int {
	la, lb := strings.ToLower(a.Name), strings.ToLower(b.Name)
	if c := strings.Compare(la, lb); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.ApplicationID, b.ApplicationID)
}

func (o *ownerIdx) insert(a *appRec) {
	n := len(o.sorted)
	if n == 0 || appLess(o.sorted[n-1], a) < 0 {
		o.sorted = append(o.sorted, a)
	} else {
		i, _ := slices.BinarySearchFunc(o.sorted, a, appLess)
		o.sorted = slices.Insert(o.sorted, i, a)
	}
	o.byName[strings.ToLower(a.Name)] = a
}

func (o *ownerIdx) remove(a *appRec) {
	i, found := slices.BinarySearchFunc(o.sorted, a, appLess)
	if found && o.sorted[i] == a {
		o.sorted = slices.Delete(o.sorted, i, i+1)
	} else if j := slices.Index(o.sorted, a); j >= 0 {
		o.sorted = slices.Delete(o.sorted, j, j+1)
	}
	if o.byName[strings.ToLower(a.Name)] == a {
		delete(o.byName, strings.ToLower(a.Name))
	}
}

type store struct {
	seq int64

	users   map[string]*User
	clients map[string]*Client // clientId → client
	dcr     map[string]*Client // clientName → DCR client
	tokens  map[string]*Token  // access token → token
	refresh map[string]*Token  // refresh token → token

	kms     map[string]*KeyManager
	kmOrder []string

	appTiers   map[string]*appTier // policyId → tier
	subTiers   map[string]*subTier
	tierIntSeq int

	apis        map[string]*apiRec
	apiSorted   []*apiRec            // by lower(name), version
	lagAPIs     map[string]time.Time // API id → when the search index has it
	apps        map[string]*appRec
	owners      map[string]*ownerIdx
	subs        map[string]*subRec
	subsByApp   map[string][]*subRec
	subsByAPI   map[string][]*subRec
	keys        map[string]*KeyMapping
	keysByApp   map[string][]*KeyMapping
	keyByCK     map[string]*KeyMapping
	epCerts     map[string]*EndpointCertificate
	epCertOrder []string
	clCerts     map[string]*ClientCertificate // alias (unique per tenant) → cert
	clCertOrder []string
}

func newStore() *store {
	return &store{
		users:     map[string]*User{},
		clients:   map[string]*Client{},
		dcr:       map[string]*Client{},
		tokens:    map[string]*Token{},
		refresh:   map[string]*Token{},
		kms:       map[string]*KeyManager{},
		appTiers:  map[string]*appTier{},
		subTiers:  map[string]*subTier{},
		apis:      map[string]*apiRec{},
		lagAPIs:   map[string]time.Time{},
		apps:      map[string]*appRec{},
		owners:    map[string]*ownerIdx{},
		subs:      map[string]*subRec{},
		subsByApp: map[string][]*subRec{},
		subsByAPI: map[string][]*subRec{},
		keys:      map[string]*KeyMapping{},
		keysByApp: map[string][]*KeyMapping{},
		keyByCK:   map[string]*KeyMapping{},
		epCerts:   map[string]*EndpointCertificate{},
		clCerts:   map[string]*ClientCertificate{},
	}
}

func (st *store) nextSeq() int64 {
	st.seq++
	return st.seq
}

func (st *store) owner(name string) *ownerIdx {
	o := st.owners[name]
	if o == nil {
		o = &ownerIdx{byName: map[string]*appRec{}}
		st.owners[name] = o
	}
	return o
}

func (st *store) kmByName(name string) *KeyManager {
	for _, id := range st.kmOrder {
		if km := st.kms[id]; km.Name == name {
			return km
		}
	}
	return nil
}

// kmByNameOrID resolves a DevPortal keyManager reference: name first, then
// UUID (WSO2-API.md §3.4, §5.8).
func (st *store) kmByNameOrID(ref string) *KeyManager {
	if km := st.kmByName(ref); km != nil {
		return km
	}
	return st.kms[ref]
}

func (st *store) appTierByName(name string) *appTier {
	for _, t := range st.appTiers {
		if t.PolicyName == name {
			return t
		}
	}
	return nil
}

func (st *store) subTierByName(name string) *subTier {
	for _, t := range st.subTiers {
		if t.PolicyName == name {
			return t
		}
	}
	return nil
}

func apiLess(a, b *apiRec) int {
	if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func (st *store) insertAPI(a *apiRec) {
	st.apis[a.ID] = a
	i, _ := slices.BinarySearchFunc(st.apiSorted, a, apiLess)
	st.apiSorted = slices.Insert(st.apiSorted, i, a)
}

func (st *store) insertApp(a *appRec) {
	st.apps[a.ApplicationID] = a
	st.owner(a.Owner).insert(a)
}

func (st *store) removeApp(a *appRec) {
	delete(st.apps, a.ApplicationID)
	if o := st.owners[a.Owner]; o != nil {
		o.remove(a)
	}
}

func (st *store) insertSub(s *subRec) {
	st.subs[s.SubscriptionID] = s
	st.subsByApp[s.ApplicationID] = append(st.subsByApp[s.ApplicationID], s)
	st.subsByAPI[s.APIID] = append(st.subsByAPI[s.APIID], s)
	if a := st.apps[s.ApplicationID]; a != nil {
		a.subCount++
	}
}

func (st *store) removeSub(s *subRec) {
	delete(st.subs, s.SubscriptionID)
	st.subsByApp[s.ApplicationID] = slices.DeleteFunc(st.subsByApp[s.ApplicationID], func(x *subRec) bool { return x == s })
	if len(st.subsByApp[s.ApplicationID]) == 0 {
		delete(st.subsByApp, s.ApplicationID)
	}
	st.subsByAPI[s.APIID] = slices.DeleteFunc(st.subsByAPI[s.APIID], func(x *subRec) bool { return x == s })
	if len(st.subsByAPI[s.APIID]) == 0 {
		delete(st.subsByAPI, s.APIID)
	}
	if a := st.apps[s.ApplicationID]; a != nil {
		a.subCount--
	}
}

func (st *store) subFor(appID, apiID string) *subRec {
	for _, s := range st.subsByApp[appID] {
		if s.APIID == apiID {
			return s
		}
	}
	return nil
}

func (st *store) insertKey(k *KeyMapping) {
	st.keys[k.KeyMappingID] = k
	st.keysByApp[k.ApplicationID] = append(st.keysByApp[k.ApplicationID], k)
	if k.ConsumerKey != "" {
		st.keyByCK[k.ConsumerKey] = k
	}
}

func (st *store) removeKey(k *KeyMapping) {
	delete(st.keys, k.KeyMappingID)
	st.keysByApp[k.ApplicationID] = slices.DeleteFunc(st.keysByApp[k.ApplicationID], func(x *KeyMapping) bool { return x == k })
	if len(st.keysByApp[k.ApplicationID]) == 0 {
		delete(st.keysByApp, k.ApplicationID)
	}
	if k.ConsumerKey != "" && st.keyByCK[k.ConsumerKey] == k {
		delete(st.keyByCK, k.ConsumerKey)
	}
}

func (st *store) keyFor(appID, keyType, kmID string) *KeyMapping {
	for _, k := range st.keysByApp[appID] {
		if k.KeyType == keyType && k.KeyManagerID == kmID {
			return k
		}
	}
	return nil
}

// hiddenAPIs drops the APIs the search index has caught up with and
// returns those it has not (simcore.Knobs.SearchLag); the caller holds the
// write lock.
func (s *Server) hiddenAPIs() map[string]time.Time {
	now := s.now()
	for id, at := range s.st.lagAPIs {
		if !now.Before(at) {
			delete(s.st.lagAPIs, id)
		}
	}
	return s.st.lagAPIs
}
