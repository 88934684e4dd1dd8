package proxy

import (
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"
)

// benchHandler is what a cache hit costs at most: a status, a MIME type and
// stored bytes.
func benchHandler(body []byte) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}
}

func benchCtx(b *testing.B) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodGet)
	ctx.Request.SetRequestURI("/api/v1/scan/eyJ2IjoxLCJ0IjoxNzY0ODAwMDAwfQ/report")
	return &ctx
}

// BenchmarkHandlerBare is the backend handler alone; compare with
// BenchmarkHandlerWrapped for the middleware's cost per request.
func BenchmarkHandlerBare(b *testing.B) {
	h := benchHandler([]byte(`{"ok":true}`))
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(ctx)
	}
}

// BenchmarkHandlerWrapped adds recovery, route classification, metrics and
// the (disabled) debug log.
func BenchmarkHandlerWrapped(b *testing.B) {
	s := newTestServer(b, testConfig(), &fakeBackend{handler: benchHandler([]byte(`{"ok":true}`))})
	h := s.api.Handler
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(ctx)
	}
}

// BenchmarkHandlerWrappedParallel measures contention on the shared
// counters and histograms.
func BenchmarkHandlerWrappedParallel(b *testing.B) {
	s := newTestServer(b, testConfig(), &fakeBackend{handler: benchHandler([]byte(`{"ok":true}`))})
	h := s.api.Handler
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(fasthttp.MethodGet)
		ctx.Request.SetRequestURI("/api/v1/metadata")
		for pb.Next() {
			ctx.Response.Reset()
			h(&ctx)
		}
	})
}

// BenchmarkServeConnWrapped is a whole request through fasthttp's parser
// and writer with the middleware, without sockets.
func BenchmarkServeConnWrapped(b *testing.B) {
	s := newTestServer(b, testConfig(), &fakeBackend{handler: benchHandler([]byte(`{"ok":true}`))})
	raw := []byte("GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c := &scriptConn{}
	b.ReportAllocs()
	for b.Loop() {
		c.in = bytes.NewReader(raw)
		c.out.Reset()
		_ = s.api.ServeConn(c)
	}
}
