package is

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// User is a live IS user.
type User struct {
	ID     string
	Object *spec.User
	// RoleIDs are the SCIM ids of the roles the user is directly
	// assigned (the implicit everyone role excluded).
	RoleIDs []string
}

// Users manages SCIM2 users. Identity: (domain, userName), compared
// case-insensitively; metadata.name is the userName for PRIMARY users and
// "DOMAIN/userName" for the others (see UserName).
type Users interface {
	// List pages through every user. Spec.Roles holds the display names
	// of the user's roles (everyone excluded).
	List(ctx context.Context) ([]User, error)
	// Find looks a user up by name ("" if none).
	Find(ctx context.Context, domain, userName string) (string, error)
	// Create makes a user with the resolved password ("" for none).
	Create(ctx context.Context, u *spec.User, password string) (string, error)
	// Update replaces name and emails (PATCH replace, so attributes
	// wso2sync does not manage are kept). Roles are assigned through Roles.
	Update(ctx context.Context, id string, u *spec.User) error
	// SetPassword replaces the password (write-only in IS).
	SetPassword(ctx context.Context, id, password string) error
	Delete(ctx context.Context, id string) error
}

// UserName is the metadata.name of a live user.
func UserName(domain, userName string) string {
	if domain == "" || strings.EqualFold(domain, domainPrimary) {
		return userName
	}
	return strings.ToUpper(domain) + "/" + userName
}

// splitUserName splits IS's "DOMAIN/name" form; no prefix means PRIMARY.
func splitUserName(s string) (domain, name string) {
	if d, n, ok := strings.Cut(s, "/"); ok {
		return strings.ToUpper(d), n
	}
	return domainPrimary, s
}

func wireUserName(u *spec.User) string {
	if u.Spec.Domain == "" || strings.EqualFold(u.Spec.Domain, domainPrimary) {
		return u.Spec.UserName
	}
	return strings.ToUpper(u.Spec.Domain) + "/" + u.Spec.UserName
}

type wireEmail struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
	Type    string `json:"type,omitempty"`
}

type wireName struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type wireRef struct {
	Value        string `json:"value"`
	Display      string `json:"display,omitempty"`
	AudienceType string `json:"audienceType,omitempty"`
}

type wireUser struct {
	Schemas  []string    `json:"schemas,omitempty"`
	ID       string      `json:"id,omitempty"`
	UserName string      `json:"userName"`
	Password string      `json:"password,omitempty"`
	Name     *wireName   `json:"name,omitempty"`
	Emails   []wireEmail `json:"emails,omitempty"`
	Roles    []wireRef   `json:"roles,omitempty"`
}

type users struct{ cl *Client }

func (u *users) List(ctx context.Context) ([]User, error) {
	raw, err := listSCIM(ctx, u.cl, transport.Request{PathTemplate: SCIMBase + "/Users", Header: scimHeader(), ContentType: scimJSON})
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(raw))
	for _, r := range raw {
		var w wireUser
		if err := json.Unmarshal(r, &w); err != nil {
			return nil, fmt.Errorf("GET %s/Users: decoding a user: %w", SCIMBase, err)
		}
		out = append(out, userToSpec(&w))
	}
	return out, nil
}

func (u *users) Find(ctx context.Context, domain, userName string) (string, error) {
	full := UserName(domain, userName)
	raw, err := listSCIM(ctx, u.cl, transport.Request{PathTemplate: SCIMBase + "/Users", Header: scimHeader(), ContentType: scimJSON,
		Query: url.Values{"filter": {"userName eq " + full}}})
	if err != nil {
		return "", err
	}
	for _, r := range raw {
		var w wireUser
		if json.Unmarshal(r, &w) == nil {
			d, n := splitUserName(w.UserName)
			if strings.EqualFold(UserName(d, n), full) {
				return w.ID, nil
			}
		}
	}
	return "", nil
}

