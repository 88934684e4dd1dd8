package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

// imageRef is a "repository[:tag]@digest" argument.
type imageRef struct {
	arg, repository, tag, digest string
}

// parseImage splits "library/alpine:3.19@sha256:…". A digest is required:
// Harbor always scans by digest.
func parseImage(s string) (imageRef, error) {
	name, digest, ok := strings.Cut(s, "@")
	if !ok || !strings.HasPrefix(digest, "sha256:") || len(digest) != len("sha256:")+64 || !isHex(digest[7:]) {
		return imageRef{}, fmt.Errorf("image %q: want repository[:tag]@sha256:<64 hex digits>", s)
	}
	r := imageRef{arg: s, repository: name, digest: digest}
	// A ':' after the last '/' is a tag; before it, a registry port.
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		r.repository, r.tag = name[:i], name[i+1:]
	}
	if r.repository == "" || (r.tag == "" && r.repository != name) {
		return imageRef{}, fmt.Errorf("image %q: empty repository or tag", s)
	}
	return r, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// short is the argument with the digest cut to 12 hex digits.
func (r imageRef) short() string {
	name := r.repository
	if r.tag != "" {
		name += ":" + r.tag
	}
	return name + "@" + r.digest[:7+12] + "…"
}

// scanImages runs every image's jobs at once, as jobservice would, and
// prints the outcomes in the order given.
func scanImages(ctx context.Context, o *Options, c *harborclient.Client, md *harborclient.Metadata, imgs []imageRef, p *printer) {
	authz := ""
	if o.RegistryUser != "" {
		authz = harborclient.BasicAuthorization(o.RegistryUser, o.RegistryPassword)
	}
	if md.RegistryAuthorizationType() == "Bearer" {
		p.add(&Step{Step: "scan", Status: Info, Message: "the adapter asks for Bearer registry tokens; Harbor would fetch one from its token service per repository, this check sends the robot's Basic credentials"})
	}
	type job struct {
		kind  string
		mimes []string
		param string
	}
	jobs := []job{{kind: harborclient.ScanTypeVulnerability, mimes: md.ProducesMimeTypes(o.ManifestType, harborclient.ScanTypeVulnerability)}}
	if o.SBOM {
		jobs = append(jobs, job{kind: harborclient.ScanTypeSbom, mimes: md.ProducesMimeTypes(o.ManifestType, harborclient.ScanTypeSbom), param: harborclient.SBOMURLParameter()})
	}
	for _, j := range jobs {
		if j.mimes == nil {
			p.add(&Step{Step: stepName(j.kind), Status: Fail,
				Message: fmt.Sprintf("the configured scanner does not support %s scanning of artifacts with mime type %s", j.kind, o.ManifestType),
				Hints:   []string{"Harbor would show these artifacts as \"Unsupported\": the metadata needs a capability of type " + j.kind + " consuming " + o.ManifestType}})
			return
		}
	}

	results := make([][]chan *Step, len(imgs))
	for i, img := range imgs {
		for _, j := range jobs {
			ch := make(chan *Step, 1)
			results[i] = append(results[i], ch)
			a := harborclient.Artifact{Repository: img.repository, Tag: img.tag, Digest: img.digest, MimeType: o.ManifestType}
			var sr *harborclient.ScanRequest
			if j.kind == harborclient.ScanTypeSbom {
				sr = harborclient.NewSBOMRequest(o.RegistryURL, authz, a)
			} else {
				sr = harborclient.NewVulnerabilityRequest(o.RegistryURL, authz, a)
			}
			go func() {
				jctx, cancel := context.WithTimeout(ctx, o.ScanTimeout)
				defer cancel()
				res, err := c.RunScanJob(jctx, sr, j.mimes, j.param)
				ch <- judgeJob(img, j.kind, res, err)
			}()
		}
	}
	for _, chs := range results {
		for _, ch := range chs {
			p.add(<-ch)
		}
	}
}

func stepName(kind string) string {
	if kind == harborclient.ScanTypeSbom {
		return "sbom"
	}
	return "scan"
}

