package controller

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// inmemClient serves every request with handler over an in-memory listener,
// so benchmarks measure the client, not TLS and the kernel.
func inmemClient(tb testing.TB, handler fasthttp.RequestHandler) *Client {
	tb.Helper()
	ln := fasthttputil.NewInmemoryListener()
	go (&fasthttp.Server{Handler: handler, Logger: quietLogger{}}).Serve(ln)
	tb.Cleanup(func() { ln.Close() })
	c, err := New(Config{URL: "http://controller", Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	c.dialer = func(string, time.Duration) (net.Conn, error) { return ln.Dial() }
	return c
}

func BenchmarkSummary(b *testing.B) {
	body := []byte(`{"summary":{"hosts":3,"controllers":3,"scanners":2,"cvedb_version":"4.017","cvedb_create_time":"2026-07-01T00:00:00Z"}}`)
	c := inmemClient(b, func(ctx *fasthttp.RequestCtx) { ctx.SetBody(body) })
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Summary(ctx, sess); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanReport500Vulns measures one long-poll answer carrying a
// typical report (500 vulnerabilities, ~300 KB), decoded into wire types.
func BenchmarkScanReport500Vulns(b *testing.B) {
	rep := testReport("sha256:abc")
	for i := range 500 {
		rep.Vulnerabilities = append(rep.Vulnerabilities, translate.Vulnerability{
			Name: sprintf("CVE-2026-%05d", i), Severity: "High", Score: 7.5, ScoreV3: 8.1,
			Description: string(make([]byte, 400)), PackageName: "openssl", PackageVersion: "3.0.2",
			FixedVersion: "3.0.3", Link: "https://nvd.nist.gov/vuln/detail/CVE-2026-00001", FeedRating: "High"})
	}
	body, err := encodeJSONForTest(translate.ScanRepoReportData{Report: rep})
	if err != nil {
		b.Fatal(err)
	}
	c := inmemClient(b, func(ctx *fasthttp.RequestCtx) { ctx.SetBody(body) })
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	req := testScanReq()
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ScanRepository(ctx, sess, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached is the per-request cost of pass-through auth once
// the credential's verdict is cached.
func BenchmarkVerifyCached(b *testing.B) {
	s, cred := cachedVerifier(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify(ctx, cred); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAcquireHeld(b *testing.B) {
	s, cred := cachedVerifier(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, release, err := s.Acquire(ctx, cred)
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
}

func cachedVerifier(tb testing.TB) (*Sessions, Cred) {
	c := inmemClient(tb, func(ctx *fasthttp.RequestCtx) {
		ctx.SetBodyString(`{"token":{"token":"t1"},"need_to_reset_password":false}`)
	})
	s := NewSessions(c, time.Hour)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.CloseAll(ctx)
	})
	cred := Cred{Username: testUser, Password: testPassword}
	if err := s.Verify(context.Background(), cred); err != nil {
		tb.Fatal(err)
	}
	return s, cred
}
