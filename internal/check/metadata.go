package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

// checkMetadata calls GET /metadata as harbor-core's Ping does, judges the
// answer and its latency, and runs Harbor's Validate. It returns the
// metadata when scans can follow.
func checkMetadata(ctx context.Context, o *Options, c *harborclient.Client, p *printer) *harborclient.Metadata {
	start := time.Now()
	md, err := c.GetMetadata(ctx)
	lat := time.Since(start)
	if err != nil {
		st := &Step{Step: "metadata", Status: Fail,
			Message: fmt.Sprintf("GET %s/metadata failed after %s: %s", c.BaseURL(), fmtDur(lat), err)}
		st.Hints = metadataHints(err, c.BaseURL(), o.Timeout)
		p.add(st)
		return nil
	}
	st := &Step{Step: "metadata", Status: OK, Message: fmt.Sprintf("200 in %s", fmtDur(lat))}
	if s := md.Scanner; s != nil { // a missing scanner is Validate's to report
		st.Message += fmt.Sprintf(": %s %s by %s", s.Name, s.Version, s.Vendor)
	}
	if lat > harborclient.DefaultTimeout {
		// Only reachable with a longer -timeout than Harbor's.
		st.Status = Fail
		st.Hints = append(st.Hints, fmt.Sprintf("metadata took %s, more than Harbor's %s: Harbor would time out and mark the scanner unhealthy (goharbor/harbor#21707)", fmtDur(lat), fmtDur(harborclient.DefaultTimeout)))
	} else if lat > o.slowAfter {
		st.Status = Warn
		st.Hints = append(st.Hints, fmt.Sprintf("metadata took %s: Harbor pings on every scan and artifact listing with a %s budget, and a timeout marks the scanner unhealthy, which quietly disables \"prevent vulnerable images\" (goharbor/harbor#21707); metadata should be answered from memory", fmtDur(lat), fmtDur(o.Timeout)))
	}
	for _, ca := range md.Capabilities {
		if ca == nil {
			continue
		}
		t := ca.Type
		if t == "" {
			t = "vulnerability (no type)"
		}
		st.Details = append(st.Details, fmt.Sprintf("capability %s: consumes %v, produces %v", t, ca.ConsumesMimeTypes, ca.ProducesMimeTypes))
	}
	if v, ok := md.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"]; ok {
		st.Details = append(st.Details, "vulnerability database updated at "+v)
	}
	p.add(st)

	if err := md.Validate(); err != nil {
		v := &Step{Step: "metadata", Status: Fail, Message: "Harbor's validation rejects it: " + err.Error()}
		switch {
		case errors.Is(err, harborclient.ErrInvalidScanner):
			v.Hints = []string{"scanner.name, scanner.vendor and scanner.version must all be non-empty"}
		case errors.Is(err, harborclient.ErrMissingConsumes):
			v.Hints = []string{"every capability must list " + harborclient.MimeTypeDockerArtifact + " in consumes_mime_types (an OCI-only capability is rejected)"}
		case errors.Is(err, harborclient.ErrMissingProduces):
			v.Hints = []string{"every capability must produce one of the exact strings \"" + harborclient.MimeTypeGenericVulnerabilityReport + "\", \"" + harborclient.MimeTypeNativeReport + "\" or \"" + harborclient.MimeTypeSBOMReport + "\": Harbor compares byte for byte, one space after ';'"}
		}
		p.add(v)
		return nil
	}
	if w := metadataWarnings(md); len(w) > 0 {
		p.add(&Step{Step: "metadata", Status: Warn, Message: "valid for Harbor, with remarks", Hints: w})
	} else {
		p.add(&Step{Step: "metadata", Status: OK, Message: "valid for Harbor (Validate passes)"})
	}
	return md
}

