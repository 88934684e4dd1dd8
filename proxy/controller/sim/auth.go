package sim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Permission IDs of share/access.go that the simulator knows.
var permIDs = []string{
	"config", "rt_scan", "reg_scan", "ci_scan", "cloud", "rt_policy", "admctrl", "compliance",
	"audit_events", "security_events", "events", "authentication", "authorization", "vulnerability",
	"nv_resource",
}

// builtinRoles are the controller's reserved roles plus "ciscan-reg", the
// custom role the adapter's docs recommend (ci_scan write + reg_scan read).
// ci_scan is a write-only permission on the real controller.
var builtinRoles = func() map[string][]translate.Permission {
	var admin, reader []translate.Permission
	for _, id := range permIDs {
		admin = append(admin, translate.Permission{ID: id, Read: id != "ci_scan", Write: true})
		if id != "ci_scan" {
			reader = append(reader, translate.Permission{ID: id, Read: true})
		}
	}
	return map[string][]translate.Permission{
		"admin":      admin,
		"reader":     reader,
		"ciops":      {{ID: "ci_scan", Write: true}},
		"ciscan-reg": {{ID: "ci_scan", Write: true}, {ID: "reg_scan", Read: true}},
	}
}()

func allowed(perms []translate.Permission, id string, write bool) bool {
	for _, p := range perms {
		if p.ID == id {
			if write {
				return p.Write
			}
			return p.Read
		}
	}
	return false
}

type userState struct {
	User
	perms        []translate.Permission
	failures     int
	blockedUntil time.Time
	loginCount   int
	lastLogin    time.Time
}

type session struct {
	user    *userState
	created time.Time
	last    time.Time
}

type keyState struct {
	APIKey
	perms []translate.Permission
}

type authState struct {
	idle        time.Duration
	maxSessions int
	failLimit   int
	block       time.Duration

	mu       sync.Mutex
	users    map[string]*userState
	keys     map[string]*keyState
	sessions map[string]*session
}

func newAuthState(cfg *Config) (*authState, error) {
	roles := map[string][]translate.Permission{}
	for k, v := range builtinRoles {
		roles[k] = v
	}
	for k, v := range cfg.Roles {
		roles[k] = v
	}
	a := &authState{
		idle:        cfg.IdleTimeout,
		maxSessions: cfg.MaxSessions,
		failLimit:   cfg.LoginFailures,
		block:       cfg.LoginBlock,
		users:       map[string]*userState{},
		keys:        map[string]*keyState{},
		sessions:    map[string]*session{},
	}
	for _, u := range cfg.Users {
		perms, ok := roles[u.Role]
		if u.Name == "" || !ok {
			return nil, fmt.Errorf("%w: user %q: empty name or unknown role %q", ErrConfig, u.Name, u.Role)
		}
		a.users[u.Name] = &userState{User: u, perms: perms}
	}
	for _, k := range cfg.APIKeys {
		perms, ok := roles[k.Role]
		if k.Name == "" || k.Secret == "" || !ok {
			return nil, fmt.Errorf("%w: API key %q: empty name/secret or unknown role %q", ErrConfig, k.Name, k.Role)
		}
		a.keys[k.Name] = &keyState{APIKey: k, perms: perms}
	}
	return a, nil
}

func (a *authState) expired(s *session, now time.Time) bool {
	return now.Sub(s.last) > a.idle || now.Sub(s.created) > TokenLife
}

// caller is an authenticated request's identity. token is "" for API keys,
// which is also the token part of their long-poll job keys.
type caller struct {
	token string
	name  string
	role  string
	perms []translate.Permission
}

var errAuth = errors.New("sim: authentication failed")

// authenticate checks X-Auth-Token, then X-Auth-Apikey, and resets the
// session's idle timer.
func (a *authState) authenticate(r *http.Request) (caller, error) {
	now := time.Now()
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		a.mu.Lock()
		defer a.mu.Unlock()
		s := a.sessions[tok]
		if s == nil {
			return caller{}, errAuth
		}
		if a.expired(s, now) {
			delete(a.sessions, tok)
			return caller{}, errAuth
		}
		s.last = now
		return caller{token: tok, name: s.user.Name, role: s.user.Role, perms: s.user.perms}, nil
	}
	if key := r.Header.Get("X-Auth-Apikey"); key != "" {
		name, secret, _ := strings.Cut(key, ":")
		a.mu.Lock()
		k := a.keys[name]
		a.mu.Unlock()
		if k == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(k.Secret)) != 1 {
			return caller{}, errAuth
		}
		return caller{name: k.Name, role: k.Role, perms: k.perms}, nil
	}
	return caller{}, errAuth
}

// loginResult is what POST /v1/auth answers.
type loginResult struct {
	status int
	code   int // error code when status != 200
	user   *userState
	token  string
	reset  bool
}

