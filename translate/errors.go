package translate

import "errors"

// Sentinel errors; proxy maps them to HTTP statuses in one place. Errors
// returned by this package wrap one of them with a message fit for Harbor's
// job log that never quotes the request (it may carry credentials).
var (
	ErrMalformed   = errors.New("translate: malformed request")       // 400: not JSON, wrong JSON types
	ErrInvalid     = errors.New("translate: invalid request")         // 422: missing/invalid field
	ErrUnsupported = errors.New("translate: unsupported capability")  // 501 (spec v1.2)
	ErrBadAccept   = errors.New("translate: unsupported report type") // report Accept the adapter cannot serve
	// ErrBadReport is a controller report body that cannot be decoded.
	ErrBadReport = errors.New("translate: malformed controller report")
)

// fieldError is an error about one field of a request: Error() is the short
// message for Harbor's job log ("artifact.digest: must be algorithm:hex")
// and errors.Is matches the sentinel.
type fieldError struct {
	sentinel error
	msg      string
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.sentinel }

func invalid(msg string) error     { return &fieldError{ErrInvalid, msg} }
func malformed(msg string) error   { return &fieldError{ErrMalformed, msg} }
func unsupported(msg string) error { return &fieldError{ErrUnsupported, msg} }
