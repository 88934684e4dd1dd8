package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func opsGet(t *testing.T, s *Server, method, path string) *fasthttp.RequestCtx {
	t.Helper()
	return serveCtx(t, s.opsHandler, method+" "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
}

func decodeProbe(t *testing.T, ctx *fasthttp.RequestCtx) map[string]any {
	t.Helper()
	if ct := string(ctx.Response.Header.ContentType()); ct != "application/json" {
		t.Errorf("probe Content-Type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(ctx.Response.Body(), &m); err != nil {
		t.Fatalf("probe body %q: %v", ctx.Response.Body(), err)
	}
	return m
}

func TestReadiness(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name       string
		st         Status
		shutdown   bool
		wantReady  int
		wantReason string
	}{
		// The sidecar's readiness is the pod's: nothing that leaves the
		// controller healthy may fail it.
		{"controller up, nothing else yet", Status{ControllerOK: true, ControllerCheckedAt: now, Session: "none"}, false, 200, ""},
		{"controller up, look-ups forbidden", Status{ControllerOK: true, ControllerCheckedAt: now, Session: "token", LookupsForbidden: true}, false, 200, ""},
		{"controller down", Status{ControllerOK: false, ControllerCheckedAt: now, ControllerError: "connection refused", CVEDBVersion: "3.1"}, false, 503, "controller REST API not answering: connection refused"},
		{"controller down, no detail", Status{ControllerCheckedAt: now}, false, 503, "controller REST API not answering"},
		{"never checked", Status{}, false, 503, "controller REST API not checked yet"},
		{"shutting down", Status{ControllerOK: true, ControllerCheckedAt: now}, true, 503, "shutting down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &fakeBackend{}
			b.setStatus(c.st)
			s := newTestServer(t, testConfig(), b)
			s.shuttingDown.Store(c.shutdown)

			ctx := opsGet(t, s, "GET", "/readyz")
			if ctx.Response.StatusCode() != c.wantReady {
				t.Errorf("readyz %d, want %d", ctx.Response.StatusCode(), c.wantReady)
			}
			m := decodeProbe(t, ctx)
			if m["ready"] != (c.wantReady == 200) || (m["reason"] == nil) != (c.wantReason == "") ||
				(c.wantReason != "" && m["reason"] != c.wantReason) {
				t.Errorf("readyz body %v, want reason %q", m, c.wantReason)
			}
			// The body reports session and CVE DB state for operators.
			if m["session"] != c.st.Session || m["controller_ok"] != c.st.ControllerOK {
				t.Errorf("status missing from body: %v", m)
			}
			if c.st.CVEDBVersion != "" && m["cvedb_version"] != c.st.CVEDBVersion {
				t.Errorf("cvedb_version missing: %v", m)
			}

			// healthz is 200 while the process serves, whatever the
			// controller does, and reports the same state.
			h := opsGet(t, s, "GET", "/healthz")
			if h.Response.StatusCode() != 200 {
				t.Errorf("healthz %d", h.Response.StatusCode())
			}
			if hm := decodeProbe(t, h); hm["ready"] != m["ready"] {
				t.Errorf("healthz body %v", hm)
			}
		})
	}
}

func TestReadyzFollowsStatus(t *testing.T) {
	b := &fakeBackend{}
	s := newTestServer(t, testConfig(), b)
	runServer(t, s)
	url := "http://" + s.OpsAddr() + "/readyz"
	for i, st := range []Status{
		{ControllerOK: true, ControllerCheckedAt: time.Now()},
		{ControllerOK: false, ControllerCheckedAt: time.Now(), ControllerError: "timeout"},
		{ControllerOK: true, ControllerCheckedAt: time.Now()},
	} {
		b.setStatus(st)
		code, body, err := get(url)
		want := 200
		if !st.ControllerOK {
			want = 503
		}
		if err != nil || code != want {
			t.Errorf("step %d: %d %v, want %d (%s)", i, code, err, want, body)
		}
	}
}

