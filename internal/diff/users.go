package diff

import (
	"strings"

	"github.com/wso2sync/wso2sync/internal/spec"
)

const (
	reasonUserName   = "IS cannot rename a user (SCIM userName is fixed): the user is deleted and re-created"
	reasonUserDomain = "a user cannot move between user stores: it is deleted from the old store and created in the new one"
)

// implicitRoles are roles IS gives every user; they are never declared, so
// they are left out on both sides.
var implicitRoles = []string{"everyone", "internal/everyone"}

// user normalises an IS user. The live userName may carry the user-store
// prefix (SECONDARY/bob; PRIMARY/ usually absent, WSO2-API §3.8).
func (c *normCtx) user(u *spec.User, desired bool) view {
	s := &u.Spec
	v := c.newView(spec.KindUser, &u.Object, desired)
	domain, name := strings.ToUpper(s.Domain), s.UserName
	if d, n, ok := strings.Cut(name, "/"); ok {
		domain, name = strings.ToUpper(d), n
	}
	if domain == "" {
		domain = "PRIMARY"
	}
	// User names compare case-insensitively in the default user stores.
	v.key = u.Key()
	v.add(field{path: "spec.userName", value: name, always: true, fold: true, replace: reasonUserName})
	v.add(field{path: "spec.domain", value: domain, always: true, replace: reasonUserDomain})
	if n := s.Name; n != nil {
		v.add(field{path: "spec.name.givenName", value: n.GivenName})
		v.add(field{path: "spec.name.familyName", value: n.FamilyName})
	}
	// Emails are a set by address (case-insensitive); the primary flag
	// counts, the SCIM type is not compared.
	var emails []string
	for _, e := range s.Emails {
		addr := strings.ToLower(strings.TrimSpace(e.Value))
		if e.Primary {
			addr += " (primary)"
		}
		emails = append(emails, addr)
	}
	v.add(field{path: "spec.emails", value: set(emails, nil)})
	v.add(field{path: "spec.roles", value: set(s.Roles, func(r string) string {
		if isImplicitRole(r) {
			return ""
		}
		return r
	}), always: true})
	if s.Password != nil {
		// Write-only in IS: set on create; a changed reference is not visible.
		v.add(field{path: "spec.password", value: c.redactRef(*s.Password), sensitive: true, writeOnly: true})
	}
	return v
}

func isImplicitRole(r string) bool {
	r = strings.ToLower(r)
	for _, i := range implicitRoles {
		if r == i {
			return true
		}
	}
	return false
}
