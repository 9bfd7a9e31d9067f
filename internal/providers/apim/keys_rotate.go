package apim

import (
	"context"
	"net/http"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
)

// RegenerateSecret asks APIM for a new consumer secret of a key mapping
// (POST …/oauth-keys/{keyMappingId}/regenerate-secret, WSO2-API §3.4). The
// new secret goes to Options.OnSecret like every other; the result says
// whether there was one. With the IS 7 key manager APIM rotates nothing
// (the connector returns no secret, §5.15): the result is false then, and
// callers must rotate in IS instead. Not retried: a repeated call would rotate
// twice.
func (c *Client) RegenerateSecret(ctx context.Context, app AppRef, keyType, keyManager, keyMappingID string) (bool, error) {
	var out struct {
		ConsumerKey    string `json:"consumerKey"`
		ConsumerSecret string `json:"consumerSecret"`
	}
	err := c.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: keysPath() + "/{keyMappingId}/regenerate-secret",
		PathParams: map[string]string{"applicationId": app.ID, "keyMappingId": keyMappingID}, Scopes: scApp,
		Sensitive: true,
		Identity:  "Application " + app.Name + " " + keyType + " key (" + keyManager + ")",
	}, &out)
	if err != nil {
		return false, err
	}
	if out.ConsumerSecret == "" {
		return false, nil
	}
	if c.opts.OnSecret != nil {
		c.secretMu.Lock()
		c.opts.OnSecret(app.Name, keyType, keyManager, out.ConsumerKey, out.ConsumerSecret)
		c.secretMu.Unlock()
	}
	return true, nil
}
