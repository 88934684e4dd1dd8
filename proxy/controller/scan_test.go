package controller

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func tokenSession(t *testing.T, f *fakeController, c *Client) *Session {
	t.Helper()
	s := NewStaticSession(c, Cred{Username: testUser, Password: testPassword})
	t.Cleanup(func() { s.Logout(context.Background()) })
	return s
}

func TestScanLongPoll304Then200(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		reportOK("sha256:abc")(w, r, n)
	}
	c := f.client(t)
	sess := tokenSession(t, f, c)
	start := time.Now()
	rep, err := c.ScanRepository(ctxT(t, 10*time.Second), sess, testScanReq())
	if err != nil {
		t.Fatal(err)
	}
	// This fake answers 304 at once: the polls are spaced, not a busy loop.
	if d := time.Since(start); d < 2*minPollInterval {
		t.Fatalf("two immediate 304s took only %s", d)
	}
	if rep.Digest != "sha256:abc" || len(rep.Vulnerabilities) != 1 || rep.CVEDBVersion != "4.017" {
		t.Fatalf("report %+v", rep)
	}
	calls := f.scanCalls()
	if len(calls) != 3 {
		t.Fatalf("%d scan calls, want 3", len(calls))
	}
	for _, cl := range calls[1:] {
		if cl.body != calls[0].body || cl.token != calls[0].token || cl.token == "" {
			t.Fatalf("poll differs from the first: %q/%q vs %q/%q", cl.body, cl.token, calls[0].body, calls[0].token)
		}
	}
	if !strings.HasPrefix(calls[0].body, `{"request":{`) || !strings.Contains(calls[0].body, `"tag":"sha256:abc"`) ||
		!strings.Contains(calls[0].body, `"scan_layers":false`) {
		t.Fatalf("body %s", calls[0].body)
	}
	if f.logins.Load() != 1 {
		t.Fatalf("logins %d", f.logins.Load())
	}
}

func TestScanLargeGzippedReport(t *testing.T) {
	f := newFakeController(t)
	big := testReport("sha256:big")
	for i := range 2000 {
		big.Vulnerabilities = append(big.Vulnerabilities, translate.Vulnerability{Name: sprintf("CVE-2026-%05d", i),
			Description: strings.Repeat("d", 200)})
	}
	var gz atomic.Bool
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		gz.Store(strings.Contains(r.Header.Get("Accept-Encoding"), "gzip"))
		writeJSON(w, r, 200, translate.ScanRepoReportData{Report: big})
	}
	c := f.client(t)
	rep, err := c.ScanRepository(ctxT(t, 10*time.Second), NewStaticSession(c, Cred{APIKey: testAPIKey}), testScanReq())
	if err != nil {
		t.Fatal(err)
	}
	if !gz.Load() || len(rep.Vulnerabilities) != 2001 {
		t.Fatalf("gzip asked %v, %d vulnerabilities", gz.Load(), len(rep.Vulnerabilities))
	}
}

// Over loopback (the sidecar) the client asks for no compression by
// default: it would cost the controller's CPU and ours for nothing.
func TestNoGzipOverLoopbackByDefault(t *testing.T) {
	f := newFakeController(t)
	var asked atomic.Bool
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		asked.Store(r.Header.Get("Accept-Encoding") != "")
		writeJSON(w, r, 200, translate.ScanRepoReportData{Report: testReport("sha256:plain")})
	}
	c := f.client(t, func(c *Config) { c.Compression = "" })
	if _, err := c.ScanRepository(ctxT(t, 10*time.Second), NewStaticSession(c, Cred{APIKey: testAPIKey}), testScanReq()); err != nil {
		t.Fatal(err)
	}
	if asked.Load() {
		t.Fatal("asked the loopback controller for gzip")
	}
	if !isLoopback("127.0.0.1") || !isLoopback("::1") || !isLoopback("localhost") || isLoopback("10.0.0.1") || isLoopback("controller.neuvector") {
		t.Fatal("isLoopback")
	}
}

