package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// recoveryWait is how long a report request for an ID this process does
// not hold waits for the controller look-up before answering 302; well
// inside Harbor's 5 s per call.
const recoveryWait = 2 * time.Second

// recoveryRetry spaces look-ups of one digest so that Harbor's polling does
// not turn into a controller call per poll.
const recoveryRetry = 5 * time.Second

var (
	headerRefreshAfter = []byte("Refresh-After")
	queryKeySBOM       = []byte("sbom_media_type")
	gzipToken          = []byte("gzip")
)

// msgBadAccept lists what the report endpoint serves.
const msgBadAccept = "unsupported Accept header: this adapter serves " + translate.MimeVuln11 + ", " +
	translate.MimeVulnHarbor10 + " and " + translate.MimeSBOMReport10

// b2s views b as a string without copying, for map look-ups that do not
// keep the key (the hot report path allocates nothing).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// handleReport is GET /scan/{id}/report (design step 4). The path of a
// finished job allocates nothing and encodes nothing.
func (a *API) handleReport(ctx *fasthttp.RequestCtx, id []byte) {
	if err := a.auth.check(ctx); err != nil {
		a.writeAuthError(ctx, err)
		return
	}
	kind, ct, err := translate.ParseReportAccept(ctx.Request.Header.Peek(fasthttp.HeaderAccept))
	if err != nil {
		writeError(ctx, newError(translate.ErrBadAccept, msgBadAccept))
		return
	}
	docKind := cache.KindVuln
	if kind == translate.ReportSBOM {
		if !a.cfg.SBOM {
			writeError(ctx, newError(ErrSBOMDisabled, "the SBOM capability is switched off in this adapter"))
			return
		}
		k, ok := sbomMediaType(ctx.URI().QueryString())
		if !ok {
			writeError(ctx, newError(ErrBadQuery, "an SBOM report needs the query parameter sbom_media_type="+
				translate.MediaSPDX+" or "+translate.MediaCycloneDX))
			return
		}
		docKind = k
	}
	job, ok := a.jobs.Get(b2s(id))
	if !ok {
		a.reportUnknown(ctx, string(id), docKind, ct)
		return
	}
	st, e, msg := job.State()
	switch st {
	case cache.JobDone:
		if e == nil { // evicted from the cache since: find it by digest
			a.reportUnknown(ctx, string(id), docKind, ct)
			return
		}
		a.serveEntry(ctx, job.SID, e, docKind, ct)
	case cache.JobFailed:
		writeErrorStatus(ctx, fasthttp.StatusInternalServerError, msg)
	default:
		a.notReady(ctx)
	}
}

// sbomMediaType reads sbom_media_type from the raw query. It decodes %XX
// itself because fasthttp's parser turns '+' into a space, and a '+' typed
// by hand in application/spdx+json must stay a '+'.
func sbomMediaType(query []byte) (cache.Kind, bool) {
	for len(query) > 0 {
		var pair []byte
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			pair, query = query, nil
		}
		eq := bytes.IndexByte(pair, '=')
		if eq < 0 || !bytes.Equal(pair[:eq], queryKeySBOM) {
			continue
		}
		var buf [64]byte
		v, ok := percentDecode(buf[:0], pair[eq+1:])
		if !ok {
			return 0, false
		}
		switch string(v) { // no allocation: compared, not kept
		case translate.MediaSPDX:
			return cache.KindSPDX, true
		case translate.MediaCycloneDX:
			return cache.KindCycloneDX, true
		}
		return 0, false
	}
	return 0, false
}

