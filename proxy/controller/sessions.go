package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Defaults of the Sessions options.
const (
	DefaultVerifyOK      = 60 * time.Second
	DefaultVerifyRefused = 5 * time.Second
	DefaultUserFailures  = 5  // failed logins per user name per DefaultFailPeriod
	DefaultAddrFailures  = 20 // failed logins per client address per DefaultFailPeriod
	DefaultFailPeriod    = time.Minute
)

var (
	errPoolClosed = fmt.Errorf("%w: shutting down", ErrUnavailable)
	errNoCred     = fmt.Errorf("%w: no credentials", ErrAuth)
)

// Option configures Sessions.
type Option func(*options)

type options struct {
	static                   *Cred
	verifyOK, verifyRefused  time.Duration
	userBurst, addrBurst     int
	failPeriod               time.Duration
	janitorEvery, logoutWait time.Duration
}

// WithStatic adds the adapter's own credentials (static mode): Any prefers
// that session and CloseAll logs it out.
func WithStatic(cred Cred) Option { return func(o *options) { o.static = &cred } }

// WithVerifyTTL sets how long Verify trusts an accepted credential (ok) and
// a refused one (refused, kept short so a fixed password works soon).
func WithVerifyTTL(ok, refused time.Duration) Option {
	return func(o *options) { o.verifyOK, o.verifyRefused = ok, refused }
}

// WithLoginRateLimit allows perUser failed logins per user name and perAddr
// per client address within period before refusing locally with
// ErrRateLimited; 0 turns a limit off.
func WithLoginRateLimit(perUser, perAddr int, period time.Duration) Option {
	return func(o *options) { o.userBurst, o.addrBurst, o.failPeriod = perUser, perAddr, period }
}

// WithJanitorInterval sets how often idle sessions are looked for (default:
// idle/4, between 10 ms and 30 s).
func WithJanitorInterval(d time.Duration) Option { return func(o *options) { o.janitorEvery = d } }

// Sessions caches sessions per credential (keyed by a hash), pins them while
// in use, logs out sessions idle for longer than idle, and verifies
// pass-through credentials with a cached verdict. A janitor goroutine runs
// until CloseAll.
type Sessions struct {
	c    *Client
	idle time.Duration
	o    options

	users, addrs *failLimiter
	static       *Session

	mu       sync.Mutex
	m        map[credKey]*entry
	verdicts map[credKey]verdict
	keyCalls map[credKey]*keyCall // API-key verifications in flight
	closed   bool

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

type entry struct {
	sess     *Session
	ready    chan struct{} // closed when the login ended
	err      error         // login failure; the entry is gone from the map then
	refs     int
	lastUsed time.Time
}

func (e *entry) established() bool {
	select {
	case <-e.ready:
		return e.err == nil
	default:
		return false
	}
}

// keyCall is one verification of an API key that concurrent Verify calls
// of the same key wait for.
type keyCall struct {
	done chan struct{}
	err  error
}

type verdict struct {
	err   error
	until time.Time
}

// maxVerdicts bounds the verdict cache under a flood of distinct credentials.
const maxVerdicts = 10000

// NewSessions returns a pool over c whose idle, unpinned sessions are logged
// out after idle (keep it below the controller's idle timeout, 300 s by
// default, so that we, not the controller, end them).
func NewSessions(c *Client, idle time.Duration, opts ...Option) *Sessions {
	o := options{
		verifyOK: DefaultVerifyOK, verifyRefused: DefaultVerifyRefused,
		userBurst: DefaultUserFailures, addrBurst: DefaultAddrFailures, failPeriod: DefaultFailPeriod,
	}
	for _, f := range opts {
		f(&o)
	}
	if idle <= 0 {
		idle = 4 * time.Minute
	}
	if o.janitorEvery <= 0 {
		o.janitorEvery = min(max(idle/4, 10*time.Millisecond), 30*time.Second)
	}
	s := &Sessions{
		c: c, idle: idle, o: o,
		users:    newFailLimiter(o.userBurst, o.failPeriod),
		addrs:    newFailLimiter(o.addrBurst, o.failPeriod),
		m:        make(map[credKey]*entry),
		verdicts: make(map[credKey]verdict),
		keyCalls: make(map[credKey]*keyCall),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if o.static != nil {
		s.static = NewStaticSession(c, *o.static)
	}
	go s.janitor()
	return s
}

// Acquire returns the session of cred (logging in when needed) pinned until
// release is called. Concurrent calls for one credential share one login.
func (s *Sessions) Acquire(ctx context.Context, cred Cred) (sess *Session, release func(), err error) {
	return s.acquire(ctx, cred, "")
}

// AcquireFrom is Acquire with the client address a login is rate-limited by.
func (s *Sessions) AcquireFrom(ctx context.Context, cred Cred, clientAddr string) (*Session, func(), error) {
	return s.acquire(ctx, cred, clientAddr)
}

func (s *Sessions) acquire(ctx context.Context, cred Cred, addr string) (*Session, func(), error) {
	if cred.empty() {
		return nil, nil, errNoCred
	}
	key := cred.key()
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, errPoolClosed
	}
	if e := s.m[key]; e != nil {
		e.refs++
		s.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			s.unpin(e)
			return nil, nil, ctxErr(ctx, "login")
		}
		if e.err != nil {
			return nil, nil, e.err
		}
		return e.sess, s.releaser(e), nil
	}
	if !s.users.allow(cred.name(), now) || !s.addrs.allow(addr, now) {
		s.mu.Unlock()
		s.c.log.Debug("controller login refused locally: rate limit", "user", cred.name())
		return nil, nil, ErrRateLimited
	}
	e := &entry{sess: &Session{c: s.c, cred: cred}, ready: make(chan struct{}), refs: 1}
	e.sess.onRefused = func() { s.drop(key, e) }
	s.m[key] = e
	s.mu.Unlock()

	var err error
	if cred.APIKey == "" {
		// The login serves every waiter, so the first caller's cancellation
		// must not fail them all; it is bounded by the client's Timeout.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.timeout)
		_, err = e.sess.relogin(lctx, "")
		cancel()
	}
	now = time.Now()
	s.mu.Lock()
	if err != nil {
		e.err = err
		if s.m[key] == e {
			delete(s.m, key)
		}
		if isRefusal(err) {
			s.users.fail(cred.name(), now)
			s.addrs.fail(addr, now)
		}
	}
	e.lastUsed = now
	close(e.ready)
	s.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return e.sess, s.releaser(e), nil
}

