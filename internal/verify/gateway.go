package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// subscriptions calls each declared subscription's API through the
// gateway with a token of its application (PRODUCTION key first), at the
// catalogue's verify resource.
func (r *run) subscriptions(ctx context.Context, gw string) []Check {
	subs := r.st.Subscriptions
	out := make([]Check, len(subs))
	r.each(len(subs), func(i int) {
		start := time.Now()
		out[i] = r.subscription(ctx, gw, subs[i])
		out[i].Duration = time.Since(start)
	})
	return out
}

func (r *run) subscription(ctx context.Context, gw string, s *spec.Subscription) Check {
	c := Check{Kind: KindSubscription, Name: s.Metadata.Name, Source: source(&s.Object)}
	skip := func(why string) Check { c.Status, c.Message = Skipped, why; return c }
	if gw == "" {
		return skip("no gateway to call (set spec.gateway.url, --gateway-url or " + GatewayEnv + ")")
	}
	api := r.catalogue(s.Spec.API)
	switch {
	case api == nil:
		return skip("API " + s.Spec.API.String() + " is not in the environment's catalogue (spec.apis)")
	case api.Verify == nil:
		return skip("API " + s.Spec.API.String() + " names no verify resource (spec.apis[].verify: {path: /health, method: GET})")
	case api.Context == "":
		return skip("API " + s.Spec.API.String() + " has no context in the catalogue (spec.apis[].context)")
	}
	r.mu.Lock()
	toks := r.tokens[s.Spec.Application]
	r.mu.Unlock()
	if len(toks) == 0 {
		return skip("application " + s.Spec.Application + " has no key that minted a token (see its ApplicationKey checks)")
	}
	// A PRODUCTION key's token first, else the first key by name (the
	// keys were checked concurrently: their order is not the manifest's).
	tok := toks[0]
	for _, t := range toks[1:] {
		if (t.keyType == "PRODUCTION") != (tok.keyType == "PRODUCTION") {
			if t.keyType == "PRODUCTION" {
				tok = t
			}
			continue
		}
		if t.key < tok.key {
			tok = t
		}
	}
	method := cmpOr(strings.ToUpper(api.Verify.Method), http.MethodGet)
	target := gw + BasePath(api.Context, api.Version) + api.Verify.Path
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return skip("bad gateway URL " + target)
	}
	req.Header.Set("Authorization", "Bearer "+tok.token)
	req.Header.Set("Accept", "application/json")
	call := method + " " + target
	if err := r.unreachable(gw); err != nil {
		c.Status, c.Message = Failed, call+": "+err.Error()+" (failed earlier in this run)"
		c.Hint = "the gateway must be reachable from here (spec.gateway.url, --gateway-url or " + GatewayEnv + ")"
		return c
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.markDown(gw, errors.New(redactURLError(err)))
		c.Status, c.Message = Failed, call+": "+redactURLError(err)
		c.Hint = "the gateway must be reachable from here (spec.gateway.url, --gateway-url or " + GatewayEnv + ")"
		return c
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var f struct {
		Code        any    `json:"code"`
		Message     string `json:"message"`
		Description string `json:"description"`
	}
	_ = json.Unmarshal(body, &f)
	code := ""
	if f.Code != nil {
		code = strings.TrimSuffix(fmt.Sprint(f.Code), ".0")
	}
	answer := fmt.Sprintf("%s → %d", call, resp.StatusCode)
	if code != "" || f.Message != "" {
		answer += fmt.Sprintf(" %s %s", code, f.Message)
		if f.Description != "" {
			answer += ": " + f.Description
		}
	}
	answer = strings.TrimSpace(answer)
	c.Code = code
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		c.Status, c.Message = Failed, answer+" (token of key "+tok.key+")"
		c.Hint = "the gateway refused the token of key " + tok.key + " that the key manager issued: the key manager in APIM (issuer, certificates) does not match the one that issued it, or the token was revoked"
	case resp.StatusCode == http.StatusForbidden:
		c.Status, c.Message = Failed, answer
		c.Hint = fmt.Sprintf("subscription %s (application %s → %s) is missing, blocked or not active on the gateway, or key %s is not mapped to %s: 'wso2sync plan' shows the drift",
			s.Metadata.Name, s.Spec.Application, s.Spec.API.String(), tok.key, s.Spec.Application)
	case resp.StatusCode == http.StatusNotFound:
		c.Status, c.Message = Failed, answer
		c.Hint = fmt.Sprintf("nothing answers at %s: is %s published and deployed on this gateway, and are its context and version in spec.apis right?", BasePath(api.Context, api.Version), s.Spec.API.String())
	case resp.StatusCode == http.StatusTooManyRequests:
		c.Status, c.Message = Verified, answer+" (throttled: the gateway accepted the token and the subscription)"
	case resp.StatusCode >= 500:
		c.Status, c.Message = Verified, answer+" (the gateway accepted the token and the subscription; the backend failed)"
	default:
		c.Status, c.Message = Verified, fmt.Sprintf("%s with the token of key %s", answer, tok.key)
	}
	return c
}

// catalogue finds an API of spec.apis.
func (r *run) catalogue(ref spec.APIRef) *spec.CatalogueAPI {
	for i, a := range r.st.Environment.Spec.APIs {
		if a.Name == ref.Name && a.Version == ref.Version {
			return &r.st.Environment.Spec.APIs[i]
		}
	}
	return nil
}

// BasePath is where an API is invoked on the gateway: its context with
// {version} replaced, else /<context>/<version> (APIM's invocation URL).
func BasePath(context, version string) string {
	c := "/" + strings.Trim(context, "/")
	if strings.Contains(c, "{version}") {
		return strings.ReplaceAll(c, "{version}", version)
	}
	return c + "/" + version
}