func (a *authState) login(name, password string, now time.Time) loginResult {
	if password == "" {
		return loginResult{status: http.StatusUnauthorized, code: translate.CodeAuthFailed}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.users[name]
	if u == nil {
		return loginResult{status: http.StatusUnauthorized, code: translate.CodeAuthFailed}
	}
	if now.Before(u.blockedUntil) {
		return loginResult{status: http.StatusUnauthorized, code: translate.CodeLoginBlocked}
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
		u.failures++
		if a.failLimit > 0 && u.failures >= a.failLimit {
			u.failures = 0
			u.blockedUntil = now.Add(a.block)
			return loginResult{status: http.StatusUnauthorized, code: translate.CodeLoginBlocked}
		}
		return loginResult{status: http.StatusUnauthorized, code: translate.CodeAuthFailed}
	}
	u.failures = 0
	if u.MustReset {
		return loginResult{status: http.StatusOK, user: u, reset: true}
	}
	n := 0
	for tok, s := range a.sessions {
		if a.expired(s, now) {
			delete(a.sessions, tok)
		} else if s.user == u {
			n++
		}
	}
	if n >= a.maxSessions {
		return loginResult{status: http.StatusUnauthorized, code: translate.CodeAuthFailed}
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	a.sessions[tok] = &session{user: u, created: now, last: now}
	u.loginCount++
	u.lastLogin = now
	return loginResult{status: http.StatusOK, user: u, token: tok}
}

func (a *authState) logout(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.sessions[tok]; !ok {
		return false
	}
	delete(a.sessions, tok)
	return true
}

func (a *authState) expireAll() {
	a.mu.Lock()
	clear(a.sessions)
	a.mu.Unlock()
}

func (a *authState) active() int {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.sessions {
		if !a.expired(s, now) {
			n++
		}
	}
	return n
}

// tokenBody is RESTToken with the RESTUser fields the adapter does not read.
type tokenBody struct {
	translate.Token
	DomainPermissions         map[string][]translate.Permission `json:"domain_permissions"`
	Server                    string                            `json:"server"`
	Password                  string                            `json:"password"`
	Email                     string                            `json:"email"`
	Locale                    string                            `json:"locale"`
	LastLoginTimestamp        int64                             `json:"last_login_timestamp"`
	LastLoginAt               string                            `json:"last_login_at"`
	LoginCount                int                               `json:"login_count"`
	BlockedForFailedLogin     bool                              `json:"blocked_for_failed_login"`
	BlockedForPasswordExpired bool                              `json:"blocked_for_password_expired"`
	PasswordResettable        bool                              `json:"password_resettable"`
}

type tokenData struct {
	Token                    *tokenBody `json:"token"`
	PasswordDaysUntilExpire  int        `json:"password_days_until_expire"`
	PasswordHoursUntilExpire int        `json:"password_hours_until_expire"`
	NeedToResetPassword      bool       `json:"need_to_reset_password"`
}

var errNoPassword = errors.New("sim: no password object")

// decodeAuth decodes a POST /v1/auth body; a body without the password
// object is errNoPassword (the controller's 400 code 6).
func decodeAuth(body []byte) (*translate.AuthData, error) {
	var d translate.AuthData
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, err
	}
	if d.Password == nil {
		return nil, errNoPassword
	}
	return &d, nil
}

const maxBody = 1 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

func (rp *replica) handleLogin(w http.ResponseWriter, r *http.Request, _ []string) {
	s := rp.s
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
		return
	}
	d, err := decodeAuth(body)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
		return
	}
	now := time.Now()
	res := s.auth.login(d.Password.Username, d.Password.Password, now)
	if res.status != http.StatusOK {
		s.st.loginFailures.Add(1)
		// The user name is logged, never the password.
		s.log.Info("login refused", "user", d.Password.Username, "code", res.code)
		writeError(w, r, res.status, res.code, "")
		return
	}
	if res.reset {
		writeJSON(w, r, http.StatusOK, tokenData{PasswordDaysUntilExpire: -1, NeedToResetPassword: true})
		return
	}
	s.st.logins.Add(1)
	u := res.user
	writeJSON(w, r, http.StatusOK, tokenData{
		Token: &tokenBody{
			Token: translate.Token{
				Token:             res.token,
				GlobalPermissions: u.perms,
				Fullname:          u.Name,
				Username:          u.Name,
				Role:              u.Role,
				Timeout:           uint32((s.cfg.IdleTimeout + time.Second - 1) / time.Second),
			},
			DomainPermissions:  map[string][]translate.Permission{},
			Locale:             "en",
			LastLoginTimestamp: now.Unix(),
			LastLoginAt:        now.UTC().Format(time.RFC3339),
			LoginCount:         u.loginCount,
		},
		PasswordDaysUntilExpire: -1,
	})
}

func (rp *replica) handleKeepAlive(w http.ResponseWriter, r *http.Request, _ []string) {
	if _, err := rp.s.auth.authenticate(r); err != nil {
		writeError(w, r, http.StatusUnauthorized, translate.CodeAuthFailed, "")
		return
	}
	writeEmpty(w)
}

func (rp *replica) handleLogout(w http.ResponseWriter, r *http.Request, _ []string) {
	c, err := rp.s.auth.authenticate(r)
	if err != nil {
		writeError(w, r, http.StatusUnauthorized, translate.CodeAuthFailed, "")
		return
	}
	if c.token != "" && rp.s.auth.logout(c.token) {
		rp.s.st.logouts.Add(1)
	}
	writeEmpty(w)
}

// authorize authenticates r and checks one permission; on failure it has
// answered 401 code 3 or 403 code 25.
func (rp *replica) authorize(w http.ResponseWriter, r *http.Request, perm string, write bool) (caller, bool) {
	c, err := rp.s.auth.authenticate(r)
	if err != nil {
		writeError(w, r, http.StatusUnauthorized, translate.CodeAuthFailed, "")
		return c, false
	}
	if perm != "" && !allowed(c.perms, perm, write) {
		writeError(w, r, http.StatusForbidden, translate.CodeObjectAccessDenied, "")
		return c, false
	}
	return c, true
}
