package sim

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
)

//go:embed seed/default.yaml
var defaultSeedYAML []byte

// Estate is a seed: objects inserted straight into the simulators' stores
// (no HTTP, no faults, nothing counted). The YAML format is documented in
// README.md; see seed/default.yaml.
type Estate struct {
	APIs         []APISeed  `yaml:"apis,omitempty" json:"apis,omitempty"`
	Applications []AppSeed  `yaml:"applications,omitempty" json:"applications,omitempty"`
	Users        []UserSeed `yaml:"users,omitempty" json:"users,omitempty"`
	Roles        []RoleSeed `yaml:"roles,omitempty" json:"roles,omitempty"`
}

// APISeed is an APIM API (the simulator has no API-creation REST surface;
// APIs only come from seeds).
type APISeed struct {
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
	Context string `yaml:"context" json:"context"`
	// Status is the lifecycle status: CREATED, PUBLISHED (default),
	// PROTOTYPED, BLOCKED, DEPRECATED or RETIRED. Only PUBLISHED APIs are
	// listed by the DevPortal and can be subscribed to.
	Status      string `yaml:"status,omitempty" json:"status,omitempty"`
	Provider    string `yaml:"provider,omitempty" json:"provider,omitempty"` // default: the admin user
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Endpoint is the backend URL (informational).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// Tiers are the subscription tiers the API allows (default Unlimited).
	Tiers []string `yaml:"tiers,omitempty" json:"tiers,omitempty"`
	Tags  []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// KeyManagers are the key managers the API accepts (default all); a
	// key manager an API names cannot be deleted.
	KeyManagers []string `yaml:"keyManagers,omitempty" json:"keyManagers,omitempty"`
}