func (u *users) Create(ctx context.Context, su *spec.User, password string) (string, error) {
	w := userFromSpec(su)
	w.Schemas = []string{schemaUser}
	w.Password = password
	var out wireUser
	err := u.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: SCIMBase + "/Users", Body: w, Header: scimHeader(), ContentType: scimJSON,
		Identity: "User " + su.Metadata.Name, Sensitive: true,
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			id, err := u.Find(ctx, su.Spec.Domain, su.Spec.UserName)
			return id != "", err
		},
	}, &out)
	if transport.IsLanded(err) {
		return u.Find(ctx, su.Spec.Domain, su.Spec.UserName)
	}
	if transport.IsBadRequest(err) && password != "" {
		err = withHint(err, "IS rejects passwords that break its policy (by default 8-30 characters with upper and lower case, a digit and a special character)")
	}
	return out.ID, err
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

type patchBody struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

func patch(ops ...patchOp) patchBody {
	return patchBody{Schemas: []string{schemaPatchOp}, Operations: ops}
}

func (u *users) Update(ctx context.Context, id string, su *spec.User) error {
	w := userFromSpec(su)
	var ops []patchOp
	if w.Name != nil {
		ops = append(ops, patchOp{Op: "replace", Path: "name", Value: w.Name})
	}
	if len(w.Emails) > 0 {
		ops = append(ops, patchOp{Op: "replace", Path: "emails", Value: w.Emails})
	} else {
		ops = append(ops, patchOp{Op: "remove", Path: "emails"})
	}
	return u.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPatch, PathTemplate: SCIMBase + "/Users/{id}", PathParams: map[string]string{"id": id},
		Body: patch(ops...), Header: scimHeader(), ContentType: scimJSON, Identity: "User " + su.Metadata.Name, Idempotent: true,
	}, nil)
}

func (u *users) SetPassword(ctx context.Context, id, password string) error {
	return u.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPatch, PathTemplate: SCIMBase + "/Users/{id}", PathParams: map[string]string{"id": id},
		Body: patch(patchOp{Op: "replace", Value: map[string]string{"password": password}}), Header: scimHeader(), ContentType: scimJSON,
		Identity: "User " + id, Sensitive: true, Idempotent: true,
	}, nil)
}

func (u *users) Delete(ctx context.Context, id string) error {
	_, err := u.cl.c.Do(ctx, transport.Request{
		Method: http.MethodDelete, PathTemplate: SCIMBase + "/Users/{id}", PathParams: map[string]string{"id": id},
		Header: scimHeader(), ContentType: scimJSON, Identity: "User " + id,
	})
	return err
}

// userToSpec maps a SCIM user. Normalisation: the domain prefix is split
// off userName (none = PRIMARY); emails keep their order; roles are the
// display names of directly assigned roles, without the implicit everyone
// role, sorted; the password is write-only and stays nil.
func userToSpec(w *wireUser) User {
	domain, name := splitUserName(w.UserName)
	o := &spec.User{Object: spec.Object{APIVersion: spec.APIVersion, Kind: spec.KindUser,
		Metadata: spec.Metadata{Name: UserName(domain, name)}},
		Spec: spec.UserSpec{UserName: name, Domain: domain}}
	if w.Name != nil && (w.Name.GivenName != "" || w.Name.FamilyName != "") {
		o.Spec.Name = &spec.UserName{GivenName: w.Name.GivenName, FamilyName: w.Name.FamilyName}
	}
	for _, e := range w.Emails {
		o.Spec.Emails = append(o.Spec.Emails, spec.Email{Value: e.Value, Primary: e.Primary, Type: e.Type})
	}
	u := User{ID: w.ID, Object: o}
	for _, r := range w.Roles {
		if r.Display == everyoneRole || r.Display == everyoneLegacy {
			continue
		}
		o.Spec.Roles = append(o.Spec.Roles, r.Display)
		u.RoleIDs = append(u.RoleIDs, r.Value)
	}
	slices.Sort(o.Spec.Roles)
	return u
}

func userFromSpec(u *spec.User) *wireUser {
	w := &wireUser{UserName: wireUserName(u)}
	if n := u.Spec.Name; n != nil {
		w.Name = &wireName{GivenName: n.GivenName, FamilyName: n.FamilyName}
	}
	for _, e := range u.Spec.Emails {
		w.Emails = append(w.Emails, wireEmail(e))
	}
	return w
}

func withHint(err error, hint string) error {
	if ae, ok := err.(*transport.APIError); ok && ae.Hint == "" {
		cp := *ae
		cp.Hint = hint
		return &cp
	}
	return err
}