func TestOpsMethodsAndPaths(t *testing.T) {
	s := newTestServer(t, testConfig(), &fakeBackend{})
	ctx := opsGet(t, s, "POST", "/readyz")
	if ctx.Response.StatusCode() != 405 || string(ctx.Response.Header.Peek("Allow")) != "GET, HEAD" {
		t.Errorf("POST /readyz: %d allow %q", ctx.Response.StatusCode(), ctx.Response.Header.Peek("Allow"))
	}
	assertJSONError(t, string(ctx.Response.Header.ContentType()), ctx.Response.Body(), "method not allowed")
	ctx = opsGet(t, s, "GET", "/api/v1/metadata")
	if ctx.Response.StatusCode() != 404 {
		t.Errorf("API path on the ops listener: %d", ctx.Response.StatusCode())
	}
	assertJSONError(t, string(ctx.Response.Header.ContentType()), ctx.Response.Body(), "not found")
	if ctx := opsGet(t, s, "HEAD", "/healthz"); ctx.Response.StatusCode() != 200 {
		t.Errorf("HEAD /healthz: %d", ctx.Response.StatusCode())
	}
}

func TestMetricsEndpoint(t *testing.T) {
	b := &fakeBackend{}
	b.setStatus(Status{ControllerOK: true, ControllerCheckedAt: time.Now(), QueueDepth: 7, Jobs: 42, InFlight: 3})
	cfg := testConfig()
	cfg.Version = BuildInfo{Version: "v1.2.3", Commit: "abc123", Date: `2026-12-04"T"`}
	cfg.WriteMetrics = func(w io.Writer) {
		fmt.Fprintf(w, "harbor_scanner_neuvector_cache_bytes %d\n", 12345)
	}
	s := newTestServer(t, cfg, b)
	// A request through the API handler shows up in the counters.
	serveCtx(t, s.api.Handler, "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n")

	ctx := opsGet(t, s, "GET", "/metrics")
	if ctx.Response.StatusCode() != 200 || !strings.HasPrefix(string(ctx.Response.Header.ContentType()), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %d %q", ctx.Response.StatusCode(), ctx.Response.Header.ContentType())
	}
	out := string(ctx.Response.Body())
	for _, want := range []string{
		`harbor_scanner_neuvector_build_info{version="v1.2.3",commit="abc123",date="2026-12-04\"T\"",goversion="go`,
		"harbor_scanner_neuvector_queue_depth 7\n",
		"harbor_scanner_neuvector_jobs 42\n",
		"harbor_scanner_neuvector_in_flight 3\n",
		"harbor_scanner_neuvector_controller_up 1\n",
		"harbor_scanner_neuvector_ready 1\n",
		"harbor_scanner_neuvector_cache_bytes 12345\n",
		`harbor_scanner_neuvector_http_requests_total{route="metadata",code="200"}`,
		`harbor_scanner_neuvector_http_request_duration_seconds_bucket{route="metadata",le="5"}`,
		`harbor_scanner_neuvector_scans_total{result="submitted"}`,
		"harbor_scanner_neuvector_cache_hits_total",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Every sample line parses as name[{labels}] value.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			t.Errorf("bad sample line %q", line)
			continue
		}
		var f float64
		if _, err := fmt.Sscan(line[i+1:], &f); err != nil {
			t.Errorf("bad value in %q", line)
		}
	}
}

func TestMetricsTLSExpiry(t *testing.T) {
	ca := newTestCA(t, "test CA")
	s, _, _, _ := tlsServer(t, ca, nil)
	ctx := opsGet(t, s, "GET", "/metrics")
	want := fmt.Sprintf("harbor_scanner_neuvector_tls_certificate_expiry_timestamp_seconds %d\n", s.certs.Current().Leaf.NotAfter.Unix())
	if !strings.Contains(string(ctx.Response.Body()), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}
