package proxy

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Queueing (design step 2): POST /scan never waits on the controller. A
// digest not cached and not in flight becomes one task on a bounded queue
// drained by Workers goroutines; requests for a digest in flight join its
// flight instead of queueing. The queue holds distinct digests only, so its
// default bound (50,000) is far above what Harbor's scan-all keeps in flight
// (its jobservice runs ~10 jobs per replica); only past it does POST /scan
// answer 503 "scanner busy", which protects memory rather than pacing Harbor.

// scanTask is one controller scan (or report look-up) of a digest.
type scanTask struct {
	key    string        // flight key; "" for a joined job's own retry
	flight *cache.Flight // nil for a retry
	job    *cache.Job
	req    *translate.ScanRequest
	cred   controller.Cred
	sbom   bool // also build the SBOM documents
}

// flightKey names a digest under one CVE DB version (SBOM sources, SBOM
// look-ups).
func flightKey(digest, cvedb string) string { return digest + "|" + cvedb }

// wants tells which capabilities a scan request enables (none listed means
// a vulnerability scan).
func wants(req *translate.ScanRequest) (vuln, sbom bool) {
	if len(req.EnabledCapabilities) == 0 {
		return true, false
	}
	for _, c := range req.EnabledCapabilities {
		switch c.Type {
		case translate.CapabilitySBOM:
			sbom = true
		case translate.CapabilityVulnerability, "":
			vuln = true
		}
	}
	return vuln, sbom
}