// metadataWarnings are things Harbor accepts but handles badly.
func metadataWarnings(md *harborclient.Metadata) []string {
	var w []string
	for _, ca := range md.Capabilities {
		for _, m := range ca.ProducesMimeTypes {
			switch m {
			case harborclient.MimeTypeRawReport:
				w = append(w, "produces the raw report type: Harbor polls it and parses it as a vulnerability report, and has no summary for it (harbor-contract.md §8.10)")
			case harborclient.MediaTypeSPDX, harborclient.MediaTypeCycloneDX:
				w = append(w, "produces "+m+": Harbor would poll it as a report type and fail the job (goharbor/harbor#23014); list only "+harborclient.MimeTypeSBOMReport)
			}
		}
		if !slices.Contains(ca.ConsumesMimeTypes, harborclient.MimeTypeOCIArtifact) {
			w = append(w, "a capability does not consume "+harborclient.MimeTypeOCIArtifact+": OCI images would show as unsupported")
		}
	}
	if _, ok := md.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"]; !ok {
		w = append(w, "no harbor.scanner-adapter/vulnerability-database-updated-at property: Harbor's scanner page cannot show the database age")
	}
	return w
}

// metadataHints turns a failed metadata call into what an operator can do.
func metadataHints(err error, base string, timeout time.Duration) []string {
	var re *harborclient.ResponseError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case isTimeout(err):
		return []string{fmt.Sprintf("no complete answer within %s, Harbor's timeout: Harbor would mark the scanner unhealthy and every artifact unscannable (goharbor/harbor#21707)", fmtDur(timeout))}
	case isTLS(err):
		return []string{"TLS failed: add the adapter's CA to the trust bundle of harbor-core and harbor-jobservice, or register the in-cluster HTTP endpoint"}
	case errors.As(err, &re):
		return responseHints(re, base)
	case errors.As(err, &syn):
		return []string{"the 200 body is not JSON: an HTML page usually comes from an HTTP proxy between Harbor and the adapter; add the adapter's host to NO_PROXY of harbor-core and harbor-jobservice (anchore/harbor-scanner-adapter#35)"}
	case errors.As(err, &typ):
		return []string{"the metadata does not decode into Harbor's types (" + typ.Field + "): every properties value must be a JSON string"}
	case strings.Contains(err.Error(), "missing data to authorize"):
		return []string{"Harbor would not even send the request: the registration has an auth type but no credential"}
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return connectHints(err)
	}
	return nil
}

func responseHints(re *harborclient.ResponseError, base string) []string {
	var h []string
	switch re.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		h = append(h, "Harbor would show the scanner as unreachable; check the registration's credentials and auth type (Basic sends base64 of the whole \"user:password\", Bearer the token as is, APIKey the X-ScannerAdapter-API-Key header) against the adapter's SCANNER_AUTH setting")
	case http.StatusNotFound:
		h = append(h, "wrong base path: Harbor appends /api/v1/metadata to the registered URL ("+base+"/metadata here); register the adapter's root (http(s)://host:port) or the old adapter's base (…/endpoint), never with /api/v1 (goharbor/harbor#17680)")
		if strings.HasSuffix(strings.TrimSuffix(base, "/api/v1"), "/api/v1") {
			h = append(h, "the registered URL already ends in /api/v1: remove it")
		}
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		h = append(h, "a proxy or load balancer answered: check that the adapter is up and ready, and that NO_PROXY of harbor-core and harbor-jobservice lists the adapter's host")
	}
	if re.DecodeErr != nil {
		ct := re.ContentType
		if ct == "" {
			ct = "none"
		}
		h = append(h, fmt.Sprintf("the %d answer is not JSON (Content-Type %s, body starts %q), so Harbor shows only a JSON parse error: the answer came from something other than the adapter's API, often an HTTP proxy (add the adapter's host to NO_PROXY of harbor-core and harbor-jobservice, anchore/harbor-scanner-adapter#35) or another server or path", re.StatusCode, ct, snippet(re.Body)))
	}
	return h
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isTLS(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &cv) || errors.As(err, &rh)
}
