// Package adaptertest is a scriptable fake scanner adapter (an
// http.Handler) for testing Harbor-side code: the harborclient and check
// tests use it, and so can anyone who needs an adapter that misbehaves on
// purpose. It records every request it sees.
package adaptertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MIME types the fake speaks (copied, not imported, to stay a leaf).
const (
	mimeVuln11 = "application/vnd.security.vulnerability.report; version=1.1"
	mimeSBOM   = "application/vnd.security.sbom.report+json; version=1.0"
)

// Response is one scripted answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Recorded is one request as received.
type Recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	At       time.Time
}

// Adapter is the fake. Zero fields mean sensible defaults: metadata of a
// valid vulnerability+SBOM scanner, 202 with IDs id-1, id-2, …, and every
// report ready at the first poll.
type Adapter struct {
	// Prefix is the base path the API is served under ("" or "/endpoint").
	Prefix string
	// Metadata is the 200 body of GET /metadata; nil means DefaultMetadata.
	Metadata []byte
	// MetadataResponse, if set, replaces the 200 answer entirely.
	MetadataResponse *Response
	// MetadataHold, if non-nil, makes GET /metadata wait for it to close
	// (or for the client to go away) before answering.
	MetadataHold chan struct{}
	// Authorize, if set, must accept a request or it gets a JSON 401.
	Authorize func(*http.Request) bool
	// Scan, if set, answers POST /scan instead of the default 202.
	Scan func(n int, body []byte) Response
	// Report answers GET report; poll counts from 1 per (id, Accept).
	// Nil means 200 with VulnReport(nil) or an SBOM report by Accept.
	Report func(id, accept, rawQuery string, poll int) Response

	mu    sync.Mutex
	reqs  []Recorded
	scans int
	polls map[string]int
}

// ServeHTTP implements http.Handler.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.reqs = append(a.reqs, Recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, At: time.Now()})
	a.mu.Unlock()

	p, ok := strings.CutPrefix(r.URL.Path, a.Prefix+"/api/v1/")
	if !ok {
		http.NotFound(w, r) // plain text, as a wrong base path gets
		return
	}
	if a.Authorize != nil && !a.Authorize(r) {
		write(w, JSONError(http.StatusUnauthorized, "unauthorized"))
		return
	}
	switch {
	case r.Method == http.MethodGet && p == "metadata":
		if a.MetadataHold != nil {
			select {
			case <-a.MetadataHold:
			case <-r.Context().Done():
				return
			}
		}
		if a.MetadataResponse != nil {
			write(w, *a.MetadataResponse)
			return
		}
		md := a.Metadata
		if md == nil {
			md = DefaultMetadata()
		}
		write(w, Response{Status: 200, Body: md, Header: http.Header{"Content-Type": {"application/vnd.scanner.adapter.metadata+json; version=1.0"}}})
	case r.Method == http.MethodPost && p == "scan":
		a.mu.Lock()
		a.scans++
		n := a.scans
		a.mu.Unlock()
		if a.Scan != nil {
			write(w, a.Scan(n, body))
			return
		}
		write(w, Response{Status: http.StatusAccepted, Body: fmt.Appendf(nil, `{"id":"id-%d"}`, n)})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "scan/") && strings.HasSuffix(p, "/report"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "scan/"), "/report")
		accept := r.Header.Get("Accept")
		a.mu.Lock()
		if a.polls == nil {
			a.polls = map[string]int{}
		}
		a.polls[id+"\x00"+accept]++
		n := a.polls[id+"\x00"+accept]
		a.mu.Unlock()
		if a.Report != nil {
			write(w, a.Report(id, accept, r.URL.RawQuery, n))
			return
		}
		if accept == mimeSBOM {
			write(w, Response{Status: 200, Body: SBOMReport(3)})
			return
		}
		write(w, Response{Status: 200, Body: VulnReport(nil)})
	default:
		write(w, JSONError(http.StatusNotFound, "no such endpoint"))
	}
}

// Requests returns a copy of what was received so far.
func (a *Adapter) Requests() []Recorded {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Recorded(nil), a.reqs...)
}