// drop forgets a session whose credential the controller refused on
// re-login; its pinned users see the refusal, the next Acquire logs in anew.
func (s *Sessions) drop(key credKey, e *entry) {
	s.mu.Lock()
	if s.m[key] == e {
		delete(s.m, key)
	}
	delete(s.verdicts, key)
	s.mu.Unlock()
}

func (s *Sessions) unpin(e *entry) {
	s.mu.Lock()
	e.refs--
	e.lastUsed = time.Now()
	s.mu.Unlock()
}

func (s *Sessions) releaser(e *entry) func() {
	var once sync.Once
	return func() { once.Do(func() { s.unpin(e) }) }
}

// Verify tells whether the controller accepts cred: nil, ErrAuth,
// ErrPasswordReset, ErrRateLimited, or ErrUnavailable when it cannot tell.
func (s *Sessions) Verify(ctx context.Context, cred Cred) error {
	return s.VerifyFrom(ctx, cred, "")
}

// VerifyFrom is Verify with the client address failed logins are counted
// against (besides the user name). An accepted credential is trusted for
// the verify TTL; a refused one is answered from the cache briefly; an
// unknown one costs a login (kept as the credential's session) or, for an
// API key, one summary read.
func (s *Sessions) VerifyFrom(ctx context.Context, cred Cred, clientAddr string) error {
	if cred.empty() {
		return errNoCred
	}
	key := cred.key()
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errPoolClosed
	}
	if v, ok := s.verdicts[key]; ok && now.Before(v.until) {
		s.mu.Unlock()
		return v.err
	}
	if e := s.m[key]; e != nil && cred.APIKey == "" && e.established() {
		// A session we hold is the controller's recent yes.
		s.setVerdictLocked(key, nil, now)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	var err error
	if cred.APIKey != "" {
		err = s.verifyAPIKeyOnce(ctx, key, cred, clientAddr)
	} else {
		var release func()
		if _, release, err = s.acquire(ctx, cred, clientAddr); err == nil {
			release()
		}
	}
	switch {
	case err == nil || isRefusal(err):
		s.mu.Lock()
		s.setVerdictLocked(key, err, time.Now())
		s.mu.Unlock()
	}
	return err
}

func (s *Sessions) setVerdictLocked(key credKey, err error, now time.Time) {
	ttl := s.o.verifyOK
	if err != nil {
		ttl = s.o.verifyRefused
	}
	if ttl <= 0 {
		return
	}
	if len(s.verdicts) >= maxVerdicts {
		s.pruneVerdictsLocked(now)
		if len(s.verdicts) >= maxVerdicts {
			clear(s.verdicts)
		}
	}
	s.verdicts[key] = verdict{err: err, until: now.Add(ttl)}
}

