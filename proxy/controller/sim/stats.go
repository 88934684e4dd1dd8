package sim

import (
	"net/http"
	"sync/atomic"
)

// Stats is what the simulator was asked to do, for tests to assert on
// ("one scan, not a hundred"). It is also the body of GET /sim/stats; with
// several listeners it counts the whole cluster.
type Stats struct {
	ScansStarted      int64            `json:"scans_started"`      // scans a worker began
	ScansFinished     int64            `json:"scans_finished"`     // scans that produced a report
	ScansFailed       int64            `json:"scans_failed"`       // scans that ended in an error (faults, registry auth)
	ScansRejected429  int64            `json:"scans_rejected_429"` // POSTs refused because the queue was full
	ScansRunning      int64            `json:"scans_running"`      // scans in a worker now
	ScansQueued       int64            `json:"scans_queued"`       // jobs waiting for a worker now
	JobsPending       int              `json:"jobs_pending"`       // long-poll jobs not yet delivered
	JobsJoined        int64            `json:"jobs_joined"`        // POSTs that found their job pending
	Polls304          int64            `json:"polls_304"`          // long-polls answered 304
	Logins            int64            `json:"logins"`             // tokens issued
	Logouts           int64            `json:"logouts"`
	LoginFailures     int64            `json:"login_failures"`
	ActiveSessions    int              `json:"active_sessions"`
	RepoScanImages    int              `json:"repo_scan_images"`
	FedRepoScanImages int              `json:"fed_repo_scan_images"`
	FedPolls          int64            `json:"fed_polls"`       // poll rounds a managed sim made
	FedPollErrors     int64            `json:"fed_poll_errors"` // rounds that failed
	CVEDBVersion      string           `json:"cvedb_version"`
	Replicas          int              `json:"replicas"`
	RequestsByPath    map[string]int64 `json:"requests_by_path"` // "METHOD pattern", "404", "405"
}

type counters struct {
	scansStarted, scansFinished, scansFailed, scansRejected atomic.Int64
	scansRunning, scansQueued, jobsJoined, polls304         atomic.Int64
	logins, logouts, loginFailures                          atomic.Int64
	fedPolls, fedPollErrors                                 atomic.Int64
	byPath                                                  map[string]*atomic.Int64
}

func (c *counters) init() {
	c.byPath = map[string]*atomic.Int64{"404": {}, "405": {}}
	for _, rt := range routes {
		c.byPath[rt.method+" "+rt.pattern] = &atomic.Int64{}
	}
}

// count is lock-free: the key set is fixed at start.
func (c *counters) count(key string) {
	if n := c.byPath[key]; n != nil {
		n.Add(1)
	}
}

// Stats returns the counters (the same as GET /sim/stats).
func (s *Sim) Stats() Stats {
	st := Stats{
		ScansStarted:      s.st.scansStarted.Load(),
		ScansFinished:     s.st.scansFinished.Load(),
		ScansFailed:       s.st.scansFailed.Load(),
		ScansRejected429:  s.st.scansRejected.Load(),
		ScansRunning:      s.st.scansRunning.Load(),
		ScansQueued:       s.st.scansQueued.Load(),
		JobsJoined:        s.st.jobsJoined.Load(),
		Polls304:          s.st.polls304.Load(),
		Logins:            s.st.logins.Load(),
		Logouts:           s.st.logouts.Load(),
		LoginFailures:     s.st.loginFailures.Load(),
		ActiveSessions:    s.auth.active(),
		RepoScanImages:    s.repo.len(),
		FedRepoScanImages: s.fed.len(),
		FedPolls:          s.st.fedPolls.Load(),
		FedPollErrors:     s.st.fedPollErrors.Load(),
		RequestsByPath:    make(map[string]int64, len(s.st.byPath)),
	}
	st.CVEDBVersion, _ = s.cvedbNow()
	s.mu.Lock()
	st.Replicas = len(s.replicas)
	reps := s.replicas
	s.mu.Unlock()
	for _, rp := range reps {
		st.JobsPending += rp.pending()
	}
	for k, v := range s.st.byPath {
		if n := v.Load(); n > 0 {
			st.RequestsByPath[k] = n
		}
	}
	return st
}

func (rp *replica) handleStats(w http.ResponseWriter, r *http.Request, _ []string) {
	writeJSON(w, r, http.StatusOK, rp.s.Stats())
}
