package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// fakeBackend is a Backend whose handler, Status and Shutdown a test sets.
type fakeBackend struct {
	handler fasthttp.RequestHandler

	mu     sync.Mutex
	status Status

	shutdownCalled atomic.Bool
	// shutdownHang makes Shutdown ignore its ctx and block until closed.
	shutdownHang chan struct{}
}

func (b *fakeBackend) Handler() fasthttp.RequestHandler {
	if b.handler != nil {
		return b.handler
	}
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"ok":true}`)
	}
}

func (b *fakeBackend) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

func (b *fakeBackend) setStatus(st Status) {
	b.mu.Lock()
	b.status = st
	b.mu.Unlock()
}

func (b *fakeBackend) Shutdown(ctx context.Context) {
	b.shutdownCalled.Store(true)
	if b.shutdownHang != nil {
		<-b.shutdownHang
	}
}

// testConfig listens on loopback ports the kernel picks.
func testConfig() ServerConfig {
	return ServerConfig{Addr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second}
}

// runServer starts s and waits until it listens. The returned stop
// cancels Run and waits for it (also done at cleanup); its result is the
// error of Run.
func runServer(t testing.TB, s *Server) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("server not ready after 5s")
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(s.cfg.ShutdownTimeout + 5*time.Second):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newTestServer(t testing.TB, cfg ServerConfig, b Backend) *Server {
	t.Helper()
	s, err := NewServer(cfg, b)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	return s
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestLogger(t testing.TB, w io.Writer, level string) *slog.Logger {
	t.Helper()
	l, err := NewLogger(w, level)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// assertJSONError checks an ErrorResponse body and its MIME type.
func assertJSONError(t testing.TB, contentType string, body []byte, wantMsg string) {
	t.Helper()
	if contentType != translate.MimeError10 {
		t.Errorf("Content-Type %q, want %q", contentType, translate.MimeError10)
	}
	var er translate.ErrorResponse
	if err := json.Unmarshal(body, &er); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if er.Error.Message == "" || (wantMsg != "" && er.Error.Message != wantMsg) {
		t.Errorf("error message %q, want %q", er.Error.Message, wantMsg)
	}
}

func TestNewServerConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  ServerConfig
		want string
	}{
		{"no addr", ServerConfig{}, "Addr"},
		{"tls without files", ServerConfig{Addr: ":0", TLSEnabled: true}, "CertFile"},
		{"client CA without TLS", ServerConfig{Addr: ":0", ClientCAFile: "/x"}, "ClientCAFile"},
		{"negative body", ServerConfig{Addr: ":0", MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"negative timeout", ServerConfig{Addr: ":0", ReadTimeout: -time.Second}, "ReadTimeout"},
		{"drain too long", ServerConfig{Addr: ":0", ShutdownTimeout: 2 * time.Second, DrainDelay: 2 * time.Second}, "DrainDelay"},
		{"backend too long", ServerConfig{Addr: ":0", ShutdownTimeout: 2 * time.Second, BackendShutdownTimeout: 3 * time.Second}, "BackendShutdownTimeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewServer(c.cfg, &fakeBackend{})
			if !errors.Is(err, ErrServerConfig) {
				t.Fatalf("err %v, want ErrServerConfig", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %q does not name %s", err, c.want)
			}
		})
	}
	if _, err := NewServer(ServerConfig{Addr: ":0"}, nil); !errors.Is(err, ErrServerConfig) {
		t.Errorf("nil backend: %v", err)
	}
}

func TestNewServerDefaults(t *testing.T) {
	s := newTestServer(t, ServerConfig{Addr: ":0"}, &fakeBackend{})
	c := s.cfg
	if c.OpsAddr != ":8091" || c.MaxBodyBytes != 1<<20 || c.MaxConns != 1024 || c.ShutdownTimeout != 25*time.Second ||
		c.WriteTimeout < 60*time.Second || c.BackendShutdownTimeout != 5*time.Second || c.Version.Version != "unknown" {
		t.Errorf("defaults: %+v", c)
	}
	if s.api.MaxRequestBodySize != 1<<20 || s.api.ReadTimeout == 0 || s.api.IdleTimeout == 0 {
		t.Errorf("fasthttp server limits not set: body %d read %s idle %s", s.api.MaxRequestBodySize, s.api.ReadTimeout, s.api.IdleTimeout)
	}
	// A short ShutdownTimeout shrinks the backend's share.
	s = newTestServer(t, ServerConfig{Addr: ":0", ShutdownTimeout: 2 * time.Second}, &fakeBackend{})
	if s.cfg.BackendShutdownTimeout != 400*time.Millisecond {
		t.Errorf("backend shutdown %s, want 400ms", s.cfg.BackendShutdownTimeout)
	}
	s = newTestServer(t, ServerConfig{Addr: ":0", MaxConns: -1}, &fakeBackend{})
	if s.cfg.MaxConns != 0 {
		t.Errorf("MaxConns -1 should mean no cap, got %d", s.cfg.MaxConns)
	}
}

func TestRouteOf(t *testing.T) {
	cases := map[string]int{
		"/api/v1/metadata":                        routeMetadata,
		"/endpoint/api/v1/metadata":               routeMetadata,
		"/api/v1/scan":                            routeScan,
		"/endpoint/api/v1/scan":                   routeScan,
		"/api/v1/scan/abc/report":                 routeReport,
		"/endpoint/api/v1/scan/eyJ2IjoxfQ/report": routeReport,
		"/api/v1/report":                          routeOther,
		"/":                                       routeOther,
		"/api/v1/scan/abc":                        routeOther,
		"/healthz":                                routeOther,
	}
	for path, want := range cases {
		if got := routeOf([]byte(path)); got != want {
			t.Errorf("routeOf(%q) = %s, want %s", path, routeNames[got], routeNames[want])
		}
	}
}

// serveCtx runs h on a fresh RequestCtx built from a raw request.
func serveCtx(t testing.TB, h fasthttp.RequestHandler, raw string) *fasthttp.RequestCtx {
	t.Helper()
	var ctx fasthttp.RequestCtx
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatalf("bad test request: %v", err)
	}
	h(&ctx)
	return &ctx
}

// metricValue reads one sample of the package's metrics set.
func metricValue(t testing.TB, name string) float64 {
	t.Helper()
	var b bytes.Buffer
	metricsSet.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metric %s: %q", name, v)
			}
			return f
		}
	}
	return 0
}

func TestPanicRecovery(t *testing.T) {
	const secret = "s3cr3t-robot-password"
	logs := &logBuffer{}
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Partial", "1")
		ctx.SetBodyString("partial")
		if bytes.Contains(ctx.Path(), []byte("nil")) {
			var m map[string]int
			m["x"]++ // runtime error: assignment to entry in nil map
		}
		panic(errors.New("decode failed for " + secret))
	}}
	cfg := testConfig()
	cfg.Logger = newTestLogger(t, logs, "debug")
	s := newTestServer(t, cfg, b)

	before := metricValue(t, `harbor_scanner_neuvector_http_requests_total{route="scan",code="500"}`)
	panicsBefore := httpPanics.Get()
	ctx := serveCtx(t, s.api.Handler, "POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	if ctx.Response.StatusCode() != 500 {
		t.Fatalf("status %d", ctx.Response.StatusCode())
	}
	assertJSONError(t, string(ctx.Response.Header.ContentType()), ctx.Response.Body(), "internal error")
	if string(ctx.Response.Body()) != `{"error":{"message":"internal error"}}` {
		t.Errorf("body %q", ctx.Response.Body())
	}
	if len(ctx.Response.Header.Peek("X-Partial")) != 0 {
		t.Error("headers of the panicking handler leaked into the 500")
	}
	if !ctx.Response.ConnectionClose() {
		t.Error("connection should close after a panic")
	}
	if got := metricValue(t, `harbor_scanner_neuvector_http_requests_total{route="scan",code="500"}`); got != before+1 {
		t.Errorf("requests_total{scan,500} went %v -> %v", before, got)
	}
	if httpPanics.Get() != panicsBefore+1 {
		t.Error("panics_total not incremented")
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("panic value with a secret was logged: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "*errors.errorString") {
		t.Errorf("panic not logged usefully: %s", logs.String())
	}
	// Runtime errors are printed: they hold no request data.
	ctx = serveCtx(t, s.api.Handler, "GET /nil HTTP/1.1\r\nHost: x\r\n\r\n")
	if ctx.Response.StatusCode() != 500 || !strings.Contains(logs.String(), "assignment to entry in nil map") {
		t.Errorf("runtime error panic: status %d logs %s", ctx.Response.StatusCode(), logs.String())
	}
}

func TestRequestMetricsAndLog(t *testing.T) {
	const id = "eyJ2IjoxLCJkIjoic2hhMjU2OmFiYyJ9SECRETID"
	const auth = "Basic YWRtaW46c2VjcmV0LXBhc3N3b3Jk"
	logs := &logBuffer{}
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		if routeOf(ctx.Path()) == routeReport {
			ctx.SetStatusCode(302)
		}
	}}
	cfg := testConfig()
	cfg.Logger = newTestLogger(t, logs, "debug")
	s := newTestServer(t, cfg, b)

	name := `harbor_scanner_neuvector_http_requests_total{route="report",code="302"}`
	before := metricValue(t, name)
	countBefore := metricValue(t, `harbor_scanner_neuvector_http_request_duration_seconds_count{route="report"}`)
	serveCtx(t, s.api.Handler, "GET /api/v1/scan/"+id+"/report HTTP/1.1\r\nHost: x\r\nAuthorization: "+auth+"\r\n\r\n")
	if got := metricValue(t, name); got != before+1 {
		t.Errorf("%s went %v -> %v", name, before, got)
	}
	if got := metricValue(t, `harbor_scanner_neuvector_http_request_duration_seconds_count{route="report"}`); got != countBefore+1 {
		t.Errorf("duration count went %v -> %v", countBefore, got)
	}
	var all bytes.Buffer
	metricsSet.WritePrometheus(&all)
	if strings.Contains(all.String(), "SECRETID") {
		t.Error("the scan ID became a metric label")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"route":"report"`, `"status":302`, `"duration":`} {
		if !strings.Contains(out, want) {
			t.Errorf("request log lacks %s: %s", want, out)
		}
	}
	for _, never := range []string{"YWRtaW46", "SECRETID", "Authorization"} {
		if strings.Contains(out, never) {
			t.Errorf("request log contains %q: %s", never, out)
		}
	}

	// At info level there is no request log.
	logs2 := &logBuffer{}
	cfg.Logger = newTestLogger(t, logs2, "info")
	s = newTestServer(t, cfg, b)
	serveCtx(t, s.api.Handler, "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n")
	if logs2.String() != "" {
		t.Errorf("info level logged a request: %s", logs2.String())
	}
}