func TestScan429BacksOffThenSucceeds(t *testing.T) {
	f := newFakeController(t)
	var times []time.Time
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		times = append(times, time.Now())
		if n <= 3 {
			restErr(w, r, http.StatusTooManyRequests, translate.CodeFailScanRepository, "Maximum concurrent scan limit (6) reached.")
			return
		}
		reportOK("sha256:abc")(w, r, n)
	}
	c := f.client(t, func(cfg *Config) { cfg.BackoffMin, cfg.BackoffMax = 20*time.Millisecond, 40*time.Millisecond })
	if _, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq()); err != nil {
		t.Fatal(err)
	}
	if len(times) != 4 {
		t.Fatalf("%d calls", len(times))
	}
	// Jittered between half and the full step: >= 10, 20, 20 ms.
	for i, min := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond} {
		if d := times[i+1].Sub(times[i]); d < min {
			t.Fatalf("back-off %d was %s, want >= %s", i, d, min)
		}
	}
}

func TestScan429UntilDeadline(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		restErr(w, r, http.StatusTooManyRequests, translate.CodeFailScanRepository, "")
	}
	c := f.client(t)
	_, err := c.ScanRepository(ctxT(t, 150*time.Millisecond), tokenSession(t, f, c), testScanReq())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err %v", err)
	}
}

func TestScanCode26KeepsMessage(t *testing.T) {
	for _, tc := range []struct {
		status       int
		msg          string
		registryAuth bool
	}{
		{500, "Image not found", false},
		{500, "authentication error", true},
		{500, "container API call error", false},
		{400, "Maximum job retry attempts (5) reached.", false},
	} {
		f := newFakeController(t)
		f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
			restErr(w, r, tc.status, translate.CodeFailScanRepository, tc.msg)
		}
		c := f.client(t)
		_, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq())
		var se *ScanError
		if !errors.As(err, &se) || se.Code != 26 || se.Message != tc.msg || err.Error() != tc.msg {
			t.Fatalf("%d %q: err %#v", tc.status, tc.msg, err)
		}
		if se.IsRegistryAuth() != tc.registryAuth {
			t.Fatalf("%q: IsRegistryAuth %v", tc.msg, se.IsRegistryAuth())
		}
		if ErrorCode(err) != 26 {
			t.Fatalf("ErrorCode %d", ErrorCode(err))
		}
	}
}

func TestScanOtherCodesFixedText(t *testing.T) {
	req := testScanReq()
	for _, tc := range []struct {
		status, code int
		msg, want    string
	}{
		// Code 54's message prints the job key, password included.
		{500, translate.CodeJobNotFound, "job {" + req.Username + " " + req.Password + "} not found", "Job not found in the Job Queue"},
		{500, translate.CodeClusterRPCError, "", "Cluster RPC error"},
		{400, translate.CodeWrongFormat, "Invalid Registry URL " + req.Password, "Request in wrong format"},
		// Even a code-26 message that echoes the password is replaced.
		{500, translate.CodeFailScanRepository, "failed with password " + req.Password, "Fail to scan repository"},
	} {
		f := newFakeController(t)
		f.scan = func(w http.ResponseWriter, r *http.Request, n int) { restErr(w, r, tc.status, tc.code, tc.msg) }
		c := f.client(t)
		_, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), req)
		var se *ScanError
		if !errors.As(err, &se) || se.Code != tc.code || se.Message != tc.want {
			t.Fatalf("code %d: err %v, want %q", tc.code, err, tc.want)
		}
		if strings.Contains(err.Error(), req.Password) {
			t.Fatal("the password reached the error")
		}
	}
}

func TestScan401ReloginRestarts(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusNotModified)
			f.expireTokens() // the token dies mid-scan
		default:
			reportOK("sha256:abc")(w, r, n)
		}
	}
	c := f.client(t)
	if _, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq()); err != nil {
		t.Fatal(err)
	}
	calls := f.scanCalls()
	// 304 with token A, 401 with A, 200 with B: same body, new token.
	if len(calls) != 3 || calls[1].token != calls[0].token || calls[2].token == calls[0].token ||
		calls[2].body != calls[0].body || f.logins.Load() != 2 {
		t.Fatalf("calls %+v logins %d", calls, f.logins.Load())
	}
}

func TestScan401ForeverIsErrAuth(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		restErr(w, r, 401, translate.CodeAuthFailed, "")
	}
	c := f.client(t)
	_, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq())
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err %v", err)
	}
	if n := f.logins.Load(); n != 1+maxScanRelogins {
		t.Fatalf("logins %d", n)
	}
	// An API key gets no re-login at all.
	_, err = c.ScanRepository(ctxT(t, 10*time.Second), NewStaticSession(c, Cred{APIKey: "harbor:revoked"}), testScanReq())
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("revoked key: %v", err)
	}
}