func (s *Sessions) pruneVerdictsLocked(now time.Time) {
	for k, v := range s.verdicts {
		if !now.Before(v.until) {
			delete(s.verdicts, k)
		}
	}
}

// verifyAPIKeyOnce runs one verification per key however many callers ask
// at the same time (Acquire's singleflight does this for user logins).
func (s *Sessions) verifyAPIKeyOnce(ctx context.Context, key credKey, cred Cred, addr string) error {
	s.mu.Lock()
	if kc := s.keyCalls[key]; kc != nil {
		s.mu.Unlock()
		select {
		case <-kc.done:
			return kc.err
		case <-ctx.Done():
			return ctxErr(ctx, "verify")
		}
	}
	kc := &keyCall{done: make(chan struct{})}
	s.keyCalls[key] = kc
	s.mu.Unlock()
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.c.timeout)
	kc.err = s.verifyAPIKey(vctx, cred, addr)
	cancel()
	s.mu.Lock()
	delete(s.keyCalls, key)
	s.mu.Unlock()
	close(kc.done)
	return kc.err
}

var errAPIKeyRefused = fmt.Errorf("%w: the controller refused the API key", ErrAuth)

// verifyAPIKey asks the controller about a key with the cheapest call any
// key may make (GET /v1/system/summary needs no permission).
func (s *Sessions) verifyAPIKey(ctx context.Context, cred Cred, addr string) error {
	now := time.Now()
	if !s.users.allow(cred.name(), now) || !s.addrs.allow(addr, now) {
		return ErrRateLimited
	}
	tmp := &Session{c: s.c, cred: cred}
	_, err := s.c.call(ctx, &exchange{ep: EndpointSummary, method: fasthttp.MethodGet,
		path: "/v1/system/summary", timeout: s.c.timeout}, tmp, nil)
	switch {
	case err == nil, errors.Is(err, ErrForbidden):
		return nil // authenticated; permissions are the scan's business
	case errors.Is(err, ErrAuth):
		now = time.Now()
		s.users.fail(cred.name(), now)
		s.addrs.fail(addr, now)
		return errAPIKeyRefused
	}
	return err
}

// Any returns some currently valid session (for background reads such as the
// CVE DB version), or nil: the static session, else an API-key session, else
// the most recently used token session. It is not pinned: a caller that
// gets ErrAuth from it asks Any again next time.
func (s *Sessions) Any() *Session {
	if s.static != nil {
		return s.static
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *Session
	var bestUsed time.Time
	for _, e := range s.m {
		if !e.established() {
			continue
		}
		if e.sess.cred.APIKey != "" {
			return e.sess
		}
		if best == nil || e.lastUsed.After(bestUsed) {
			best, bestUsed = e.sess, e.lastUsed
		}
	}
	return best
}

// CloseAll logs every session out (DELETE /v1/auth) within ctx and stops the
// janitor; later Acquire and Verify calls fail with ErrUnavailable.
func (s *Sessions) CloseAll(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	sessions := make([]*Session, 0, len(s.m)+1)
	for k, e := range s.m {
		sessions = append(sessions, e.sess) // a login in progress is undone by its Logout
		delete(s.m, k)
	}
	s.mu.Unlock()
	if s.static != nil {
		sessions = append(sessions, s.static)
	}
	s.stopOnce.Do(func() { close(s.stop) })
	var wg sync.WaitGroup
	for _, sess := range sessions {
		wg.Go(func() { sess.Logout(ctx) })
	}
	wg.Wait()
	select {
	case <-s.done:
	case <-ctx.Done():
	}
}

// Active is the number of sessions held (logged in, or API keys in use).
func (s *Sessions) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.m {
		if e.established() {
			n++
		}
	}
	if s.static != nil {
		n++
	}
	return n
}

func (s *Sessions) janitor() {
	defer close(s.done)
	t := time.NewTicker(s.o.janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep(time.Now())
		}
	}
}

// sweep logs out idle, unpinned sessions and forgets expired verdicts and
// refilled rate-limit buckets.
func (s *Sessions) sweep(now time.Time) {
	var idle []*Session
	s.mu.Lock()
	for k, e := range s.m {
		if e.refs == 0 && e.established() && now.Sub(e.lastUsed) > s.idle {
			idle = append(idle, e.sess)
			delete(s.m, k)
		}
	}
	s.pruneVerdictsLocked(now)
	s.mu.Unlock()
	s.users.prune(now)
	s.addrs.prune(now)
	for _, sess := range idle {
		s.c.log.Debug("controller session idle, logging out", "session", sess)
		ctx, cancel := context.WithTimeout(context.Background(), s.c.timeout)
		sess.Logout(ctx)
		cancel()
	}
}
