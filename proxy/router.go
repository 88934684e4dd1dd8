package proxy

import (
	"bytes"
	"fmt"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// Base paths: Harbor appends /api/v1 to the registered URL; the old
// NeuVector adapter was registered under /endpoint.
const (
	basePath    = "/api/v1"
	oldBasePath = "/endpoint/api/v1"
)

var (
	pathMetadata    = []byte(basePath + "/metadata")
	pathOldMetadata = []byte(oldBasePath + "/metadata")
	pathScanPrefix  = []byte(basePath + "/scan/")
	pathOldScanPref = []byte(oldBasePath + "/scan/")
	pathReportSuf   = []byte("/report")
)

// newRouter builds the Harbor API handler. The two GET routes Harbor polls
// are dispatched before the router, which would allocate for the {id}
// parameter; the router still knows every route so that other methods get a
// JSON 405 and other paths a JSON 404.
func (a *API) newRouter() fasthttp.RequestHandler {
	r := router.New()
	r.RedirectTrailingSlash = false // Harbor does not follow redirects
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.HandleOPTIONS = false
	for _, base := range []string{basePath, oldBasePath} {
		r.GET(base+"/metadata", a.handleMetadata)
		r.POST(base+"/scan", a.handleScan)
		r.GET(base+"/scan/{id}/report", func(ctx *fasthttp.RequestCtx) {
			id, _ := ctx.UserValue("id").(string)
			a.handleReport(ctx, []byte(id))
		})
	}
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, newError(ErrNotFound, "no such endpoint: "+string(ctx.Path())))
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, newError(ErrMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on "+string(ctx.Path())))
	}
	r.PanicHandler = func(ctx *fasthttp.RequestCtx, v any) {
		a.log.Error("handler panic", "path", string(ctx.Path()), "panic", fmt.Sprint(v))
		writeError(ctx, newError(ErrInternal, "internal error"))
	}
	routed := r.Handler
	return func(ctx *fasthttp.RequestCtx) {
		if ctx.IsGet() {
			path := ctx.Path()
			if bytes.Equal(path, pathMetadata) || bytes.Equal(path, pathOldMetadata) {
				a.safely(ctx, a.handleMetadata)
				return
			}
			if id, ok := reportID(path); ok {
				defer a.recoverPanic(ctx)
				a.handleReport(ctx, id)
				return
			}
		}
		routed(ctx)
	}
}

// reportID extracts {id} of .../scan/{id}/report without allocating.
func reportID(path []byte) ([]byte, bool) {
	var rest []byte
	switch {
	case bytes.HasPrefix(path, pathScanPrefix):
		rest = path[len(pathScanPrefix):]
	case bytes.HasPrefix(path, pathOldScanPref):
		rest = path[len(pathOldScanPref):]
	default:
		return nil, false
	}
	if !bytes.HasSuffix(rest, pathReportSuf) {
		return nil, false
	}
	id := rest[:len(rest)-len(pathReportSuf)]
	if len(id) == 0 || bytes.IndexByte(id, '/') >= 0 {
		return nil, false
	}
	return id, true
}

// safely runs h with the panic guard of the router.
func (a *API) safely(ctx *fasthttp.RequestCtx, h fasthttp.RequestHandler) {
	defer a.recoverPanic(ctx)
	h(ctx)
}

// recoverPanic turns a handler panic into a JSON 500: no panic reaches a
// client as a dropped connection or a text body.
func (a *API) recoverPanic(ctx *fasthttp.RequestCtx) {
	if v := recover(); v != nil {
		a.log.Error("handler panic", "path", string(ctx.Path()), "panic", fmt.Sprint(v))
		writeError(ctx, newError(ErrInternal, "internal error"))
	}
}
