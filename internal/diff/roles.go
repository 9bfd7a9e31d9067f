package diff

import (
	"github.com/wso2sync/wso2sync/internal/spec"
)

const reasonRoleAudience = "IS fixes a role's audience when the role is created: it is deleted and re-created (assignments are re-applied from the manifests)"

// role normalises an IS role. IS keys roles by display name and audience
// (WSO2-API §5.9).
func (c *normCtx) role(r *spec.Role, desired bool) view {
	s := &r.Spec
	v := c.newView(spec.KindRole, &r.Object, desired)
	display := s.DisplayName
	if display == "" {
		display = r.Metadata.Name
	}
	typ := spec.AudienceType(s.Audience.Type)
	v.key = r.Key()
	v.add(field{path: "spec.displayName", value: display, always: true})
	v.add(field{path: "spec.audience.type", value: typ, always: true, replace: reasonRoleAudience})
	v.add(field{path: "spec.audience.application", value: s.Audience.Application, always: true, replace: reasonRoleAudience})
	v.add(field{path: "spec.permissions", value: set(s.Permissions, nil), always: true})
	return v
}
