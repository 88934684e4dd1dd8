package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func TestLoginKeepAliveLogout(t *testing.T) {
	h := start(t, Config{})
	r := h.do("POST", "/v1/auth", nil, authBody("admin", "admin"))
	if r.status != 200 || r.hdr.Get("Content-Type") != "application/json" || r.hdr.Get("Cache-Control") != "no-cache" {
		t.Fatalf("login: %d %v", r.status, r.hdr)
	}
	var td translate.TokenData
	if err := json.Unmarshal(r.body, &td); err != nil {
		t.Fatal(err)
	}
	if td.Token == nil || len(td.Token.Token) < 32 || td.Token.Role != "admin" || td.Token.Timeout != 300 {
		t.Fatalf("token: %+v", td.Token)
	}
	if !allowed(td.Token.GlobalPermissions, "ci_scan", true) || !allowed(td.Token.GlobalPermissions, "reg_scan", false) {
		t.Fatalf("admin permissions: %+v", td.Token.GlobalPermissions)
	}
	token := td.Token.Token
	if r := h.do("PATCH", "/v1/auth", tok(token), nil); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("keep-alive: %d %q", r.status, r.body)
	}
	if st := h.s.Stats(); st.Logins != 1 || st.ActiveSessions != 1 {
		t.Fatalf("stats after login: %+v", st)
	}
	if r := h.do("DELETE", "/v1/auth", tok(token), nil); r.status != 200 {
		t.Fatalf("logout: %d", r.status)
	}
	r = h.do("PATCH", "/v1/auth", tok(token), nil)
	if e := r.restErr(t); r.status != 401 || e.Code != 3 || e.Error != "Authentication failed" || e.Message != "Authentication failed" {
		t.Fatalf("after logout: %d %+v", r.status, e)
	}
	if st := h.s.Stats(); st.Logouts != 1 || st.ActiveSessions != 0 {
		t.Fatalf("stats after logout: %+v", st)
	}
}

