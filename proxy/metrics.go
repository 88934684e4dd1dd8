package proxy

import (
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