// AppSeed is a DevPortal application with its subscriptions.
type AppSeed struct {
	Name             string            `yaml:"name" json:"name"`
	Owner            string            `yaml:"owner,omitempty" json:"owner,omitempty"`                       // default: the admin user
	ThrottlingPolicy string            `yaml:"throttlingPolicy,omitempty" json:"throttlingPolicy,omitempty"` // default Unlimited
	Description      string            `yaml:"description,omitempty" json:"description,omitempty"`
	Attributes       map[string]string `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	Subscriptions    []SubSeed         `yaml:"subscriptions,omitempty" json:"subscriptions,omitempty"`
}

// SubSeed subscribes the enclosing application to an API of the seed.
type SubSeed struct {
	API     string `yaml:"api" json:"api"`                             // API name
	Version string `yaml:"version,omitempty" json:"version,omitempty"` // needed when several versions exist
	Tier    string `yaml:"tier,omitempty" json:"tier,omitempty"`       // default Unlimited
}

// UserSeed is an IS user (SCIM2).
type UserSeed struct {
	UserName   string   `yaml:"userName" json:"userName"`
	Password   string   `yaml:"password,omitempty" json:"password,omitempty"`
	GivenName  string   `yaml:"givenName,omitempty" json:"givenName,omitempty"`
	FamilyName string   `yaml:"familyName,omitempty" json:"familyName,omitempty"`
	Emails     []string `yaml:"emails,omitempty" json:"emails,omitempty"`
}

// RoleSeed is an IS organization role (SCIM2 Roles v2).
type RoleSeed struct {
	DisplayName string   `yaml:"displayName" json:"displayName"`
	Permissions []string `yaml:"permissions,omitempty" json:"permissions,omitempty"`
	// Users are userNames of users in this seed (or already on the server).
	Users []string `yaml:"users,omitempty" json:"users,omitempty"`
}

// DefaultEstate is the default seed: the six backend services' APIs,
// published (seed/default.yaml).
func DefaultEstate() *Estate {
	e, err := ParseEstate(defaultSeedYAML)
	if err != nil {
		panic(fmt.Sprintf("sim: embedded default seed is invalid: %v", err))
	}
	return e
}

// ParseEstate reads a seed document; unknown fields are errors.
func ParseEstate(data []byte) (*Estate, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var e Estate
	if err := dec.Decode(&e); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// LoadEstateFile reads and validates a seed file.
func LoadEstateFile(path string) (*Estate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	e, err := ParseEstate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

var apiStatuses = map[string]bool{"CREATED": true, "PUBLISHED": true, "PROTOTYPED": true,
	"BLOCKED": true, "DEPRECATED": true, "RETIRED": true}

// Validate checks required fields, duplicates and references.
func (e *Estate) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("seed: "+format, a...)) }
	apis := map[string]int{} // lower(name) → count
	apiVer := map[string]bool{}
	contexts := map[string]bool{}
	for i, a := range e.APIs {
		switch {
		case a.Name == "":
			bad("apis[%d]: name is required", i)
		case a.Version == "":
			bad("apis[%d] %s: version is required", i, a.Name)
		case !strings.HasPrefix(a.Context, "/"):
			bad("apis[%d] %s: context must start with /", i, a.Name)
		}
		if a.Status != "" && !apiStatuses[strings.ToUpper(a.Status)] {
			bad("apis[%d] %s: status %q: want CREATED, PUBLISHED, PROTOTYPED, BLOCKED, DEPRECATED or RETIRED", i, a.Name, a.Status)
		}
		key := strings.ToLower(a.Name) + ":" + a.Version
		if apiVer[key] {
			bad("apis[%d]: duplicate API %s %s", i, a.Name, a.Version)
		}
		apiVer[key] = true
		ctx := strings.ToLower(a.Context) + "/" + a.Version
		if contexts[ctx] {
			bad("apis[%d] %s: duplicate context %s version %s", i, a.Name, a.Context, a.Version)
		}
		contexts[ctx] = true
		apis[strings.ToLower(a.Name)]++
	}
	apps := map[string]bool{}
	for i, a := range e.Applications {
		if a.Name == "" || strings.TrimSpace(a.Name) != a.Name {
			bad("applications[%d]: name %q is empty or has surrounding blanks", i, a.Name)
		}
		key := strings.ToLower(a.Owner) + "/" + strings.ToLower(a.Name)
		if apps[key] {
			bad("applications[%d]: duplicate application %s", i, a.Name)
		}
		apps[key] = true
		seen := map[string]bool{}
		for j, s := range a.Subscriptions {
			n := apis[strings.ToLower(s.API)]
			switch {
			case n == 0:
				bad("applications[%d] %s subscriptions[%d]: API %q is not in the seed", i, a.Name, j, s.API)
			case n > 1 && s.Version == "":
				bad("applications[%d] %s subscriptions[%d]: API %q has several versions; set version", i, a.Name, j, s.API)
			case s.Version != "" && !apiVer[strings.ToLower(s.API)+":"+s.Version]:
				bad("applications[%d] %s subscriptions[%d]: API %s version %s is not in the seed", i, a.Name, j, s.API, s.Version)
			}
			k := strings.ToLower(s.API) + ":" + s.Version
			if seen[k] {
				bad("applications[%d] %s: duplicate subscription to %s", i, a.Name, s.API)
			}
			seen[k] = true
		}
	}
	users := map[string]bool{}
	for i, u := range e.Users {
		if u.UserName == "" {
			bad("users[%d]: userName is required", i)
		}
		k := strings.ToLower(strings.TrimPrefix(strings.ToUpper(u.UserName), "PRIMARY/"))
		if users[k] {
			bad("users[%d]: duplicate user %s", i, u.UserName)
		}
		users[k] = true
	}
	roles := map[string]bool{}
	for i, r := range e.Roles {
		if r.DisplayName == "" {
			bad("roles[%d]: displayName is required", i)
		}
		if roles[strings.ToLower(r.DisplayName)] {
			bad("roles[%d]: duplicate role %s", i, r.DisplayName)
		}
		roles[strings.ToLower(r.DisplayName)] = true
	}
	return errors.Join(errs...)
}

// ApplySeed inserts e into the servers and remembers it, so that
// ResetState re-applies it. Seeds add to what is there; applying the same
// seed twice fails on duplicates.
func (s *Sim) ApplySeed(e *Estate) error {
	if e == nil {
		return nil
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if err := s.applySeed(e); err != nil {
		return err
	}
	s.mu.Lock()
	if s.seed == nil {
		s.seed = e
	} else {
		merged := &Estate{
			APIs:         append(append([]APISeed(nil), s.seed.APIs...), e.APIs...),
			Applications: append(append([]AppSeed(nil), s.seed.Applications...), e.Applications...),
			Users:        append(append([]UserSeed(nil), s.seed.Users...), e.Users...),
			Roles:        append(append([]RoleSeed(nil), s.seed.Roles...), e.Roles...),
		}
		s.seed = merged
	}
	s.mu.Unlock()
	return nil
}

// applySeed inserts e through the servers' seeding helpers.
func (s *Sim) applySeed(e *Estate) error {
	type apiKey struct{ name, version string }
	apiIDs := map[apiKey]string{}
	byName := map[string]string{}
	for _, a := range e.APIs {
		status := strings.ToUpper(a.Status)
		if status == "" {
			status = "PUBLISHED"
		}
		id, err := s.apim.AddAPI(apim.APISeed{
			Name: a.Name, Version: a.Version, Context: a.Context, Provider: a.Provider,
			Description: a.Description, LifeCycleStatus: status,
			Policies: a.Tiers, Tags: a.Tags, KeyManagers: a.KeyManagers,
		})
		if err != nil {
			return fmt.Errorf("seed: API %s %s: %w", a.Name, a.Version, err)
		}
		apiIDs[apiKey{strings.ToLower(a.Name), a.Version}] = id
		byName[strings.ToLower(a.Name)] = id
	}
	for _, a := range e.Applications {
		owner := a.Owner
		if owner == "" {
			owner = s.opts.AdminUser
		}
		appID, err := s.apim.AddApplication(owner, apim.ApplicationSeed{
			Name: a.Name, ThrottlingPolicy: a.ThrottlingPolicy, Description: a.Description,
			Attributes: a.Attributes,
		})
		if err != nil {
			return fmt.Errorf("seed: application %s: %w", a.Name, err)
		}
		for _, sub := range a.Subscriptions {
			apiID := byName[strings.ToLower(sub.API)]
			if sub.Version != "" {
				apiID = apiIDs[apiKey{strings.ToLower(sub.API), sub.Version}]
			}
			if _, err := s.apim.AddSubscription(appID, apiID, sub.Tier); err != nil {
				return fmt.Errorf("seed: application %s: subscription to %s: %w", a.Name, sub.API, err)
			}
		}
	}
	userIDs := map[string]string{}
	for _, u := range e.Users {
		id, err := s.is.AddUser(is.UserSeed{UserName: u.UserName, Password: u.Password,
			GivenName: u.GivenName, FamilyName: u.FamilyName, Emails: u.Emails})
		if err != nil {
			return fmt.Errorf("seed: user %s: %w", u.UserName, err)
		}
		userIDs[normUser(u.UserName)] = id
	}
	var dump *is.State
	for _, r := range e.Roles {
		var ids []string
		for _, name := range r.Users {
			id, ok := userIDs[normUser(name)]
			if !ok {
				if dump == nil {
					d := s.is.Dump()
					dump = &d
				}
				for _, u := range dump.Users {
					if normUser(u.UserName) == normUser(name) {
						id, ok = u.ID, true
						break
					}
				}
			}
			if !ok {
				return fmt.Errorf("seed: role %s: unknown user %s", r.DisplayName, name)
			}
			ids = append(ids, id)
		}
		if _, err := s.is.AddRole(is.RoleSeed{DisplayName: r.DisplayName, Permissions: r.Permissions,
			UserIDs: ids}); err != nil {
			return fmt.Errorf("seed: role %s: %w", r.DisplayName, err)
		}
	}
	return nil
}

func normUser(n string) string {
	n = strings.ToLower(n)
	return strings.TrimPrefix(n, "primary/")
}
