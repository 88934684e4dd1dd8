package controller

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Controller request headers (controller-api.md §13.1).
const (
	headerToken  = "X-Auth-Token"
	headerAPIKey = "X-Auth-Apikey"
)

// refusalHold is how long a session repeats a refused login's verdict.
const refusalHold = 30 * time.Second

// Cred is how the adapter authenticates to the controller: a user
// (Username/Password, a session token is obtained with POST /v1/auth) or an
// API key "name:secret" (sent as X-Auth-Apikey, no session).
type Cred struct {
	Username string
	Password string
	APIKey   string
}

// String never shows the password or the key's secret, so that a Cred
// printed by mistake leaks nothing.
func (c Cred) String() string {
	if c.APIKey != "" {
		return "api-key " + c.apiKeyName()
	}
	return "user " + c.Username
}

// GoString is the same as String, for %#v.
func (c Cred) GoString() string { return c.String() }

// LogValue keeps slog from reflecting over the fields.
func (c Cred) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Cred) apiKeyName() string {
	name, _, _ := strings.Cut(c.APIKey, ":")
	return name
}

// name is the user name (or API key name) logins are rate-limited by.
func (c Cred) name() string {
	if c.APIKey != "" {
		return "apikey:" + c.apiKeyName()
	}
	return "user:" + c.Username
}

func (c Cred) empty() bool { return c.APIKey == "" && c.Username == "" }

// credKey is the SHA-256 of a credential: sessions and verdicts are keyed by
// it so the raw secret is never a map key that a dump could show.
type credKey [sha256.Size]byte

func (c Cred) key() credKey {
	h := sha256.New()
	var n [8]byte
	// Length-prefixed fields: ("ab","c") and ("a","bc") differ.
	for _, f := range []string{c.APIKey, c.Username, c.Password} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var k credKey
	h.Sum(k[:0])
	return k
}

// Session is a usable controller identity: a token (re-obtained on 401) or
// an API key.
type Session struct {
	c      *Client
	cred   Cred // kept for re-login on 401; never logged
	static bool

	loginMu sync.Mutex // one login at a time per session
	mu      sync.Mutex
	token   string
	closed  bool

	// After a refused login the session answers with that refusal for
	// refusalHold instead of asking again: a background loop with a wrong
	// static password must not walk the user into the controller's
	// failed-login lock-out. Guarded by loginMu.
	refused      error
	refusedUntil time.Time
	// onRefused lets the pool drop a credential the controller no longer
	// accepts (password changed), so Verify stops vouching for it.
	onRefused func()
}

// NewStaticSession is a session for the adapter's own credentials
// (CONTROLLER_API_KEY, or CONTROLLER_USERNAME/PASSWORD): it logs in on first
// use and again whenever the controller forgets its token. Log it out with
// Logout at shutdown (Sessions does so for a WithStatic session).
func NewStaticSession(c *Client, cred Cred) *Session {
	return &Session{c: c, cred: cred, static: true}
}

// Kind is "api-key" or "token".
func (s *Session) Kind() string {
	if s.cred.APIKey != "" {
		return "api-key"
	}
	return "token"
}

// User is the NeuVector user or API key name (not a secret).
func (s *Session) User() string {
	if s.cred.APIKey != "" {
		return s.cred.apiKeyName()
	}
	return s.cred.Username
}

// String names the session without its token or password.
func (s *Session) String() string { return s.Kind() + " session of " + s.User() }

// GoString is the same as String.
func (s *Session) GoString() string { return s.String() }

// LogValue keeps slog from reflecting over the fields.
func (s *Session) LogValue() slog.Value { return slog.StringValue(s.String()) }

// errSessionClosed: a session dropped from the pool (or logged out) does not
// log in again, else nobody would ever log that new token out.
var errSessionClosed = fmt.Errorf("%w: the session was logged out", ErrAuth)

