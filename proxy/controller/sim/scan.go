package sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// replica is one controller process: its own long-poll jobs, queue and
// workers (controller-api.md §13.3: the jobs map is per process).
type replica struct {
	s   *Sim
	idx int
	url string
	srv *http.Server

	mu    sync.Mutex
	jobs  map[string]*job
	queue chan *job
}

// job is one long-poll scan job (longpollOnceMgr). done is closed when
// body/status are set.
type job struct {
	req     translate.ScanRepoRequest
	digest  string
	done    chan struct{}
	status  int
	body    []byte
	created time.Time
}

func newReplica(s *Sim, idx int) *replica {
	return &replica{s: s, idx: idx, jobs: map[string]*job{}, queue: make(chan *job, s.cfg.QueueCap)}
}

func (rp *replica) start() {
	for range rp.s.cfg.Workers {
		rp.s.wg.Add(1)
		go rp.worker()
	}
	rp.s.wg.Add(1)
	go rp.janitor()
}

func (rp *replica) pending() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.jobs)
}

// janitor drops delivered-to-nobody jobs older than an hour, as the
// controller's stale job cleanup does.
func (rp *replica) janitor() {
	defer rp.s.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-rp.s.done:
			return
		case now := <-t.C:
			rp.mu.Lock()
			for k, j := range rp.jobs {
				if now.Sub(j.created) > time.Hour {
					delete(rp.jobs, k)
				}
			}
			rp.mu.Unlock()
		}
	}
}

// Scan request errors; the controller's messages for them are in
// requestErrorMessage.
var (
	errInvalidRegistry = errors.New("sim: invalid registry URL")
	errNoRepository    = errors.New("sim: no repository name")
	errWrongFormat     = errors.New("sim: request in wrong format")
)

// requestErrorMessage is the controller's 400 code 6 message for err.
func requestErrorMessage(err error) string {
	switch {
	case errors.Is(err, errInvalidRegistry):
		return "Invalid Registry URL"
	case errors.Is(err, errNoRepository):
		return "No repository name provided"
	}
	return "" // the code's fixed text
}

// decodeScanRequest decodes and normalises a POST /v1/scan/repository body
// as the controller does.
func decodeScanRequest(body []byte) (*translate.ScanRepoRequest, error) {
	var d translate.ScanRepoReqData
	if err := json.Unmarshal(body, &d); err != nil || d.Request == nil {
		return nil, errWrongFormat
	}
	req := d.Request
	if req.Registry != "" { // "" is a local image on the controller host
		u, err := url.Parse(req.Registry)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errInvalidRegistry
		}
		if !strings.HasSuffix(req.Registry, "/") {
			req.Registry += "/"
		}
		if isDockerHub(u.Host) && !strings.Contains(req.Repository, "/") && req.Repository != "" {
			req.Repository = "library/" + req.Repository
		}
	}
	if req.Repository == "" {
		return nil, errNoRepository
	}
	if req.Tag == "" {
		req.Tag = "latest"
	}
	return req, nil
}

func isDockerHub(host string) bool {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return true
	}
	return false
}

// digestOf is the manifest digest a scan resolves: the tag itself when it
// is a digest, otherwise a stable digest of the reference.
func digestOf(req *translate.ScanRepoRequest) string {
	if strings.HasPrefix(req.Tag, "sha256:") {
		return req.Tag
	}
	sum := sha256.Sum256([]byte(req.Registry + req.Repository + ":" + req.Tag))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// jobKey is the full request plus the caller's token.
func jobKey(req *translate.ScanRepoRequest, token string) string {
	b, _ := json.Marshal(req)
	return string(b) + "\x00" + token
}

func (rp *replica) handleScanRepository(w http.ResponseWriter, r *http.Request, _ []string) {
	s := rp.s
	c, ok := rp.authorize(w, r, "ci_scan", true)
	if !ok {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, "")
		return
	}
	req, err := decodeScanRequest(body)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, translate.CodeWrongFormat, requestErrorMessage(err))
		return
	}
	key := jobKey(req, c.token)

	rp.mu.Lock()
	j := rp.jobs[key]
	if j == nil {
		j = &job{req: *req, digest: digestOf(req), done: make(chan struct{}), created: time.Now()}
		select {
		case rp.queue <- j:
			rp.jobs[key] = j
			s.st.scansQueued.Add(1)
		default:
			rp.mu.Unlock()
			s.st.scansRejected.Add(1)
			writeError(w, r, http.StatusTooManyRequests, translate.CodeFailScanRepository,
				fmt.Sprintf("Maximum concurrent scan limit (%d) reached.", s.cfg.Workers))
			return
		}
	} else {
		s.st.jobsJoined.Add(1)
	}
	rp.mu.Unlock()

	timer := time.NewTimer(s.cfg.LongPoll)
	defer timer.Stop()
	select {
	case <-j.done:
		// Only one poller receives the result; the job is removed with it.
		rp.mu.Lock()
		mine := rp.jobs[key] == j
		if mine {
			delete(rp.jobs, key)
		}
		rp.mu.Unlock()
		if mine {
			writeBody(w, r, j.status, j.body)
			return
		}
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	case <-timer.C:
	case <-r.Context().Done():
		return // the job stays; its result waits for the next identical POST
	case <-s.done:
		return
	}
	s.st.polls304.Add(1)
	w.WriteHeader(http.StatusNotModified)
}

