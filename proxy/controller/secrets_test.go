package controller

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// TestSecretsNeverLoggedNorInErrors drives logins (good, wrong, reset),
// token re-login, API keys and failing scans whose controller messages echo
// the credentials, at debug level, and checks that no password, API key,
// token or robot secret appears in the logs or in any returned error.
func TestSecretsNeverLoggedNorInErrors(t *testing.T) {
	f := newFakeController(t)
	f.users["resetme"] = "Reset-Pw-123"
	f.reset["resetme"] = true
	var logBuf syncBuffer
	c := f.client(t, func(cfg *Config) { cfg.Logger = debugLogger(&logBuf) })
	s := NewSessions(c, 20*time.Millisecond, WithJanitorInterval(5*time.Millisecond),
		WithLoginRateLimit(2, 0, time.Minute), WithVerifyTTL(time.Nanosecond, time.Nanosecond))
	ctx := ctxT(t, 20*time.Second)
	req := testScanReq()
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Scans whose failures echo the request (code 54 does, with %v).
	echo := "job key {" + req.Username + " " + req.Password + " " + testPassword + "}"
	step := 0
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		step++
		switch step % 5 {
		case 1:
			restErr(w, r, 500, translate.CodeJobNotFound, echo)
		case 2:
			restErr(w, r, 400, translate.CodeWrongFormat, echo)
		case 3:
			restErr(w, r, 500, translate.CodeFailScanRepository, echo)
		case 4:
			f.expireTokens()
			w.WriteHeader(http.StatusNotModified)
		default:
			restErr(w, r, 500, translate.CodeFailScanRepository, "authentication error")
		}
	}
	for _, cred := range []Cred{
		{Username: testUser, Password: testPassword},
		{Username: testUser, Password: "Wrong-Guess-1"},
		{Username: testUser, Password: "Wrong-Guess-2"},
		{Username: testUser, Password: "Wrong-Guess-3"}, // rate-limited
		{Username: "resetme", Password: "Reset-Pw-123"},
		{APIKey: testAPIKey},
		{APIKey: "harbor:Revoked-Secret-9"},
	} {
		keep(s.Verify(ctx, cred))
		sess, release, err := s.Acquire(ctx, cred)
		keep(err)
		if err != nil {
			continue
		}
		for range 5 {
			_, err := c.ScanRepository(ctx, sess, req)
			keep(err)
		}
		_, err = c.Summary(ctx, sess)
		keep(err)
		release()
	}
	bad := NewStaticSession(c, Cred{Username: "nobody", Password: "Static-Pw-777"})
	_, err := c.Summary(ctx, bad)
	keep(err)
	// Let the janitor log sessions out, then close the rest.
	eventually(t, 5*time.Second, func() bool { return s.Active() == 0 }, "janitor")
	s.CloseAll(context.Background())
	if len(errs) < 10 {
		t.Fatalf("only %d errors: the test did not exercise the failures", len(errs))
	}
	if !strings.Contains(logBuf.String(), "controller call") {
		t.Fatal("nothing was logged at debug level")
	}
	var tokens []string
	f.mu.Lock()
	for _, h := range f.headers {
		if tok := h.Get(headerToken); tok != "" {
			tokens = append(tokens, tok)
		}
	}
	f.mu.Unlock()
	if len(tokens) == 0 {
		t.Fatal("no token was used")
	}
	secrets := append([]string{testPassword, "0123456789abcdefSECRETKEY", "Revoked-Secret-9", "Wrong-Guess",
		"Reset-Pw-123", "Static-Pw-777", req.Password}, tokens...)
	logs := logBuf.String()
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("log contains secret %q", sec)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("error %q contains secret %q", err, sec)
			}
		}
	}
	// Every kind of failure above really happened.
	for _, want := range []error{ErrAuth, ErrRateLimited, ErrPasswordReset} {
		found := false
		for _, err := range errs {
			found = found || errors.Is(err, want)
		}
		if !found {
			t.Errorf("no %v among the errors", want)
		}
	}
	sawMessage := false
	for _, err := range errs {
		var se *ScanError
		if errors.As(err, &se) && se.Message == "authentication error" {
			sawMessage = true
		}
	}
	if !sawMessage {
		t.Fatal("the code-26 message did not come through")
	}
}
