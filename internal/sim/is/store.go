package is

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// ---- model ----

type user struct {
	ID     string
	Domain string // upper case: PRIMARY, SECONDARY, ...
	Name   string // without domain
	// Attrs holds every other SCIM attribute as IS would store it (name,
	// emails, displayName, extension objects keyed by their URN, ...).
	Attrs    map[string]any
	PassSalt string
	PassHash string // hex sha256(salt+password); "" = no password set
	Created  time.Time
	Modified time.Time
	roles    map[string]struct{} // role ids (direct membership)
	groups   map[string]struct{} // group ids
}

// key is the case-insensitive unique key "DOMAIN/name".
func (u *user) key() string { return userKey(u.Domain, u.Name) }

func userKey(domain, name string) string { return strings.ToLower(domain + "/" + name) }

// wireName is userName as IS returns it: PRIMARY users without prefix.
func (u *user) wireName() string {
	if u.Domain == "PRIMARY" {
		return u.Name
	}
	return u.Domain + "/" + u.Name
}

func (u *user) setPassword(pw string) {
	u.PassSalt = randomString(12)
	u.PassHash = hashPassword(u.PassSalt, pw)
}

func (u *user) checkPassword(pw string) bool {
	if u.PassHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(u.PassHash), []byte(hashPassword(u.PassSalt, pw))) == 1
}

func hashPassword(salt, pw string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + pw))
	return hex.EncodeToString(h[:])
}

type permission struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

type role struct {
	ID            string
	DisplayName   string
	AudienceType  string // organization | application
	AudienceValue string
	System        bool // admin, everyone: cannot be deleted
	Everyone      bool // implicit membership of every user
	Permissions   []permission
	Users         []string // user ids, in assignment order
	Groups        []string
	Created       time.Time
	Modified      time.Time
}

type group struct {
	ID       string
	Domain   string
	Name     string
	Members  []string // user ids
	Created  time.Time
	Modified time.Time
}

func (g *group) wireName() string {
	if g.Domain == "PRIMARY" {
		return g.Name
	}
	return g.Domain + "/" + g.Name
}

type client struct {
	AppID        string // the IS application (service provider) id
	ClientID     string
	Secret       string
	Name         string
	GrantTypes   []string
	RedirectURI  string // stored single value ("", uri or regexp=(a|b))
	DisplayName  string
	Owner        string
	TokenType    string // JWT | Default
	AppTTL       int64
	UserTTL      int64
	RefreshTTL   int64
	IDTokenTTL   int64
	PKCE         bool
	PKCEPlain    bool
	Public       bool
	Audience     string // ext_allowed_audience
	SignedReqObj bool
	PAR          bool
	TLSBound     bool
	// Strings holds the other string members as registered (jwks_uri,
	// token_endpoint_auth_method, ...), keyed by their response name.
	Strings map[string]string
	// AllowedScopes, when non-nil, is the list of scopes the application is
	// authorized for (see package doc).
	AllowedScopes []string
	Created       time.Time
}

type apiScope struct {
	ID          string
	Name        string
	DisplayName string
	Description string
}

type apiResource struct {
	ID                    string
	Cursor                int
	Name                  string
	Identifier            string
	Description           string
	Type                  string // SYSTEM, TENANT, BUSINESS, ...
	RequiresAuthorization bool
	Scopes                []apiScope
}

type tokenEntry struct {
	Token    string
	JTI      string
	ClientID string
	UserID   string // "" for client_credentials
	Username string
	Scopes   []string
	Issued   time.Time
	Expires  time.Time
	Revoked  bool
	Refresh  string // paired refresh token, if any
}

type refreshEntry struct {
	Token    string
	ClientID string
	UserID   string
	Username string
	Scopes   []string
	Expires  time.Time
	Revoked  bool
	Access   string
}

type store struct {
	users      map[string]*user
	userByKey  map[string]*user
	userOrder  []*user // sorted by key
	roles      map[string]*role
	roleOrder  []*role // creation order
	groups     map[string]*group
	groupOrder []*group
	clients    map[string]*client // by client id
	clientName map[string]*client // by lower-case client_name
	clientApp  map[string]*client // by application id
	apiRes     map[string]*apiResource
	apiOrder   []*apiResource // cursor order
	nextCursor int
	tokens     map[string]*tokenEntry
	refresh    map[string]*refreshEntry

	adminRoleID    string
	everyoneRoleID string
}

