package harborclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MimeResult is the outcome of polling one report MIME type.
type MimeResult struct {
	MimeType    string
	Body        []byte // the 200 body
	Polls       int    // GETs sent
	RetryAfters []int  // Refresh-After (seconds) of each 302, as Harbor used it
	// RefreshMissing and RefreshInvalid count 302s without a Refresh-After
	// and with one that is not an int8; Harbor waited 5 s after each.
	RefreshMissing, RefreshInvalid int
	Elapsed                        time.Duration // from the end of submit to the 200 or the error
	Err                            error         // this MIME type's part of Harbor's job error
	Vuln                           *VulnReport   // vulnerability types: the decoded report
	Summary                        *Summary      // vulnerability types: what Harbor would show
	SBOM                           *SBOMReport   // the SBOM type: the decoded report
}

// JobResult is the outcome of a scan job.
type JobResult struct {
	ID            string
	SubmitLatency time.Duration
	Total         time.Duration
	Polls         int
	Results       []MimeResult // in the order of the MIME types given
	// Summary is the first vulnerability report's summary, nil if none.
	Summary *Summary
}

// Result returns the result for a MIME type, nil if it was not polled.
func (j *JobResult) Result(mime string) *MimeResult {
	for i := range j.Results {
		if j.Results[i].MimeType == mime {
			return &j.Results[i]
		}
	}
	return nil
}

// RunScanJob runs a scan job as Harbor's jobservice does (job.go Run):
// submit, then for every MIME type, concurrently, wait the first-check
// interval, poll, and on 302 wait Refresh-After and poll again, until a 200
// (validated as ResolveData and the post-scan step would) or any other
// outcome, which fails the job. Harbor polls every MIME type of the
// capability (ProducesMimeTypes), not just the one it asked for; pass them
// all. urlParam goes on every poll (SBOMURLParameter for SBOM jobs).
//
// The error is Harbor's job error, the per-MIME errors merged as Harbor
// merges them; the result is returned even then. A done ctx ends the job
// with ctx's error for every unfinished MIME type.
func (c *Client) RunScanJob(ctx context.Context, sr *ScanRequest, mimeTypes []string, urlParam string) (*JobResult, error) {
	start := time.Now()
	res := &JobResult{Results: make([]MimeResult, len(mimeTypes))}
	resp, err := c.SubmitScan(ctx, sr)
	res.SubmitLatency = time.Since(start)
	if err != nil {
		res.Total = res.SubmitLatency
		return res, fmt.Errorf("scan job: submit scan request: %w", err)
	}
	res.ID = resp.ID
	submitted := time.Now()

	var wg sync.WaitGroup
	for i, m := range mimeTypes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &res.Results[i]
			r.MimeType = m
			c.pollOne(ctx, resp.ID, urlParam, r)
			r.Elapsed = time.Since(submitted)
		}()
	}
	wg.Wait()
	res.Total = time.Since(start)

	// Merge as Harbor does: each later error wraps the text so far.
	var merged error
	for i := range res.Results {
		r := &res.Results[i]
		res.Polls += r.Polls
		if r.Summary != nil && res.Summary == nil {
			res.Summary = r.Summary
		}
		if r.Err == nil {
			continue
		}
		if merged == nil {
			merged = r.Err
		} else {
			merged = fmt.Errorf("%s: %w", merged.Error(), r.Err)
		}
	}
	return res, merged
}

// pollOne is the body of one of Harbor's per-MIME goroutines.
func (c *Client) pollOne(ctx context.Context, id, urlParam string, r *MimeResult) {
	tm := time.NewTimer(c.opt.FirstCheckInterval)
	defer tm.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Err = fmt.Errorf("check scan report with mime type %s: job stopped: %w", r.MimeType, ctx.Err())
			return
		case <-tm.C:
		}
		r.Polls++
		body, retry, err := c.GetScanReport(ctx, id, r.MimeType, urlParam)
		if err != nil {
			var nr *ReportNotReadyError
			if errors.As(err, &nr) {
				r.RetryAfters = append(r.RetryAfters, retry)
				switch {
				case nr.Header == "":
					r.RefreshMissing++
				case nr.ParseErr != nil:
					r.RefreshInvalid++
				}
				// Zero or negative re-polls at once, a busy loop, as in Harbor.
				tm.Reset(time.Duration(retry) * c.opt.RetryUnit)
				continue
			}
			r.Err = fmt.Errorf("check scan report with mime type %s: %w", r.MimeType, err)
			return
		}
		r.Body = body
		r.Err = resolve(r, body)
		return
	}
}

// resolve validates a 200 body as ResolveData, then as the vulnerability
// or SBOM post-scan step would.
func resolve(r *MimeResult, body []byte) error {
	switch {
	case IsVulnerabilityMime(r.MimeType):
		rep, err := ResolveVuln(body)
		if err != nil {
			return fmt.Errorf("scan job: resolve report data: %w", err)
		}
		r.Vuln = rep
		r.Summary = Summarize(rep)
	case r.MimeType == MimeTypeSBOMReport:
		rep, err := ResolveSBOM(body)
		if err != nil {
			return fmt.Errorf("scan job: post scan: %w", err)
		}
		r.SBOM = rep
	case r.MimeType == MimeTypeRawReport:
		// Harbor runs the vulnerability post-scan on raw reports too.
		if _, err := ResolveVuln(body); err != nil {
			return fmt.Errorf("scan job: post scan: %w", err)
		}
	}
	return nil
}