// header returns the auth header to send and the token it carries ("" for
// an API key), logging in first when a token session has none yet.
func (s *Session) header(ctx context.Context) (authHeader, string, error) {
	if s == nil {
		return authHeader{}, "", nil
	}
	if s.cred.APIKey != "" {
		return authHeader{headerAPIKey, s.cred.APIKey}, "", nil
	}
	s.mu.Lock()
	tok, closed := s.token, s.closed
	s.mu.Unlock()
	if closed {
		return authHeader{}, "", errSessionClosed
	}
	if tok == "" {
		var err error
		if tok, err = s.relogin(ctx, ""); err != nil {
			return authHeader{}, "", err
		}
	}
	return authHeader{headerToken, tok}, tok, nil
}

// canRelogin tells whether a 401 may be cured by logging in again.
func (s *Session) canRelogin() bool { return s != nil && s.cred.APIKey == "" }

// relogin replaces the token stale with a new one; when another caller has
// already replaced it, that token is used and no second login happens.
func (s *Session) relogin(ctx context.Context, stale string) (string, error) {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	s.mu.Lock()
	tok, closed := s.token, s.closed
	s.mu.Unlock()
	if closed {
		return "", errSessionClosed
	}
	if tok != "" && tok != stale {
		return tok, nil
	}
	if s.refused != nil && time.Now().Before(s.refusedUntil) {
		return "", s.refused
	}
	tok, err := s.c.login(ctx, s.cred)
	if err != nil {
		if isRefusal(err) {
			s.refused, s.refusedUntil = err, time.Now().Add(refusalHold)
			s.mu.Lock()
			s.token = ""
			s.mu.Unlock()
			if s.onRefused != nil {
				s.onRefused()
			}
		}
		return "", err
	}
	s.refused = nil
	s.mu.Lock()
	if s.closed {
		// Logged out while we logged in: give this token back at once.
		s.mu.Unlock()
		s.c.logout(context.WithoutCancel(ctx), tok)
		return "", errSessionClosed
	}
	s.token = tok
	s.mu.Unlock()
	return tok, nil
}

// Logout ends the session's token (DELETE /v1/auth) and closes the session:
// it will not log in again. An API-key session has nothing to end.
func (s *Session) Logout(ctx context.Context) {
	s.mu.Lock()
	tok := s.token
	s.token, s.closed = "", true
	s.mu.Unlock()
	if tok != "" {
		s.c.logout(ctx, tok)
	}
}

// login runs POST /v1/auth and returns the token.
func (c *Client) login(ctx context.Context, cred Cred) (string, error) {
	body, err := json.Marshal(&translate.AuthData{Password: &translate.AuthPassword{
		Username: cred.Username, Password: cred.Password}})
	if err != nil {
		return "", fmt.Errorf("%w: encoding login: %w", ErrUnavailable, err)
	}
	resp, err := c.do(ctx, &exchange{ep: EndpointAuth, method: fasthttp.MethodPost, path: "/v1/auth",
		body: body, timeout: c.timeout})
	if err != nil {
		return "", err
	}
	defer fasthttp.ReleaseResponse(resp)
	status := resp.StatusCode()
	if status != fasthttp.StatusOK {
		return "", c.loginFailure(resp, cred.Username)
	}
	b, err := c.body(EndpointAuth, resp)
	if err != nil {
		return "", err
	}
	tok, err := decodeToken(b)
	if err != nil {
		return "", err
	}
	c.log.Debug("controller login", "user", cred.Username)
	return tok, nil
}

var (
	errLoginBlocked    = fmt.Errorf("%w: the controller temporarily blocked this user after too many failed logins (code 47)", ErrAuth)
	errPasswordExpired = fmt.Errorf("%w: the user's password has expired (code 48)", ErrAuth)
	errLoginRefused    = fmt.Errorf("%w: the controller refused the user name or password", ErrAuth)
	errNeedReset       = fmt.Errorf("%w: log in to the NeuVector console once and set a new password", ErrPasswordReset)
)