func TestScan403Forbidden(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		restErr(w, r, 403, translate.CodeObjectAccessDenied, "")
	}
	c := f.client(t)
	_, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq())
	if !errors.Is(err, ErrForbidden) || ErrorCode(err) != 25 {
		t.Fatalf("err %v", err)
	}
}

func TestScanRetriesNetworkErrorsAndBodiless5xx(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			panic(http.ErrAbortHandler) // the connection drops: a controller restart
		case 2:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		default:
			reportOK("sha256:abc")(w, r, n)
		}
	}
	c := f.client(t)
	if _, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.scanCalls()); n != 3 {
		t.Fatalf("%d calls", n)
	}
}

func TestScanBadBodies(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
	}{
		"truncated 200":  {200, `{"report":{"digest":"sha`},
		"html 200":       {200, `<html></html>`},
		"200 no report":  {200, `{"report":null}`},
		"404 not json":   {404, `404 page not found`},
		"400 empty body": {400, ``},
	} {
		f := newFakeController(t)
		f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}
		c := f.client(t)
		_, err := c.ScanRepository(ctxT(t, 10*time.Second), tokenSession(t, f, c), testScanReq())
		var st *StatusError
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &st) || st.Status != tc.status {
			t.Fatalf("%s: err %v", name, err)
		}
	}
}

func TestScanAbandonedReturnsPromptly(t *testing.T) {
	f := newFakeController(t)
	release := make(chan struct{})
	gone := make(chan struct{})
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		select { // a long-poll that would last 30 s
		case <-release:
		case <-r.Context().Done():
			close(gone) // the client went away
		}
		w.WriteHeader(http.StatusNotModified)
	}
	defer close(release)
	c := f.client(t)
	sess := tokenSession(t, f, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.ScanRepository(ctx, sess, testScanReq())
		done <- err
	}()
	eventually(t, 5*time.Second, func() bool { return len(f.scanCalls()) == 1 }, "the poll to arrive")
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("returned after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("abandoned long-poll did not return")
	}
	// The abandoned request's connection is cut at once, not left to its
	// 90 s deadline.
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the abandoned poll's connection stayed open")
	}
}

func TestScanDeadlineDuringLongPoll(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) {
		<-r.Context().Done()
	}
	c := f.client(t)
	start := time.Now()
	_, err := c.ScanRepository(ctxT(t, 200*time.Millisecond), tokenSession(t, f, c), testScanReq())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestEncodeScanRequestStable(t *testing.T) {
	ignore := true
	req := testScanReq()
	req.IgnoreProxy = &ignore
	a, err := encodeScanRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := encodeScanRequest(req)
	if string(a) != string(b) {
		t.Fatal("encoding not stable")
	}
	for _, want := range []string{`"registry":"https://harbor.example.com"`, `"username":"robot$proj+nv"`,
		`"repository":"proj/app"`, `"ignore_proxy":true`, `"scan_layers":false`} {
		if !strings.Contains(string(a), want) {
			t.Fatalf("%s lacks %s", a, want)
		}
	}
}

func TestNewRejectsShortPollTimeout(t *testing.T) {
	if _, err := New(Config{URL: "https://127.0.0.1:10443", PollTimeout: 20 * time.Second}); err == nil {
		t.Fatal("a poll timeout under the controller's long-poll was accepted")
	}
	if _, err := New(Config{URL: "https://127.0.0.1:10443", PollTimeout: 20 * time.Second, ControllerLongPoll: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"", "127.0.0.1:10443", "ftp://x", "https://"} {
		if _, err := New(Config{URL: u}); err == nil {
			t.Fatalf("URL %q accepted", u)
		}
	}
}

func TestAbandonedPollNotObserved(t *testing.T) {
	f := newFakeController(t)
	f.scan = func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() }
	var observed atomic.Int64
	c := f.client(t, func(cfg *Config) {
		cfg.Observe = func(ep string, status int, d time.Duration) {
			if ep == EndpointScan {
				observed.Add(1)
			}
		}
	})
	_, err := c.ScanRepository(ctxT(t, 100*time.Millisecond), NewStaticSession(c, Cred{APIKey: testAPIKey}), testScanReq())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	if n := observed.Load(); n != 0 {
		t.Fatalf("an abandoned poll was observed %d times as a controller error", n)
	}
}