// fasthttputilListener serves srv on an in-memory listener until cleanup.
func fasthttputilListener(t testing.TB, srv *fasthttp.Server) *fasthttputil.InmemoryListener {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln
}

// rawExchange writes raw to a fresh connection of ln and reads one
// response.
func rawExchange(t testing.TB, dial func() (net.Conn, error), raw string) *fasthttp.Response {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp := &fasthttp.Response{}
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		t.Fatalf("reading response to %q: %v", raw[:min(len(raw), 40)], err)
	}
	return resp
}

func TestRequestErrorsAreJSON(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	cfg.MaxHeaderBytes = 4096
	cfg.ReadTimeout = 300 * time.Millisecond
	s := newTestServer(t, cfg, &fakeBackend{})
	ln := fasthttputilListener(t, s.api)

	cases := []struct {
		name   string
		raw    string
		status int
		msg    string
	}{
		{"body over limit", "POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("a", 5000),
			413, "request body too large"},
		{"chunked body over limit", "POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n" + strings.Repeat("a", 4096) + "\r\n0\r\n\r\n",
			413, "request body too large"},
		{"header too large", "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 8000) + "\r\n\r\n",
			431, "request header too large"},
		{"malformed request line", "GARBAGE\r\n\r\n", 400, "malformed request"},
		{"bad content length", "POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "malformed request"},
		{"slow client", "POST /api/v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part", 408, "request timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := metricValue(t, `harbor_scanner_neuvector_http_requests_total{route="scan",code="413"}`)
			resp := rawExchange(t, ln.Dial, c.raw)
			if resp.StatusCode() != c.status {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode(), c.status, resp.Body())
			}
			assertJSONError(t, string(resp.Header.ContentType()), resp.Body(), c.msg)
			if c.name == "body over limit" {
				after := metricValue(t, `harbor_scanner_neuvector_http_requests_total{route="scan",code="413"}`)
				if after != before+1 {
					var all bytes.Buffer
					metricsSet.WritePrometheus(&all)
					t.Errorf("413 not counted under route scan: %v -> %v\n%s", before, after, all.String())
				}
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	release := make(chan struct{})
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		if bytes.Equal(ctx.Path(), []byte("/block")) {
			<-release
		}
	}}
	cfg := testConfig()
	cfg.MaxConns = 2
	s := newTestServer(t, cfg, b)
	runServer(t, s)
	defer close(release)

	dial := func() (net.Conn, error) { return net.Dial("tcp", s.Addr()) }
	// Two connections, kept open, fill the cap.
	var held []net.Conn
	for range 2 {
		c, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		var r fasthttp.Response
		if err := r.Read(bufio.NewReader(c)); err != nil || r.StatusCode() != 200 {
			t.Fatalf("held conn: %v %d", err, r.StatusCode())
		}
	}
	before := connsRejectedMax.Get()
	resp := rawExchange(t, dial, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode() != 503 {
		t.Fatalf("third connection: status %d", resp.StatusCode())
	}
	assertJSONError(t, string(resp.Header.ContentType()), resp.Body(), "too many connections")
	if connsRejectedMax.Get() != before+1 {
		t.Error("rejection not counted")
	}

	// The ops listener has no cap.
	for range 5 {
		c, err := net.Dial("tcp", s.OpsAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		var r fasthttp.Response
		if err := r.Read(bufio.NewReader(c)); err != nil || r.StatusCode() != 200 {
			t.Fatalf("ops conn: %v %d", err, r.StatusCode())
		}
	}

	// Closing a held connection frees a slot.
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := rawExchange(t, dial, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode() == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not freed: %d", resp.StatusCode())
		}
		time.Sleep(10 * time.Millisecond)
	}
	held[1].Close()
}

func TestMaxConnsPerIP(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConnsPerIP = 1
	s := newTestServer(t, cfg, &fakeBackend{})
	runServer(t, s)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	var r fasthttp.Response
	if err := r.Read(bufio.NewReader(c)); err != nil || r.StatusCode() != 200 {
		t.Fatalf("first conn: %v %d", err, r.StatusCode())
	}
	resp := rawExchange(t, func() (net.Conn, error) { return net.Dial("tcp", s.Addr()) }, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode() != 429 {
		t.Fatalf("second conn from the same address: %d", resp.StatusCode())
	}
	assertJSONError(t, string(resp.Header.ContentType()), resp.Body(), "too many connections from this address")
}

func TestRunListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiAddr := free.Addr().String()
	free.Close()
	cfg := testConfig()
	cfg.Addr, cfg.OpsAddr = apiAddr, busy.Addr().String()
	s := newTestServer(t, cfg, &fakeBackend{})
	err = s.Run(context.Background())
	if !errors.Is(err, ErrListen) || !strings.Contains(err.Error(), "ops") {
		t.Fatalf("Run: %v", err)
	}
	// The API port bound before the failure was released.
	if again, err := net.Listen("tcp", apiAddr); err != nil {
		t.Errorf("API port still held after a failed Run: %v", err)
	} else {
		again.Close()
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrServerRunning) {
		t.Errorf("second Run: %v", err)
	}
}

// get does one HTTP GET with a fresh connection.
func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		if bytes.Equal(ctx.Path(), []byte("/slow")) {
			close(entered)
			<-release
			ctx.SetBodyString("finished")
		}
	}}
	b.setStatus(Status{ControllerOK: true, ControllerCheckedAt: time.Now()})
	cfg := testConfig()
	cfg.ShutdownTimeout = 10 * time.Second
	s := newTestServer(t, cfg, b)
	var readyzAtClose atomic.Int64
	s.testHookBeforeClose = func() {
		code, _, err := get("http://" + s.OpsAddr() + "/readyz")
		if err != nil {
			t.Errorf("readyz before close: %v", err)
		}
		readyzAtClose.Store(int64(code))
		// The API listener still accepts at this point.
		if c, err := net.Dial("tcp", s.Addr()); err != nil {
			t.Errorf("API listener closed before readiness turned 503: %v", err)
		} else {
			c.Close()
		}
	}
	stop := runServer(t, s)
	if code, _, _ := get("http://" + s.OpsAddr() + "/readyz"); code != 200 {
		t.Fatalf("readyz before shutdown: %d", code)
	}

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		code, body, err := get("http://" + s.Addr() + "/slow")
		inflight <- result{code, body, err}
	}()
	<-entered

	start := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- stop() }()

	// New connections are refused while the in-flight request still runs.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("API listener still accepting after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if readyzAtClose.Load() != 503 {
		t.Errorf("readyz just before the listener closed: %d, want 503", readyzAtClose.Load())
	}
	select {
	case r := <-inflight:
		t.Fatalf("in-flight request ended before release: %+v", r)
	default:
	}
	if b.shutdownCalled.Load() {
		t.Error("backend shut down before in-flight requests finished")
	}

	close(release)
	r := <-inflight
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !b.shutdownCalled.Load() {
		t.Error("backend.Shutdown not called")
	}
	if took := time.Since(start); took > cfg.ShutdownTimeout {
		t.Errorf("shutdown took %s", took)
	}
	if !s.ShuttingDown() {
		t.Error("ShuttingDown false after shutdown")
	}
}

