package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
)

// AuthMode is how Harbor authenticates to the adapter (harbor-contract.md
// §8.3) and, with it, how the adapter authenticates to the controller.
type AuthMode string

const (
	// AuthPassthrough: Harbor is registered with a NeuVector user (Basic) or
	// API key (APIKey); the adapter verifies them with the controller and
	// scans with them.
	AuthPassthrough AuthMode = "passthrough"
	// AuthBasic: Harbor sends Authorization: Basic with the configured
	// user name and password; the adapter uses its own controller
	// credentials.
	AuthBasic AuthMode = "basic"
	// AuthBearer: Harbor sends Authorization: Bearer <configured token>.
	AuthBearer AuthMode = "bearer"
	// AuthAPIKey: Harbor sends X-ScannerAdapter-API-Key: <configured key>.
	AuthAPIKey AuthMode = "apikey"
	// AuthNone: no Harbor credentials at all (private network only).
	AuthNone AuthMode = "none"
)

// HeaderAPIKey is the header Harbor's APIKey authorizer sets.
const HeaderAPIKey = "X-ScannerAdapter-API-Key"

// maxCredentialLen bounds what is hashed on the stack; Harbor stores at most
// 512 characters of access_credential, which base64 makes 684.
const maxCredentialLen = 1024

// credKind is what a request's auth headers carry.
type credKind uint8

const (
	credNone credKind = iota
	credBasic
	credBearer
	credAPIKey
	credMalformed
)

// parseHarborAuth reads Harbor's auth headers: Authorization (Basic or
// Bearer, scheme case-insensitive) or X-ScannerAdapter-API-Key. value aliases
// the header bytes. An Authorization header wins over the API key header.
func parseHarborAuth(authz, apiKey []byte) (kind credKind, value []byte) {
	authz = bytes.TrimSpace(authz)
	if len(authz) > 0 {
		sp := bytes.IndexByte(authz, ' ')
		if sp <= 0 {
			return credMalformed, nil
		}
		scheme, v := authz[:sp], bytes.TrimSpace(authz[sp+1:])
		if len(v) == 0 || len(v) > maxCredentialLen {
			return credMalformed, nil
		}
		switch {
		case bytes.EqualFold(scheme, []byte("basic")):
			return credBasic, v
		case bytes.EqualFold(scheme, []byte("bearer")):
			return credBearer, v
		}
		return credMalformed, nil
	}
	apiKey = bytes.TrimSpace(apiKey)
	if len(apiKey) > 0 {
		if len(apiKey) > maxCredentialLen {
			return credMalformed, nil
		}
		return credAPIKey, apiKey
	}
	return credNone, nil
}

// decodeBasic decodes base64("user:pass") into dst (which must be large
// enough: maxCredentialLen) and splits it. An empty user name is malformed.
func decodeBasic(v, dst []byte) (userPass []byte, colon int, ok bool) {
	if base64.StdEncoding.DecodedLen(len(v)) > len(dst) {
		return nil, 0, false
	}
	n, err := base64.StdEncoding.Decode(dst, v)
	if err != nil {
		// Some clients omit the padding.
		n, err = base64.RawStdEncoding.Decode(dst, bytes.TrimRight(v, "="))
		if err != nil {
			return nil, 0, false
		}
	}
	userPass = dst[:n]
	colon = bytes.IndexByte(userPass, ':')
	if colon <= 0 {
		return nil, 0, false
	}
	return userPass, colon, true
}

// equalDigest compares two SHA-256 digests in constant time; hashing first
// means the secret's length does not leak through timing either.
func equalDigest(a, b *[32]byte) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// verdict is a cached pass-through credential check.
type verdict struct {
	err   error // nil: accepted
	until time.Time
}