// handleScan is POST /scan: authenticate, validate, issue the ID, answer 202
// at once; the scan runs in the background.
func (a *API) handleScan(ctx *fasthttp.RequestCtx) {
	if err := a.auth.check(ctx); err != nil {
		a.writeAuthError(ctx, err)
		return
	}
	if a.ctx.Err() != nil {
		writeError(ctx, newError(ErrShuttingDown, "the adapter is shutting down; retry on another replica"))
		return
	}
	req, err := translate.DecodeScanRequest(ctx.PostBody())
	if err != nil {
		writeError(ctx, err)
		return
	}
	_, wantSBOM := wants(req)
	if wantSBOM && !a.cfg.SBOM {
		writeError(ctx, newError(ErrSBOMDisabled, "the SBOM capability is switched off in this adapter"))
		return
	}
	cred := a.staticCred()
	if a.cfg.Auth == AuthPassthrough {
		if cred, err = requestCred(ctx); err != nil {
			a.writeAuthError(ctx, err)
			return
		}
	}
	now := a.cfg.Now()
	id, sid := cache.NewScanID(req.Artifact.Digest, req.Artifact.Repository, now)
	job := cache.NewJob(id, sid)
	if err := a.submit(job, req, cred, wantSBOM); err != nil {
		writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	ctx.SetContentType(translate.MimeScanResponse10)
	b := make([]byte, 0, len(id)+10)
	b = append(b, `{"id":`...)
	b = translate.AppendJSONString(b, id)
	b = append(b, '}')
	ctx.SetBody(b)
}

// submit records job and gets its result under way: from the cache, by
// joining the digest's flight, or on the queue.
func (a *API) submit(job *cache.Job, req *translate.ScanRequest, cred controller.Cred, wantSBOM bool) error {
	digest := req.Artifact.Digest
	cur := a.currentCVEDB()
	if cur != "" {
		if e, ok := a.store.Get(digest, cur); ok {
			cacheHits.Inc()
			if !wantSBOM || e.Doc(cache.KindSPDX) != nil {
				a.jobs.Add(job)
				scansSubmitted.Inc()
				scansCached.Inc()
				job.Finish(e)
				a.logScan(job, req, 0, "cached", "")
				return nil
			}
			// Scanned for vulnerabilities already: the SBOM comes from the
			// same scan's modules, no new controller scan when kept.
			if a.buildSBOMFromSource(e, artifactOf(req)) {
				a.jobs.Add(job)
				scansSubmitted.Inc()
				scansCached.Inc()
				job.Finish(e)
				a.logScan(job, req, 0, "cached", "")
				return nil
			}
		} else {
			cacheMisses.Inc()
		}
	}
	// Flights are keyed by digest alone: a request that arrives while the CVE
	// DB version is first learned, or changes, joins the scan in progress
	// rather than starting a second one.
	key := digest
	fl, leader := a.flights.Join(key)
	if !leader {
		a.jobs.Add(job)
		scansSubmitted.Inc()
		scansDeduplicated.Inc()
		go a.follow(fl, job, req, cred, wantSBOM)
		return nil
	}
	t := &scanTask{key: key, flight: fl, job: job, req: req, cred: cred, sbom: wantSBOM}
	select {
	case a.queue <- t:
		a.jobs.Add(job)
		scansSubmitted.Inc()
		return nil
	default:
		scansRejected.Inc()
		busy := newError(ErrBusy, "scanner busy: too many scans waiting for the NeuVector controller; retry later")
		a.flights.Land(key, fl, nil, busy)
		return busy
	}
}

// follow waits for the flight a job joined and finishes the job with its
// result. A flight that failed on the leader's registry credentials is
// retried once with this job's own (Harbor issues a robot account per job
// and deletes it when the job ends).
func (a *API) follow(fl *cache.Flight, job *cache.Job, req *translate.ScanRequest, cred controller.Cred, wantSBOM bool) {
	start := a.cfg.Now()
	select {
	case <-fl.Done():
	case <-a.ctx.Done():
		return
	}
	if fl.Err != nil {
		var se *controller.ScanError
		if errors.As(fl.Err, &se) && se.IsRegistryAuth() {
			t := &scanTask{job: job, req: req, cred: cred, sbom: wantSBOM}
			select {
			case a.queue <- t:
				return
			default:
			}
		}
		a.finish(job, req, start, nil, fl.Err, "failed")
		return
	}
	e := fl.Entry
	if wantSBOM && e.Doc(cache.KindSPDX) == nil && !a.buildSBOMFromSource(e, artifactOf(req)) {
		// The leader scanned for vulnerabilities only and the modules are
		// gone: look the result up or scan again, on the queue.
		select {
		case a.queue <- &scanTask{job: job, req: req, cred: cred, sbom: true}:
			return
		default:
			a.finish(job, req, start, nil, newError(ErrBusy, "scanner busy"), "failed")
			return
		}
	}
	a.finish(job, req, start, e, nil, "deduplicated")
}

// worker runs queued tasks until Shutdown.
func (a *API) worker() {
	defer a.workers.Done()
	for {
		select {
		case <-a.ctx.Done():
			return
		case t := <-a.queue:
			a.run(t)
		}
	}
}

// run executes one task and lands its flight.
func (a *API) run(t *scanTask) {
	start := a.cfg.Now()
	t.job.SetRunning()
	e, outcome, err := a.scan(t)
	if t.flight != nil {
		a.flights.Land(t.key, t.flight, e, err)
	}
	a.finish(t.job, t.req, start, e, err, outcome)
}

// finish ends a job and writes its one log line.
func (a *API) finish(job *cache.Job, req *translate.ScanRequest, start time.Time, e *cache.Entry, err error, outcome string) {
	d := a.cfg.Now().Sub(start)
	if err != nil {
		msg := scanFailureText(err, a.cfg.ScanDeadline)
		job.Fail(msg)
		scansFailed.Inc()
		a.logScan(job, req, d, "failed", msg)
		return
	}
	job.Finish(e)
	scansFinished.Inc()
	scanDuration.Update(d.Seconds())
	a.logScan(job, req, d, outcome, "")
}

// logScan writes the one line per finished scan; never a credential.
func (a *API) logScan(job *cache.Job, req *translate.ScanRequest, d time.Duration, outcome, msg string) {
	attrs := []any{"id", job.ID, "digest", req.Artifact.Digest, "repository", req.Artifact.Repository,
		"duration_seconds", math.Round(d.Seconds()*1000) / 1000, "outcome", outcome}
	if msg != "" {
		attrs = append(attrs, "error", msg)
	}
	a.log.Info("scan finished", attrs...)
}

// scanFailureText is what Harbor's job log shows for a failed scan. Only
// messages known to be free of request data are passed on.
func scanFailureText(err error, deadline time.Duration) string {
	var se *controller.ScanError
	var ae *apiError
	switch {
	case errors.As(err, &se):
		return "NeuVector scan failed: " + se.Message
	case errors.As(err, &ae):
		return ae.msg
	case errors.Is(err, context.DeadlineExceeded):
		return "scan did not finish within " + deadline.String()
	case errors.Is(err, context.Canceled):
		return "scan abandoned: the adapter is shutting down"
	case errors.Is(err, controller.ErrPasswordReset):
		return "the NeuVector user must reset its password before the adapter can scan with it"
	case errors.Is(err, controller.ErrAuth):
		return "the NeuVector controller refused the adapter's credentials"
	case errors.Is(err, controller.ErrForbidden):
		return "the NeuVector user may not scan repositories: it needs the ci_scan write permission"
	case errors.Is(err, controller.ErrUnavailable):
		return "the NeuVector controller REST API is not reachable"
	}
	return "scan failed: internal error"
}

// artifactOf is the report's artifact (Harbor ignores it; kept faithful).
func artifactOf(req *translate.ScanRequest) translate.Artifact {
	return translate.Artifact{
		Repository: req.Artifact.Repository,
		Digest:     req.Artifact.Digest,
		Tag:        req.Artifact.Tag,
		MimeType:   req.Artifact.MimeType,
	}
}

// scan produces the entry of a task: from _repo_scan / fed._repo_scan when
// the controller already holds a result with the current CVE DB, else from
// a controller scan, bounded by the ID's deadline.
func (a *API) scan(t *scanTask) (*cache.Entry, string, error) {
	ctx, cancel := context.WithDeadline(a.ctx, t.job.SID.IssuedAt.Add(a.cfg.ScanDeadline))
	defer cancel()
	scanReq, err := a.controllerRequest(t.req)
	if err != nil {
		return nil, "failed", err
	}
	sess, release, err := a.acquire(ctx, t.cred)
	if err != nil {
		return nil, "failed", err
	}
	defer release()
	if a.currentCVEDB() == "" {
		// First scan before any summary read: learn the version so the
		// look-ups and the cache can work.
		if sum, err := a.client.Summary(ctx, sess); err == nil {
			a.noteCVEDB(sum.CVEDBVersion, sum.CVEDBCreateTime)
		}
	}
	art := artifactOf(t.req)
	if cur := a.currentCVEDB(); cur != "" {
		if e, ok := a.store.Get(art.Digest, cur); ok && (!t.sbom || a.buildSBOMFromSource(e, art)) {
			return e, "cached", nil
		}
		rep, scannedAt := a.lookupReport(ctx, sess, art.Digest, func(s *translate.RegistryImageSummary) bool {
			return s.ScannerVersion == cur
		})
		if rep != nil {
			scansRecovered.Inc()
			return a.storeReport(rep, art, scannedAt, t.sbom, false), "recovered", nil
		}
	}
	rep, err := a.client.ScanRepository(ctx, sess, scanReq)
	if err != nil {
		return nil, "failed", err
	}
	return a.storeReport(rep, art, a.cfg.Now(), t.sbom, true), "scanned", nil
}

// acquire gets a controller session for cred, waiting out a controller that
// is briefly away (restart) until ctx ends.
func (a *API) acquire(ctx context.Context, cred controller.Cred) (*controller.Session, func(), error) {
	backoff := 500 * time.Millisecond
	for {
		sess, release, err := a.session(ctx, cred)
		if err == nil {
			return sess, release, nil
		}
		if !errors.Is(err, controller.ErrUnavailable) {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 15*time.Second)
	}
}

// controllerRequest builds POST /v1/scan/repository's request: the registry
// URL rewritten by the mapping, the robot's Basic credentials decoded, the
// digest as the tag, no layers.
func (a *API) controllerRequest(req *translate.ScanRequest) (*translate.ScanRepoRequest, error) {
	r := &translate.ScanRepoRequest{
		Registry:    a.mapRegistry(req.Registry.URL),
		Repository:  req.Artifact.Repository,
		Tag:         req.Artifact.Digest,
		ScanLayers:  false,
		IgnoreProxy: a.cfg.IgnoreProxy,
	}
	authz := strings.TrimSpace(req.Registry.Authorization)
	switch {
	case authz == "":
		// Anonymous pull.
	case len(authz) > 7 && strings.EqualFold(authz[:7], "bearer "):
		return nil, newError(ErrScanFailed, "registry.authorization is a Bearer token, which the NeuVector "+
			"controller cannot use: this adapter advertises registry-authorization-type Basic; check that "+
			"Harbor's scanner registration uses it")
	default:
		user, pass, ok := translate.DecodeBasicAuth(authz)
		if !ok {
			return nil, newError(ErrScanFailed, "registry.authorization is not a valid Basic credential")
		}
		r.Username, r.Password = user, pass
	}
	return r, nil
}

// mapRegistry rewrites a Harbor registry URL by the longest matching prefix
// of RegistryMap.
func (a *API) mapRegistry(u string) string {
	best := ""
	for from := range a.cfg.RegistryMap {
		if len(from) > len(best) && strings.HasPrefix(u, strings.TrimRight(from, "/")) {
			rest := u[len(strings.TrimRight(from, "/")):]
			if rest == "" || rest[0] == '/' {
				best = from
			}
		}
	}
	if best == "" {
		return u
	}
	return strings.TrimRight(a.cfg.RegistryMap[best], "/") + u[len(strings.TrimRight(best, "/")):]
}

// lookupReport finds a finished result of digest in _repo_scan, then
// fed._repo_scan (results a federation primary shared), that accept takes.
// Look-ups stop after a 403 (the user lacks reg_scan read) and are tried
// again after lookupRetry.
func (a *API) lookupReport(ctx context.Context, sess *controller.Session, digest string,
	accept func(*translate.RegistryImageSummary) bool) (*translate.ScanRepoReport, time.Time) {
	if !a.lookupsAllowed() {
		return nil, time.Time{}
	}
	for _, reg := range [...]string{"_repo_scan", "fed._repo_scan"} {
		sum, err := a.client.FindImage(ctx, sess, reg, digest)
		if err != nil {
			if errors.Is(err, controller.ErrForbidden) {
				a.forbidLookups()
				return nil, time.Time{}
			}
			a.log.Debug("repository scan look-up failed", "registry", reg, "digest", digest, "error", err.Error())
			continue
		}
		if sum == nil || (sum.Status != "" && sum.Status != "finished") || !accept(sum) {
			continue
		}
		rep, err := a.client.ImageReport(ctx, sess, reg, sum.ImageID)
		if err != nil {
			if errors.Is(err, controller.ErrForbidden) {
				a.forbidLookups()
				return nil, time.Time{}
			}
			a.log.Debug("repository scan report read failed", "registry", reg, "digest", digest, "error", err.Error())
			continue
		}
		a.lookupsForbidden.Store(false)
		scannedAt := time.Unix(sum.ScannedTimeStamp, 0)
		if sum.ScannedTimeStamp == 0 {
			scannedAt = a.cfg.Now()
		}
		return repoReport(sum, rep), scannedAt
	}
	return nil, time.Time{}
}

// lookupRetry is how long look-ups stay off after a 403, so a role fixed by
// the operator is picked up without a restart.
const lookupRetry = 10 * time.Minute

func (a *API) lookupsAllowed() bool {
	until := a.lookupsOffUntil.Load()
	return until == 0 || a.cfg.Now().UnixNano() >= until
}

func (a *API) forbidLookups() {
	a.lookupsOffUntil.Store(a.cfg.Now().Add(lookupRetry).UnixNano())
	lookupsForbiddenTotal.Inc()
	if a.lookupsForbidden.CompareAndSwap(false, true) {
		a.log.Warn("the NeuVector user may not read repository scan results (reg_scan read): " +
			"scans go on, but results in _repo_scan and fed._repo_scan are not reused")
	}
}

// repoReport rebuilds a scan report from a look-up: the summary carries the
// image metadata that RESTScanReport lacks.
func repoReport(s *translate.RegistryImageSummary, r *translate.ScanReport) *translate.ScanRepoReport {
	return &translate.ScanRepoReport{
		ImageID:         s.ImageID,
		Registry:        s.Domain,
		Repository:      s.Repository,
		Tag:             s.Tag,
		Digest:          s.Digest,
		Size:            s.Size,
		Author:          s.Author,
		BaseOS:          s.BaseOS,
		CreatedAt:       s.CreatedAt,
		CVEDBVersion:    s.ScannerVersion,
		CVEDBCreateTime: s.CVEDBCreateTime,
		OSScanStatus:    r.OSScanStatus,
		Vulnerabilities: r.Vulnerabilities,
		Modules:         r.Modules,
		Checks:          r.Checks,
		Secrets:         r.Secrets,
		SetidPerms:      r.SetidPerms,
		Envs:            r.Envs,
		Labels:          r.Labels,
		Cmds:            r.Cmds,
		SignatureData:   r.SignatureData,
	}
}

// storeReport translates and encodes a controller report once, keeps it in
// the cache under (digest, the report's CVE DB version), and keeps its
// module inventory for a later SBOM. A fresh scan's CVE DB version is the
// controller's current one (noteDB); a looked-up result's may be older.
func (a *API) storeReport(rep *translate.ScanRepoReport, art translate.Artifact, scannedAt time.Time, sbom, noteDB bool) *cache.Entry {
	if noteDB {
		a.noteCVEDB(rep.CVEDBVersion, rep.CVEDBCreateTime)
	}
	now := a.cfg.Now()
	// The fused path: same bytes as EncodeVulnReport(NewVulnReport(…)),
	// without the intermediate report.
	ch := translate.EncodeScanRepoReport(rep, art, now, translate.Options{
		Scanner:           a.cfg.Scanner,
		FeedBasedSeverity: a.cfg.FeedBasedSeverity,
	})
	e := a.store.NewEntry(art.Digest, rep.CVEDBVersion, scannedAt)
	e.SetDoc(cache.KindVuln, a.vulnDoc(ch))
	if a.cfg.SBOM {
		if sbom {
			a.buildSBOM(e, rep, art)
		} else {
			a.sources.put(flightKey(art.Digest, rep.CVEDBVersion), rep)
		}
	}
	if rep.CVEDBVersion != "" {
		a.store.Put(e)
	}
	return e
}

// flatItems is the finding count from which a report is stored as one
// piece instead of interned findings. Sharing findings is what lets 10,000
// typical reports fit the budget; a report of thousands of findings is
// rare, is served gathered from thousands of scattered chunks otherwise,
// and compresses about three times better as one stream (smaller on the
// wire within Harbor's 5 s).
const flatItems = 1000

// vulnDoc stores an encoded vulnerability report in the cache's form.
func (a *API) vulnDoc(ch translate.Chunks) *cache.Doc {
	if len(ch.Items) >= flatItems {
		return a.store.NewDoc(ch.Bytes(), nil, nil)
	}
	return a.store.NewDoc(ch.Head, ch.Items, ch.Tail)
}

// buildSBOM encodes both SBOM documents of a scan onto e.
func (a *API) buildSBOM(e *cache.Entry, rep *translate.ScanRepoReport, art translate.Artifact) bool {
	now := a.cfg.Now()
	for _, k := range [...]struct {
		kind  cache.Kind
		media string
	}{{cache.KindSPDX, translate.MediaSPDX}, {cache.KindCycloneDX, translate.MediaCycloneDX}} {
		b, err := translate.EncodeSbomReport(rep, art, k.media, a.cfg.Scanner, now)
		if err != nil {
			a.log.Error("SBOM encoding failed", "digest", art.Digest, "media_type", k.media, "error", err.Error())
			return false
		}
		e.SetDoc(k.kind, a.store.NewDoc(b, nil, nil))
	}
	sbomBuiltTotal.Inc()
	return true
}

// buildSBOMFromSource builds e's SBOM documents from the modules kept of its
// scan; false when they are no longer kept.
func (a *API) buildSBOMFromSource(e *cache.Entry, art translate.Artifact) bool {
	if e.Doc(cache.KindSPDX) != nil {
		return true
	}
	rep, ok := a.sources.get(flightKey(e.Digest, e.CVEDB))
	if !ok {
		return false
	}
	return a.buildSBOM(e, rep, art)
}

// sbomSources keeps, bounded by bytes, the module inventories of recent
// vulnerability-only scans: an SBOM asked for later is built from them with
// no controller call. Older ones are rebuilt from _repo_scan (which keeps
// modules) or, failing that, by a new scan.
type sbomSources struct {
	mu     sync.Mutex
	lru    *simplelru.LRU[string, *translate.ScanRepoReport]
	sizes  map[string]int64
	bytes  int64
	budget int64
}

func newSBOMSources(budget int64) *sbomSources {
	s := &sbomSources{budget: budget, sizes: make(map[string]int64)}
	l, _ := simplelru.NewLRU[string, *translate.ScanRepoReport](math.MaxInt32, func(k string, _ *translate.ScanRepoReport) {
		s.bytes -= s.sizes[k]
		delete(s.sizes, k)
	})
	s.lru = l
	return s
}

// put keeps what an SBOM needs of rep (no vulnerabilities, layers or checks).
func (s *sbomSources) put(key string, rep *translate.ScanRepoReport) {
	src := &translate.ScanRepoReport{
		ImageID: rep.ImageID, Registry: rep.Registry, Repository: rep.Repository, Tag: rep.Tag,
		Digest: rep.Digest, Size: rep.Size, Author: rep.Author, BaseOS: rep.BaseOS,
		CreatedAt: rep.CreatedAt, CVEDBVersion: rep.CVEDBVersion, CVEDBCreateTime: rep.CVEDBCreateTime,
		OSScanStatus: rep.OSScanStatus, Modules: rep.Modules, Labels: rep.Labels,
	}
	size := int64(512 + len(key))
	for i := range src.Modules {
		m := &src.Modules[i]
		size += int64(96 + len(m.Name) + len(m.File) + len(m.Version) + len(m.Source))
		for _, c := range m.CVEs {
			size += int64(32 + len(c.Name) + len(c.Status))
		}
		for _, c := range m.CPEs {
			size += int64(16 + len(c))
		}
	}
	if size > s.budget {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.sizes[key]; ok {
		s.bytes -= old
	}
	s.lru.Add(key, src)
	s.sizes[key] = size
	s.bytes += size
	for s.bytes > s.budget {
		if _, _, ok := s.lru.RemoveOldest(); !ok {
			break
		}
	}
}

func (s *sbomSources) get(key string) (*translate.ScanRepoReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Get(key)
}