func TestShutdownBoundedWhenEverythingHangs(t *testing.T) {
	entered, never := make(chan struct{}), make(chan struct{})
	defer close(never)
	b := &fakeBackend{shutdownHang: never, handler: func(ctx *fasthttp.RequestCtx) {
		close(entered)
		<-never
	}}
	cfg := testConfig()
	cfg.ShutdownTimeout = 1500 * time.Millisecond
	s := newTestServer(t, cfg, b)
	stop := runServer(t, s)
	go func() { _, _, _ = get("http://" + s.Addr() + "/hang") }()
	<-entered
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	took := time.Since(start)
	// The slack covers scheduling on a loaded CI machine, not the design.
	if took > cfg.ShutdownTimeout+750*time.Millisecond {
		t.Errorf("Run returned after %s, bound %s", took, cfg.ShutdownTimeout)
	}
	if !b.shutdownCalled.Load() {
		t.Error("backend.Shutdown not called although the HTTP drain timed out")
	}
}

func TestDrainDelayKeepsServingWithConnectionClose(t *testing.T) {
	b := &fakeBackend{}
	b.setStatus(Status{ControllerOK: true})
	cfg := testConfig()
	cfg.DrainDelay = 2 * time.Second
	s := newTestServer(t, cfg, b)
	stop := runServer(t, s)

	// A keep-alive connection opened before shutdown.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _ = stop() }()
	deadline := time.Now().Add(time.Second)
	for !s.ShuttingDown() {
		if time.Now().After(deadline) {
			t.Fatal("shutdown did not begin")
		}
		time.Sleep(time.Millisecond)
	}
	// During the drain delay: readiness 503, requests still served, and
	// told to close the connection.
	if code, _, _ := get("http://" + s.OpsAddr() + "/readyz"); code != 503 {
		t.Errorf("readyz during drain: %d", code)
	}
	_, _ = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	var r fasthttp.Response
	if err := r.Read(br); err != nil || r.StatusCode() != 200 {
		t.Fatalf("request during drain: %v %d", err, r.StatusCode())
	}
	if !r.ConnectionClose() {
		t.Error("response during drain lacks Connection: close")
	}
}

