package proxy

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLoggerLevels(t *testing.T) {
	for level, enabled := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "": slog.LevelInfo,
		"WARN": slog.LevelWarn, "error": slog.LevelError,
	} {
		var b bytes.Buffer
		l, err := NewLogger(&b, level)
		if err != nil {
			t.Fatalf("%q: %v", level, err)
		}
		l.Log(t.Context(), enabled-1, "below")
		l.Log(t.Context(), enabled, "at")
		if strings.Contains(b.String(), "below") || !strings.Contains(b.String(), `"msg":"at"`) {
			t.Errorf("level %q: %s", level, b.String())
		}
	}
	_, err := NewLogger(&bytes.Buffer{}, "verbose")
	if !errors.Is(err, ErrLogLevel) {
		t.Fatalf("bad level: %v", err)
	}
	for _, want := range []string{"LOG_LEVEL", "verbose", "debug, info, warn, error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoggerRedactsSecrets(t *testing.T) {
	secrets := map[string]string{
		"Authorization":            "Basic dXNlcjpodW50ZXIy",
		"password":                 "hunter2-pw",
		"X-Auth-Token":             "tok-5a5a5a",
		"apiKey":                   "key-abcdef",
		"api_key":                  "key-123456",
		"client_secret":            "sec-777",
		"registry_credentials":     "robot$x:pw-888",
		"Cookie":                   "session=c00k1e",
		"X-ScannerAdapter-API-Key": "name:apikey-999",
	}
	var b bytes.Buffer
	l, err := NewLogger(&b, "debug")
	if err != nil {
		t.Fatal(err)
	}
	var args []any
	for k, v := range secrets {
		args = append(args, k, v)
	}
	args = append(args, "digest", "sha256:visible")
	l.Debug("scan", args...)
	// Secrets nested in a group, or in a group named like a secret.
	l.Info("nested", slog.Group("registry", slog.String("authorization", "Bearer nested-tok")),
		slog.Group("password", slog.String("value", "grouped-pw")))
	l.With("token", "with-tok").WithGroup("auth").Warn("with", "user", "admin")
	// A LogValuer that resolves to a secret under a secret key.
	l.Info("valuer", "secret", valuer{"valuer-secret"})

	out := b.String()
	for k, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("value of %s leaked: %s", k, out)
		}
	}
	for _, v := range []string{"nested-tok", "grouped-pw", "with-tok", "valuer-secret"} {
		if strings.Contains(out, v) {
			t.Errorf("%s leaked: %s", v, out)
		}
	}
	for _, want := range []string{"sha256:visible", `"user":"admin"`, redacted, `"msg":"scan"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
}

type valuer struct{ v string }

func (v valuer) LogValue() slog.Value { return slog.StringValue(v.v) }

func TestFasthttpLoggerDropsArguments(t *testing.T) {
	var b bytes.Buffer
	l, _ := NewLogger(&b, "debug")
	fl := newFasthttpLogger(l)
	fl.Printf("error when serving connection %q<->%q: %v", "a", "b",
		errors.New("cannot parse header: Authorization: Basic c2VjcmV0"))
	if strings.Contains(b.String(), "c2VjcmV0") || !strings.Contains(b.String(), "error when serving connection") {
		t.Errorf("fasthttp log: %s", b.String())
	}
	// TLS handshake errors are kept (rate-limited) for diagnosis.
	b.Reset()
	for range 3 {
		fl.Printf("error when serving connection %q<->%q: %v", "127.0.0.1:9443", "10.0.0.7:5555",
			errors.New("tls: client didn't provide a certificate"))
	}
	out := b.String()
	if strings.Count(out, "TLS handshake failed") != 1 || !strings.Contains(out, "didn't provide a certificate") ||
		!strings.Contains(out, "10.0.0.7:5555") {
		t.Errorf("TLS handshake log: %s", out)
	}
	b.Reset()
	fl.Printf("Permanent error when accepting new connections: %v", errors.New("too many open files"))
	if !strings.Contains(b.String(), `"level":"WARN"`) || strings.Contains(b.String(), "too many open files") {
		t.Errorf("accept error log: %s", b.String())
	}
}

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{"PASSWORD", "x_api-key", "ApiKey", "bearer_token", "Set-Cookie"} {
		if !isSecretKey(k) {
			t.Errorf("%q not treated as secret", k)
		}
	}
	for _, k := range []string{"digest", "route", "status", "session", "cvedb_version", "repository", ""} {
		if isSecretKey(k) {
			t.Errorf("%q treated as secret", k)
		}
	}
}
