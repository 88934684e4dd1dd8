package proxy

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"
)

// Status is what the API knows about its controller, kept by background
// loops; /readyz and /healthz report it without calling the controller.
type Status struct {
	// ControllerOK is true when the background check found the controller's
	// REST API answering within the last check window.
	ControllerOK        bool      `json:"controller_ok"`
	ControllerCheckedAt time.Time `json:"controller_checked_at"`
	ControllerError     string    `json:"controller_error,omitempty"`
	// Session says how the adapter talks to the controller now: "api-key",
	// "token", or "none" (pass-through mode before Harbor's first call).
	Session         string `json:"session"`
	CVEDBVersion    string `json:"cvedb_version,omitempty"`
	CVEDBCreateTime string `json:"cvedb_create_time,omitempty"`
	// LookupsForbidden is set when _repo_scan look-ups got 403 (the user
	// lacks reg_scan read): scans go on without them.
	LookupsForbidden bool `json:"lookups_forbidden,omitempty"`
	QueueDepth       int  `json:"queue_depth"`
	Jobs             int  `json:"jobs"`
	InFlight         int  `json:"in_flight"`
}

// Backend is what the Server serves: the Harbor API handler plus the state
// the ops listener reports. *API implements it; tests use fakes.
type Backend interface {
	Handler() fasthttp.RequestHandler
	Status() Status
	// Shutdown abandons long-polls (the controller finishes those scans)
	// and logs controller sessions out within ctx.
	Shutdown(ctx context.Context)
}

// *API serves the Server; the assertion catches a contract drift at compile time.
var _ Backend = (*API)(nil)
