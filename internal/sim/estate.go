package sim

import (
	"fmt"
	"strings"

	"github.com/wso2sync/wso2sync/internal/sim/apim"
	"github.com/wso2sync/wso2sync/internal/sim/is"
)

// EstateSize says how big a generated estate is.
type EstateSize struct {
	// APIs is the number of generated APIs ("api-0001" v1, context
	// "/api-0001", PUBLISHED). When 0 and Subscriptions > 0, just enough
	// APIs for the subscriptions per application are generated.
	APIs int
	// Apps is the number of applications ("app-00001"), owned by Owner.
	Apps int
	// Subscriptions is the total number of subscriptions, spread evenly:
	// application i subscribes to APIs i, i+1, … (mod APIs).
	Subscriptions int
	// Users is the number of IS users ("user-00001").
	Users int
	// Roles is the number of IS roles ("role-0001"); user i is a member of
	// role i mod Roles.
	Roles int
	// Owner owns the applications (default: the admin user, so the
	// DevPortal lists them for the reconciler's token).
	Owner string
	// UserPassword, if set, is every generated user's password (so they
	// can log in); empty leaves them without one (faster).
	UserPassword string
}

// Names of generated objects: deterministic, zero-padded, so that a
// benchmark can build the matching manifests.
func genAPIName(i int) string  { return fmt.Sprintf("api-%04d", i+1) }
func genAppName(i int) string  { return fmt.Sprintf("app-%05d", i+1) }
func genUserName(i int) string { return fmt.Sprintf("user-%05d", i+1) }
func genRoleName(i int) string { return fmt.Sprintf("role-%04d", i+1) }

// DescribeEstate returns, as data, the estate GenerateEstate(size) creates:
// every generated object by name, with each application's subscriptions.
// It is deterministic and touches no server.
func DescribeEstate(size EstateSize) (*Estate, error) {
	if size.APIs < 0 || size.Apps < 0 || size.Subscriptions < 0 || size.Users < 0 || size.Roles < 0 {
		return nil, fmt.Errorf("estate: negative size")
	}
	if size.Subscriptions > 0 && size.Apps == 0 {
		return nil, fmt.Errorf("estate: %d subscriptions need applications", size.Subscriptions)
	}
	perApp := 0
	if size.Apps > 0 {
		perApp = (size.Subscriptions + size.Apps - 1) / size.Apps
	}
	nAPIs := size.APIs
	if nAPIs == 0 {
		nAPIs = perApp
	}
	if perApp > nAPIs {
		return nil, fmt.Errorf("estate: %d subscriptions over %d applications need at least %d APIs, have %d",
			size.Subscriptions, size.Apps, perApp, nAPIs)
	}
	e := &Estate{}
	for i := range nAPIs {
		n := genAPIName(i)
		e.APIs = append(e.APIs, APISeed{Name: n, Version: "v1", Context: "/" + n, Status: "PUBLISHED",
			Tiers: []string{"Unlimited", "Gold", "Silver", "Bronze"}})
	}
	left := size.Subscriptions
	e.Applications = make([]AppSeed, size.Apps)
	for i := range size.Apps {
		a := AppSeed{Name: genAppName(i), Owner: size.Owner, ThrottlingPolicy: "Unlimited"}
		// Spread the remainder: the first (Subscriptions mod Apps) apps get
		// perApp, the rest perApp-1 (or all perApp when it divides).
		n := perApp
		if rem := size.Subscriptions % size.Apps; rem != 0 && i >= rem {
			n = perApp - 1
		}
		if n > left {
			n = left
		}
		for k := range n {
			a.Subscriptions = append(a.Subscriptions, SubSeed{API: genAPIName((i + k) % nAPIs), Version: "v1",
				Tier: "Unlimited"})
		}
		left -= n
		e.Applications[i] = a
	}
	e.Users = make([]UserSeed, size.Users)
	for i := range size.Users {
		n := genUserName(i)
		e.Users[i] = UserSeed{UserName: n, Password: size.UserPassword, GivenName: "User",
			FamilyName: strings.TrimPrefix(n, "user-"), Emails: []string{n + "@example.com"}}
	}
	e.Roles = make([]RoleSeed, size.Roles)
	for r := range size.Roles {
		e.Roles[r] = RoleSeed{DisplayName: genRoleName(r)}
	}
	if size.Roles > 0 {
		for i := range size.Users {
			r := &e.Roles[i%size.Roles]
			r.Users = append(r.Users, genUserName(i))
		}
	}
	return e, nil
}

// GenerateEstate inserts a generated estate straight into the stores with
// the servers' bulk helpers (no HTTP; 20,000 apps, 80,000 subscriptions
// and 20,000 users take a few seconds) and returns its description (the
// same as DescribeEstate). It does not become part of the seed that
// ResetState re-applies.
func GenerateEstate(s *Sim, size EstateSize) (*Estate, error) {
	e, err := DescribeEstate(size)
	if err != nil {
		return nil, err
	}
	owner := size.Owner
	if owner == "" {
		owner = s.opts.AdminUser
	}
	apiIDs := make(map[string]string, len(e.APIs))
	for _, a := range e.APIs {
		id, err := s.apim.AddAPI(apim.APISeed{Name: a.Name, Version: a.Version, Context: a.Context,
			LifeCycleStatus: a.Status, Policies: a.Tiers})
		if err != nil {
			return nil, fmt.Errorf("estate: API %s: %w", a.Name, err)
		}
		apiIDs[a.Name] = id
	}
	apps := make([]apim.ApplicationSeed, len(e.Applications))
	for i, a := range e.Applications {
		apps[i] = apim.ApplicationSeed{Name: a.Name, ThrottlingPolicy: a.ThrottlingPolicy}
	}
	appIDs, err := s.apim.AddApplications(owner, apps)
	if err != nil {
		return nil, fmt.Errorf("estate: applications: %w", err)
	}
	for i, a := range e.Applications {
		for _, sub := range a.Subscriptions {
			if _, err := s.apim.AddSubscription(appIDs[i], apiIDs[sub.API], sub.Tier); err != nil {
				return nil, fmt.Errorf("estate: %s → %s: %w", a.Name, sub.API, err)
			}
		}
	}
	userIDs := make(map[string]string, len(e.Users))
	for _, u := range e.Users {
		id, err := s.is.AddUser(is.UserSeed{UserName: u.UserName, Password: u.Password,
			GivenName: u.GivenName, FamilyName: u.FamilyName, Emails: u.Emails})
		if err != nil {
			return nil, fmt.Errorf("estate: user %s: %w", u.UserName, err)
		}
		userIDs[u.UserName] = id
	}
	for _, r := range e.Roles {
		ids := make([]string, 0, len(r.Users))
		for _, u := range r.Users {
			ids = append(ids, userIDs[u])
		}
		if _, err := s.is.AddRole(is.RoleSeed{DisplayName: r.DisplayName, UserIDs: ids}); err != nil {
			return nil, fmt.Errorf("estate: role %s: %w", r.DisplayName, err)
		}
	}
	return e, nil
}
