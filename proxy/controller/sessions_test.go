package controller

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func TestConcurrentAcquireOneLogin(t *testing.T) {
	f := newFakeController(t)
	f.loginDelay = 50 * time.Millisecond // every Acquire arrives while the login runs
	c := f.client(t)
	s := NewSessions(c, time.Minute)
	ctx := ctxT(t, 10*time.Second)
	cred := Cred{Username: testUser, Password: testPassword}
	var wg sync.WaitGroup
	got := make([]*Session, 100)
	for i := range got {
		wg.Go(func() {
			sess, release, err := s.Acquire(ctx, cred)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = sess
			release()
		})
	}
	wg.Wait()
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("100 concurrent Acquire caused %d logins, want 1", n)
	}
	for _, g := range got {
		if g != got[0] {
			t.Fatal("concurrent Acquire returned different sessions")
		}
	}
	s.CloseAll(ctx)
	if f.logouts.Load() != 1 {
		t.Fatalf("logouts = %d", f.logouts.Load())
	}
}

func TestConcurrentAcquireWrongPasswordOneLogin(t *testing.T) {
	f := newFakeController(t)
	f.loginDelay = 50 * time.Millisecond
	s := NewSessions(f.client(t), time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := s.Acquire(ctx, Cred{Username: testUser, Password: "wrong"}); !errors.Is(err, ErrAuth) {
				t.Errorf("err %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.failedLogins.Load(); n != 1 {
		t.Fatalf("failed logins = %d, want 1", n)
	}
}

func TestIdleJanitorLogsOutUnpinned(t *testing.T) {
	f := newFakeController(t)
	f.users["other"] = "pw2"
	c := f.client(t)
	s := NewSessions(c, 50*time.Millisecond, WithJanitorInterval(10*time.Millisecond))
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)

	_, release, err := s.Acquire(ctx, Cred{Username: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	pinned, releasePinned, err := s.Acquire(ctx, Cred{Username: "other", Password: "pw2"})
	if err != nil {
		t.Fatal(err)
	}
	release()
	eventually(t, 5*time.Second, func() bool { return f.logouts.Load() == 1 }, "idle session logout")
	if s.Active() != 1 {
		t.Fatalf("Active = %d, want 1 (the pinned one)", s.Active())
	}
	// Well past idle, the pinned session is still there and usable.
	time.Sleep(150 * time.Millisecond)
	if f.logouts.Load() != 1 {
		t.Fatal("a pinned session was logged out")
	}
	if _, err := c.Summary(ctx, pinned); err != nil {
		t.Fatal(err)
	}
	releasePinned()
	eventually(t, 5*time.Second, func() bool { return f.logouts.Load() == 2 && s.Active() == 0 }, "second logout")
	if f.liveTokens() != 0 {
		t.Fatalf("%d tokens left on the controller", f.liveTokens())
	}
	// Any() has nothing left; a background user of an evicted session does
	// not log in again.
	if s.Any() != nil {
		t.Fatal("Any returned an evicted session")
	}
	if _, err := c.Summary(ctx, pinned); !errors.Is(err, ErrAuth) || f.logins.Load() != 2 {
		t.Fatalf("evicted session: err %v logins %d", err, f.logins.Load())
	}
}

func TestCloseAllLogsOutEverySession(t *testing.T) {
	f := newFakeController(t)
	f.users["u1"], f.users["u2"], f.users["svc"] = "p1", "p2", "p3"
	c := f.client(t)
	s := NewSessions(c, time.Minute, WithStatic(Cred{Username: "svc", Password: "p3"}))
	ctx := ctxT(t, 10*time.Second)
	for _, u := range []string{"u1", "u2"} {
		_, release, err := s.Acquire(ctx, Cred{Username: u, Password: f.users[u]})
		if err != nil {
			t.Fatal(err)
		}
		if u == "u1" {
			release() // one idle, one still pinned: both go
		}
	}
	if _, _, err := s.Acquire(ctx, Cred{APIKey: testAPIKey}); err != nil {
		t.Fatal(err)
	}
	// The static session logs in on first use.
	if _, err := c.Summary(ctx, s.Any()); err != nil {
		t.Fatal(err)
	}
	if f.liveTokens() != 3 || s.Active() != 4 {
		t.Fatalf("live tokens %d, Active %d", f.liveTokens(), s.Active())
	}
	s.CloseAll(ctxT(t, 5*time.Second))
	if f.liveTokens() != 0 || f.logouts.Load() != 3 {
		t.Fatalf("after CloseAll: live tokens %d, logouts %d", f.liveTokens(), f.logouts.Load())
	}
}

func TestAnyPrefersStaticThenAPIKeyThenRecent(t *testing.T) {
	f := newFakeController(t)
	f.users["u1"], f.users["u2"] = "p1", "p2"
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)

	s := NewSessions(c, time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	if s.Any() != nil {
		t.Fatal("Any of an empty pool")
	}
	s1, r1, _ := s.Acquire(ctx, Cred{Username: "u1", Password: "p1"})
	time.Sleep(2 * time.Millisecond)
	s2, r2, _ := s.Acquire(ctx, Cred{Username: "u2", Password: "p2"})
	r1()
	time.Sleep(2 * time.Millisecond)
	r2()
	if s.Any() != s2 {
		t.Fatal("Any is not the most recently used session")
	}
	r1b := func() func() { _, r, _ := s.Acquire(ctx, Cred{Username: "u1", Password: "p1"}); return r }()
	r1b()
	if s.Any() != s1 {
		t.Fatal("Any did not follow the latest use")
	}
	key, rk, _ := s.Acquire(ctx, Cred{APIKey: testAPIKey})
	rk()
	if s.Any() != key {
		t.Fatal("Any does not prefer the API key")
	}

	st := NewSessions(c, time.Minute, WithStatic(Cred{APIKey: testAPIKey}))
	defer st.CloseAll(ctxT(t, time.Second))
	if a := st.Any(); a == nil || a.Kind() != "api-key" {
		t.Fatalf("static Any = %v", a)
	}
}

func TestVerifyCachesVerdicts(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	s := NewSessions(c, time.Minute, WithVerifyTTL(time.Minute, 100*time.Millisecond),
		WithLoginRateLimit(100, 100, time.Minute))
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	good := Cred{Username: testUser, Password: testPassword}
	for range 3 {
		if err := s.Verify(ctx, good); err != nil {
			t.Fatal(err)
		}
	}
	// The verifying login is the session a scan then uses: still one login.
	if _, release, err := s.Acquire(ctx, good); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	if f.logins.Load() != 1 {
		t.Fatalf("logins = %d, want 1", f.logins.Load())
	}
	// Success stays cached even while the controller is down.
	f.srv.Close()
	if err := s.Verify(ctx, good); err != nil {
		t.Fatalf("cached success: %v", err)
	}
	// An unknown credential while the controller is down: cannot tell.
	if err := s.Verify(ctx, Cred{Username: "new", Password: "x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unknown credential, controller down: %v", err)
	}
}

func TestVerifyRefusalCachedBriefly(t *testing.T) {
	f := newFakeController(t)
	s := NewSessions(f.client(t), time.Minute, WithVerifyTTL(time.Minute, time.Second),
		WithLoginRateLimit(100, 100, time.Minute))
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	bad := Cred{Username: testUser, Password: "wrong"}
	for range 3 {
		if err := s.Verify(ctx, bad); !errors.Is(err, ErrAuth) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if f.failedLogins.Load() != 1 {
		t.Fatalf("failed logins %d, want 1 (refusal cached)", f.failedLogins.Load())
	}
	eventually(t, 5*time.Second, func() bool {
		s.Verify(ctx, bad)
		return f.failedLogins.Load() == 2
	}, "refusal to expire")
}

func TestVerifyAPIKey(t *testing.T) {
	f := newFakeController(t)
	s := NewSessions(f.client(t), time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	if err := s.Verify(ctx, Cred{APIKey: testAPIKey}); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, Cred{APIKey: "harbor:nope"}); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	if err := s.Verify(ctx, Cred{}); !errors.Is(err, ErrAuth) {
		t.Fatalf("empty credential: %v", err)
	}
	if f.logins.Load() != 0 {
		t.Fatal("API keys logged in")
	}
}

func TestVerifyRateLimitPerUser(t *testing.T) {
	f := newFakeController(t)
	s := NewSessions(f.client(t), time.Minute, WithVerifyTTL(time.Minute, time.Nanosecond),
		WithLoginRateLimit(3, 0, time.Minute))
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	for i := range 3 {
		if err := s.Verify(ctx, Cred{Username: testUser, Password: sprintf("guess-%d", i)}); !errors.Is(err, ErrAuth) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// Refused locally: the controller (and its lock-out of admin) never sees it,
	// not even with the right password, until the bucket refills.
	for _, pw := range []string{"guess-4", testPassword} {
		if err := s.Verify(ctx, Cred{Username: testUser, Password: pw}); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("after 3 failures: %v, want ErrRateLimited", err)
		}
	}
	if n := f.failedLogins.Load(); n != 3 {
		t.Fatalf("controller saw %d failed logins, want 3", n)
	}
	// Another user is not affected.
	f.users["ops"] = "pw"
	if err := s.Verify(ctx, Cred{Username: "ops", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRateLimitPerAddressAndRefill(t *testing.T) {
	f := newFakeController(t)
	s := NewSessions(f.client(t), time.Minute, WithVerifyTTL(time.Minute, time.Nanosecond),
		WithLoginRateLimit(0, 2, 2*time.Second))
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	for i := range 2 {
		if err := s.VerifyFrom(ctx, Cred{Username: sprintf("user%d", i), Password: "x"}, "10.0.0.9"); !errors.Is(err, ErrAuth) {
			t.Fatal(err)
		}
	}
	if err := s.VerifyFrom(ctx, Cred{Username: "user9", Password: "x"}, "10.0.0.9"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("third user from one address: %v", err)
	}
	if err := s.VerifyFrom(ctx, Cred{Username: testUser, Password: testPassword}, "10.0.0.10"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// The bucket refills at 2 per 2 s.
	eventually(t, 5*time.Second, func() bool {
		return !errors.Is(s.VerifyFrom(ctx, Cred{Username: "user9", Password: "x"}, "10.0.0.9"), ErrRateLimited)
	}, "refill")
}

func TestFailLimiter(t *testing.T) {
	l := newFailLimiter(2, time.Minute)
	now := time.Now()
	if !l.allow("a", now) {
		t.Fatal("fresh key refused")
	}
	l.fail("a", now)
	l.fail("a", now)
	if l.allow("a", now) || !l.allow("b", now) {
		t.Fatal("bucket of a not empty or b affected")
	}
	if !l.allow("a", now.Add(30*time.Second)) {
		t.Fatal("no refill after half the period")
	}
	l.prune(now.Add(time.Hour))
	if len(l.m) != 0 {
		t.Fatal("full buckets not pruned")
	}
	for i := range maxLimiterKeys + 5 {
		l.fail(sprintf("k%d", i), now)
	}
	if len(l.m) > maxLimiterKeys {
		t.Fatalf("limiter holds %d keys", len(l.m))
	}
}

func TestAcquireWhileControllerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := New(Config{URL: "https://" + addr, TLS: TLSConfigInsecure(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSessions(c, time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	if _, _, err := s.Acquire(ctxT(t, 5*time.Second), Cred{Username: "a", Password: "b"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	if s.Active() != 0 {
		t.Fatal("failed login left a session")
	}
	if err := c.Ping(ctxT(t, 5*time.Second)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping: %v", err)
	}
}

func TestConcurrentVerifyAPIKeyOneCall(t *testing.T) {
	f := newFakeController(t)
	gate := make(chan struct{})
	f.summaryGate = gate
	s := NewSessions(f.client(t), time.Minute)
	defer s.CloseAll(ctxT(t, time.Second))
	ctx := ctxT(t, 10*time.Second)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := s.Verify(ctx, Cred{APIKey: testAPIKey}); err != nil {
				t.Error(err)
			}
		})
	}
	eventually(t, 5*time.Second, func() bool { return f.summaries.Load() == 1 }, "the first verification")
	time.Sleep(20 * time.Millisecond) // let the other 49 queue behind it
	close(gate)
	wg.Wait()
	if n := f.summaries.Load(); n != 1 {
		t.Fatalf("50 concurrent Verify of one key made %d controller calls", n)
	}
}
