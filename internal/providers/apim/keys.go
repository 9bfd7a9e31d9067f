package apim

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/wso2sync/wso2sync/internal/providers/transport"
	"github.com/wso2sync/wso2sync/internal/spec"
)

// Key modes as APIM names them.
const (
	ModeCreated = "CREATED" // generate-keys
	ModeMapped  = "MAPPED"  // map-keys
)

// AppRef names the application a key call concerns (the id for the URL,
// the name for errors and OnSecret).
type AppRef struct{ ID, Name string }

// Key is one live key mapping of an application. The consumer secret is
// never kept, nor any digest of it: the value goes to Options.OnSecret.
type Key struct {
	Spec         spec.ApplicationKey
	KeyMappingID string
	ConsumerKey  string
	// HasSecret is false when the server did not return a secret
	// (hashing on, or a pending workflow).
	HasSecret bool
	// KeyState is COMPLETED, or CREATED/APPROVED/REJECTED with a key
	// workflow; a key without a consumer key is half-created (§5.4).
	KeyState string
}

// Keys manages the keyMapping-based DevPortal key endpoints (they work
// for every key manager, unlike the keyType-based ones). Identity of a
// key: (application, keyType, keyManager).
type Keys interface {
	// List reads an application's key mappings (one call, not paginated).
	List(ctx context.Context, app AppRef) ([]Key, error)
	// Generate asks the key manager for a new client (generate-keys). A
	// lost response is not repeated when the mapping turns out to exist.
	Generate(ctx context.Context, app AppRef, k spec.ApplicationKey) (*Key, error)
	// Map attaches an existing client (map-keys) with its resolved secret.
	Map(ctx context.Context, app AppRef, k spec.ApplicationKey, clientSecret string) (*Key, error)
	// Update replaces grant types, callback URL and additional properties
	// (APIM forwards them to the key manager).
	Update(ctx context.Context, app AppRef, keyMappingID string, k spec.ApplicationKey) (*Key, error)
	// CleanUp removes a key mapping (there is no DELETE, §5.5); the key
	// manager's client may stay behind.
	CleanUp(ctx context.Context, app AppRef, keyMappingID string) error
}

type wireKey struct {
	KeyMappingID         string         `json:"keyMappingId"`
	KeyManager           string         `json:"keyManager"`
	ConsumerKey          string         `json:"consumerKey"`
	ConsumerSecret       string         `json:"consumerSecret"`
	SupportedGrantTypes  []string       `json:"supportedGrantTypes"`
	CallbackURL          string         `json:"callbackUrl"`
	KeyState             string         `json:"keyState"`
	KeyType              string         `json:"keyType"`
	Mode                 string         `json:"mode"`
	AdditionalProperties map[string]any `json:"additionalProperties"`
}

type wireKeyGenerate struct {
	KeyType                 string            `json:"keyType"`
	KeyManager              string            `json:"keyManager"`
	GrantTypesToBeSupported []string          `json:"grantTypesToBeSupported"`
	CallbackURL             string            `json:"callbackUrl,omitempty"`
	Scopes                  []string          `json:"scopes,omitempty"`
	ValidityTime            string            `json:"validityTime,omitempty"`
	AdditionalProperties    map[string]string `json:"additionalProperties,omitempty"`
}

type wireKeyMap struct {
	ConsumerKey    string `json:"consumerKey"`
	ConsumerSecret string `json:"consumerSecret"`
	KeyType        string `json:"keyType"`
	KeyManager     string `json:"keyManager"`
}

type wireKeyUpdate struct {
	SupportedGrantTypes  []string          `json:"supportedGrantTypes"`
	CallbackURL          string            `json:"callbackUrl,omitempty"`
	AdditionalProperties map[string]string `json:"additionalProperties"`
}

type keys struct{ cl *Client }

func keysPath() string { return DevportalBase + "/applications/{applicationId}/oauth-keys" }

func (k *keys) List(ctx context.Context, app AppRef) ([]Key, error) {
	var page struct {
		List []wireKey `json:"list"`
	}
	err := k.cl.c.JSON(ctx, transport.Request{
		PathTemplate: keysPath(), PathParams: map[string]string{"applicationId": app.ID},
		Scopes: scApp, Identity: "Application " + app.Name,
	}, &page)
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(page.List))
	for i := range page.List {
		out = append(out, k.toKey(app, &page.List[i]))
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := compare(a.Spec.KeyType, b.Spec.KeyType); c != 0 {
			return c
		}
		return compare(a.Spec.KeyManager, b.Spec.KeyManager)
	})
	return out, nil
}

func (k *keys) find(ctx context.Context, app AppRef, keyType, km string) (*Key, error) {
	list, err := k.List(ctx, app)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Spec.KeyType == keyType && list[i].Spec.KeyManager == km {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (k *keys) Generate(ctx context.Context, app AppRef, ak spec.ApplicationKey) (*Key, error) {
	body := wireKeyGenerate{KeyType: ak.KeyType, KeyManager: ak.KeyManager,
		GrantTypesToBeSupported: orEmpty(ak.GrantTypes), CallbackURL: ak.CallbackURL,
		Scopes: ak.Scopes, AdditionalProperties: ak.AdditionalProperties}
	if ak.ValidityPeriod > 0 {
		body.ValidityTime = strconv.Itoa(ak.ValidityPeriod)
	}
	var out wireKey
	err := k.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: DevportalBase + "/applications/{applicationId}/generate-keys",
		PathParams: map[string]string{"applicationId": app.ID}, Body: body, Scopes: scApp,
		Identity: "Application " + app.Name + " " + ak.KeyType + " key (" + ak.KeyManager + ")",
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			got, err := k.find(ctx, app, ak.KeyType, ak.KeyManager)
			return got != nil, err
		},
	}, &out)
	if transport.IsLanded(err) {
		return k.find(ctx, app, ak.KeyType, ak.KeyManager)
	}
	if err != nil {
		return nil, err
	}
	key := k.toKey(app, &out)
	return &key, nil
}

