package proxy

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Metrics of the Harbor API beyond those of metrics.go; all live in
// metricsSet, which /metrics writes.
var (
	// scansRejected counts POST /scan answered 503 because the queue is full.
	scansRejected = metricsSet.NewCounter(`harbor_scanner_neuvector_scans_total{result="rejected"}`)
	// scanDuration is the time from a worker taking a scan to its end.
	scanDuration = metricsSet.NewHistogram(`harbor_scanner_neuvector_scan_duration_seconds`)
	// sbomBuiltTotal counts SBOM document pairs built.
	sbomBuiltTotal = metricsSet.NewCounter(`harbor_scanner_neuvector_sbom_builds_total`)
	// lookupsForbiddenTotal counts _repo_scan look-ups refused with 403.
	lookupsForbiddenTotal = metricsSet.NewCounter(`harbor_scanner_neuvector_lookups_forbidden_total`)
	// cvedbErrors counts failed CVE DB version reads.
	cvedbErrors = metricsSet.NewCounter(`harbor_scanner_neuvector_cvedb_refresh_errors_total`)
	// reportsRecovered counts report requests for IDs this process did not
	// issue (another replica, a restart) answered 200.
	reportsRecovered = metricsSet.NewCounter(`harbor_scanner_neuvector_reports_recovered_total`)
	// reportsLost counts report requests answered 404 "scan lost".
	reportsLost = metricsSet.NewCounter(`harbor_scanner_neuvector_reports_lost_total`)
)

// ObserveController records one controller call; plug it into
// controller.Config.Observe. endpoint is one of the client's fixed names.
func ObserveController(endpoint string, status int, d time.Duration) {
	metricsSet.GetOrCreateHistogram(`harbor_scanner_neuvector_controller_request_duration_seconds{endpoint="` +
		endpoint + `"}`).Update(d.Seconds())
	if status == 0 || status >= 400 {
		code := "network"
		if status != 0 {
			code = strconv.Itoa(status)
		}
		metricsSet.GetOrCreateCounter(`harbor_scanner_neuvector_controller_errors_total{code="` + code + `"}`).Inc()
	}
}

// WriteMetrics writes the cache gauges (Prometheus text) for the ops
// listener's /metrics hook (ServerConfig.WriteMetrics).
func (a *API) WriteMetrics(w io.Writer) {
	st := a.store.Stats()
	fmt.Fprintf(w, "harbor_scanner_neuvector_cache_bytes %d\n", st.Bytes)
	fmt.Fprintf(w, "harbor_scanner_neuvector_cache_entries %d\n", st.Entries)
	fmt.Fprintf(w, "harbor_scanner_neuvector_cache_evictions_total %d\n", st.Evictions)
	fmt.Fprintf(w, "harbor_scanner_neuvector_cache_budget_bytes %d\n", a.cfg.CacheBytes)
	lf := 0
	if a.lookupsForbidden.Load() {
		lf = 1
	}
	fmt.Fprintf(w, "harbor_scanner_neuvector_lookups_forbidden %d\n", lf)
}