// decodeToken reads the token of a 200 answer of POST /v1/auth.
func decodeToken(b []byte) (string, error) {
	var td translate.TokenData
	if err := json.Unmarshal(b, &td); err != nil {
		return "", &StatusError{Endpoint: EndpointAuth, Status: 200, Text: "malformed login answer", err: ErrUnavailable}
	}
	if td.NeedToResetPassword || td.Token == nil {
		return "", errNeedReset
	}
	if td.Token.Token == "" {
		return "", &StatusError{Endpoint: EndpointAuth, Status: 200, Text: "login answer without a token", err: ErrUnavailable}
	}
	return td.Token.Token, nil
}

func (c *Client) loginFailure(resp *fasthttp.Response, user string) error {
	status := resp.StatusCode()
	re := c.restError(EndpointAuth, resp)
	if status == fasthttp.StatusUnauthorized || status == fasthttp.StatusForbidden {
		code := 0
		if re != nil {
			code = re.Code
		}
		c.log.Info("controller refused a login", "user", user, "status", status, "code", code)
		if re != nil {
			switch re.Code {
			case translate.CodeLoginBlocked:
				return errLoginBlocked
			case translate.CodePasswordExpired:
				return errPasswordExpired
			}
		}
		return errLoginRefused
	}
	return statusErr(ErrUnavailable, EndpointAuth, status, re)
}

// logout runs DELETE /v1/auth; failures are logged only (the token dies at
// its idle timeout anyway).
func (c *Client) logout(ctx context.Context, token string) {
	resp, err := c.do(ctx, &exchange{ep: EndpointLogout, method: fasthttp.MethodDelete, path: "/v1/auth",
		auth: authHeader{headerToken, token}, timeout: c.timeout})
	if err != nil {
		c.log.Debug("controller logout failed", "error", err)
		return
	}
	if s := resp.StatusCode(); s != fasthttp.StatusOK && s != fasthttp.StatusUnauthorized {
		c.log.Debug("controller logout refused", "status", s)
	}
	fasthttp.ReleaseResponse(resp)
}

// KeepAlive resets the idle timer of a token session (PATCH /v1/auth). Only
// sessions that stay unused for longer than the controller's idle timeout
// but must keep their token need it; a long-polling scan resets it anyway.
func (c *Client) KeepAlive(ctx context.Context, s *Session) error {
	_, err := c.call(ctx, &exchange{ep: EndpointKeepAlive, method: fasthttp.MethodPatch, path: "/v1/auth",
		timeout: c.timeout}, s, nil)
	return err
}

// call runs an ordinary authenticated exchange: 200 decodes into out (when
// not nil); 401 on a token logs in again once and retries; other statuses
// map to sentinels. It returns the final status.
func (c *Client) call(ctx context.Context, x *exchange, s *Session, out any) (int, error) {
	for attempt := 0; ; attempt++ {
		h, tok, err := s.header(ctx)
		if err != nil {
			return 0, err
		}
		x.auth = h
		resp, err := c.do(ctx, x)
		if err != nil {
			return 0, err
		}
		status := resp.StatusCode()
		if status == fasthttp.StatusUnauthorized && attempt == 0 && s.canRelogin() {
			fasthttp.ReleaseResponse(resp)
			if _, err := s.relogin(ctx, tok); err != nil {
				return status, err
			}
			continue
		}
		if status != fasthttp.StatusOK {
			err = c.failure(x.ep, resp)
			fasthttp.ReleaseResponse(resp)
			return status, err
		}
		if out != nil {
			err = c.decodeInto(x.ep, resp, out)
		}
		fasthttp.ReleaseResponse(resp)
		return status, err
	}
}

// isRefusal tells whether err is the controller's verdict on a credential
// (as opposed to not knowing).
func isRefusal(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrPasswordReset)
}