func (rp *replica) worker() {
	defer rp.s.wg.Done()
	for {
		select {
		case <-rp.s.done:
			return
		case j := <-rp.queue:
			rp.s.st.scansQueued.Add(-1)
			rp.s.run(j)
		}
	}
}

// run scans: every scan takes the latency current at its start, then
// fails on a fault set for the digest, then on registry credentials, or
// succeeds and is stored in _repo_scan.
func (s *Sim) run(j *job) {
	s.st.scansStarted.Add(1)
	s.st.scansRunning.Add(1)
	defer s.st.scansRunning.Add(-1)
	if d := time.Duration(s.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return
		}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-s.done:
			return
		}
	}
	s.mu.Lock()
	f, faulty := s.faults[j.digest]
	cvedb, cvedbAt := s.cvedb, s.cvedbAt
	s.mu.Unlock()
	switch {
	case faulty:
		s.finishError(j, f.code, f.message)
		return
	case !s.registryAuthOK(&j.req):
		s.finishError(j, translate.CodeFailScanRepository, "authentication error")
		return
	}
	s.log.Debug("scan finished", "digest", j.digest, "repository", j.req.Repository)
	rep := generate(j.digest, j.req.Repository, j.req.Registry, j.req.Tag, s.cfg.Vulns, cvedb, cvedbAt)
	body, err := json.Marshal(translate.ScanRepoReportData{Report: rep})
	if err != nil {
		s.finishError(j, translate.CodeServerError, "")
		return
	}
	s.repo.put(rep, body, time.Now())
	s.st.scansFinished.Add(1)
	j.status, j.body = http.StatusOK, body
	close(j.done)
}

func (s *Sim) finishError(j *job, code int, message string) {
	s.st.scansFailed.Add(1)
	text := translate.ControllerErrorText(code)
	if code == translate.CodeClusterRPCError || message == "" {
		message = text // code 24 carries no detail on the real controller
	}
	s.log.Info("scan failed", "digest", j.digest, "repository", j.req.Repository, "code", code, "message", message)
	j.status = http.StatusInternalServerError
	j.body, _ = json.Marshal(translate.RESTError{Code: code, Error: text, Message: message})
	close(j.done)
}

func (s *Sim) registryAuthOK(req *translate.ScanRepoRequest) bool {
	if s.cfg.RegistryAuth == "" {
		return true
	}
	got := req.Username + ":" + req.Password
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.RegistryAuth)) == 1
}

func (rp *replica) handleSummary(w http.ResponseWriter, r *http.Request, _ []string) {
	s := rp.s
	c, ok := rp.authorize(w, r, "", false)
	if !ok {
		return
	}
	cvedb, at := s.cvedbNow()
	sum := summaryBody{SystemSummary: translate.SystemSummary{CVEDBVersion: cvedb, CVEDBCreateTime: at}}
	// Component counts need the config permission (§13.6).
	if allowed(c.perms, "config", false) {
		s.mu.Lock()
		sum.Controllers = len(s.replicas)
		s.mu.Unlock()
		sum.Hosts = 1
		if cvedb != "" {
			sum.Scanners = 1
		}
		sum.Enforcers = 1
	}
	writeJSON(w, r, http.StatusOK, struct {
		Summary *summaryBody `json:"summary"`
	}{&sum})
}

// summaryBody is RESTSystemSummary: what the adapter reads plus a few of
// the other fields, for shape.
type summaryBody struct {
	translate.SystemSummary
	Enforcers       int `json:"enforcers"`
	Workloads       int `json:"workloads"`
	RunningWorkload int `json:"running_workloads"`
	RunningPods     int `json:"running_pods"`
	Services        int `json:"services"`
	PolicyRules     int `json:"policy_rules"`
}