func TestLoginErrors(t *testing.T) {
	h := start(t, Config{Users: []User{{Name: "admin", Password: "admin", Role: "admin"}, {Name: "new", Password: "pw", Role: "reader", MustReset: true}}})
	cases := []struct {
		name   string
		body   any
		status int
		code   int
	}{
		{"not json", "{", 400, 6},
		{"no password object", `{"client_ip":""}`, 400, 6},
		{"empty password", authBody("admin", ""), 401, 3},
		{"wrong password", authBody("admin", "nope"), 401, 3},
		{"unknown user", authBody("ghost", "x"), 401, 3},
	}
	for _, c := range cases {
		r := h.do("POST", "/v1/auth", nil, c.body)
		if e := r.restErr(t); r.status != c.status || e.Code != c.code || e.Error != translate.ControllerErrorText(c.code) {
			t.Errorf("%s: %d %+v, want %d code %d", c.name, r.status, e, c.status, c.code)
		}
	}
	r := h.do("POST", "/v1/auth", nil, authBody("new", "pw"))
	var td translate.TokenData
	if err := json.Unmarshal(r.body, &td); err != nil || r.status != 200 || td.Token != nil || !td.NeedToResetPassword {
		t.Fatalf("must-reset: %d %s", r.status, r.body)
	}
	if string(r.body[:13]) != `{"token":null` {
		t.Fatalf("must-reset body: %s", r.body)
	}
	if st := h.s.Stats(); st.Logins != 0 || st.LoginFailures != 3 || st.ActiveSessions != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestSessionLimit(t *testing.T) {
	h := start(t, Config{})
	var toks []string
	for range DefaultMaxSessions {
		toks = append(toks, h.login("admin", "admin"))
	}
	r := h.do("POST", "/v1/auth", nil, authBody("admin", "admin"))
	if e := r.restErr(t); r.status != 401 || e.Code != 3 {
		t.Fatalf("33rd login: %d %+v", r.status, e)
	}
	h.do("DELETE", "/v1/auth", tok(toks[0]), nil)
	h.login("admin", "admin")
	if st := h.s.Stats(); st.ActiveSessions != DefaultMaxSessions {
		t.Fatalf("active sessions %d", st.ActiveSessions)
	}
}

func TestLoginLockout(t *testing.T) {
	h := start(t, Config{LoginFailures: 3, LoginBlock: 300 * time.Millisecond})
	for i := 1; i <= 3; i++ {
		r := h.do("POST", "/v1/auth", nil, authBody("admin", "bad"))
		want := 3
		if i == 3 {
			want = 47
		}
		if e := r.restErr(t); r.status != 401 || e.Code != want {
			t.Fatalf("failure %d: %d %+v", i, r.status, e)
		}
	}
	r := h.do("POST", "/v1/auth", nil, authBody("admin", "admin"))
	if e := r.restErr(t); r.status != 401 || e.Code != 47 || e.Error != "Temporarily blocked because of too many login failures" {
		t.Fatalf("blocked login with the right password: %d %+v", r.status, e)
	}
	eventually(t, "block to end", func() bool {
		return h.do("POST", "/v1/auth", nil, authBody("admin", "admin")).status == 200
	})
	// The counter restarted: one failure does not block.
	if e := h.do("POST", "/v1/auth", nil, authBody("admin", "bad")).restErr(t); e.Code != 3 {
		t.Fatalf("after block: %+v", e)
	}
}

func TestIdleTimeout(t *testing.T) {
	h := start(t, Config{IdleTimeout: 200 * time.Millisecond})
	token := h.login("admin", "admin")
	if r := h.do("GET", "/v1/system/summary", tok(token), nil); r.status != 200 {
		t.Fatalf("summary: %d", r.status)
	}
	// Stats do not touch the session, so polling them lets it go idle.
	eventually(t, "session to go idle", func() bool { return h.s.Stats().ActiveSessions == 0 })
	r := h.do("GET", "/v1/system/summary", tok(token), nil)
	if e := r.restErr(t); r.status != 401 || e.Code != 3 {
		t.Fatalf("idle token: %d %+v", r.status, e)
	}
}

func TestExpireTokens(t *testing.T) {
	h := start(t, Config{})
	a, b := h.login("admin", "admin"), h.login("admin", "admin")
	h.s.ExpireTokens()
	if r := h.do("PATCH", "/v1/auth", tok(a), nil); r.status != 401 {
		t.Fatalf("after ExpireTokens: %d", r.status)
	}
	c := h.login("admin", "admin")
	if r := h.do("POST", "/sim/expire-tokens", nil, nil); r.status != 200 {
		t.Fatalf("hook: %d", r.status)
	}
	for _, x := range []string{b, c} {
		if r := h.do("PATCH", "/v1/auth", tok(x), nil); r.status != 401 || r.restErr(t).Code != 3 {
			t.Fatalf("after hook: %d", r.status)
		}
	}
}

func TestAPIKeyAndRoles(t *testing.T) {
	h := start(t, Config{
		Users: []User{
			{Name: "admin", Password: "admin", Role: "admin"},
			{Name: "rd", Password: "rd", Role: "reader"},
			{Name: "ci", Password: "ci", Role: "ciops"},
			{Name: "cr", Password: "cr", Role: "ciscan-reg"},
		},
		APIKeys: []APIKey{{Name: "harbor", Secret: "s3cret", Role: "ciscan-reg"}},
	})
	key := map[string]string{"X-Auth-Apikey": "harbor:s3cret"}
	if r := h.do("GET", "/v1/system/summary", key, nil); r.status != 200 {
		t.Fatalf("API key summary: %d %s", r.status, r.body)
	}
	for _, bad := range []map[string]string{{"X-Auth-Apikey": "harbor:wrong"}, {"X-Auth-Apikey": "nobody:s3cret"}, {"X-Auth-Token": "garbage"}, nil} {
		r := h.do("GET", "/v1/system/summary", bad, nil)
		if e := r.restErr(t); r.status != 401 || e.Code != 3 {
			t.Errorf("%v: %d %+v", bad, r.status, e)
		}
	}
	if h.s.Stats().ActiveSessions != 0 {
		t.Fatal("an API key made a session")
	}

	// Status of the scan POST (with a bad body: permission comes first) and
	// of the images read, per role.
	scanImg := func(hdr map[string]string) (int, int) {
		return h.do("POST", "/v1/scan/repository", hdr, "{").status,
			h.do("GET", "/v1/scan/registry/_repo_scan/images", hdr, nil).status
	}
	want := map[string][2]int{"admin": {400, 200}, "rd": {403, 200}, "ci": {400, 403}, "cr": {400, 200}}
	for u, w := range want {
		s, i := scanImg(tok(h.login(u, u)))
		if s != w[0] || i != w[1] {
			t.Errorf("%s: scan %d images %d, want %v", u, s, i, w)
		}
	}
	if s, i := scanImg(key); s != 400 || i != 200 {
		t.Errorf("API key: scan %d images %d", s, i)
	}
	r := h.do("POST", "/v1/scan/repository", tok(h.login("rd", "rd")), scanBody(digestN(1)))
	if e := r.restErr(t); e.Code != 25 || e.Error != "Object access denied" {
		t.Fatalf("reader scan: %+v", e)
	}

	// Component counts need config read: ciops sees the DB but no scanners.
	var sum translate.SystemSummaryData
	_ = json.Unmarshal(h.do("GET", "/v1/system/summary", tok(h.login("ci", "ci")), nil).body, &sum)
	if sum.Summary == nil || sum.Summary.CVEDBVersion != DefaultCVEDBVersion || sum.Summary.Scanners != 0 {
		t.Fatalf("ciops summary: %+v", sum.Summary)
	}
	_ = json.Unmarshal(h.do("GET", "/v1/system/summary", tok(h.login("admin", "admin")), nil).body, &sum)
	if sum.Summary.Scanners != 1 || sum.Summary.CVEDBCreateTime != DefaultCVEDBCreateTime || sum.Summary.Controllers != 1 {
		t.Fatalf("admin summary: %+v", sum.Summary)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Users: []User{{Name: "x", Password: "y", Role: "nosuchrole"}}},
		{APIKeys: []APIKey{{Name: "k", Secret: "", Role: "admin"}}},
		{Workers: -1},
		{RegistryAuth: "nocolon"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestTokenHardExpiry(t *testing.T) {
	h := start(t, Config{})
	token := h.login("admin", "admin")
	h.s.auth.mu.Lock()
	h.s.auth.sessions[token].created = time.Now().Add(-TokenLife - time.Second)
	h.s.auth.mu.Unlock()
	// Kept alive all along, the token still dies at its hard expiry.
	if r := h.do("PATCH", "/v1/auth", tok(token), nil); r.status != 401 || r.restErr(t).Code != 3 {
		t.Fatalf("token past its life: %d", r.status)
	}
}