// ---- fresh install ----

// systemAPIs are the system API resources seeded at install, with the
// internal scopes of WSO2-API.md §2.4 (only what wso2sync needs).
var systemAPIs = []struct {
	name, identifier, typ string
	scopes                []string
}{
	{"SCIM2 Users API", "/scim2/Users", "TENANT", []string{"internal_user_mgt_view", "internal_user_mgt_list", "internal_user_mgt_create", "internal_user_mgt_update", "internal_user_mgt_delete"}},
	{"SCIM2 Groups API", "/scim2/Groups", "TENANT", []string{"internal_group_mgt_view", "internal_group_mgt_create", "internal_group_mgt_update", "internal_group_mgt_delete"}},
	{"SCIM2 Roles API", "/scim2/v2/Roles", "TENANT", []string{"internal_role_mgt_view", "internal_role_mgt_create", "internal_role_mgt_update", "internal_role_mgt_delete"}},
	{"SCIM2 Me API", "/scim2/Me", "ME", []string{"internal_login"}},
	{"DCR Management API", "/api/identity/oauth2/dcr/v1.1", "TENANT", []string{"internal_dcr_view", "internal_dcr_create", "internal_dcr_update", "internal_dcr_delete"}},
	{"API Resource Management API", "/api/server/v1/api-resources", "TENANT", []string{"internal_api_resource_view", "internal_api_resource_create", "internal_api_resource_update", "internal_api_resource_delete"}},
	{"Application Management API", "/api/server/v1/applications", "TENANT", []string{"internal_application_mgt_view", "internal_application_mgt_create", "internal_application_mgt_update", "internal_application_mgt_delete"}},
	{"Keystore Management API", "/api/server/v1/keystores", "TENANT", []string{"internal_keystore_view", "internal_keystore_update"}},
}

func (s *Server) freshStore() *store {
	now := s.now()
	st := &store{
		users:      map[string]*user{},
		userByKey:  map[string]*user{},
		roles:      map[string]*role{},
		groups:     map[string]*group{},
		clients:    map[string]*client{},
		clientName: map[string]*client{},
		clientApp:  map[string]*client{},
		apiRes:     map[string]*apiResource{},
		tokens:     map[string]*tokenEntry{},
		refresh:    map[string]*refreshEntry{},
	}
	for _, a := range systemAPIs {
		r := &apiResource{ID: newUUID(), Name: a.name, Identifier: a.identifier, Type: a.typ, RequiresAuthorization: true,
			Description: a.name}
		for _, sc := range a.scopes {
			r.Scopes = append(r.Scopes, apiScope{ID: newUUID(), Name: sc, DisplayName: scopeDisplay(sc), Description: scopeDisplay(sc)})
		}
		st.addAPIResource(r)
	}
	admin := &user{ID: newUUID(), Domain: "PRIMARY", Name: s.opts.AdminUser, Created: now, Modified: now,
		Attrs: map[string]any{"emails": []any{map[string]any{"value": s.opts.AdminUser + "@wso2.com", "primary": true}}}}
	admin.setPassword(s.opts.AdminPassword)
	st.insertUser(admin)

	// IS 7.1 shows Internal/admin and Internal/everyone as "admin" and
	// "everyone" organization roles in Roles v2.
	adminRole := &role{ID: newUUID(), DisplayName: "admin", AudienceType: "organization", AudienceValue: superOrgID,
		System: true, Created: now, Modified: now}
	for _, a := range st.apiOrder {
		if strings.HasPrefix(a.Identifier, "/") && a.Type != "BUSINESS" {
			for _, sc := range a.Scopes {
				adminRole.Permissions = append(adminRole.Permissions, permission{Value: sc.Name, Display: sc.DisplayName})
			}
		}
	}
	st.insertRole(adminRole)
	st.addRoleUser(adminRole, admin)
	st.adminRoleID = adminRole.ID
	everyone := &role{ID: newUUID(), DisplayName: "everyone", AudienceType: "organization", AudienceValue: superOrgID,
		System: true, Everyone: true, Created: now, Modified: now}
	st.insertRole(everyone)
	st.everyoneRoleID = everyone.ID
	return st
}

