package is

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Role is a live IS role.
type Role struct {
	ID     string
	Object *spec.Role
	// AudienceValue is the organization id or the IS application id.
	AudienceValue string
	// System roles (admin, everyone) exist on every install.
	System bool
}

// Roles manages SCIM2 Roles v2. Identity: (displayName, audience);
// metadata.name is the displayName for organization roles and
// "<application>:<displayName>" for application roles (see RoleName).
// Membership is written per user (AddUsers/RemoveUsers, PATCH), so that
// concurrent assignments are not clobbered.
type Roles interface {
	// List pages through every role with its permissions.
	List(ctx context.Context) ([]Role, error)
	// Find looks an organization-or-application role up by display name
	// and audience type ("" if none).
	Find(ctx context.Context, displayName, audienceType string) (string, error)
	// Create makes a role. audienceValue is the IS application id for an
	// application role ("" for an organization role).
	Create(ctx context.Context, r *spec.Role, audienceValue string, userIDs []string) (string, error)
	// SetPermissions replaces the permissions (PATCH replace).
	SetPermissions(ctx context.Context, id string, permissions []string) error
	AddUsers(ctx context.Context, id string, userIDs []string) error
	RemoveUsers(ctx context.Context, id string, userIDs []string) error
	Delete(ctx context.Context, id string) error
}

// RoleName is the metadata.name of a live role.
func RoleName(displayName, audienceType, application string) string {
	if audienceType == audienceApp {
		return application + ":" + displayName
	}
	return displayName
}

// SystemRoles are the roles of a fresh IS 7 install, never deleted.
var SystemRoles = []string{"admin", everyoneRole, everyoneLegacy, "Internal/system"}

type wireAudience struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

type wireValue struct {
	Value string `json:"value"`
}

type wireRole struct {
	Schemas     []string      `json:"schemas,omitempty"`
	ID          string        `json:"id,omitempty"`
	DisplayName string        `json:"displayName"`
	Audience    *wireAudience `json:"audience,omitempty"`
	Users       []wireValue   `json:"users,omitempty"`
	Permissions []wireValue   `json:"permissions,omitempty"`
}

type roles struct{ cl *Client }

const rolesPath = SCIMBase + "/v2/Roles"

func (r *roles) list(ctx context.Context, q url.Values) ([]wireRole, error) {
	raw, err := listSCIM(ctx, r.cl, transport.Request{PathTemplate: rolesPath, Query: q, Header: scimHeader(), ContentType: scimJSON})
	if err != nil {
		return nil, err
	}
	out := make([]wireRole, 0, len(raw))
	for _, m := range raw {
		var w wireRole
		if err := json.Unmarshal(m, &w); err != nil {
			return nil, fmt.Errorf("GET %s: decoding a role: %w", rolesPath, err)
		}
		out = append(out, w)
	}
	return out, nil
}

func (r *roles) List(ctx context.Context) ([]Role, error) {
	list, err := r.list(ctx, url.Values{"attributes": {"displayName,audience,permissions"}})
	if err != nil {
		return nil, err
	}
	out := make([]Role, 0, len(list))
	for i := range list {
		out = append(out, roleToSpec(&list[i]))
	}
	return out, nil
}

func (r *roles) Find(ctx context.Context, displayName, audienceType string) (string, error) {
	// Unquoted, as IS's own clients send it (§3.9).
	list, err := r.list(ctx, url.Values{"filter": {"displayName eq " + displayName}})
	if err != nil {
		return "", err
	}
	for _, w := range list {
		at := audienceOrg
		if w.Audience != nil && w.Audience.Type != "" {
			at = w.Audience.Type
		}
		if w.DisplayName == displayName && at == cmpOr(audienceType, audienceOrg) {
			return w.ID, nil
		}
	}
	return "", nil
}

func (r *roles) Create(ctx context.Context, sr *spec.Role, audienceValue string, userIDs []string) (string, error) {
	display := cmpOr(sr.Spec.DisplayName, sr.Metadata.Name)
	w := wireRole{Schemas: []string{schemaRole}, DisplayName: display}
	if sr.Spec.Audience.Type == audienceApp {
		w.Audience = &wireAudience{Type: audienceApp, Value: audienceValue}
	}
	for _, id := range userIDs {
		w.Users = append(w.Users, wireValue{Value: id})
	}
	for _, p := range sr.Spec.Permissions {
		w.Permissions = append(w.Permissions, wireValue{Value: p})
	}
	var out wireRole
	err := r.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: rolesPath, Body: w, Header: scimHeader(), ContentType: scimJSON,
		Identity: "Role " + sr.Metadata.Name,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			id, err := r.Find(ctx, display, sr.Spec.Audience.Type)
			return id != "", err
		},
	}, &out)
	if transport.IsLanded(err) {
		return r.Find(ctx, display, sr.Spec.Audience.Type)
	}
	if transport.IsBadRequest(err) {
		err = withHint(err, "role permissions must be scopes of an IS API resource (e.g. internal_login)")
	}
	return out.ID, err
}

func (r *roles) patch(ctx context.Context, id, what string, ops ...patchOp) error {
	return r.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPatch, PathTemplate: rolesPath + "/{id}", PathParams: map[string]string{"id": id},
		Body: patch(ops...), Header: scimHeader(), ContentType: scimJSON, Identity: "Role " + id + " " + what, Idempotent: true,
	}, nil)
}

func (r *roles) SetPermissions(ctx context.Context, id string, perms []string) error {
	vals := []wireValue{}
	for _, p := range perms {
		vals = append(vals, wireValue{Value: p})
	}
	return r.patch(ctx, id, "permissions", patchOp{Op: "replace", Path: "permissions", Value: vals})
}

func (r *roles) AddUsers(ctx context.Context, id string, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	vals := make([]wireValue, 0, len(userIDs))
	for _, u := range userIDs {
		vals = append(vals, wireValue{Value: u})
	}
	return r.patch(ctx, id, "users", patchOp{Op: "add", Path: "users", Value: vals})
}

func (r *roles) RemoveUsers(ctx context.Context, id string, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	ops := make([]patchOp, 0, len(userIDs))
	for _, u := range userIDs {
		ops = append(ops, patchOp{Op: "remove", Path: "users[value eq " + u + "]"})
	}
	return r.patch(ctx, id, "users", ops...)
}

func (r *roles) Delete(ctx context.Context, id string) error {
	_, err := r.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: rolesPath + "/{id}", PathParams: map[string]string{"id": id},
		Header: scimHeader(), ContentType: scimJSON, Identity: "Role " + id,
	})
	return err
}

// roleToSpec maps a role. Normalisation: no audience or "organization" →
// audience {type: organization}; an application audience names the
// application by its display name; permissions are sorted.
func roleToSpec(w *wireRole) Role {
	aud := spec.RoleAudience{Type: audienceOrg}
	value := ""
	if w.Audience != nil {
		value = w.Audience.Value
		if w.Audience.Type == audienceApp {
			aud = spec.RoleAudience{Type: audienceApp, Application: w.Audience.Display}
		}
	}
	o := &spec.Role{Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindRole,
		Metadata: spec.Metadata{Name: RoleName(w.DisplayName, aud.Type, aud.Application)}},
		Spec: spec.RoleSpec{DisplayName: w.DisplayName, Audience: aud}}
	for _, p := range w.Permissions {
		o.Spec.Permissions = append(o.Spec.Permissions, p.Value)
	}
	slices.Sort(o.Spec.Permissions)
	return Role{ID: w.ID, Object: o, AudienceValue: value,
		System: aud.Type == audienceOrg && slices.Contains(SystemRoles, w.DisplayName)}
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
