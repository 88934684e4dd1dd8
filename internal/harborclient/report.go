package harborclient

import (
	"encoding/json"
	"errors"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Severities as Harbor's vuln package knows them; None means "no
// vulnerabilities" and is what Negligible becomes.
const (
	SeverityNone       = "None"
	SeverityUnknown    = "Unknown"
	SeverityNegligible = "Negligible"
	SeverityLow        = "Low"
	SeverityMedium     = "Medium"
	SeverityHigh       = "High"
	SeverityCritical   = "Critical"
)

// CVSS is Harbor's vuln.CVSS: scores are *float64, so a score sent as a
// string makes the whole report fail to decode, as in Harbor.
type CVSS struct {
	ScoreV3  *float64 `json:"score_v3"`
	ScoreV2  *float64 `json:"score_v2"`
	VectorV3 string   `json:"vector_v3"`
	VectorV2 string   `json:"vector_v2"`
}

// VulnerabilityItem is Harbor's vuln.VulnerabilityItem.
type VulnerabilityItem struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version"`
	Severity         string         `json:"severity"`
	Description      string         `json:"description"`
	Links            []string       `json:"links"`
	ArtifactDigests  []string       `json:"artifact_digests"`
	CVSSDetails      CVSS           `json:"preferred_cvss"`
	CWEIds           []string       `json:"cwe_ids"`
	VendorAttributes map[string]any `json:"vendor_attributes"`
	Status           string         `json:"status"`
}

// Key is Harbor's item key; items with equal keys are one DB record.
func (v *VulnerabilityItem) Key() string { return v.ID + "-" + v.Package + "-" + v.Version }

// VulnReport is Harbor's vuln.Report; artifact is not part of it.
type VulnReport struct {
	GeneratedAt     string               `json:"generated_at"`
	Scanner         *Scanner             `json:"scanner"`
	Severity        string               `json:"severity"`
	Vulnerabilities []*VulnerabilityItem `json:"vulnerabilities"`
}

// SBOMReport is Harbor's sbom model.RawSBOMReport: sbom must be an object.
type SBOMReport struct {
	GeneratedAt string         `json:"generated_at"`
	Scanner     *Scanner       `json:"scanner"`
	MediaType   string         `json:"media_type"`
	SBOM        map[string]any `json:"sbom,omitempty"`
}

// Packages counts the SBOM's packages: SPDX "packages" or CycloneDX
// "components"; -1 when the document has neither list.
func (r *SBOMReport) Packages() int {
	for _, k := range []string{"packages", "components"} {
		if l, ok := r.SBOM[k].([]any); ok {
			return len(l)
		}
	}
	return -1
}

// ErrEmptyReport is Harbor's "empty JSON data".
var ErrEmptyReport = errors.New("empty JSON data")

// IsVulnerabilityMime tells the MIME types Harbor validates as vuln.Report.
func IsVulnerabilityMime(mime string) bool {
	return mime == MimeTypeNativeReport || mime == MimeTypeGenericVulnerabilityReport
}

// ResolveVuln is Harbor's report.ResolveData for the two vulnerability
// types: non-empty, and decodable into vuln.Report with encoding/json.
func ResolveVuln(data []byte) (*VulnReport, error) {
	if len(data) == 0 {
		return nil, ErrEmptyReport
	}
	r := &VulnReport{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// ResolveSBOM decodes an SBOM report as Harbor's SBOM post-scan does.
func ResolveSBOM(data []byte) (*SBOMReport, error) {
	r := &SBOMReport{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseSeverityVersion3 is Harbor's: title-cased with
// cases.Title(language.Und), so "HIGH" and "high" are High; Negligible
// becomes None; anything but None/Low/Medium/High/Critical is Unknown.
// (Harbor releases that still used strings.Title left "HIGH" as is, which
// made it Unknown.)
func ParseSeverityVersion3(s string) string {
	switch s { // the spec's spelling needs no title-casing (nor its cost)
	case SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return s
	case SeverityNegligible:
		return SeverityNone
	case SeverityUnknown:
		return SeverityUnknown
	}
	switch t := cases.Title(language.Und).String(s); t {
	case SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		return t
	case SeverityNegligible:
		return SeverityNone
	default:
		return SeverityUnknown
	}
}

// severityCode is Harbor's Severity.Code.
func severityCode(s string) int {
	switch s {
	case SeverityNone, SeverityUnknown:
		return 0
	case SeverityNegligible:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	default:
		return 99
	}
}

// Summary is what Harbor stores and shows for a vulnerability report.
type Summary struct {
	Severity   string         // overall, recomputed from the items
	Total      int            // distinct (id, package, version)
	Fixable    int            // of those, with a fix_version
	Counts     map[string]int // by normalised severity
	Duplicates int            // items whose key repeated an earlier one
	// Reported is the report's own top-level severity, which Harbor ignores.
	Reported string
}

// Count returns the count for a severity.
func (s *Summary) Count(sev string) int { return s.Counts[sev] }

// Summarize computes the summary Harbor would: severities normalised by
// ParseSeverityVersion3, items merged by key (first wins, as the first
// record written does), counts per severity, fixable count, and the overall
// severity as the highest item severity (None when there is none).
func Summarize(r *VulnReport) *Summary {
	s := &Summary{Severity: SeverityNone, Counts: map[string]int{}, Reported: r.Severity}
	seen := make(map[string]struct{}, len(r.Vulnerabilities))
	for _, v := range r.Vulnerabilities {
		if v == nil {
			continue
		}
		k := v.Key()
		if _, dup := seen[k]; dup {
			s.Duplicates++
			continue
		}
		seen[k] = struct{}{}
		sev := ParseSeverityVersion3(v.Severity)
		s.Total++
		s.Counts[sev]++
		if v.FixVersion != "" {
			s.Fixable++
		}
		if severityCode(sev) > severityCode(s.Severity) {
			s.Severity = sev
		}
	}
	return s
}
