package controller

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

var fuzzSeeds = []string{
	`{"token":{"token":"abc","global_permissions":[{"id":"ci_scan","read":false,"write":true}],"timeout":300},"need_to_reset_password":false}`,
	`{"token":null,"need_to_reset_password":true}`,
	`{"code":26,"error":"Fail to scan repository","message":"Image not found"}`,
	`{"code":"26"}`,
	`{"report":{"digest":"sha256:a","vulnerabilities":[{"name":"CVE-1","score":7.5,"cves":["CVE-1"]}],"modules":[{"name":"m","cves":[{"name":"CVE-1","status":"fix exists"}]}],"labels":{"a":"b"},"signature_data":{}}}`,
	`{"report":null}`,
	`{"images":[{"digest":"sha256:a","scanned_timestamp":5},{"digest":"sha256:a","scanned_timestamp":-1}]}`,
	`{"summary":{"cvedb_version":"4.017","cvedb_create_time":"2026-07-01T00:00:00Z"}}`,
	`<html>`, ``, `null`, `[]`, `{"report":{"vulnerabilities":[{"score":"x"}]}}`, "\x1f\x8b\x08", `{"images":[{"labels":{"a":1}}]}`,
}

// FuzzDecoders feeds arbitrary bytes to every decoder of controller answers:
// an error is fine, a panic is not, and a decoded value is usable.
func FuzzDecoders(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if tok, err := decodeToken(b); err == nil && tok == "" {
			t.Fatal("decodeToken: empty token without error")
		} else if err != nil && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrPasswordReset) {
			t.Fatalf("decodeToken: unexpected error class %v", err)
		}
		if re, ok := decodeRESTError(b); ok && re.Code == 0 {
			t.Fatal("decodeRESTError: ok without a code")
		}
		var rep translate.ScanRepoReportData
		if err := decodeJSON(EndpointScan, 200, b, &rep); err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatal(err)
		}
		var imgs translate.RegistryImagesData
		if decodeJSON(EndpointImages, 200, b, &imgs) == nil {
			if m := newestMatch(imgs.Images, "sha256:a"); m != nil && m.Digest != "sha256:a" {
				t.Fatal("newestMatch returned another digest")
			}
		}
		var sum translate.SystemSummaryData
		_ = decodeJSON(EndpointSummary, 200, b, &sum)
		var ir translate.ScanReportData
		_ = decodeJSON(EndpointImage, 200, b, &ir)
	})
}

// FuzzClientResponses serves arbitrary answers (status, body, gzip or a
// false gzip claim) over an in-memory connection to every client call:
// whatever comes back, the client returns a value or an error of its own
// classes, and never panics.
func FuzzClientResponses(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, st := range []uint16{200, 401, 500, 403, 404} {
			f.Add(st, uint8(0), []byte(s))
		}
	}
	f.Add(uint16(200), uint8(1), []byte(fuzzSeeds[4]))
	f.Add(uint16(200), uint8(2), []byte("not gzip"))

	ln := fasthttputil.NewInmemoryListener()
	type answer struct {
		status int
		mode   uint8
		body   []byte
	}
	// Atomic: a request abandoned by the previous input may still be served.
	var next atomic.Pointer[answer]
	next.Store(&answer{status: 200})
	srv := &fasthttp.Server{Logger: quietLogger{}, Handler: func(ctx *fasthttp.RequestCtx) {
		cur := next.Load()
		ctx.SetStatusCode(cur.status)
		ctx.SetContentType("application/json")
		switch cur.mode % 3 {
		case 1:
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(cur.body)
			zw.Close()
			ctx.Response.Header.Set("Content-Encoding", "gzip")
			ctx.SetBody(buf.Bytes())
		case 2:
			ctx.Response.Header.Set("Content-Encoding", "gzip") // a lie
			ctx.SetBody(cur.body)
		default:
			ctx.SetBody(cur.body)
		}
	}}
	go srv.Serve(ln)
	f.Cleanup(func() { ln.Close() })
	c, err := New(Config{URL: "http://controller", Timeout: time.Second, BackoffMin: time.Millisecond,
		BackoffMax: time.Millisecond, MaxBodySize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	c.dialer = func(string, time.Duration) (net.Conn, error) { return ln.Dial() }

	f.Fuzz(func(t *testing.T, status uint16, mode uint8, body []byte) {
		cur := &answer{status: int(status%500) + 100, mode: mode, body: body}
		if cur.status == 304 || cur.status == 429 || cur.status == 204 || cur.status < 200 {
			cur.status = 200 // statuses without a body, or that loop until ctx ends
		}
		next.Store(cur)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		ok := func(err error) {
			var se *ScanError
			if err != nil && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrAuth) &&
				!errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrPasswordReset) &&
				!errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &se) {
				t.Fatalf("status %d: unexpected error %v", cur.status, err)
			}
		}
		key := &Session{c: c, cred: Cred{APIKey: "k:s"}}
		_, err := c.login(ctx, Cred{Username: "u", Password: "p"})
		ok(err)
		_, err = c.Summary(ctx, key)
		ok(err)
		_, err = c.FindImage(ctx, key, RepoScanRegistry, "sha256:a")
		ok(err)
		_, err = c.ImageReport(ctx, key, RepoScanRegistry, "id")
		ok(err)
		ok(c.Ping(ctx))
		// A bodiless 5xx is retried until the deadline: keep that short.
		sctx, scancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer scancel()
		rep, err := c.ScanRepository(sctx, key, testScanReq())
		ok(err)
		if err == nil && rep == nil {
			t.Fatal("nil report without error")
		}
	})
}