func scopeDisplay(name string) string {
	s := strings.TrimPrefix(name, "internal_")
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return name
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---- store primitives (caller holds s.mu for writing) ----

func (st *store) insertUser(u *user) {
	if u.roles == nil {
		u.roles = map[string]struct{}{}
	}
	if u.groups == nil {
		u.groups = map[string]struct{}{}
	}
	st.users[u.ID] = u
	k := u.key()
	st.userByKey[k] = u
	i := sort.Search(len(st.userOrder), func(i int) bool { return st.userOrder[i].key() >= k })
	st.userOrder = slices.Insert(st.userOrder, i, u)
}

func (st *store) removeUser(u *user) {
	delete(st.users, u.ID)
	k := u.key()
	delete(st.userByKey, k)
	i := sort.Search(len(st.userOrder), func(i int) bool { return st.userOrder[i].key() >= k })
	if i < len(st.userOrder) && st.userOrder[i] == u {
		st.userOrder = slices.Delete(st.userOrder, i, i+1)
	}
	for rid := range u.roles {
		if r := st.roles[rid]; r != nil {
			r.Users = slices.DeleteFunc(r.Users, func(id string) bool { return id == u.ID })
		}
	}
	for gid := range u.groups {
		if g := st.groups[gid]; g != nil {
			g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == u.ID })
		}
	}
}

func (st *store) insertRole(r *role) {
	st.roles[r.ID] = r
	st.roleOrder = append(st.roleOrder, r)
}

func (st *store) removeRole(r *role) {
	delete(st.roles, r.ID)
	st.roleOrder = slices.DeleteFunc(st.roleOrder, func(x *role) bool { return x == r })
	for _, uid := range r.Users {
		if u := st.users[uid]; u != nil {
			delete(u.roles, r.ID)
		}
	}
}

func (st *store) addRoleUser(r *role, u *user) {
	if _, ok := u.roles[r.ID]; ok {
		return
	}
	u.roles[r.ID] = struct{}{}
	r.Users = append(r.Users, u.ID)
}

func (st *store) setRoleUsers(r *role, ids []string) {
	for _, uid := range r.Users {
		if u := st.users[uid]; u != nil {
			delete(u.roles, r.ID)
		}
	}
	r.Users = nil
	for _, id := range ids {
		if u := st.users[id]; u != nil {
			st.addRoleUser(r, u)
		}
	}
}

func (st *store) insertGroup(g *group) {
	st.groups[g.ID] = g
	st.groupOrder = append(st.groupOrder, g)
}

func (st *store) removeGroup(g *group) {
	delete(st.groups, g.ID)
	st.groupOrder = slices.DeleteFunc(st.groupOrder, func(x *group) bool { return x == g })
	for _, uid := range g.Members {
		if u := st.users[uid]; u != nil {
			delete(u.groups, g.ID)
		}
	}
	for _, r := range st.roleOrder {
		r.Groups = slices.DeleteFunc(r.Groups, func(id string) bool { return id == g.ID })
	}
}

func (st *store) setGroupMembers(g *group, ids []string) {
	for _, uid := range g.Members {
		if u := st.users[uid]; u != nil {
			delete(u.groups, g.ID)
		}
	}
	g.Members = nil
	for _, id := range ids {
		st.addGroupMember(g, id)
	}
}

func (st *store) addGroupMember(g *group, uid string) {
	u := st.users[uid]
	if u == nil {
		return
	}
	if _, ok := u.groups[g.ID]; ok {
		return
	}
	u.groups[g.ID] = struct{}{}
	g.Members = append(g.Members, uid)
}

