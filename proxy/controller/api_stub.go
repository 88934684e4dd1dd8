// Package controller is the NeuVector controller REST client the adapter
// uses on localhost: login/token/API key, the scan long-poll, the system
// summary (CVE DB version), and _repo_scan / fed._repo_scan look-ups.
package controller

// CONTRACT STUB written by the lead so that other packages compile while the
// controller helper implements it. The helper replaces this file with real
// code in files named for each concern, keeping these exported names and
// signatures (adding to them is fine).

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Sentinel errors; proxy maps them to HTTP statuses in one place.
var (
	ErrAuth          = errors.New("controller: authentication failed")      // login refused / 401 after re-login
	ErrPasswordReset = errors.New("controller: the user must reset its password before it can log in")
	ErrForbidden     = errors.New("controller: permission denied")           // 403 code 25
	ErrUnavailable   = errors.New("controller: REST API unavailable")        // network error, timeout, unexpected status
	ErrNotFound      = errors.New("controller: not found")
)

// ScanError is a scan the controller ran and failed (500 code 26): Message is
// the controller's message ("Image not found", "authentication error", ...).
// For any other code Message is the code's fixed text only.
type ScanError struct {
	Code    int
	Message string
}

func (e *ScanError) Error() string { return e.Message }

// IsRegistryAuth tells whether the scan failed on registry credentials.
func (e *ScanError) IsRegistryAuth() bool { panic("stub") }

// Config configures a Client.
type Config struct {
	URL         string        // e.g. https://127.0.0.1:10443
	TLS         *tls.Config   // nil: system roots
	PollTimeout time.Duration // client timeout of one long-poll call; must exceed the controller's (30 s); default 90 s
	Timeout     time.Duration // other calls; default 10 s
	Logger      *slog.Logger
}

// Client talks to one controller REST endpoint. Safe for concurrent use.
type Client struct{}

// New returns a client.
func New(cfg Config) (*Client, error) { panic("stub") }

// Cred is how the adapter authenticates to the controller: a user
// (Username/Password, a session token is obtained with POST /v1/auth) or an
// API key "name:secret" (sent as X-Auth-Apikey, no session).
type Cred struct {
	Username string
	Password string
	APIKey   string
}

// Session is a usable controller identity: a token (re-obtained on 401) or
// an API key.
type Session struct{}

// Sessions caches sessions per credential (keyed by a hash), pins them while
// in use, logs out sessions idle for longer than idle, and verifies
// pass-through credentials with a cached verdict.
type Sessions struct{}

// NewSessions returns a pool over c.
func NewSessions(c *Client, idle time.Duration) *Sessions { panic("stub") }

// Acquire returns the session of cred (logging in when needed) pinned until
// release is called.
func (s *Sessions) Acquire(ctx context.Context, cred Cred) (sess *Session, release func(), err error) {
	panic("stub")
}

// Verify tells whether the controller accepts cred: nil, ErrAuth,
// ErrPasswordReset, or ErrUnavailable when it cannot tell.
func (s *Sessions) Verify(ctx context.Context, cred Cred) error { panic("stub") }

// Any returns some currently valid session (for background reads such as the
// CVE DB version), or nil.
func (s *Sessions) Any() *Session { panic("stub") }

// CloseAll logs every session out (DELETE /v1/auth) within ctx.
func (s *Sessions) CloseAll(ctx context.Context) { panic("stub") }

// Active is the number of sessions held.
func (s *Sessions) Active() int { panic("stub") }

// ScanRepository runs POST /v1/scan/repository, repeating the identical call
// on 304 until 200 or an error; backs off on 429 and re-logs in on 401 until
// ctx ends. A code-26 failure is a *ScanError.
func (c *Client) ScanRepository(ctx context.Context, s *Session, req *translate.ScanRepoRequest) (*translate.ScanRepoReport, error) {
	panic("stub")
}

// Summary reads GET /v1/system/summary.
func (c *Client) Summary(ctx context.Context, s *Session) (*translate.SystemSummary, error) {
	panic("stub")
}

// FindImage looks a digest up in registry ("_repo_scan" or
// "fed._repo_scan") with GET /v1/scan/registry/{name}/images?f_digest=eq,D.
// No match is (nil, nil).
func (c *Client) FindImage(ctx context.Context, s *Session, registry, digest string) (*translate.RegistryImageSummary, error) {
	panic("stub")
}

// ImageReport reads GET /v1/scan/registry/{name}/image/{id}.
func (c *Client) ImageReport(ctx context.Context, s *Session, registry, imageID string) (*translate.ScanReport, error) {
	panic("stub")
}

// Ping checks that the REST API answers (any well-formed controller reply,
// 401 included, counts) without credentials.
func (c *Client) Ping(ctx context.Context) error { panic("stub") }
