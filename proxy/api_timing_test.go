package proxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// apiBenchCtx is a RequestCtx reused across iterations as fasthttp's server
// reuses it.
func apiBenchCtx(method, uri string, hdr map[string]string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	return ctx
}

// runHandler measures h plus writing its response to the wire (a
// bufio.Writer on io.Discard, as fasthttp's server does), so that a
// handler that streams and one that fills a body buffer compare fairly.
func runHandler(b *testing.B, h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx, size int) {
	b.Helper()
	bw := bufio.NewWriterSize(io.Discard, 4096)
	serve := func() {
		ctx.Response.Reset()
		h(ctx)
		if err := ctx.Response.Write(bw); err != nil {
			b.Fatal(err)
		}
	}
	serve()
	if ctx.Response.StatusCode() != 200 {
		b.Fatalf("status %d", ctx.Response.StatusCode())
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
}

// BenchmarkMetadata compares the metadata handler (with Basic auth checked,
// and without auth) with a bare handler writing the same bytes.
func BenchmarkMetadata(b *testing.B) {
	a := newUnitAPI(b, func(c *APIConfig) {
		c.Auth = AuthBasic
		c.HarborUsername, c.HarborPassword = "harbor", "pw"
	})
	a.noteCVEDB("4.017", "2026-07-01T00:00:00Z")
	doc := a.metadata.Load().body
	hdr := map[string]string{"Accept": translate.MimeMetadata10, "Authorization": basic("harbor", "pw")}
	b.Run("adapter", func(b *testing.B) {
		runHandler(b, a.Handler(), apiBenchCtx("GET", "/api/v1/metadata", hdr), len(doc))
	})
	noAuth := newUnitAPI(b, nil)
	noAuth.noteCVEDB("4.017", "2026-07-01T00:00:00Z")
	b.Run("adapter-noauth", func(b *testing.B) {
		runHandler(b, noAuth.Handler(), apiBenchCtx("GET", "/api/v1/metadata", hdr), len(doc))
	})
	b.Run("bare", func(b *testing.B) {
		runHandler(b, func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType(translate.MimeMetadata10)
			ctx.SetBody(doc)
		}, apiBenchCtx("GET", "/api/v1/metadata", hdr), len(doc))
	})
}

// BenchmarkReportHit serves a cached 5,000-vulnerability report (as the
// simulator generates it) against a bare handler writing the same bytes,
// plain and gzip.
func BenchmarkReportHit(b *testing.B) {
	a := newUnitAPI(b, func(c *APIConfig) {
		c.Auth = AuthBasic
		c.HarborUsername, c.HarborPassword = "harbor", "pw"
	})
	id, doc := cachedReport(b, a, 5000)
	plain := doc.AppendPlain(nil)
	var gz fasthttp.RequestCtx
	_ = doc.WriteGzip(&gz)
	gzipped := append([]byte(nil), gz.Response.Body()...)
	for _, enc := range []string{"plain", "gzip"} {
		hdr := map[string]string{"Accept": translate.MimeVuln11, "Authorization": basic("harbor", "pw")}
		want := plain
		if enc == "gzip" {
			hdr["Accept-Encoding"] = "gzip"
			want = gzipped
		}
		uri := "/api/v1/scan/" + id + "/report"
		b.Run(enc+"/adapter", func(b *testing.B) {
			runHandler(b, a.Handler(), apiBenchCtx("GET", uri, hdr), len(want))
		})
		b.Run(enc+"/bare", func(b *testing.B) {
			runHandler(b, func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType(translate.MimeVuln11)
				if enc == "gzip" {
					ctx.Response.Header.SetContentEncoding("gzip")
				}
				ctx.SetBody(want)
			}, apiBenchCtx("GET", uri, hdr), len(want))
		})
	}
}

// BenchmarkReportHitLoopback serves the 5,000-vulnerability report over a
// real loopback connection (fasthttp server and client), adapter against a
// bare handler with the same bytes: the figure that matters to Harbor.
func BenchmarkReportHitLoopback(b *testing.B) {
	a := newUnitAPI(b, nil)
	id, doc := cachedReport(b, a, 5000)
	plain := doc.AppendPlain(nil)
	gzipped := doc.AppendGzip(nil)
	for _, enc := range []string{"", "gzip"} {
		want := plain
		name := "plain"
		if enc == "gzip" {
			want, name = gzipped, "gzip"
		}
		hdr := map[string]string{"Accept": translate.MimeVuln11}
		if enc != "" {
			hdr["Accept-Encoding"] = enc
		}
		uri := "/api/v1/scan/" + id + "/report"
		b.Run(name+"/adapter", func(b *testing.B) { loopbackBench(b, a.Handler(), uri, hdr, len(want)) })
		b.Run(name+"/bare", func(b *testing.B) {
			loopbackBench(b, func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType(translate.MimeVuln11)
				if enc == "gzip" {
					ctx.Response.Header.SetContentEncoding("gzip")
				}
				ctx.SetBody(want)
			}, uri, hdr, len(want))
		})
	}
}

// BenchmarkMetadataLoopback is metadata over a real loopback connection with
// Harbor's headers (Basic auth checked), against a bare handler writing the
// same bytes: what Harbor's 5 s ping sees.
func BenchmarkMetadataLoopback(b *testing.B) {
	a := newUnitAPI(b, func(c *APIConfig) {
		c.Auth = AuthBasic
		c.HarborUsername, c.HarborPassword = "harbor", "pw"
	})
	a.noteCVEDB("4.017", "2026-07-01T00:00:00Z")
	doc := a.metadata.Load().body
	hdr := map[string]string{"Accept": translate.MimeMetadata10, "Authorization": basic("harbor", "pw")}
	b.Run("adapter", func(b *testing.B) { loopbackBench(b, a.Handler(), "/api/v1/metadata", hdr, len(doc)) })
	b.Run("bare", func(b *testing.B) {
		loopbackBench(b, func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType(translate.MimeMetadata10)
			ctx.SetBody(doc)
		}, "/api/v1/metadata", hdr, len(doc))
	})
}

// loopbackBench serves h on 127.0.0.1 with a fasthttp server and measures
// parallel GETs of uri with hdr from a fasthttp client, each answer checked
// to be a 200 of size bytes.
func loopbackBench(b *testing.B, h fasthttp.RequestHandler, uri string, hdr map[string]string, size int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Shutdown()
	hc := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 16, MaxResponseBodySize: 64 << 20}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + ln.Addr().String() + uri)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		for pb.Next() {
			if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != size {
				b.Errorf("status %d, %d bytes, %v", resp.StatusCode(), len(resp.Body()), err)
				return
			}
		}
	})
}

// cachedReport stores a simulator report of n findings through the
// worker's own path (storeReport) and a finished job for it, as a scan
// would leave them; it returns the job's ID and the stored document.
func cachedReport(b *testing.B, a *API, n int) (string, *cache.Doc) {
	b.Helper()
	rep := sim.GenerateReport(testDigest, "library/alpine", "https://harbor.example", n, "4.017", "2026-07-01T00:00:00Z")
	art := translate.Artifact{Repository: "library/alpine", Digest: testDigest}
	e := a.storeReport(rep, art, time.Now(), false, false)
	id, sid := cache.NewScanID(testDigest, "library/alpine", time.Now())
	j := cache.NewJob(id, sid)
	j.Finish(e)
	a.jobs.Add(j)
	return id, e.Doc(cache.KindVuln)
}