// authenticator checks Harbor's credentials on every API request.
type authenticator struct {
	mode   AuthMode
	secret [32]byte // SHA-256 of "user:pass", the bearer token or the API key

	// Pass-through.
	sessions   *controller.Sessions
	verify     func(ctx context.Context, cred controller.Cred, clientAddr string) error
	onVerified func()
	now        func() time.Time
	okTTL      time.Duration
	failTTL    time.Duration
	timeout    time.Duration

	mu       sync.RWMutex
	verdicts map[[32]byte]verdict
}

// maxVerdicts bounds the pass-through verdict cache; Harbor installations
// use a handful of registrations, so this is only reached under attack.
const maxVerdicts = 4096

// Messages of 401 answers; they name what to configure, never a credential.
const (
	msgNoCredential = "missing credentials: register the scanner in Harbor with the authentication this adapter expects"
	msgMalformed    = "malformed credentials in the Authorization or X-ScannerAdapter-API-Key header"
	msgWrong        = "invalid credentials"
	msgBearerPass   = "a Bearer token cannot be used to log in to NeuVector: register the scanner in Harbor " +
		"with auth Basic (a NeuVector user and password) or APIKey (a NeuVector API key as name:secret), " +
		"or run the adapter with SCANNER_AUTH=bearer and its own controller credentials"
	msgRefused     = "the NeuVector controller refused these credentials"
	msgUnavailable = "cannot verify the credentials: the NeuVector controller is not reachable; retry later"
)

// check authenticates ctx's request. It allocates nothing for static modes
// and for pass-through credentials whose verdict is cached.
func (a *authenticator) check(ctx *fasthttp.RequestCtx) error {
	if a.mode == AuthNone {
		return nil
	}
	kind, v := a.parse(ctx)
	switch kind {
	case credNone:
		return errNoCredential
	case credMalformed:
		return errMalformedCredential
	}
	switch a.mode {
	case AuthBasic:
		if kind != credBasic {
			return errNoCredential
		}
		var buf [maxCredentialLen]byte
		up, _, ok := decodeBasic(v, buf[:])
		if !ok {
			return errMalformedCredential
		}
		sum := sha256.Sum256(up)
		if !equalDigest(&sum, &a.secret) {
			return errWrongCredential
		}
		return nil
	case AuthBearer:
		if kind != credBearer {
			return errNoCredential
		}
		sum := sha256.Sum256(v)
		if !equalDigest(&sum, &a.secret) {
			return errWrongCredential
		}
		return nil
	case AuthAPIKey:
		if kind != credAPIKey {
			return errNoCredential
		}
		sum := sha256.Sum256(v)
		if !equalDigest(&sum, &a.secret) {
			return errWrongCredential
		}
		return nil
	}
	return a.checkPassthrough(ctx, kind, v)
}

var (
	errNoCredential        = newError(ErrUnauthorized, msgNoCredential)
	errMalformedCredential = newError(ErrUnauthorized, msgMalformed)
	errWrongCredential     = newError(ErrUnauthorized, msgWrong)
	errBearerPassthrough   = newError(ErrUnauthorized, msgBearerPass)
	errRefused             = newError(ErrUnauthorized, msgRefused)
	errVerifyUnavailable   = newError(ErrAuthUnavailable, msgUnavailable)
	errRateLimited         = newError(ErrUnauthorized, "credentials not accepted for now: too many failed logins for this user or client; retry later")
)

// parse reads only the headers the mode uses (each Peek costs a header
// key normalisation): the API key header in apikey mode, Authorization in
// basic and bearer modes, either in pass-through mode.
func (a *authenticator) parse(ctx *fasthttp.RequestCtx) (credKind, []byte) {
	if a.mode == AuthAPIKey {
		return parseHarborAuth(nil, ctx.Request.Header.Peek(HeaderAPIKey))
	}
	authz := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if a.mode != AuthPassthrough || len(authz) > 0 {
		return parseHarborAuth(authz, nil)
	}
	return parseHarborAuth(nil, ctx.Request.Header.Peek(HeaderAPIKey))
}

