// Package transport is the HTTP layer under the typed APIM and IS clients.
//
// A Client sends Requests to one server through go-retryablehttp with the
// project's retry policy:
//
//   - 429 is always retried; the server's Retry-After is honoured, capped
//     at Options.RetryAfterCap;
//   - 5xx (but 501) and connection errors (including a per-attempt timeout)
//     are retried when the call is idempotent (GET, HEAD, OPTIONS, PUT,
//     DELETE, or Request.Idempotent), or when Request.VerifyNotLanded finds
//     that a failed create did not take effect; when it did, the call
//     returns a *LandedError (errors.Is(err, ErrLanded));
//   - a refused connection to a server that has not answered yet is tried
//     again for up to Options.StartupWait (a server that is starting);
//   - 401 makes the Authenticator refresh once and the call is replayed
//     once (Basic auth is never replayed: ErrNoRefresh);
//   - every other status is final;
//   - waits are full-jitter exponential backoff between Options.RetryWaitMin
//     and RetryWaitMax, and end as soon as the context is done.
//
// Every HTTP attempt takes a slot of the server's AIMD Limiter (halved on
// 429, once per round trip; +1 after `limit` successes), is counted by the
// run's Counter (reads, writes, auth calls, retries), logged at debug level
// (method, path template, status, duration, attempt: never headers or
// bodies) and reported to the Observer.
//
// Failures are *APIError values with a Kind (NotFound, Conflict,
// Unauthorized, Forbidden, RateLimited, BadRequest, Server, Transport,
// Canceled), the method, the path template, the status, the server's code
// and message parsed from each API family's error format, the resource
// identity and, where the user can act, a Hint. They never hold the request
// body.
//
// Authenticators: BasicAuth (IS, APIM DCR), APIMTokenSource (DCR v0.17 +
// password grant, scope union, single-flight, refresh before expiry and on
// 401), ISClientCredentials (client_credentials with internal_* scopes).
// Token sources make their own calls through the unauthenticated client
// they are given; typed clients use the client returned by WithAuth.
package transport
