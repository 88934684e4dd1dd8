package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Sentinel errors; proxy maps them to HTTP statuses in one place. Errors
// returned by this package wrap one of them (or are a *ScanError, or wrap
// context.DeadlineExceeded / context.Canceled when the caller's ctx ended).
var (
	ErrAuth          = errors.New("controller: authentication failed") // login refused / 401 after re-login
	ErrPasswordReset = errors.New("controller: the user must reset its password before it can log in")
	ErrForbidden     = errors.New("controller: permission denied")    // 403 code 25
	ErrUnavailable   = errors.New("controller: REST API unavailable") // network error, timeout, unexpected status
	ErrNotFound      = errors.New("controller: not found")
	// ErrRateLimited is a login refused locally, without asking the
	// controller, because the user name or client address failed too often.
	ErrRateLimited = errors.New("controller: too many failed logins, try again later")
)

// ScanError is a scan the controller ran and failed (500 code 26): Message is
// the controller's message ("Image not found", "authentication error", ...).
// For any other code Message is the code's fixed text only, because some
// controller messages echo the request, password included.
type ScanError struct {
	Code    int
	Message string
}

func (e *ScanError) Error() string { return e.Message }

// IsRegistryAuth tells whether the scan failed on registry credentials (the
// caller may retry once with other robot credentials).
func (e *ScanError) IsRegistryAuth() bool {
	if e == nil || e.Code != translate.CodeFailScanRepository {
		return false
	}
	m := strings.ToLower(e.Message)
	for _, s := range []string{"authentication error", "unauthorized", "401", "authentication required", "denied"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// StatusError carries the HTTP status and controller code of a failed call.
// It unwraps to the sentinel the status maps to. Text is the code's fixed
// text (never the controller's message, which may echo the request).
type StatusError struct {
	Endpoint string
	Status   int // 0: no HTTP answer
	Code     int // controller error code, 0 when the body was not a RESTError
	Text     string
	err      error
}

func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString(e.err.Error())
	b.WriteString(": ")
	b.WriteString(e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, " answered HTTP %d", e.Status)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " code %d", e.Code)
	}
	if e.Text != "" {
		b.WriteString(" (")
		b.WriteString(e.Text)
		b.WriteString(")")
	}
	return b.String()
}

func (e *StatusError) Unwrap() error { return e.err }

// ErrorCode is the controller error code carried by err (a *ScanError or a
// *StatusError), or 0. Metrics label controller_errors_total with it.
func ErrorCode(err error) int {
	var se *ScanError
	if errors.As(err, &se) {
		return se.Code
	}
	var st *StatusError
	if errors.As(err, &st) {
		return st.Code
	}
	return 0
}

func statusErr(sentinel error, ep string, status int, re *translate.RESTError) error {
	e := &StatusError{Endpoint: ep, Status: status, err: sentinel}
	if re != nil {
		e.Code = re.Code
		e.Text = translate.ControllerErrorText(re.Code)
	}
	return e
}

// ctxErr words the end of the caller's context: a scan deadline reads as such.
func ctxErr(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("controller: %s: abandoned: %w", what, context.Canceled)
	}
	return fmt.Errorf("controller: %s: deadline passed: %w", what, context.DeadlineExceeded)
}

// ctxDone tells whether ctx has ended, counting a deadline that has passed
// a moment before ctx's own timer says so (a request timed out on it).
func ctxDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}