func write(w http.ResponseWriter, r Response) {
	for k, v := range r.Header {
		w.Header()[k] = v
	}
	if r.Status == 0 {
		r.Status = 200
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// JSONError is an ErrorResponse answer.
func JSONError(status int, msg string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg}})
	return Response{Status: status, Body: b, Header: http.Header{"Content-Type": {"application/vnd.scanner.adapter.error+json; version=1.0"}}}
}

// NotReady is a 302 with the given Refresh-After ("" for none).
func NotReady(refreshAfter string) Response {
	h := http.Header{"Location": {"/"}}
	if refreshAfter != "" {
		h.Set("Refresh-After", refreshAfter)
	}
	return Response{Status: http.StatusFound, Header: h}
}

// DefaultMetadata is valid metadata with a vulnerability and an SBOM
// capability, as this project's adapter advertises.
func DefaultMetadata() []byte {
	return []byte(`{"scanner":{"name":"NeuVector","vendor":"SUSE","version":"5.4.0"},` +
		`"capabilities":[` +
		`{"type":"vulnerability","consumes_mime_types":["application/vnd.oci.image.manifest.v1+json","application/vnd.docker.distribution.manifest.v2+json"],"produces_mime_types":["` + mimeVuln11 + `"]},` +
		`{"type":"sbom","consumes_mime_types":["application/vnd.oci.image.manifest.v1+json","application/vnd.docker.distribution.manifest.v2+json"],"produces_mime_types":["` + mimeSBOM + `"],"additional_attributes":{"sbom_media_types":["application/spdx+json"]}}],` +
		`"properties":{"harbor.scanner-adapter/scanner-type":"os-package-vulnerability","harbor.scanner-adapter/vulnerability-database-updated-at":"2026-12-01T00:00:00Z"}}`)
}

// Item is a vulnerability for VulnReport.
type Item struct {
	ID, Package, Version, FixVersion, Severity string
}

// VulnReport is a report body with the given items; nil gives a fixed mix:
// Critical 1, High 2 (one fixable), Medium 1 (fixable), "low" 1.
func VulnReport(items []Item) []byte {
	if items == nil {
		items = []Item{
			{"CVE-2026-0001", "openssl", "3.0.1", "3.0.2", "Critical"},
			{"CVE-2026-0002", "zlib", "1.2.11", "", "High"},
			{"CVE-2026-0003", "musl", "1.2.3", "1.2.4", "HIGH"},
			{"CVE-2026-0004", "busybox", "1.36", "1.37", "Medium"},
			{"CVE-2026-0005", "curl", "8.0", "", "low"},
		}
	}
	type it struct {
		ID         string   `json:"id"`
		Package    string   `json:"package"`
		Version    string   `json:"version"`
		FixVersion string   `json:"fix_version,omitempty"`
		Severity   string   `json:"severity"`
		Links      []string `json:"links"`
		CVSS       any      `json:"preferred_cvss"`
	}
	out := make([]it, len(items))
	for i, v := range items {
		out[i] = it{v.ID, v.Package, v.Version, v.FixVersion, v.Severity, []string{"https://nvd.nist.gov/vuln/detail/" + v.ID}, map[string]any{"score_v3": 7.5}}
	}
	b, _ := json.Marshal(map[string]any{
		"generated_at":    "2026-12-04T00:00:00Z",
		"artifact":        map[string]string{"repository": "library/alpine", "digest": "sha256:0"},
		"scanner":         map[string]string{"name": "NeuVector", "vendor": "SUSE", "version": "5.4.0"},
		"severity":        "Critical",
		"vulnerabilities": out,
	})
	return b
}

// SBOMReport is an SPDX SBOM report with n packages.
func SBOMReport(n int) []byte {
	pk := make([]map[string]string, n)
	for i := range pk {
		pk[i] = map[string]string{"SPDXID": fmt.Sprintf("SPDXRef-Package-%d", i), "name": fmt.Sprintf("pkg%d", i)}
	}
	b, _ := json.Marshal(map[string]any{
		"generated_at": "2026-12-04T00:00:00Z",
		"scanner":      map[string]string{"name": "NeuVector", "vendor": "SUSE", "version": "5.4.0"},
		"media_type":   "application/spdx+json",
		"sbom":         map[string]any{"spdxVersion": "SPDX-2.3", "packages": pk},
	})
	return b
}
