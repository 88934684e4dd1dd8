package translate

// CONTRACT STUB written by the lead so that other packages compile while the
// translate helper implements it. The helper replaces this file with real
// code in files named for each concern, keeping these exported names and
// signatures (adding to them is fine).

import (
	"errors"
	"time"
)

// Sentinel errors of scan request decoding; proxy maps them to statuses.
var (
	ErrMalformed   = errors.New("translate: malformed request")        // 400: not JSON, wrong JSON types
	ErrInvalid     = errors.New("translate: invalid request")          // 422: missing/invalid field
	ErrUnsupported = errors.New("translate: unsupported capability")   // 501 (spec v1.2)
	ErrBadAccept   = errors.New("translate: unsupported report type")  // report Accept the adapter cannot serve
)

// DecodeScanRequest decodes and validates a POST /scan body. Unknown fields
// are tolerated; without enabled_capabilities it means a vulnerability scan.
// Errors wrap one of the sentinels with a message fit for Harbor's job log.
func DecodeScanRequest(body []byte) (*ScanRequest, error) { panic("stub") }

// Options shape report translation.
type Options struct {
	Scanner           Scanner
	FeedBasedSeverity bool // USE_FEED_BASED_SEVERITY
}

// NewVulnReport translates a controller report into Harbor's report.
func NewVulnReport(r *ScanRepoReport, a Artifact, generatedAt time.Time, o Options) *VulnReport {
	panic("stub")
}

// Chunks is an encoded JSON document cut at item boundaries: Head (which
// includes the first item, if any) + Items (each starting with ',') + Tail
// concatenated is the document. Equal items encode to equal chunks.
type Chunks struct {
	Head  []byte
	Items [][]byte
	Tail  []byte
}

// EncodeVulnReport encodes rep.
func EncodeVulnReport(rep *VulnReport) Chunks { panic("stub") }

// EncodeSbomReport builds the HarborSbomReport with an SBOM document in
// mediaType (MediaSPDX or MediaCycloneDX) from the report's modules.
func EncodeSbomReport(r *ScanRepoReport, a Artifact, mediaType string, s Scanner, generatedAt time.Time) ([]byte, error) {
	panic("stub")
}

// DecodeScanRepoReport decodes the 200 body of POST /v1/scan/repository.
func DecodeScanRepoReport(body []byte) (*ScanRepoReport, error) { panic("stub") }

// ReportKind is what a report request asks for.
type ReportKind uint8

const (
	ReportVuln ReportKind = iota
	ReportSBOM
)

// ParseReportAccept maps a report request's Accept header to what to serve
// and the Content-Type to answer with: "", "*/*", "application/json" and the
// two vulnerability types mean the vulnerability report; the SBOM type means
// an SBOM. Anything else is ErrBadAccept.
func ParseReportAccept(accept []byte) (kind ReportKind, contentType string, err error) {
	panic("stub")
}
