package proxy

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Metrics of the adapter, written by /metrics on the ops listener in
// Prometheus text format. Label sets are fixed strings so that a hot path
// touches a pre-built counter, never formats a name.
var (
	metricsSet = metrics.NewSet()

	scansSubmitted    = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="submitted"}`)
	scansDeduplicated = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="deduplicated"}`)
	scansCached       = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="cached"}`)
	scansFinished     = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="finished"}`)
	scansFailed       = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="failed"}`)
	// scansRecovered counts reports found in _repo_scan / fed._repo_scan
	// instead of scanning.
	scansRecovered = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="recovered"}`)

	cacheHits   = metricsSet.NewCounter(`harbor_scanner_neuvector_cache_hits_total`)
	cacheMisses = metricsSet.NewCounter(`harbor_scanner_neuvector_cache_misses_total`)
)

// MetricsSet is the set /metrics writes (with the Go runtime metrics).
func MetricsSet() *metrics.Set { return metricsSet }

// Transport metrics (server.go, limits.go, tls.go).
var (
	httpPanics = metricsSet.NewCounter(`harbor_scanner_neuvector_http_panics_total`)

	connsRejectedMax   = metricsSet.NewCounter(`harbor_scanner_neuvector_http_connections_rejected_total{reason="max_conns"}`)
	connsRejectedPerIP = metricsSet.NewCounter(`harbor_scanner_neuvector_http_connections_rejected_total{reason="max_conns_per_ip"}`)

	tlsReloadsOK     = metricsSet.NewCounter(`harbor_scanner_neuvector_tls_reloads_total{result="ok"}`)
	tlsReloadsFailed = metricsSet.NewCounter(`harbor_scanner_neuvector_tls_reloads_total{result="error"}`)
)

// Routes are the fixed label values of the HTTP metrics: never the raw
// path, whose scan ID would make every request a new series.
const (
	routeMetadata = iota
	routeScan
	routeReport
	routeOther
	numRoutes
)

var routeNames = [numRoutes]string{"metadata", "scan", "report", "other"}

// durationBuckets (seconds) bracket Harbor's 5 s client timeout and the
// transfer of a large report.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

var httpDurations = func() (h [numRoutes]*metrics.PrometheusHistogram) {
	for i, r := range routeNames {
		h[i] = metricsSet.NewPrometheusHistogramExt(`harbor_scanner_neuvector_http_request_duration_seconds{route="`+r+`"}`, durationBuckets)
	}
	return h
}()

// httpRequests caches the counter of each (route, status code) so that the
// request path formats a metric name once per pair, not per request.
// Codes outside 100..599 share index 0.
var httpRequests [numRoutes][600]atomic.Pointer[metrics.Counter]

func httpRequestsCounter(route, code int) *metrics.Counter {
	if code < 100 || code > 599 {
		code = 0
	}
	p := &httpRequests[route][code]
	if c := p.Load(); c != nil {
		return c
	}
	c := metricsSet.GetOrCreateCounter(`harbor_scanner_neuvector_http_requests_total{route="` + routeNames[route] + `",code="` + strconv.Itoa(code) + `"}`)
	p.Store(c)
	return c
}

// observeRequest records one answered request.
func observeRequest(route, code int, d time.Duration) {
	httpRequestsCounter(route, code).Inc()
	httpDurations[route].Update(d.Seconds())
}

// routeOf classifies a request path (with or without the /endpoint prefix
// Harbor registrations of the old adapter use) without allocating.
func routeOf(path []byte) int {
	switch {
	case bytes.HasSuffix(path, suffixMetadata):
		return routeMetadata
	case bytes.HasSuffix(path, suffixScan):
		return routeScan
	case bytes.HasSuffix(path, suffixReport) && bytes.Contains(path, infixScan):
		return routeReport
	}
	return routeOther
}

var (
	suffixMetadata = []byte("/api/v1/metadata")
	suffixScan     = []byte("/api/v1/scan")
	suffixReport   = []byte("/report")
	infixScan      = []byte("/api/v1/scan/")
)