// TestRunWithCancelledContext: a ctx cancelled before the serve goroutines
// ran must still close both listeners and return.
func TestRunWithCancelledContext(t *testing.T) {
	logs := &logBuffer{}
	for range 20 {
		cfg := testConfig()
		cfg.Logger = newTestLogger(t, logs, "info")
		s := newTestServer(t, cfg, &fakeBackend{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if err := s.Run(ctx); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Run took %s", took)
		}
		for _, addr := range []string{s.Addr(), s.OpsAddr()} {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Fatalf("%s still accepting after Run returned", addr)
			}
		}
	}
	if strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("clean shutdown logged warnings: %s", logs.String())
	}
}

// waitOpen polls the API listener's open connections down to want.
func waitOpen(t *testing.T, s *Server, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for s.limiter.Open() > want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after %s, want %d", s.limiter.Open(), within, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowClientsLoseTheirSlot: a connection that sends nothing, and one
// that never reads a large answer, are closed by the read and write
// timeouts, giving their slots back.
func TestSlowClientsLoseTheirSlot(t *testing.T) {
	big := bytes.Repeat([]byte("r"), 16<<20)
	b := &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBody(big) }}
	cfg := testConfig()
	cfg.ReadTimeout = 300 * time.Millisecond
	cfg.WriteTimeout = 300 * time.Millisecond
	s := newTestServer(t, cfg, b)
	runServer(t, s)

	waitAccepted := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for s.limiter.Open() < 1 {
			if time.Now().After(deadline) {
				t.Fatal("connection not accepted")
			}
			time.Sleep(time.Millisecond)
		}
	}
	silent, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitAccepted()
	waitOpen(t, s, 0, 5*time.Second)

	nonReader, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nonReader.Close()
	if tc, ok := nonReader.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // keep the kernel from absorbing the answer
	}
	_, _ = io.WriteString(nonReader, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	waitAccepted()
	waitOpen(t, s, 0, 5*time.Second)
}
