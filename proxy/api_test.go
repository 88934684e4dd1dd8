package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// syncBuf is a log sink safe for concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// deadClient is a controller client whose controller never answers
// (nothing listens on the port): for handler tests that must not reach it.
func deadClient(t testing.TB) *controller.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := controller.New(controller.Config{URL: "https://" + addr, TLS: controller.TLSConfigInsecure(),
		Timeout: 500 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newUnitAPI builds an API on a dead controller, static API-key mode by
// default, with mod applied.
func newUnitAPI(t testing.TB, mod func(*APIConfig)) *API {
	t.Helper()
	cfg := DefaultAPIConfig()
	cfg.Client = deadClient(t)
	cfg.Auth = AuthNone
	cfg.ControllerCred = controller.Cred{APIKey: "adapter:s3cret-controller-key"}
	cfg.Scanner = translate.Scanner{Name: "NeuVector", Vendor: "SUSE", Version: "5.4.0"}
	cfg.Workers = 2
	cfg.Logger = debugLogger(io.Discard)
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		a.Shutdown(ctx)
	})
	return a
}

// call runs one request through h without a socket. The response goes
// through fasthttp's wire encoding and back, as a client would read it
// (streamed bodies included, their Content-Length checked).
func call(h fasthttp.RequestHandler, method, uri string, hdr map[string]string, body []byte) *fasthttp.Response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.SetBody(body)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	h(&ctx)
	var wire bytes.Buffer
	bw := bufio.NewWriter(&wire)
	if err := ctx.Response.Write(bw); err != nil {
		panic("writing the response: " + err.Error())
	}
	if err := bw.Flush(); err != nil {
		panic(err)
	}
	resp := &fasthttp.Response{}
	if method == "HEAD" {
		resp.SkipBody = true
	}
	if err := resp.Read(bufio.NewReader(&wire)); err != nil {
		panic("reading the response back: " + err.Error())
	}
	if wire.Len() != 0 {
		panic(fmt.Sprintf("%d bytes after the response: Content-Length is wrong", wire.Len()))
	}
	return resp
}

// errorMessage checks that resp is a JSON ErrorResponse and returns its
// message.
func errorMessage(t testing.TB, resp *fasthttp.Response) string {
	t.Helper()
	if ct := string(resp.Header.ContentType()); ct != translate.MimeError10 {
		t.Fatalf("status %d: Content-Type %q, want %q; body %q", resp.StatusCode(), ct, translate.MimeError10, resp.Body())
	}
	var er translate.ErrorResponse
	if err := json.Unmarshal(resp.Body(), &er); err != nil {
		t.Fatalf("status %d: error body is not JSON: %v: %q", resp.StatusCode(), err, resp.Body())
	}
	if er.Error.Message == "" {
		t.Fatalf("status %d: empty error message: %q", resp.StatusCode(), resp.Body())
	}
	return er.Error.Message
}

