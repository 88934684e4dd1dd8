//go:build !race

package proxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// reusedCtx returns a RequestCtx for method/uri/headers and a reset func
// that keeps its buffers, as fasthttp's server reuses them.
func reusedCtx(method, uri string, hdr map[string]string) (*fasthttp.RequestCtx, func()) {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return ctx, func() { ctx.Response.Reset() }
}

// assertNoAllocs runs h and writes its response to the wire (a bufio.Writer
// on io.Discard, as the server does), and wants no allocation for both.
func assertNoAllocs(t *testing.T, name string, h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx, reset func(), want int) {
	t.Helper()
	bw := bufio.NewWriterSize(io.Discard, 4096)
	serve := func() {
		reset()
		h(ctx)
		if err := ctx.Response.Write(bw); err != nil {
			t.Fatal(err)
		}
	}
	serve() // warm buffers
	if ctx.Response.StatusCode() != want {
		t.Fatalf("%s: status %d, want %d", name, ctx.Response.StatusCode(), want)
	}
	n := testing.AllocsPerRun(200, serve)
	if n != 0 {
		t.Fatalf("%s: %.1f allocations per request, want 0", name, n)
	}
	if ctx.Response.StatusCode() != want {
		t.Fatalf("%s: status %d after the runs", name, ctx.Response.StatusCode())
	}
}

func TestMetadataZeroAllocs(t *testing.T) {
	for _, mode := range []AuthMode{AuthNone, AuthBasic, AuthAPIKey, AuthBearer} {
		a := newUnitAPI(t, func(c *APIConfig) {
			c.Auth = mode
			c.HarborUsername, c.HarborPassword = "harbor", "pw"
			c.HarborAPIKey, c.HarborBearerToken = "key", "tok"
		})
		a.noteCVEDB("4.017", "2026-07-01T00:00:00Z")
		hdr := map[string]string{"Accept": translate.MimeMetadata10,
			"Authorization": basic("harbor", "pw"), HeaderAPIKey: "key"}
		switch mode {
		case AuthBearer:
			hdr["Authorization"] = "Bearer tok"
		case AuthAPIKey:
			delete(hdr, "Authorization")
		}
		ctx, reset := reusedCtx("GET", "/api/v1/metadata", hdr)
		assertNoAllocs(t, "metadata/"+string(mode), a.Handler(), ctx, reset, 200)
	}
}

func TestReportCacheHitZeroAllocs(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) {
		c.Auth = AuthBasic
		c.HarborUsername, c.HarborPassword = "harbor", "pw"
	})
	id := doneJob(t, a, testDigest, "4.017", []byte(sampleReport))
	for _, enc := range []string{"", "gzip"} {
		ctx, reset := reusedCtx("GET", "/api/v1/scan/"+id+"/report", map[string]string{
			"Accept": translate.MimeVuln11, "Accept-Encoding": enc, "Authorization": basic("harbor", "pw")})
		assertNoAllocs(t, "report/"+enc, a.Handler(), ctx, reset, 200)
	}
	// Polling a job not ready yet allocates nothing either.
	qid := queuedJob(a)
	ctx, reset := reusedCtx("GET", "/api/v1/scan/"+qid+"/report", map[string]string{
		"Accept": translate.MimeVuln11, "Authorization": basic("harbor", "pw")})
	assertNoAllocs(t, "report/302", a.Handler(), ctx, reset, 302)
}

// A pass-through credential whose verdict is cached costs no allocation
// and no controller call.
func TestPassthroughCachedVerdictZeroAllocs(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) { c.Auth = AuthPassthrough })
	authz := basic("admin", "pw")
	_, v := parseHarborAuth([]byte(authz), nil)
	a.auth.remember(credKey(credBasic, v), verdict{until: a.cfg.Now().Add(time.Hour)})
	ctx, reset := reusedCtx("GET", "/api/v1/metadata", map[string]string{"Authorization": authz})
	assertNoAllocs(t, "metadata/passthrough", a.Handler(), ctx, reset, 200)
}
