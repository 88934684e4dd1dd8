// Package translate holds the wire types of both sides (Harbor's pluggable
// scanner API and the NeuVector controller REST API) and the pure functions
// between them: scan request decoding, report translation, severity mapping
// and report encoding. It imports no other package of this project.
//
// Choices the spec leaves open:
//   - Item severity passes NeuVector's through (derived from the CVSS score
//     when empty), or follows the feed rating with USE_FEED_BASED_SEVERITY.
//     The report's severity is the highest item's; a report without
//     findings says "Negligible" (EmptyReportSeverity), which Harbor reads
//     as "None".
//   - One item per (id, package, version), highest severity first, then by
//     id, package, version: equal scans encode to equal bytes, and equal
//     findings to equal chunks that a cache can share.
//   - vendor_attributes carry CVSS.neuvector (the scores come from
//     NeuVector's CVE database, not NVD) and NeuVector's own facts under
//     "neuvector"; cwe_ids are omitted (NeuVector has none).
//   - SBOMs are SPDX 2.3 and CycloneDX 1.6 with identifiers derived from the
//     digest and CVE DB version, so that a scan always gives the same
//     document but for its time stamps.
package translate

import "encoding/json"

// MIME types, byte for byte as Harbor compares them (harbor-contract.md §2).
const (
	MimeMetadata10     = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	MimeMetadata11     = "application/vnd.scanner.adapter.metadata+json; version=1.1"
	MimeScanRequest10  = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
	MimeScanRequest11  = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
	MimeScanResponse10 = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	MimeError10        = "application/vnd.scanner.adapter.error+json; version=1.0"
	// MimeVulnHarbor10 is the deprecated native report type; served when
	// asked, never advertised.
	MimeVulnHarbor10 = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	// MimeVuln11 is the vulnerability report type advertised (no +json).
	MimeVuln11       = "application/vnd.security.vulnerability.report; version=1.1"
	MimeVulnRaw      = "application/vnd.scanner.adapter.vuln.report.raw"
	MimeSBOMReport10 = "application/vnd.security.sbom.report+json; version=1.0"

	MimeOCIManifest      = "application/vnd.oci.image.manifest.v1+json"
	MimeDockerManifestV2 = "application/vnd.docker.distribution.manifest.v2+json"

	MediaSPDX      = "application/spdx+json"
	MediaCycloneDX = "application/vnd.cyclonedx+json"
)

// Capability types.
const (
	CapabilityVulnerability = "vulnerability"
	CapabilitySBOM          = "sbom"
)

// Properties keys of the metadata.
const (
	PropScannerType       = "harbor.scanner-adapter/scanner-type"
	PropDBUpdatedAt       = "harbor.scanner-adapter/vulnerability-database-updated-at"
	PropDBNextUpdateAt    = "harbor.scanner-adapter/vulnerability-database-next-update-at"
	PropRegistryAuthType  = "harbor.scanner-adapter/registry-authorization-type"
	PropNeuVectorCVEDBVer = "neuvector.com/cvedb-version"
)

// Severities of the spec's enum.
const (
	SeverityUnknown    = "Unknown"
	SeverityNegligible = "Negligible"
	SeverityLow        = "Low"
	SeverityMedium     = "Medium"
	SeverityHigh       = "High"
	SeverityCritical   = "Critical"
)

// Scanner identifies the scanner in metadata and reports.
type Scanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// Registry is ScanRequest.registry. Insecure is sent by Harbor ≥ 2.11 but
// not in the spec; it is ignored.
type Registry struct {
	URL           string `json:"url"`
	Authorization string `json:"authorization,omitempty"`
	Insecure      bool   `json:"insecure,omitempty"`
}

// Artifact is ScanRequest.artifact and the report's artifact.
type Artifact struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Tag        string `json:"tag,omitempty"`
	MimeType   string `json:"mime_type,omitempty"`
	Size       int64  `json:"size,omitempty"` // Harbor ≥ 2.11, not in the spec
}

// SbomParameters is enabled_capabilities[].parameters.
type SbomParameters struct {
	SbomMediaTypes []string `json:"sbom_media_types,omitempty"`
}

// EnabledCapability is one element of ScanRequest.enabled_capabilities.
type EnabledCapability struct {
	Type              string          `json:"type"`
	ProducesMimeTypes []string        `json:"produces_mime_types,omitempty"`
	Parameters        *SbomParameters `json:"parameters"`
}

// ScanRequest is the body of POST /api/v1/scan.
type ScanRequest struct {
	Registry            Registry            `json:"registry"`
	Artifact            Artifact            `json:"artifact"`
	EnabledCapabilities []EnabledCapability `json:"enabled_capabilities,omitempty"`
}

// ScanResponse is the 202 body of POST /api/v1/scan.
type ScanResponse struct {
	ID string `json:"id"`
}

// ErrorBody is ErrorResponse.error.
type ErrorBody struct {
	Message string `json:"message"`
}

// ErrorResponse is every error body sent to Harbor.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// Capability is ScannerCapability.
type Capability struct {
	Type                 string         `json:"type,omitempty"`
	ConsumesMimeTypes    []string       `json:"consumes_mime_types"`
	ProducesMimeTypes    []string       `json:"produces_mime_types"`
	AdditionalAttributes map[string]any `json:"additional_attributes,omitempty"`
}

// Metadata is ScannerAdapterMetadata.
type Metadata struct {
	Scanner      Scanner           `json:"scanner"`
	Capabilities []Capability      `json:"capabilities"`
	Properties   map[string]string `json:"properties,omitempty"`
}

// CVSS is CVSSDetails; scores are pointers so an unknown score is omitted,
// never sent as a string or a fake 0.
type CVSS struct {
	ScoreV3  *float64 `json:"score_v3,omitempty"`
	ScoreV2  *float64 `json:"score_v2,omitempty"`
	VectorV3 string   `json:"vector_v3,omitempty"`
	VectorV2 string   `json:"vector_v2,omitempty"`
}

// VulnItem is VulnerabilityItem.
type VulnItem struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version,omitempty"`
	Severity         string         `json:"severity"`
	Description      string         `json:"description,omitempty"`
	Links            []string       `json:"links,omitempty"`
	PreferredCVSS    *CVSS          `json:"preferred_cvss,omitempty"`
	CweIDs           []string       `json:"cwe_ids,omitempty"`
	VendorAttributes map[string]any `json:"vendor_attributes,omitempty"`
}

// VulnReport is HarborVulnerabilityReport, served as both MimeVuln11 and
// MimeVulnHarbor10 (same schema).
type VulnReport struct {
	GeneratedAt     string     `json:"generated_at"`
	Artifact        Artifact   `json:"artifact"`
	Scanner         Scanner    `json:"scanner"`
	Severity        string     `json:"severity"`
	Vulnerabilities []VulnItem `json:"vulnerabilities"`
}

// SbomReport is HarborSbomReport (spec v1.2).
type SbomReport struct {
	GeneratedAt      string          `json:"generated_at"`
	Artifact         Artifact        `json:"artifact"`
	Scanner          Scanner         `json:"scanner"`
	VendorAttributes map[string]any  `json:"vendor_attributes,omitempty"`
	MediaType        string          `json:"media_type"`
	Sbom             json.RawMessage `json:"sbom"`
}