// credKey is the verdict cache key of a pass-through credential: a hash of
// its kind and raw header value, so the cache never holds a secret.
func credKey(kind credKind, v []byte) [32]byte {
	var buf [maxCredentialLen + 1]byte
	buf[0] = byte(kind)
	n := copy(buf[1:], v)
	return sha256.Sum256(buf[:n+1])
}

func (a *authenticator) checkPassthrough(ctx *fasthttp.RequestCtx, kind credKind, v []byte) error {
	if kind == credBearer {
		return errBearerPassthrough
	}
	key := credKey(kind, v)
	now := a.now()
	a.mu.RLock()
	vd, ok := a.verdicts[key]
	a.mu.RUnlock()
	if ok && now.Before(vd.until) {
		return vd.err
	}
	cred, err := credOf(kind, v)
	if err != nil {
		return err
	}
	vctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	err = a.verify(vctx, cred, ctx.RemoteIP().String())
	switch {
	case err == nil:
		a.remember(key, verdict{until: now.Add(a.okTTL)})
		if a.onVerified != nil {
			a.onVerified()
		}
		return nil
	case errors.Is(err, controller.ErrUnavailable):
		// Not cached: the next request asks again once the controller is back.
		return errVerifyUnavailable
	case errors.Is(err, controller.ErrPasswordReset):
		e := newError(ErrUnauthorized, "the NeuVector user must reset its password before the adapter can log in with it")
		a.remember(key, verdict{err: e, until: now.Add(a.failTTL)})
		return e
	case errors.Is(err, controller.ErrAuth):
		a.remember(key, verdict{err: errRefused, until: now.Add(a.failTTL)})
		return errRefused
	}
	// Local refusals (login rate limit): a 401 for the short refusal window.
	// The controller's text is not echoed: some of it repeats the request.
	a.remember(key, verdict{err: errRateLimited, until: now.Add(a.failTTL)})
	return errRateLimited
}

func (a *authenticator) remember(key [32]byte, vd verdict) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.verdicts) >= maxVerdicts {
		now := a.now()
		for k, old := range a.verdicts {
			if !now.Before(old.until) {
				delete(a.verdicts, k)
			}
		}
		if len(a.verdicts) >= maxVerdicts {
			clear(a.verdicts)
		}
	}
	a.verdicts[key] = vd
}

// credOf turns a pass-through header value into controller credentials.
func credOf(kind credKind, v []byte) (controller.Cred, error) {
	switch kind {
	case credBasic:
		var buf [maxCredentialLen]byte
		up, colon, ok := decodeBasic(v, buf[:])
		if !ok {
			return controller.Cred{}, errMalformedCredential
		}
		return controller.Cred{Username: string(up[:colon]), Password: string(up[colon+1:])}, nil
	case credAPIKey:
		if bytes.IndexByte(v, ':') <= 0 {
			return controller.Cred{}, newError(ErrUnauthorized,
				"X-ScannerAdapter-API-Key must be a NeuVector API key as name:secret")
		}
		return controller.Cred{APIKey: string(v)}, nil
	case credBearer:
		return controller.Cred{}, errBearerPassthrough
	}
	return controller.Cred{}, errNoCredential
}

// requestCred returns the controller credentials a pass-through request
// carries (after check accepted it).
func requestCred(ctx *fasthttp.RequestCtx) (controller.Cred, error) {
	kind, v := parseHarborAuth(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization),
		ctx.Request.Header.Peek(HeaderAPIKey))
	return credOf(kind, v)
}

// writeAuthError answers an authentication failure; a 401 names the
// scheme expected, as RFC 9110 asks.
func (a *API) writeAuthError(ctx *fasthttp.RequestCtx, err error) {
	writeError(ctx, err)
	if ctx.Response.StatusCode() != fasthttp.StatusUnauthorized {
		return
	}
	switch a.cfg.Auth {
	case AuthBasic, AuthPassthrough:
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Basic realm="harbor-scanner-neuvector"`)
	case AuthBearer:
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="harbor-scanner-neuvector"`)
	}
}
