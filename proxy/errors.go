package proxy

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Sentinel errors of the Harbor API. Every error a handler answers with is
// one of these (or a translate/cache/controller sentinel), mapped to its
// status by statusOf, the one place that does so.
var (
	ErrUnauthorized     = errors.New("proxy: unauthorized")              // 401
	ErrAuthUnavailable  = errors.New("proxy: cannot verify credentials") // 503: controller down, credential unseen
	ErrNotFound         = errors.New("proxy: not found")                 // 404
	ErrMethodNotAllowed = errors.New("proxy: method not allowed")        // 405
	ErrBadQuery         = errors.New("proxy: bad query")                 // 400
	ErrSBOMDisabled     = errors.New("proxy: SBOM capability disabled")  // 501
	ErrBusy             = errors.New("proxy: scanner busy")              // 503
	ErrScanFailed       = errors.New("proxy: scan failed")               // 500
	ErrScanLost         = errors.New("proxy: scan lost")                 // 404
	ErrInternal         = errors.New("proxy: internal error")            // 500
	ErrShuttingDown     = errors.New("proxy: shutting down")             // 503
)

// statusOf maps an error to the HTTP status Harbor gets.
func statusOf(err error) int {
	switch {
	case err == nil:
		return fasthttp.StatusOK
	case errors.Is(err, ErrUnauthorized), errors.Is(err, controller.ErrAuth),
		errors.Is(err, controller.ErrPasswordReset):
		return fasthttp.StatusUnauthorized
	case errors.Is(err, ErrAuthUnavailable), errors.Is(err, ErrBusy),
		errors.Is(err, ErrShuttingDown), errors.Is(err, controller.ErrUnavailable):
		return fasthttp.StatusServiceUnavailable
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrScanLost), errors.Is(err, cache.ErrBadScanID):
		return fasthttp.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return fasthttp.StatusMethodNotAllowed
	case errors.Is(err, ErrBadQuery), errors.Is(err, translate.ErrMalformed),
		errors.Is(err, translate.ErrBadAccept):
		return fasthttp.StatusBadRequest
	case errors.Is(err, translate.ErrInvalid):
		return fasthttp.StatusUnprocessableEntity
	case errors.Is(err, ErrSBOMDisabled), errors.Is(err, translate.ErrUnsupported):
		return fasthttp.StatusNotImplemented
	}
	return fasthttp.StatusInternalServerError
}

// apiError is an error whose message is what Harbor reads in its job log,
// while errors.Is still finds the sentinel for the status.
type apiError struct {
	kind error
	msg  string
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.kind }

// newError returns an error of kind with a message for Harbor. The message
// must never carry a credential.
func newError(kind error, msg string) error { return &apiError{kind: kind, msg: msg} }

// writeError answers err as a JSON ErrorResponse with its mapped status.
func writeError(ctx *fasthttp.RequestCtx, err error) {
	writeErrorStatus(ctx, statusOf(err), messageOf(err))
}

// messageOf is the text Harbor sees: the apiError's own message, or the
// error's own text (sentinels of other packages read well enough).
func messageOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg
	}
	return err.Error()
}

// writeErrorStatus answers status with {"error":{"message":msg}}.
func writeErrorStatus(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Header.Del(fasthttp.HeaderContentEncoding)
	ctx.Response.Header.Del("Refresh-After")
	ctx.Response.Header.Del(fasthttp.HeaderLocation)
	ctx.SetStatusCode(status)
	ctx.SetContentType(translate.MimeError10)
	b := make([]byte, 0, len(msg)+32)
	b = append(b, `{"error":{"message":`...)
	b = translate.AppendJSONString(b, msg)
	b = append(b, `}}`...)
	ctx.SetBody(b)
}