// judgeJob makes the line for one job: the severity summary Harbor would
// show, or the error Harbor would put in the job log, with hints.
func judgeJob(img imageRef, kind string, res *harborclient.JobResult, err error) *Step {
	ir := &ImageResult{Image: img.arg, Kind: kind, ID: res.ID, Seconds: res.Total.Seconds(), Polls: res.Polls}
	st := &Step{Step: stepName(kind), Image: ir}
	if err != nil {
		ir.Error = err.Error()
		st.Status = Fail
		st.Message = fmt.Sprintf("%s failed in %s: %s", img.short(), fmtDur(res.Total), err)
		st.Hints = jobHints(err.Error())
		return st
	}
	st.Status = OK
	if kind == harborclient.ScanTypeSbom {
		r := res.Results[0]
		for i := range res.Results {
			if res.Results[i].SBOM != nil {
				r = res.Results[i]
				break
			}
		}
		if r.SBOM == nil {
			st.Message = fmt.Sprintf("%s SBOM in %s", img.short(), fmtDur(res.Total))
			return st
		}
		ir.SBOMMediaType, ir.Packages = r.SBOM.MediaType, r.SBOM.Packages()
		st.Message = fmt.Sprintf("%s SBOM %s, %d packages in %s", img.short(), r.SBOM.MediaType, r.SBOM.Packages(), fmtDur(res.Total))
		if r.SBOM.MediaType != harborclient.MediaTypeSPDX {
			st.Status = Warn
			st.Hints = append(st.Hints, "Harbor asked for SPDX and pushes the document as SPDX whatever media_type says")
		}
		if r.SBOM.SBOM == nil {
			st.Status = Warn
			st.Hints = append(st.Hints, "the report has no sbom object: Harbor would push an empty SBOM accessory")
		}
		addPollNotes(st, res)
		return st
	}
	s := res.Summary
	if s == nil {
		st.Message = fmt.Sprintf("%s done in %s (no vulnerability report type polled)", img.short(), fmtDur(res.Total))
		return st
	}
	ir.Severity, ir.Counts, ir.Total, ir.Fixable = s.Severity, s.Counts, s.Total, s.Fixable
	var b strings.Builder
	fmt.Fprintf(&b, "%s Critical %d High %d Medium %d Low %d", img.short(), s.Count("Critical"), s.Count("High"), s.Count("Medium"), s.Count("Low"))
	for _, sev := range []string{"Unknown", "None"} {
		if n := s.Count(sev); n > 0 {
			fmt.Fprintf(&b, " %s %d", sev, n)
		}
	}
	fmt.Fprintf(&b, " (fixable %d) in %s", s.Fixable, fmtDur(res.Total))
	st.Message = b.String()
	if s.Duplicates > 0 {
		st.Status = Warn
		st.Hints = append(st.Hints, fmt.Sprintf("%d items repeat an (id, package, version) already listed: Harbor stores one record per key", s.Duplicates))
	}
	if s.Reported != "" && s.Reported != s.Severity && !(s.Reported == "Negligible" && s.Severity == "None") {
		st.Details = append(st.Details, fmt.Sprintf("the report says severity %q; Harbor recomputes %q from the items", s.Reported, s.Severity))
	}
	addPollNotes(st, res)
	return st
}

// addPollNotes describes the polling and flags a 302 without a usable
// Refresh-After (Harbor then waits 5 s) or one below 1 (a busy loop).
func addPollNotes(st *Step, res *harborclient.JobResult) {
	var missing, invalid, busy int
	var used []int
	for _, r := range res.Results {
		missing += r.RefreshMissing
		invalid += r.RefreshInvalid
		for _, ra := range r.RetryAfters {
			used = append(used, ra)
			if ra <= 0 {
				busy++
			}
		}
	}
	st.Details = append(st.Details, fmt.Sprintf("scan id %s; submit %s; %d polls; Refresh-After used %v", res.ID, fmtDur(res.SubmitLatency), res.Polls, used))
	if missing > 0 {
		st.Details = append(st.Details, fmt.Sprintf("%d 302 answers had no Refresh-After: Harbor waits its default 5 s", missing))
	}
	if invalid > 0 {
		st.Status = Warn
		st.Hints = append(st.Hints, fmt.Sprintf("%d 302 answers had a Refresh-After Harbor cannot parse as an int8 (-128..127): it logs an error and waits 5 s; send an integer 1–127", invalid))
	}
	if busy > 0 {
		st.Status = Warn
		st.Hints = append(st.Hints, "Refresh-After of 0 or less makes Harbor poll again at once, in a busy loop: send 1–127")
	}
}

// jobHints explains a failed job from Harbor's job-log text.
func jobHints(msg string) []string {
	var h []string
	switch {
	case strings.Contains(msg, "authentication error") || strings.Contains(msg, "unauthorized"):
		h = append(h, "the registry refused the robot credentials in registry.authorization: Harbor creates a robot account per job; check the registry URL the adapter pulls from and that the adapter passes the credentials as given")
	case strings.Contains(msg, "Image not found") || strings.Contains(msg, "not found"):
		h = append(h, "the image was not found where the adapter looked: check registry.url (Harbor sends its external URL or http://core:8080 with use_internal_addr) and the repository and digest")
	}
	switch {
	case strings.Contains(msg, "unexpected status code: 404, expected: 200"):
		h = append(h, "a 404 on the report fails Harbor's job for good (no resubmission): the adapter lost the scan, e.g. another replica took the POST or it restarted")
	case strings.Contains(msg, "expected: 202"):
		h = append(h, "Harbor accepts only 202 for POST /scan")
	case strings.Contains(msg, "invalid character"):
		h = append(h, "an answer was not JSON: an HTML error page from a proxy (check NO_PROXY of harbor-jobservice) or an adapter error body that is not an ErrorResponse")
	case strings.Contains(msg, "Client.Timeout exceeded"):
		h = append(h, "a call took longer than Harbor's 5 s: reports must be ready to send, headers and body, within the timeout")
	case strings.Contains(msg, "resolve report data"):
		h = append(h, "the report does not decode into Harbor's vuln.Report: scores must be JSON numbers, severities strings, lists arrays")
	case strings.Contains(msg, "context deadline exceeded") && !strings.Contains(msg, "Client.Timeout"):
		h = append(h, "the scan did not finish within the check's scan timeout; Harbor itself would keep polling")
	}
	return h
}
