package proxy

import (
	"encoding/json"
	"io"
	"runtime"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
)

// probeBody is the JSON body of /healthz and /readyz: the verdict, what is
// missing when not ready, and the Status for operators.
type probeBody struct {
	Ready bool `json:"ready"`
	// Reason names what is missing when Ready is false.
	Reason string `json:"reason,omitempty"`
	// ShuttingDown is set once a graceful shutdown began.
	ShuttingDown bool `json:"shutting_down,omitempty"`
	Status
}

// readiness decides /readyz from the Status the background loops keep. It
// fails only for what makes the controller itself unusable: no CVE DB yet,
// no session yet (pass-through waits for Harbor) and forbidden look-ups
// leave the controller pod healthy, and this sidecar's readiness is the
// pod's.
func readiness(st Status, shuttingDown bool) (bool, string) {
	switch {
	case shuttingDown:
		return false, "shutting down"
	case st.ControllerOK:
		return true, ""
	case st.ControllerCheckedAt.IsZero():
		return false, "controller REST API not checked yet"
	case st.ControllerError != "":
		return false, "controller REST API not answering: " + st.ControllerError
	}
	return false, "controller REST API not answering"
}

// opsHandler serves the ops listener: /healthz, /readyz and /metrics,
// plain HTTP, no auth.
func (s *Server) opsHandler(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		writeTransportError(ctx, fasthttp.StatusMethodNotAllowed, bodyMethodNotAllowed)
		ctx.Response.Header.Set(fasthttp.HeaderAllow, "GET, HEAD")
		return
	}
	switch string(ctx.Path()) {
	case "/healthz":
		s.writeProbe(ctx, false)
	case "/readyz":
		s.writeProbe(ctx, true)
	case "/metrics":
		ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
		s.writeMetrics(ctx)
	default:
		writeTransportError(ctx, fasthttp.StatusNotFound, bodyNotFound)
	}
}

var (
	bodyMethodNotAllowed = transportErrorBody("method not allowed")
	bodyNotFound         = transportErrorBody("not found")
)

// writeProbe answers a probe. /healthz is 200 while the process serves;
// /readyz follows readiness.
func (s *Server) writeProbe(ctx *fasthttp.RequestCtx, ready bool) {
	st := s.backend.Status()
	ok, reason := readiness(st, s.shuttingDown.Load())
	b, err := json.Marshal(probeBody{Ready: ok, Reason: reason, ShuttingDown: s.shuttingDown.Load(), Status: st})
	if err != nil {
		writeTransportError(ctx, fasthttp.StatusInternalServerError, bodyInternal)
		return
	}
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	if ready && !ok {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	ctx.SetBody(b)
}

// writeMetrics writes the Prometheus text of /metrics: the adapter's set,
// the Go and process metrics, build info, gauges from Status, the TLS
// certificate's expiry, and the WriteMetrics hook's own.
func (s *Server) writeMetrics(w io.Writer) {
	metricsSet.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	_, _ = io.WriteString(w, s.buildInfo)
	st := s.backend.Status()
	metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_queue_depth", nonNegative(st.QueueDepth))
	metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_jobs", nonNegative(st.Jobs))
	metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_in_flight", nonNegative(st.InFlight))
	metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_controller_up", boolGauge(st.ControllerOK))
	ok, _ := readiness(st, s.shuttingDown.Load())
	metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_ready", boolGauge(ok))
	if s.certs != nil {
		if c := s.certs.Current(); c != nil && c.Leaf != nil {
			metrics.WriteGaugeUint64(w, "harbor_scanner_neuvector_tls_certificate_expiry_timestamp_seconds", uint64(max(c.Leaf.NotAfter.Unix(), 0)))
		}
	}
	if s.cfg.WriteMetrics != nil {
		s.cfg.WriteMetrics(w)
	}
}

func nonNegative(n int) uint64 { return uint64(max(n, 0)) }

func boolGauge(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// buildInfoLine is the constant build_info sample.
func buildInfoLine(b BuildInfo) string {
	return `harbor_scanner_neuvector_build_info{version=` + promLabel(b.Version) +
		`,commit=` + promLabel(b.Commit) + `,date=` + promLabel(b.Date) + `,goversion=` +
		promLabel(runtime.Version()) + "} 1\n"
}

// promLabel quotes a label value as the Prometheus text format wants
// (backslash, quote and newline escaped).
func promLabel(v string) string {
	v = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
	return `"` + v + `"`
}