func (st *store) groupByName(domain, name string) *group {
	for _, g := range st.groupOrder {
		if strings.EqualFold(g.Domain, domain) && strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

func (st *store) addAPIResource(r *apiResource) {
	st.nextCursor++
	r.Cursor = st.nextCursor
	st.apiRes[r.ID] = r
	st.apiOrder = append(st.apiOrder, r)
}

func (st *store) removeAPIResource(r *apiResource) {
	delete(st.apiRes, r.ID)
	st.apiOrder = slices.DeleteFunc(st.apiOrder, func(x *apiResource) bool { return x == r })
}

// scopeOwner is the API resource that defines scope name, or nil.
func (st *store) scopeOwner(name string) *apiResource {
	for _, r := range st.apiOrder {
		for _, sc := range r.Scopes {
			if sc.Name == name {
				return r
			}
		}
	}
	return nil
}

func (st *store) insertClient(c *client) {
	st.clients[c.ClientID] = c
	st.clientName[strings.ToLower(c.Name)] = c
	st.clientApp[c.AppID] = c
}

func (st *store) removeClient(c *client) {
	delete(st.clients, c.ClientID)
	delete(st.clientName, strings.ToLower(c.Name))
	delete(st.clientApp, c.AppID)
	for k, t := range st.tokens {
		if t.ClientID == c.ClientID {
			delete(st.tokens, k)
		}
	}
	for k, t := range st.refresh {
		if t.ClientID == c.ClientID {
			delete(st.refresh, k)
		}
	}
	for _, r := range st.roleOrder {
		if r.AudienceType == "application" && r.AudienceValue == c.AppID {
			st.removeRole(r)
		}
	}
}

// ---- seeding ----

// UserSeed is a user inserted directly into the store (no password policy,
// no HTTP). UserName may carry a DOMAIN/ prefix (default PRIMARY).
type UserSeed struct {
	ID         string // optional fixed id
	UserName   string
	Password   string // optional; without one the user cannot log in
	GivenName  string
	FamilyName string
	Emails     []string // first is primary
	// Attributes are extra SCIM attributes (e.g. an extension URN object).
	Attributes map[string]any
}

// RoleSeed is a Roles v2 role inserted directly into the store.
type RoleSeed struct {
	ID          string
	DisplayName string
	// AudienceType is "organization" (default) or "application"; for
	// application roles AudienceValue is the application id (see
	// ClientApplicationID).
	AudienceType  string
	AudienceValue string
	Permissions   []string // scope names; not validated
	UserIDs       []string
	GroupIDs      []string
}

// GroupSeed is a SCIM group inserted directly into the store.
type GroupSeed struct {
	ID          string
	DisplayName string // may carry DOMAIN/
	MemberIDs   []string
}

// APIResourceScopeSeed is one scope of an APIResourceSeed.
type APIResourceScopeSeed struct {
	Name, DisplayName, Description string
}

// APIResourceSeed is a business API resource inserted directly.
type APIResourceSeed struct {
	Name, Identifier, Description string
	Scopes                        []APIResourceScopeSeed
}

// ErrExists is returned by the seed helpers for a duplicate natural key.
var ErrExists = errors.New("is: already exists")

// AddUser inserts a user. It is O(log n) for names inserted in ascending
// order and fast enough for 20,000 users in any order.
func (s *Server) AddUser(u UserSeed) (string, error) {
	domain, name := splitDomain(u.UserName)
	if name == "" {
		return "", fmt.Errorf("is: AddUser: empty userName")
	}
	now := s.now()
	nu := &user{ID: u.ID, Domain: domain, Name: name, Created: now, Modified: now, Attrs: map[string]any{}}
	if nu.ID == "" {
		nu.ID = newUUID()
	}
	for k, v := range u.Attributes {
		nu.Attrs[k] = v
	}
	if u.GivenName != "" || u.FamilyName != "" {
		nm := map[string]any{}
		if u.GivenName != "" {
			nm["givenName"] = u.GivenName
		}
		if u.FamilyName != "" {
			nm["familyName"] = u.FamilyName
		}
		nu.Attrs["name"] = nm
	}
	if len(u.Emails) > 0 {
		var em []any
		for i, e := range u.Emails {
			m := map[string]any{"value": e}
			if i == 0 {
				m["primary"] = true
			}
			em = append(em, m)
		}
		nu.Attrs["emails"] = em
	}
	if u.Password != "" {
		nu.setPassword(u.Password)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.userByKey[nu.key()] != nil {
		return "", fmt.Errorf("%w: user %s", ErrExists, u.UserName)
	}
	if s.st.users[nu.ID] != nil {
		return "", fmt.Errorf("%w: user id %s", ErrExists, nu.ID)
	}
	s.st.insertUser(nu)
	return nu.ID, nil
}

// AddRole inserts a role; duplicate (displayName, audience) → ErrExists.
func (s *Server) AddRole(r RoleSeed) (string, error) {
	if r.DisplayName == "" {
		return "", fmt.Errorf("is: AddRole: empty displayName")
	}
	now := s.now()
	nr := &role{ID: r.ID, DisplayName: r.DisplayName, AudienceType: r.AudienceType, AudienceValue: r.AudienceValue,
		Created: now, Modified: now}
	if nr.ID == "" {
		nr.ID = newUUID()
	}
	if nr.AudienceType == "" {
		nr.AudienceType = "organization"
	}
	if nr.AudienceType == "organization" && nr.AudienceValue == "" {
		nr.AudienceValue = superOrgID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.roleByNameAudience(nr.DisplayName, nr.AudienceType, nr.AudienceValue) != nil {
		return "", fmt.Errorf("%w: role %s", ErrExists, r.DisplayName)
	}
	for _, p := range r.Permissions {
		nr.Permissions = append(nr.Permissions, permission{Value: p, Display: s.st.scopeDisplayName(p)})
	}
	s.st.insertRole(nr)
	for _, id := range r.UserIDs {
		if u := s.st.users[id]; u != nil {
			s.st.addRoleUser(nr, u)
		} else {
			s.st.removeRole(nr)
			return "", fmt.Errorf("is: AddRole: unknown user id %s", id)
		}
	}
	for _, id := range r.GroupIDs {
		if s.st.groups[id] != nil {
			nr.Groups = append(nr.Groups, id)
		}
	}
	return nr.ID, nil
}

// AddGroup inserts a group.
func (s *Server) AddGroup(g GroupSeed) (string, error) {
	domain, name := splitDomain(g.DisplayName)
	now := s.now()
	ng := &group{ID: g.ID, Domain: domain, Name: name, Created: now, Modified: now}
	if ng.ID == "" {
		ng.ID = newUUID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.groupByName(domain, name) != nil {
		return "", fmt.Errorf("%w: group %s", ErrExists, g.DisplayName)
	}
	s.st.insertGroup(ng)
	for _, id := range g.MemberIDs {
		s.st.addGroupMember(ng, id)
	}
	return ng.ID, nil
}

// AddAPIResource inserts a BUSINESS API resource; duplicate identifier →
// ErrExists.
func (s *Server) AddAPIResource(r APIResourceSeed) (string, error) {
	nr := &apiResource{ID: newUUID(), Name: r.Name, Identifier: r.Identifier, Description: r.Description,
		Type: "BUSINESS", RequiresAuthorization: true}
	for _, sc := range r.Scopes {
		d := sc.DisplayName
		if d == "" {
			d = sc.Name
		}
		nr.Scopes = append(nr.Scopes, apiScope{ID: newUUID(), Name: sc.Name, DisplayName: d, Description: sc.Description})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.st.apiOrder {
		if x.Identifier == r.Identifier {
			return "", fmt.Errorf("%w: api resource %s", ErrExists, r.Identifier)
		}
	}
	s.st.addAPIResource(nr)
	return nr.ID, nil
}

func (st *store) roleByNameAudience(name, typ, value string) *role {
	for _, r := range st.roleOrder {
		if strings.EqualFold(r.DisplayName, name) && r.AudienceType == typ && r.AudienceValue == value {
			return r
		}
	}
	return nil
}

func (st *store) scopeDisplayName(name string) string {
	for _, r := range st.apiOrder {
		for _, sc := range r.Scopes {
			if sc.Name == name {
				return sc.DisplayName
			}
		}
	}
	return name
}

// splitDomain splits "DOMAIN/name" (default PRIMARY); the domain is upper
// cased as IS does.
func splitDomain(s string) (domain, name string) {
	if i := strings.Index(s, "/"); i > 0 {
		return strings.ToUpper(s[:i]), s[i+1:]
	}
	return "PRIMARY", s
}

// ---- dump ----

// State is a deep, JSON-serialisable copy of the server's data. User
// passwords are never included.
type State struct {
	Users        []UserState        `json:"users"`
	Groups       []GroupState       `json:"groups"`
	Roles        []RoleState        `json:"roles"`
	Clients      []ClientState      `json:"clients"`
	APIResources []APIResourceState `json:"apiResources"`
	// ActiveTokens counts access tokens that are neither expired nor revoked.
	ActiveTokens int `json:"activeTokens"`
}

// UserState is one user in a State.
type UserState struct {
	ID          string         `json:"id"`
	UserName    string         `json:"userName"` // wire form (PRIMARY/ stripped)
	Domain      string         `json:"domain"`
	HasPassword bool           `json:"hasPassword"`
	Attributes  map[string]any `json:"attributes,omitempty"`
	RoleIDs     []string       `json:"roleIds,omitempty"`
	GroupIDs    []string       `json:"groupIds,omitempty"`
}

// GroupState is one group in a State.
type GroupState struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	MemberIDs   []string `json:"memberIds,omitempty"`
}

// RoleState is one role in a State.
type RoleState struct {
	ID            string   `json:"id"`
	DisplayName   string   `json:"displayName"`
	AudienceType  string   `json:"audienceType"`
	AudienceValue string   `json:"audienceValue"`
	Permissions   []string `json:"permissions,omitempty"`
	UserIDs       []string `json:"userIds,omitempty"`
	GroupIDs      []string `json:"groupIds,omitempty"`
	System        bool     `json:"system,omitempty"`
}

// ClientState is one OAuth client (IS application) in a State.
type ClientState struct {
	ApplicationID   string   `json:"applicationId"`
	ClientID        string   `json:"clientId"`
	ClientSecret    string   `json:"clientSecret"`
	ClientName      string   `json:"clientName"`
	GrantTypes      []string `json:"grantTypes,omitempty"`
	RedirectURI     string   `json:"redirectUri,omitempty"`
	DisplayName     string   `json:"displayName,omitempty"`
	Owner           string   `json:"owner"`
	TokenType       string   `json:"tokenType"`
	AllowedAudience string   `json:"allowedAudience"`
	AllowedScopes   []string `json:"allowedScopes,omitempty"`
}

// APIResourceState is one API resource in a State.
type APIResourceState struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Identifier string   `json:"identifier"`
	Type       string   `json:"type"`
	Scopes     []string `json:"scopes,omitempty"`
}

// Dump returns a deep copy of the server's data.
func (s *Server) Dump() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	out := State{}
	for _, u := range st.userOrder {
		us := UserState{ID: u.ID, UserName: u.wireName(), Domain: u.Domain, HasPassword: u.PassHash != "",
			Attributes: deepCopyMap(u.Attrs)}
		for id := range u.roles {
			us.RoleIDs = append(us.RoleIDs, id)
		}
		for id := range u.groups {
			us.GroupIDs = append(us.GroupIDs, id)
		}
		sort.Strings(us.RoleIDs)
		sort.Strings(us.GroupIDs)
		out.Users = append(out.Users, us)
	}
	for _, g := range st.groupOrder {
		out.Groups = append(out.Groups, GroupState{ID: g.ID, DisplayName: g.wireName(), MemberIDs: slices.Clone(g.Members)})
	}
	for _, r := range st.roleOrder {
		rs := RoleState{ID: r.ID, DisplayName: r.DisplayName, AudienceType: r.AudienceType, AudienceValue: r.AudienceValue,
			UserIDs: slices.Clone(r.Users), GroupIDs: slices.Clone(r.Groups), System: r.System}
		for _, p := range r.Permissions {
			rs.Permissions = append(rs.Permissions, p.Value)
		}
		out.Roles = append(out.Roles, rs)
	}
	cs := make([]*client, 0, len(st.clients))
	for _, c := range st.clients {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].Created.Equal(cs[j].Created) {
			return cs[i].Created.Before(cs[j].Created)
		}
		return cs[i].ClientID < cs[j].ClientID
	})
	for _, c := range cs {
		out.Clients = append(out.Clients, ClientState{ApplicationID: c.AppID, ClientID: c.ClientID, ClientSecret: c.Secret,
			ClientName: c.Name, GrantTypes: slices.Clone(c.GrantTypes), RedirectURI: c.RedirectURI, DisplayName: c.DisplayName,
			Owner: c.Owner, TokenType: c.TokenType, AllowedAudience: c.Audience, AllowedScopes: slices.Clone(c.AllowedScopes)})
	}
	for _, a := range st.apiOrder {
		as := APIResourceState{ID: a.ID, Name: a.Name, Identifier: a.Identifier, Type: a.Type}
		for _, sc := range a.Scopes {
			as.Scopes = append(as.Scopes, sc.Name)
		}
		out.APIResources = append(out.APIResources, as)
	}
	now := s.now()
	for _, t := range st.tokens {
		if !t.Revoked && now.Before(t.Expires) {
			out.ActiveTokens++
		}
	}
	return out
}

// deepCopyMap copies a JSON-shaped map.
func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
