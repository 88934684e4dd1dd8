package controller

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// fakeController is a minimal NeuVector controller REST API on loopback TLS
// for this package's tests (the real simulator lives in ./sim and is not a
// dependency of these tests). Hooks script the scan and look-up answers.
type fakeController struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]string // name → password
	apiKeys  map[string]bool   // "name:secret"
	tokens   map[string]string // token → user
	reset    map[string]bool   // users who must reset their password
	loginErr map[string]int    // user → error code answered with 401
	scans    []scanCall
	headers  []http.Header

	logins, failedLogins, logouts atomic.Int64
	loginDelay                    time.Duration

	// scan answers POST /v1/scan/repository; n counts calls from 1.
	scan func(w http.ResponseWriter, r *http.Request, n int)
	// images and image answer the look-ups when set.
	images func(w http.ResponseWriter, r *http.Request)
	image  func(w http.ResponseWriter, r *http.Request)
	// summaryPad makes the summary body big enough to be gzipped.
	summaryPad int
	// summaryGate, when set, holds every summary answer until closed.
	summaryGate chan struct{}
	summaries   atomic.Int64
}

type scanCall struct {
	body          string
	token, apiKey string
}

const (
	testUser     = "admin"
	testPassword = "S3cret-Pa55word!"
	testAPIKey   = "harbor:0123456789abcdefSECRETKEY"
)

func newFakeController(t *testing.T) *fakeController {
	t.Helper()
	f := &fakeController{
		t:        t,
		users:    map[string]string{testUser: testPassword},
		apiKeys:  map[string]bool{testAPIKey: true},
		tokens:   map[string]string{},
		reset:    map[string]bool{},
		loginErr: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth", f.login)
	mux.HandleFunc("DELETE /v1/auth", f.logout)
	mux.HandleFunc("PATCH /v1/auth", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		w.WriteHeader(200)
	})
	mux.HandleFunc("POST /v1/scan/repository", f.scanRepository)
	mux.HandleFunc("GET /v1/system/summary", f.summary)
	mux.HandleFunc("GET /v1/scan/registry/{name}/images", func(w http.ResponseWriter, r *http.Request) {
		if f.authorized(w, r) && f.images != nil {
			f.images(w, r)
		}
	})
	mux.HandleFunc("GET /v1/scan/registry/{name}/image/{id}", func(w http.ResponseWriter, r *http.Request) {
		if f.authorized(w, r) && f.image != nil {
			f.image(w, r)
		}
	})
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	// Refused handshakes are what the TLS tests provoke.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a Client for f that skips verification of the test
// certificate, with short back-offs.
func (f *fakeController) client(t *testing.T, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: f.srv.URL, TLS: TLSConfigInsecure(), BackoffMin: 5 * time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Timeout: 5 * time.Second, Compression: "on"}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	// As the controller: gzip only bodies over 1200 bytes.
	if len(b) > 1200 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		b = buf.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(status)
	w.Write(b)
}

func restErr(w http.ResponseWriter, r *http.Request, status, code int, msg string) {
	if msg == "" {
		msg = translate.ControllerErrorText(code)
	}
	writeJSON(w, r, status, translate.RESTError{Code: code, Error: translate.ControllerErrorText(code), Message: msg})
}

func (f *fakeController) login(w http.ResponseWriter, r *http.Request) {
	var d translate.AuthData
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil || d.Password == nil {
		restErr(w, r, 400, translate.CodeWrongFormat, "")
		return
	}
	if f.loginDelay > 0 {
		time.Sleep(f.loginDelay) // a slow controller, so that concurrent Acquires overlap
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if code := f.loginErr[d.Password.Username]; code != 0 {
		f.failedLogins.Add(1)
		restErr(w, r, 401, code, "")
		return
	}
	pw, ok := f.users[d.Password.Username]
	if !ok || pw != d.Password.Password || pw == "" {
		f.failedLogins.Add(1)
		restErr(w, r, 401, translate.CodeAuthFailed, "")
		return
	}
	if f.reset[d.Password.Username] {
		writeJSON(w, r, 200, map[string]any{"token": nil, "need_to_reset_password": true})
		return
	}
	var rnd [16]byte
	rand.Read(rnd[:])
	tok := "tok-" + hex.EncodeToString(rnd[:])
	f.tokens[tok] = d.Password.Username
	f.logins.Add(1)
	writeJSON(w, r, 200, translate.TokenData{Token: &translate.Token{Token: tok, Username: d.Password.Username,
		Role: "admin", Timeout: 300}, PasswordDaysUntilExpire: -1})
}

func (f *fakeController) logout(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get(headerToken)
	f.mu.Lock()
	_, ok := f.tokens[tok]
	delete(f.tokens, tok)
	f.mu.Unlock()
	if !ok {
		restErr(w, r, 401, translate.CodeAuthFailed, "")
		return
	}
	f.logouts.Add(1)
	w.WriteHeader(200)
}

func (f *fakeController) authorized(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	_, ok := f.tokens[r.Header.Get(headerToken)]
	if k := r.Header.Get(headerAPIKey); k != "" {
		ok = f.apiKeys[k]
	}
	f.mu.Unlock()
	if !ok {
		restErr(w, r, 401, translate.CodeAuthFailed, "")
	}
	return ok
}

// expireTokens forgets every token, as the controller's idle timeout does.
func (f *fakeController) expireTokens() {
	f.mu.Lock()
	clear(f.tokens)
	f.mu.Unlock()
}

func (f *fakeController) liveTokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

func (f *fakeController) scanRepository(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.scans = append(f.scans, scanCall{body: string(body), token: r.Header.Get(headerToken), apiKey: r.Header.Get(headerAPIKey)})
	n := len(f.scans)
	f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	if f.scan == nil {
		restErr(w, r, 500, translate.CodeServerError, "")
		return
	}
	f.scan(w, r, n)
}

func (f *fakeController) scanCalls() []scanCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]scanCall(nil), f.scans...)
}

func (f *fakeController) summary(w http.ResponseWriter, r *http.Request) {
	f.summaries.Add(1)
	if f.summaryGate != nil {
		<-f.summaryGate
	}
	if !f.authorized(w, r) {
		return
	}
	writeJSON(w, r, 200, map[string]any{"summary": translate.SystemSummary{CVEDBVersion: "4.017",
		CVEDBCreateTime: "2026-07-01T00:00:00Z", Scanners: 2}, "pad": strings.Repeat("x", f.summaryPad)})
}

func testReport(digest string) *translate.ScanRepoReport {
	return &translate.ScanRepoReport{Digest: digest, Repository: "proj/app", CVEDBVersion: "4.017",
		Vulnerabilities: []translate.Vulnerability{{Name: "CVE-2026-0001", Severity: "High", PackageName: "openssl"}}}
}

func reportOK(digest string) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, r, 200, translate.ScanRepoReportData{Report: testReport(digest)})
	}
}

func testScanReq() *translate.ScanRepoRequest {
	return &translate.ScanRepoRequest{Registry: "https://harbor.example.com", Username: "robot$proj+nv",
		Password: "robot-Secret-42", Repository: "proj/app", Tag: "sha256:abc"}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// debugLogger logs everything into buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
