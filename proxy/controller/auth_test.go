package controller

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func TestLoginTokenReuseReloginLogout(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	s := NewSessions(c, time.Minute)
	ctx := ctxT(t, 10*time.Second)
	cred := Cred{Username: testUser, Password: testPassword}

	sess, release, err := s.Acquire(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // idempotent
	sess2, release2, err := s.Acquire(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	if sess2 != sess || f.logins.Load() != 1 {
		t.Fatalf("token not reused: same=%v logins=%d", sess2 == sess, f.logins.Load())
	}
	if _, err := c.Summary(ctx, sess); err != nil {
		t.Fatal(err)
	}
	// The controller forgets the token (idle timeout): one re-login, then success.
	f.expireTokens()
	sum, err := c.Summary(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CVEDBVersion != "4.017" || f.logins.Load() != 2 {
		t.Fatalf("summary %+v after re-login, logins=%d", sum, f.logins.Load())
	}
	if got := s.Active(); got != 1 {
		t.Fatalf("Active = %d, want 1", got)
	}
	s.CloseAll(ctx)
	if f.logouts.Load() != 1 || f.liveTokens() != 0 {
		t.Fatalf("after CloseAll: logouts=%d live tokens=%d", f.logouts.Load(), f.liveTokens())
	}
	if s.Active() != 0 {
		t.Fatalf("Active after CloseAll = %d", s.Active())
	}
	if _, _, err := s.Acquire(ctx, cred); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Acquire after CloseAll: %v, want ErrUnavailable", err)
	}
	// A logged-out session does not log in again (nobody would log it out).
	if _, err := c.Summary(ctx, sess); !errors.Is(err, ErrAuth) || f.logins.Load() != 2 {
		t.Fatalf("closed session: err=%v logins=%d", err, f.logins.Load())
	}
}

func TestAPIKeyHeaderNoLogin(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	s := NewSessions(c, time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	sess, release, err := s.Acquire(ctx, Cred{APIKey: testAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if sess.Kind() != "api-key" || sess.User() != "harbor" {
		t.Fatalf("kind %q user %q", sess.Kind(), sess.User())
	}
	f.scan = reportOK("sha256:abc")
	if _, err := c.ScanRepository(ctx, sess, testScanReq()); err != nil {
		t.Fatal(err)
	}
	calls := f.scanCalls()
	if len(calls) != 1 || calls[0].apiKey != testAPIKey || calls[0].token != "" {
		t.Fatalf("scan calls %+v", calls)
	}
	if f.logins.Load() != 0 {
		t.Fatalf("an API key logged in %d times", f.logins.Load())
	}
	// A refused key is ErrAuth without any re-login attempt.
	bad := &Session{c: c, cred: Cred{APIKey: "harbor:wrong"}}
	if _, err := c.Summary(ctx, bad); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	f := newFakeController(t)
	f.users["resetme"] = "pw"
	f.reset["resetme"] = true
	f.users["blocked"] = "pw"
	f.loginErr["blocked"] = translate.CodeLoginBlocked
	f.users["expired"] = "pw"
	f.loginErr["expired"] = translate.CodePasswordExpired
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	for _, tc := range []struct {
		cred Cred
		is   error
		says string
	}{
		{Cred{Username: testUser, Password: "wrong"}, ErrAuth, "refused"},
		{Cred{Username: "resetme", Password: "pw"}, ErrPasswordReset, "new password"},
		{Cred{Username: "blocked", Password: "pw"}, ErrAuth, "temporarily blocked"},
		{Cred{Username: "expired", Password: "pw"}, ErrAuth, "expired"},
	} {
		_, err := c.login(ctx, tc.cred)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: err %v, want %v saying %q", tc.cred.Username, err, tc.is, tc.says)
		}
	}
}

func TestDecodeToken(t *testing.T) {
	for _, tc := range []struct {
		body string
		tok  string
		is   error
	}{
		{`{"token":{"token":"abc","username":"admin"},"need_to_reset_password":false}`, "abc", nil},
		{`{"token":null,"need_to_reset_password":true}`, "", ErrPasswordReset},
		{`{"token":{"token":"abc"},"need_to_reset_password":true}`, "", ErrPasswordReset},
		{`{"token":{"token":""}}`, "", ErrUnavailable},
		{`{"token":{"tok`, "", ErrUnavailable},
		{`<html>`, "", ErrUnavailable},
	} {
		tok, err := decodeToken([]byte(tc.body))
		if tok != tc.tok || !errors.Is(err, tc.is) || (tc.is == nil) != (err == nil) {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tc.body, tok, err, tc.tok, tc.is)
		}
	}
}

func TestConcurrentReloginIsOne(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	sess := NewStaticSession(c, Cred{Username: testUser, Password: testPassword})
	ctx := ctxT(t, 10*time.Second)
	if _, err := c.Summary(ctx, sess); err != nil {
		t.Fatal(err)
	}
	f.expireTokens()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Summary(ctx, sess); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 20 callers saw the stale token; only one logged in again.
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("logins = %d, want 2", n)
	}
	sess.Logout(ctx)
	if f.liveTokens() != 0 {
		t.Fatal("static session's token not logged out")
	}
}

func TestCredNeverPrintsSecrets(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	for _, cred := range []Cred{{Username: testUser, Password: testPassword}, {APIKey: testAPIKey}} {
		sess := &Session{c: c, cred: cred, token: "tok-visible-secret"}
		for _, s := range []string{
			sprintf("%v %+v %#v %s", cred, cred, cred, cred),
			sprintf("%v %+v %#v %s", sess, sess, sess, sess),
		} {
			for _, secret := range []string{testPassword, "0123456789abcdefSECRETKEY", "tok-visible-secret"} {
				if strings.Contains(s, secret) {
					t.Fatalf("%q shows a secret", s)
				}
			}
		}
	}
}

func TestPasswordChangedDropsSessionAndHoldsRefusal(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	s := NewSessions(c, time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	cred := Cred{Username: testUser, Password: testPassword}
	if err := s.Verify(ctx, cred); err != nil {
		t.Fatal(err)
	}
	sess, release, err := s.Acquire(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The password changes on the controller and the token expires.
	f.mu.Lock()
	f.users[testUser] = "new-password"
	f.mu.Unlock()
	f.expireTokens()
	for range 5 {
		if _, err := c.Summary(ctx, sess); !errors.Is(err, ErrAuth) {
			t.Fatalf("summary with a changed password: %v", err)
		}
	}
	// One failed login, not five: the refusal is held.
	if n := f.failedLogins.Load(); n != 1 {
		t.Fatalf("failed logins %d, want 1", n)
	}
	// Verify no longer vouches for the old password.
	if err := s.Verify(ctx, cred); !errors.Is(err, ErrAuth) {
		t.Fatalf("Verify after the change: %v", err)
	}
	if err := s.Verify(ctx, Cred{Username: testUser, Password: "new-password"}); err != nil {
		t.Fatal(err)
	}
}

func TestKeepAlive(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{Username: testUser, Password: testPassword})
	if err := c.KeepAlive(ctx, sess); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	h := f.headers[len(f.headers)-1]
	f.mu.Unlock()
	if h.Get(headerToken) == "" {
		t.Fatal("keep-alive without the token")
	}
	// A keep-alive of an expired token logs in again rather than failing.
	f.expireTokens()
	if err := c.KeepAlive(ctx, sess); err != nil || f.logins.Load() != 2 {
		t.Fatalf("err %v logins %d", err, f.logins.Load())
	}
}
