//go:build !race

package proxy

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestWrapAllocs: the middleware allocates nothing per request once a
// (route, code) counter exists, with the debug log off.
func TestWrapAllocs(t *testing.T) {
	body := []byte(`{"ok":true}`)
	s := newTestServer(t, testConfig(), &fakeBackend{handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
	}})
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodGet)
	ctx.Request.SetRequestURI("/api/v1/scan/eyJ2IjoxfQ/report")
	h := s.api.Handler
	h(&ctx) // creates the counter
	allocs := testing.AllocsPerRun(1000, func() {
		ctx.Response.Reset()
		h(&ctx)
	})
	if allocs != 0 {
		t.Errorf("wrapped handler: %v allocs per request", allocs)
	}
}