func (k *keys) Map(ctx context.Context, app AppRef, ak spec.ApplicationKey, clientSecret string) (*Key, error) {
	var out wireKey
	err := k.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: DevportalBase + "/applications/{applicationId}/map-keys",
		PathParams: map[string]string{"applicationId": app.ID}, Scopes: scApp, Sensitive: true,
		Body:     wireKeyMap{ConsumerKey: ak.ClientID, ConsumerSecret: clientSecret, KeyType: ak.KeyType, KeyManager: ak.KeyManager},
		Identity: "Application " + app.Name + " " + ak.KeyType + " key (" + ak.KeyManager + ")",
		VerifyNotLanded: func(ctx context.Context) (bool, error) {
			got, err := k.find(ctx, app, ak.KeyType, ak.KeyManager)
			return got != nil, err
		},
	}, &out)
	if transport.IsLanded(err) {
		return k.find(ctx, app, ak.KeyType, ak.KeyManager)
	}
	if err != nil {
		return nil, err
	}
	key := k.toKey(app, &out)
	return &key, nil
}

func (k *keys) Update(ctx context.Context, app AppRef, id string, ak spec.ApplicationKey) (*Key, error) {
	props := ak.AdditionalProperties
	if props == nil {
		props = map[string]string{}
	}
	var out wireKey
	err := k.cl.c.JSON(ctx, transport.Request{
		Method: http.MethodPut, PathTemplate: keysPath() + "/{keyMappingId}",
		PathParams: map[string]string{"applicationId": app.ID, "keyMappingId": id}, Scopes: scApp,
		Body:     wireKeyUpdate{SupportedGrantTypes: orEmpty(ak.GrantTypes), CallbackURL: ak.CallbackURL, AdditionalProperties: props},
		Identity: "Application " + app.Name + " " + ak.KeyType + " key (" + ak.KeyManager + ")",
	}, &out)
	if err != nil {
		return nil, err
	}
	key := k.toKey(app, &out)
	return &key, nil
}

func (k *keys) CleanUp(ctx context.Context, app AppRef, id string) error {
	_, err := k.cl.c.Do(ctx, transport.Request{
		Method: http.MethodPost, PathTemplate: keysPath() + "/{keyMappingId}/clean-up",
		PathParams: map[string]string{"applicationId": app.ID, "keyMappingId": id}, Scopes: scApp,
		Idempotent: true, // removing a removed mapping is a 404, never a duplicate
		Identity:   "Application " + app.Name + " key mapping " + id,
	})
	return err
}

// toKey maps an ApplicationKey and hands its secret to OnSecret.
// Normalisation: mode CREATED → "generate", MAPPED → "map"; clientId is
// the consumer key only for mapped keys (a generated key's id is the
// server's choice); additionalProperties are strings again (the IS7
// connector echoes "900" as 900 and "true" as true, §5.13); the grant
// types keep the server's order (compare as sets); callbackUrl is as
// stored (a `regexp=(a|b)` form for several URLs, §5.10). validityPeriod
// and scopes are not readable (they only shape the first token) and stay
// zero: never diff them against live.
func (k *keys) toKey(app AppRef, w *wireKey) Key {
	ak := spec.ApplicationKey{KeyType: w.KeyType, KeyManager: w.KeyManager, Mode: spec.KeyModeGenerate,
		GrantTypes: nilIfEmpty(w.SupportedGrantTypes), CallbackURL: w.CallbackURL}
	if w.Mode == ModeMapped {
		ak.Mode = spec.KeyModeMap
		ak.ClientID = w.ConsumerKey
	}
	for name, v := range w.AdditionalProperties {
		if ak.AdditionalProperties == nil {
			ak.AdditionalProperties = map[string]string{}
		}
		ak.AdditionalProperties[name] = propString(v)
	}
	ak.ValidityPeriod = validityOf(ak.AdditionalProperties)
	if w.ConsumerSecret != "" && k.cl.opts.OnSecret != nil {
		k.cl.secretMu.Lock()
		k.cl.opts.OnSecret(app.Name, w.KeyType, w.KeyManager, w.ConsumerKey, w.ConsumerSecret)
		k.cl.secretMu.Unlock()
	}
	return Key{Spec: ak, KeyMappingID: w.KeyMappingID, ConsumerKey: w.ConsumerKey,
		HasSecret: w.ConsumerSecret != "", KeyState: w.KeyState}
}

// Token lifetime properties: the application access token validity of a
// key, which APIM keeps in the key's additionalProperties (WSO2-API §3.1:
// the IS 7 connector's ext_application_token_lifetime; the Resident Key
// Manager's application_access_token_expiry_time). A key's validityPeriod
// is read from, and written as, these.
const (
	PropTokenLifetimeIS7      = "ext_application_token_lifetime"
	PropTokenLifetimeResident = "application_access_token_expiry_time"
)

// validityOf reads a key's token validity (seconds) from its properties;
// 0 when none is set (the connectors answer "N/A").
func validityOf(props map[string]string) int {
	for _, name := range []string{PropTokenLifetimeIS7, PropTokenLifetimeResident} {
		if n, err := strconv.Atoi(props[name]); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

func propString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