// body returns the response body, gunzipped when it is gzip-encoded.
func body(t testing.TB, resp *fasthttp.Response) []byte {
	t.Helper()
	if string(resp.Header.ContentEncoding()) != "gzip" {
		return resp.Body()
	}
	zr, err := gzip.NewReader(bytes.NewReader(resp.Body()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// doneJob puts a finished job for digest whose vulnerability report is doc
// into a's tables, as a worker would.
func doneJob(t testing.TB, a *API, digest, cvedb string, doc []byte) string {
	t.Helper()
	id, sid := cache.NewScanID(digest, "library/alpine", a.cfg.Now())
	e := a.store.NewEntry(digest, cvedb, a.cfg.Now())
	e.SetDoc(cache.KindVuln, a.store.NewDoc(doc, nil, nil))
	a.store.Put(e)
	j := cache.NewJob(id, sid)
	j.Finish(e)
	a.jobs.Add(j)
	return id
}

func TestConfigValidation(t *testing.T) {
	base := func() APIConfig {
		c := DefaultAPIConfig()
		c.Client = deadClient(t)
		return c
	}
	cases := []struct {
		name string
		mod  func(*APIConfig)
		want string // "" = valid
	}{
		{"passthrough default", func(c *APIConfig) {}, ""},
		{"no client", func(c *APIConfig) { c.Client = nil }, "controller client"},
		{"basic without password", func(c *APIConfig) {
			c.Auth = AuthBasic
			c.HarborUsername = "harbor"
			c.ControllerCred.APIKey = "k:s"
		}, "HARBOR_BASIC_AUTH_PASSWORD"},
		{"bearer without token", func(c *APIConfig) { c.Auth = AuthBearer; c.ControllerCred.APIKey = "k:s" }, "SCANNER_BEARER_TOKEN"},
		{"apikey without key", func(c *APIConfig) { c.Auth = AuthAPIKey; c.ControllerCred.APIKey = "k:s" }, "SCANNER_API_KEY"},
		{"static without controller creds", func(c *APIConfig) { c.Auth = AuthNone }, "CONTROLLER_API_KEY"},
		{"unknown mode", func(c *APIConfig) { c.Auth = "kerberos" }, "SCANNER_AUTH"},
		{"refresh-after too big", func(c *APIConfig) { c.RefreshAfter = 128 }, "1..127"},
		{"bad registry map", func(c *APIConfig) { c.RegistryMap = map[string]string{"core:8080": "http://x"} }, "registry mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mod(&c)
			a, err := NewAPI(c)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				a.Shutdown(context.Background())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestRouterErrorsAreJSON(t *testing.T) {
	a := newUnitAPI(t, nil)
	h := a.Handler()
	cases := []struct {
		method, uri string
		status      int
	}{
		{"GET", "/nope", 404},
		{"GET", "/api/v1/scan", 405},
		{"DELETE", "/api/v1/metadata", 405},
		{"POST", "/api/v1/metadata", 405},
		{"PUT", "/endpoint/api/v1/scan/x/report", 405},
		{"GET", "/api/v1/metadata/", 404},
		{"GET", "/api/v1/scan//report", 404},
		{"GET", "/api/v1/scan/a/b/report", 404},
	}
	for _, tc := range cases {
		resp := call(h, tc.method, tc.uri, nil, nil)
		if resp.StatusCode() != tc.status {
			t.Errorf("%s %s: status %d, want %d (%q)", tc.method, tc.uri, resp.StatusCode(), tc.status, resp.Body())
			continue
		}
		errorMessage(t, resp)
	}
}

func TestPanicBecomesJSON500(t *testing.T) {
	a := newUnitAPI(t, nil)
	h := a.Handler()
	// A nil job table makes the report handler panic: the guard answers.
	a.jobs = nil
	resp := call(h, "GET", "/api/v1/scan/abc/report", nil, nil)
	if resp.StatusCode() != 500 {
		t.Fatalf("status %d, want 500", resp.StatusCode())
	}
	if msg := errorMessage(t, resp); msg != "internal error" {
		t.Fatalf("message %q", msg)
	}
}

func TestStatusErrorMapping(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{ErrUnauthorized, 401},
		{controller.ErrAuth, 401},
		{ErrAuthUnavailable, 503},
		{ErrBusy, 503},
		{ErrNotFound, 404},
		{cache.ErrBadScanID, 404},
		{cache.ErrNewerScanID, 404},
		{ErrScanLost, 404},
		{ErrMethodNotAllowed, 405},
		{ErrBadQuery, 400},
		{translate.ErrMalformed, 400},
		{translate.ErrBadAccept, 400},
		{translate.ErrInvalid, 422},
		{translate.ErrUnsupported, 501},
		{ErrSBOMDisabled, 501},
		{ErrScanFailed, 500},
		{io.EOF, 500},
		{newError(ErrBusy, "x"), 503},
	}
	for _, tc := range cases {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// queuedJob adds a job not started yet and returns its ID.
func queuedJob(a *API) string {
	id, sid := cache.NewScanID(testDigest, "library/alpine", a.cfg.Now())
	a.jobs.Add(cache.NewJob(id, sid))
	return id
}

func TestWriteMetricsAndObserveController(t *testing.T) {
	a := newUnitAPI(t, nil)
	doneJob(t, a, testDigest, "4.017", []byte(sampleReport))
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	out := buf.String()
	for _, want := range []string{"harbor_scanner_neuvector_cache_bytes ", "harbor_scanner_neuvector_cache_entries 1\n",
		"harbor_scanner_neuvector_cache_evictions_total 0\n", "harbor_scanner_neuvector_lookups_forbidden 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "harbor_scanner_neuvector_cache_bytes 0\n") {
		t.Error("cache bytes 0 with an entry held")
	}
	ObserveController("scan", 429, 20*time.Millisecond)
	ObserveController("auth", 0, time.Millisecond)
	buf.Reset()
	MetricsSet().WritePrometheus(&buf)
	for _, want := range []string{`harbor_scanner_neuvector_controller_errors_total{code="429"}`,
		`harbor_scanner_neuvector_controller_errors_total{code="network"}`,
		`harbor_scanner_neuvector_controller_request_duration_seconds_bucket{endpoint="scan"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
