package proxy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// ErrLogLevel is returned by NewLogger for a level it does not know.
var ErrLogLevel = errors.New("proxy: invalid LOG_LEVEL")

// redacted replaces the value of an attribute whose key looks like a secret.
const redacted = "[REDACTED]"

// secretKeyParts are lower-case fragments of attribute keys (or enclosing
// group names) whose values are never written. A safety net: callers must
// not log credentials in the first place.
var secretKeyParts = [...]string{
	"authorization", "password", "passwd", "token", "apikey", "api_key", "api-key",
	"secret", "credential", "cookie",
}

// NewLogger returns a JSON slog logger writing to w at level (debug, info,
// warn or error; case-insensitive, empty means info). Attributes whose key,
// or an enclosing group's name, looks like a secret are redacted whatever
// their value.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		lv = slog.LevelDebug
	case "info", "":
		lv = slog.LevelInfo
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("%w %q: accepted values are debug, info, warn, error", ErrLogLevel, level)
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: redactAttr})
	return slog.New(h), nil
}

// redactAttr is the ReplaceAttr of NewLogger. slog calls it for every
// non-group attribute with the names of the groups enclosing it.
func redactAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey || a.Key == slog.SourceKey) {
		return a
	}
	if isSecretKey(a.Key) {
		return slog.String(a.Key, redacted)
	}
	for _, g := range groups {
		if isSecretKey(g) {
			return slog.String(a.Key, redacted)
		}
	}
	return a
}

// isSecretKey reports whether key contains a secret-looking fragment,
// ignoring case, without allocating.
func isSecretKey(key string) bool {
	for _, p := range secretKeyParts {
		if containsFold(key, p) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII substr,
// comparing ASCII letters case-insensitively.
func containsFold(s, substr string) bool {
	n := len(substr)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != substr[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// fasthttpLogger adapts fasthttp's Printf logging to slog. It logs the
// format string only: fasthttp's arguments can quote raw request bytes
// (header snippets of a malformed request, which may hold credentials).
// The one exception is a TLS handshake error, whose text crypto/tls
// writes without request data and which operators need to diagnose
// certificates and mTLS.
type fasthttpLogger struct {
	log      *slog.Logger
	lastTLS  atomic.Int64 // unix nanoseconds of the last handshake error logged
	tlsEvery time.Duration
}

func newFasthttpLogger(l *slog.Logger) *fasthttpLogger {
	return &fasthttpLogger{log: l, tlsEvery: time.Second}
}

func (l *fasthttpLogger) Printf(format string, args ...any) {
	if !strings.HasPrefix(format, "error when serving connection") {
		// Accept failures and the like deserve a warning.
		l.log.Warn("fasthttp", "detail", format)
		return
	}
	// Per-connection errors (bad requests, resets) are the client's.
	if len(args) == 3 {
		if err, ok := args[2].(error); ok && strings.HasPrefix(err.Error(), "tls: ") {
			l.tlsError(err.Error(), args[1])
			return
		}
	}
	l.log.Debug("fasthttp", "detail", format)
}

// tlsError logs a handshake failure at most once per tlsEvery, so that a
// scanner probing the port does not flood the log.
func (l *fasthttpLogger) tlsError(msg string, client any) {
	now := time.Now().UnixNano()
	last := l.lastTLS.Load()
	if now-last < int64(l.tlsEvery) || !l.lastTLS.CompareAndSwap(last, now) {
		return
	}
	l.log.Info("TLS handshake failed", "client", fmt.Sprint(client), "error", msg)
}
