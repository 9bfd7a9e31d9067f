package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// userClient is the application key that password grants go through: the
// first verified key (in manifest order) whose grant types include
// password and whose key manager is IS-backed.
type userClient struct {
	km              keyManager
	key, id, secret string
	skipWhy         string
}

// users proves each declared user whose password is a reference: a
// password-grant token, then its roles read back from SCIM /Me.
func (r *run) users(ctx context.Context) []Check {
	var out []Check
	uc := r.userClient(ctx)
	for _, u := range r.st.Users {
		start := time.Now()
		c := r.user(ctx, u, uc)
		c.Duration = time.Since(start)
		out = append(out, c)
	}
	return out
}

func (r *run) userClient(ctx context.Context) userClient {
	for _, a := range r.st.Applications {
		for _, k := range a.Spec.Keys {
			if !slices.Contains(k.GrantTypes, "password") {
				continue
			}
			km, why := r.keyManager(k.KeyManager)
			if why != "" {
				continue
			}
			d := r.st.KeyManager(k.KeyManager)
			if d == nil || !slices.Contains(isTypes, d.Spec.Type) {
				continue
			}
			name := a.Metadata.Name + "/" + k.KeyType + "/" + k.KeyManager
			if k.Mode == spec.KeyModeMap {
				s, err := r.p.ResolveSecret(ctx, k.ClientSecret)
				if err != nil {
					continue
				}
				return userClient{km: km, key: name, id: k.ClientID, secret: s}
			}
			cred, err := r.p.OpenSealed(a.Metadata.Name, k.KeyType, k.KeyManager)
			if err != nil {
				continue
			}
			return userClient{km: km, key: name, id: cred.ConsumerKey, secret: cred.ConsumerSecret.Reveal()}
		}
	}
	return userClient{skipWhy: "no declared key of an IS key manager allows the password grant and can be opened (sealed credential or mapped secret)"}
}

func (r *run) user(ctx context.Context, u *spec.User, uc userClient) Check {
	c := Check{Kind: KindUser, Name: u.Metadata.Name, Source: source(&u.Object)}
	if u.Spec.Password == nil || u.Spec.Password.IsZero() {
		c.Status, c.Message = Skipped, "the user's password is not a reference wso2sync knows"
		return c
	}
	if uc.skipWhy != "" {
		c.Status, c.Message = Skipped, uc.skipWhy
		return c
	}
	pw, err := r.p.ResolveSecret(ctx, u.Spec.Password)
	if err != nil {
		c.Status, c.Message, c.Hint = Failed, "cannot resolve the password: "+err.Error(), "set "+u.Spec.Password.String()+" for this run"
		return c
	}
	login := cmpOr(u.Spec.UserName, u.Metadata.Name)
	if d := u.Spec.Domain; d != "" && !strings.EqualFold(d, "PRIMARY") {
		login = d + "/" + login
	}
	tok, fault := r.mint(ctx, uc.km, url.Values{"grant_type": {"password"}, "username": {login}, "password": {pw},
		"scope": {"internal_login"}}, uc.id, uc.secret)
	if fault != nil {
		c.Status, c.Message, c.Code = Failed, fault.message+" (user "+login+", through key "+uc.key+")", fault.code
		c.Hint = "the password behind " + u.Spec.Password.String() + " does not sign " + login + " in: it was changed in IS outside wso2sync, or the account is locked; 'wso2sync apply' sets the declared password"
		if fault.code == "unauthorized_client" || fault.code == "invalid_client" {
			c.Hint = "key " + uc.key + " cannot use the password grant: check its client in IS"
		}
		return c
	}
	roles, why := r.me(ctx, tok.AccessToken)
	if why != "" {
		c.Status, c.Message = Verified, fmt.Sprintf("password grant through key %s: token issued for %s (roles not read back: %s)", uc.key, login, why)
		return c
	}
	var missing []string
	for _, want := range u.Spec.Roles {
		if !slices.ContainsFunc(roles, func(g string) bool { return strings.EqualFold(g, want) }) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		c.Status, c.Message = Failed, fmt.Sprintf("%s signs in, but IS gives it the roles [%s], not %s", login, strings.Join(roles, ", "), strings.Join(missing, ", "))
		c.Hint = "the user's role assignments drifted: 'wso2sync plan' shows them"
		return c
	}
	c.Status, c.Message = Verified, fmt.Sprintf("password grant through key %s: %s signs in; roles %s", uc.key, login, strings.Join(u.Spec.Roles, ", "))
	return c
}

// me reads the user's roles from IS SCIM /Me with the user's token; why
// says why they could not be read.
func (r *run) me(ctx context.Context, token string) ([]string, string) {
	base := strings.TrimRight(r.st.Environment.Spec.IS.URL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/scim2/Me", nil)
	if err != nil {
		return nil, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/scim+json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, redactURLError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, "GET /scim2/Me: " + resp.Status
	}
	var me struct {
		Roles []struct {
			Display string `json:"display"`
			Value   string `json:"value"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(body, &me); err != nil {
		return nil, "GET /scim2/Me: not a SCIM user"
	}
	out := []string{}
	for _, ro := range me.Roles {
		out = append(out, cmpOr(ro.Display, ro.Value))
	}
	return out, ""
}