// percentDecode appends the %XX-decoded v to dst ('+' stays '+'); false on
// a bad escape or when the value outgrows dst's capacity.
func percentDecode(dst, v []byte) ([]byte, bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' {
			if i+2 >= len(v) {
				return nil, false
			}
			h, l := unhex(v[i+1]), unhex(v[i+2])
			if h < 0 || l < 0 {
				return nil, false
			}
			c = byte(h<<4 | l)
			i += 2
		}
		if len(dst) == cap(dst) {
			return nil, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// notReady answers 302 with Refresh-After and Location = the request URI,
// empty body (harbor-contract.md §13 item 10).
func (a *API) notReady(ctx *fasthttp.RequestCtx) {
	ctx.Response.ResetBody()
	ctx.SetStatusCode(fasthttp.StatusFound)
	ctx.Response.Header.SetCanonical(headerRefreshAfter, a.refreshAfter)
	ctx.Response.Header.SetBytesV(fasthttp.HeaderLocation, ctx.RequestURI())
}

// serveEntry writes a finished report: the stored bytes, gzip as they are
// when the client accepts it.
func (a *API) serveEntry(ctx *fasthttp.RequestCtx, sid cache.ScanID, e *cache.Entry, k cache.Kind, ct string) {
	doc := e.Doc(k)
	if doc == nil {
		// An SBOM of a scan done for vulnerabilities only.
		if e = a.sbomEntry(ctx, sid, e, k); e == nil {
			return
		}
		doc = e.Doc(k)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(ct)
	st := docStreams.Get().(*docStream)
	st.doc = doc
	size := doc.PlainLen()
	if bytes.Contains(ctx.Request.Header.Peek(fasthttp.HeaderAcceptEncoding), gzipToken) {
		ctx.Response.Header.SetContentEncoding("gzip")
		st.gzip = true
		size = doc.GzipLen()
	}
	ctx.Response.SetBodyStream(st, size)
}

// docStream streams a cached document straight from its chunks to the
// connection: no per-request copy of a report that may be tens of MB into
// a response buffer, no allocation (streams are pooled; fasthttp closes
// them once written).
type docStream struct {
	doc  *cache.Doc
	gzip bool
	rd   *bytes.Reader // only when something Reads instead of WriteTo
	co   coalescer     // kept across pool uses with its buffer
}

var docStreams = sync.Pool{New: func() any {
	return &docStream{co: coalescer{buf: make([]byte, 0, coalesceSize)}}
}}

// coalesceSize is the block a document's many small chunks are gathered
// into before they reach the connection's writer: a write this large
// bypasses fasthttp's 4 KiB bufio buffer, so a 40 MB report costs hundreds
// of syscalls, not ten thousand.
const coalesceSize = 64 << 10

// coalescer gathers small writes into blocks of coalesceSize.
type coalescer struct {
	w   io.Writer
	buf []byte
	err error
}

func (c *coalescer) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(c.buf)+len(p) > cap(c.buf) {
		c.flush()
		if len(p) >= cap(c.buf) {
			if _, c.err = c.w.Write(p); c.err != nil {
				return 0, c.err
			}
			return len(p), nil
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *coalescer) flush() {
	if len(c.buf) > 0 && c.err == nil {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
}

// WriteTo is what fasthttp's fixed-size body writer uses.
func (s *docStream) WriteTo(w io.Writer) (int64, error) {
	s.co.w, s.co.err = w, nil
	n := int64(s.doc.PlainLen())
	if s.gzip {
		n = int64(s.doc.GzipLen())
		_ = s.doc.WriteGzip(&s.co)
	} else {
		_ = s.doc.WritePlain(&s.co)
	}
	s.co.flush()
	err := s.co.err
	s.co.w = nil
	return n, err
}

// Read serves readers that do not use WriterTo (Response.Body() in tests).
func (s *docStream) Read(p []byte) (int, error) {
	if s.rd == nil {
		if s.gzip {
			s.rd = bytes.NewReader(s.doc.AppendGzip(nil))
		} else {
			s.rd = bytes.NewReader(s.doc.AppendPlain(nil))
		}
	}
	return s.rd.Read(p)
}

// Close returns the stream to the pool.
func (s *docStream) Close() error {
	s.doc, s.gzip, s.rd = nil, false, nil
	s.co = coalescer{buf: s.co.buf[:0]}
	docStreams.Put(s)
	return nil
}

// sbomEntry returns an entry of e's scan that has document k, building it
// from the kept modules, or from _repo_scan in the background (answering
// 302 meanwhile, or 500 when that failed). nil means already answered.
func (a *API) sbomEntry(ctx *fasthttp.RequestCtx, sid cache.ScanID, e *cache.Entry, k cache.Kind) *cache.Entry {
	art := translate.Artifact{Repository: sid.Repository, Digest: e.Digest}
	if a.buildSBOMFromSource(e, art) {
		return e
	}
	if e2, ok := a.store.Get(e.Digest, e.CVEDB); ok && e2.Doc(k) != nil {
		return e2
	}
	cred, err := a.backgroundCred(ctx)
	if err != nil {
		a.writeAuthError(ctx, err)
		return nil
	}
	cvedb := e.CVEDB
	rec := a.background("sbom|"+flightKey(e.Digest, cvedb), func(bctx context.Context) error {
		sess, release, err := a.session(bctx, cred)
		if err != nil {
			return err
		}
		defer release()
		rep, scannedAt := a.lookupReport(bctx, sess, e.Digest, func(s *translate.RegistryImageSummary) bool {
			return s.ScannerVersion == cvedb
		})
		if rep == nil {
			return newError(ErrScanFailed, "the module inventory of this scan is no longer available; "+
				"scan the artifact again with SBOM generation")
		}
		a.storeReport(rep, art, scannedAt, true, false)
		return nil
	})
	if err := rec.wait(recoveryWait); err != nil {
		writeErrorStatus(ctx, fasthttp.StatusInternalServerError, scanFailureText(err, a.cfg.ScanDeadline))
		return nil
	}
	if e2, ok := a.store.Get(e.Digest, cvedb); ok && e2.Doc(k) != nil {
		return e2
	}
	a.notReady(ctx)
	return nil
}

// backgroundCred is the controller identity for look-ups made on behalf of
// a report request: the request's own in pass-through mode.
func (a *API) backgroundCred(ctx *fasthttp.RequestCtx) (controller.Cred, error) {
	if a.cfg.Auth == AuthPassthrough {
		return requestCred(ctx)
	}
	return a.staticCred(), nil
}

// reportUnknown answers for an ID this process does not hold (another
// replica took the POST, or this one restarted): the ID says which digest;
// the result comes from the cache, then _repo_scan, then fed._repo_scan.
func (a *API) reportUnknown(ctx *fasthttp.RequestCtx, id string, k cache.Kind, ct string) {
	sid, err := cache.ParseScanID(id)
	if err == nil && sid.IssuedAt.After(a.cfg.Now().Add(time.Minute)) {
		err = cache.ErrBadScanID // issued in the future: forged, or a clock gone wrong
	}
	if err != nil {
		// A newer replica's ID (rolling upgrade) still tells its age.
		if errors.Is(err, cache.ErrNewerScanID) && a.young(sid) {
			a.notReady(ctx)
			return
		}
		writeError(ctx, newError(ErrNotFound, "unknown scan ID"))
		return
	}
	if e := a.entryFor(sid); e != nil {
		a.adopt(ctx, id, sid, e, k, ct)
		return
	}
	if a.lookupsAllowed() {
		cred, err := a.backgroundCred(ctx)
		if err != nil {
			a.writeAuthError(ctx, err)
			return
		}
		rec := a.background("id|"+sid.Digest, func(bctx context.Context) error {
			return a.recoverDigest(bctx, sid, cred, k != cache.KindVuln)
		})
		_ = rec.wait(recoveryWait)
		if e := a.entryFor(sid); e != nil {
			a.adopt(ctx, id, sid, e, k, ct)
			return
		}
	}
	if a.young(sid) {
		a.notReady(ctx)
		return
	}
	reportsLost.Inc()
	writeError(ctx, newError(ErrScanLost, "scan of "+sid.Digest+" was lost (this adapter restarted or another "+
		"replica accepted it, and the NeuVector controller holds no result for it); rescan the artifact"))
}

// adopt records a recovered result as a finished job (later polls take the
// fast path) and serves it.
func (a *API) adopt(ctx *fasthttp.RequestCtx, id string, sid cache.ScanID, e *cache.Entry, k cache.Kind, ct string) {
	j := cache.NewJob(id, sid)
	j.Finish(e)
	a.jobs.Add(j)
	reportsRecovered.Inc()
	a.serveEntry(ctx, sid, e, k, ct)
}

// young tells whether an ID may still be scanning somewhere.
func (a *API) young(sid cache.ScanID) bool {
	return a.cfg.Now().Before(sid.IssuedAt.Add(a.cfg.ScanDeadline))
}

// entryFor finds a cached result an ID may be answered with: one of the
// current CVE DB, or one scanned after the ID was issued (a CVE DB update in
// the middle of scan-all must not fail jobs).
func (a *API) entryFor(sid cache.ScanID) *cache.Entry {
	if cur := a.currentCVEDB(); cur != "" {
		if e, ok := a.store.Get(sid.Digest, cur); ok {
			return e
		}
	}
	if e, ok := a.store.Newest(sid.Digest); ok && !e.ScannedAt.Before(sid.IssuedAt.Truncate(time.Second)) {
		return e
	}
	return nil
}

// recoverDigest looks an ID's digest up in the controller and caches what
// it finds under the acceptance rule of entryFor.
func (a *API) recoverDigest(ctx context.Context, sid cache.ScanID, cred controller.Cred, sbom bool) error {
	sess, release, err := a.session(ctx, cred)
	if err != nil {
		return err
	}
	defer release()
	cur := a.currentCVEDB()
	issued := sid.IssuedAt.Unix()
	rep, scannedAt := a.lookupReport(ctx, sess, sid.Digest, func(s *translate.RegistryImageSummary) bool {
		return (cur != "" && s.ScannerVersion == cur) || s.ScannedTimeStamp >= issued
	})
	if rep == nil {
		return errNotInController
	}
	a.storeReport(rep, translate.Artifact{Repository: sid.Repository, Digest: sid.Digest}, scannedAt, sbom, false)
	return nil
}

var errNotInController = errors.New("proxy: no result in the controller")

// recovery is one background look-up, shared by the polls that want it.
type recovery struct {
	done chan struct{}
	at   time.Time
	err  error // valid once done is closed
}

// wait waits up to d; the look-up's error once done, nil while running.
func (r *recovery) wait(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.done:
		return r.err
	case <-t.C:
		return nil
	}
}

// background runs fn once per key at a time, and not again within
// recoveryRetry of the last run, bounded by recoveryTimeout.
func (a *API) background(key string, fn func(ctx context.Context) error) *recovery {
	now := a.cfg.Now()
	a.recMu.Lock()
	defer a.recMu.Unlock()
	if r, ok := a.recoveries[key]; ok {
		select {
		case <-r.done:
			if now.Sub(r.at) < recoveryRetry {
				return r
			}
		default:
			return r
		}
	}
	if len(a.recoveries) > 10000 {
		// Forget finished look-ups; only running ones are needed.
		for k, r := range a.recoveries {
			select {
			case <-r.done:
				delete(a.recoveries, k)
			default:
			}
		}
	}
	r := &recovery{done: make(chan struct{}), at: now}
	a.recoveries[key] = r
	go func() {
		ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
		defer cancel()
		r.err = fn(ctx)
		close(r.done)
	}()
	return r
}

// formatRefreshAfter is the Refresh-After value, pre-built.
func formatRefreshAfter(s int) []byte { return []byte(strconv.Itoa(s)) }
