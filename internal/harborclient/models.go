package harborclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// MIME types and scan types exactly as Harbor's spec.go declares them;
// Harbor compares them byte for byte.
const (
	MimeTypeOCIArtifact                = "application/vnd.oci.image.manifest.v1+json"
	MimeTypeDockerArtifact             = "application/vnd.docker.distribution.manifest.v2+json"
	MimeTypeNativeReport               = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	MimeTypeGenericVulnerabilityReport = "application/vnd.security.vulnerability.report; version=1.1"
	MimeTypeSBOMReport                 = "application/vnd.security.sbom.report+json; version=1.0"
	MimeTypeRawReport                  = "application/vnd.scanner.adapter.vuln.report.raw"
	MimeTypeAdapterMeta                = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	MimeTypeScanRequest                = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
	MimeTypeScanResponse               = "application/vnd.scanner.adapter.scan.response+json; version=1.0"

	MediaTypeSPDX      = "application/spdx+json"
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"

	ScanTypeVulnerability = "vulnerability"
	ScanTypeSbom          = "sbom"

	// PropRegistryAuthType selects Bearer registry tokens (§8.8).
	PropRegistryAuthType = "harbor.scanner-adapter/registry-authorization-type"
)

// supportedMimeTypes is what Validate accepts in produces_mime_types.
var supportedMimeTypes = []string{
	MimeTypeNativeReport,
	MimeTypeGenericVulnerabilityReport,
	MimeTypeSBOMReport,
}

// Scanner is Harbor's v1.Scanner.
type Scanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// ScannerCapability is Harbor's v1.ScannerCapability; unknown fields such
// as additional_attributes are ignored, as Harbor ignores them.
type ScannerCapability struct {
	Type              string   `json:"type"`
	ConsumesMimeTypes []string `json:"consumes_mime_types"`
	ProducesMimeTypes []string `json:"produces_mime_types"`
}

// Metadata is Harbor's v1.ScannerAdapterMetadata. Properties is
// map[string]string, so a non-string value fails to decode, as in Harbor.
type Metadata struct {
	Scanner      *Scanner             `json:"scanner"`
	Capabilities []*ScannerCapability `json:"capabilities"`
	Properties   map[string]string    `json:"properties"`
}

// Validate errors, worded as Harbor words them.
var (
	ErrInvalidScanner      = errors.New("invalid scanner in metadata")
	ErrInvalidCapabilities = errors.New("invalid capabilities in metadata")
	ErrMissingConsumes     = fmt.Errorf("missing %s in consumes_mime_types", MimeTypeDockerArtifact)
	ErrMissingProduces     = fmt.Errorf("missing %s or %s in produces_mime_types", MimeTypeNativeReport, MimeTypeGenericVulnerabilityReport)
)

// Validate checks md as Harbor's ScannerAdapterMetadata.Validate does on
// every ping; the first failure is returned.
func (md *Metadata) Validate() error {
	if md.Scanner == nil || md.Scanner.Name == "" || md.Scanner.Version == "" || md.Scanner.Vendor == "" {
		return ErrInvalidScanner
	}
	if len(md.Capabilities) == 0 {
		return ErrInvalidCapabilities
	}
	for _, ca := range md.Capabilities {
		if ca == nil || !slices.Contains(ca.ConsumesMimeTypes, MimeTypeDockerArtifact) {
			return ErrMissingConsumes
		}
		if !slices.ContainsFunc(ca.ProducesMimeTypes, func(m string) bool { return slices.Contains(supportedMimeTypes, m) }) {
			return ErrMissingProduces
		}
	}
	return nil
}

// Validate is md.Validate, for callers that prefer Harbor's call shape.
func Validate(md *Metadata) error {
	if md == nil {
		return ErrInvalidScanner
	}
	return md.Validate()
}

// ProducesMimeTypes is md.ProducesMimeTypes as a function.
func ProducesMimeTypes(md *Metadata, manifestType, scanType string) []string {
	return md.ProducesMimeTypes(manifestType, scanType)
}

// ProducesMimeTypes is Harbor's Registration.GetProducesMimeTypes: the whole
// produces list of the first capability whose type (empty meaning
// vulnerability) is scanType and which consumes manifestType. Harbor polls
// every one of them. Nil means Harbor would call the artifact unsupported.
func (md *Metadata) ProducesMimeTypes(manifestType, scanType string) []string {
	if md == nil {
		return nil
	}
	for _, ca := range md.Capabilities {
		if ca == nil {
			continue
		}
		t := ca.Type
		if t == "" {
			t = ScanTypeVulnerability
		}
		if t == scanType && slices.Contains(ca.ConsumesMimeTypes, manifestType) {
			return ca.ProducesMimeTypes
		}
	}
	return nil
}

// RegistryAuthorizationType is Harbor's GetRegistryAuthorizationType:
// "Bearer" only when the property says so exactly, otherwise "Basic".
func (md *Metadata) RegistryAuthorizationType() string {
	if md != nil && md.Properties[PropRegistryAuthType] == "Bearer" {
		return "Bearer"
	}
	return "Basic"
}

// Registry is Harbor's v1.Registry (≥ v2.11): insecure is always sent.
type Registry struct {
	URL           string `json:"url"`
	Authorization string `json:"authorization"`
	Insecure      bool   `json:"insecure"`
}

// Artifact is Harbor's v1.Artifact; NamespaceID is zeroed before submit, so
// omitempty drops it, as in Harbor.
type Artifact struct {
	NamespaceID int64  `json:"namespace_id,omitempty"`
	Repository  string `json:"repository"`
	Tag         string `json:"tag"`
	Digest      string `json:"digest"`
	MimeType    string `json:"mime_type"`
	Size        int64  `json:"size"`
}

// ScanType is one element of enabled_capabilities; Parameters is nil for a
// vulnerability scan and encodes as null, as Harbor's does.
type ScanType struct {
	Type              string   `json:"type"`
	ProducesMimeTypes []string `json:"produces_mime_types"`
	Parameters        any      `json:"parameters"`
}

// SBOMParameters is the parameters of an SBOM scan type.
type SBOMParameters struct {
	SBOMMediaTypes []string `json:"sbom_media_types"`
}

// ScanRequest is Harbor's v1.ScanRequest, field order included.
type ScanRequest struct {
	Registry    *Registry   `json:"registry"`
	Artifact    *Artifact   `json:"artifact"`
	RequestType []*ScanType `json:"enabled_capabilities"`
	// Legacy sends the request as Harbor before v2.11 did: no
	// enabled_capabilities, no registry.insecure, no artifact.size.
	Legacy bool `json:"-"`
}

// MarshalJSON encodes the request in the shape of the Harbor release it
// stands for.
func (s *ScanRequest) MarshalJSON() ([]byte, error) {
	if !s.Legacy {
		type plain ScanRequest // without this method
		return json.Marshal((*plain)(s))
	}
	type registry struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	}
	type artifact struct {
		NamespaceID int64  `json:"namespace_id,omitempty"`
		Repository  string `json:"repository"`
		Tag         string `json:"tag"`
		Digest      string `json:"digest"`
		MimeType    string `json:"mime_type"`
	}
	var v struct {
		Registry *registry `json:"registry"`
		Artifact *artifact `json:"artifact"`
	}
	if r := s.Registry; r != nil {
		v.Registry = &registry{r.URL, r.Authorization}
	}
	if a := s.Artifact; a != nil {
		v.Artifact = &artifact{a.NamespaceID, a.Repository, a.Tag, a.Digest, a.MimeType}
	}
	return json.Marshal(&v)
}

// ScanResponse is the 202 body.
type ScanResponse struct {
	ID string `json:"id"`
}

// NewVulnerabilityRequest builds the request Harbor's vulnerability handler
// sends: one enabled capability with the 1.1 type and parameters null.
func NewVulnerabilityRequest(registryURL, authorization string, a Artifact) *ScanRequest {
	return &ScanRequest{
		Registry: &Registry{URL: registryURL, Authorization: authorization},
		Artifact: &a,
		RequestType: []*ScanType{{
			Type:              ScanTypeVulnerability,
			ProducesMimeTypes: []string{MimeTypeGenericVulnerabilityReport},
		}},
	}
}

// NewSBOMRequest builds the request Harbor's SBOM handler sends; Harbor only
// ever asks for SPDX.
func NewSBOMRequest(registryURL, authorization string, a Artifact) *ScanRequest {
	return &ScanRequest{
		Registry: &Registry{URL: registryURL, Authorization: authorization},
		Artifact: &a,
		RequestType: []*ScanType{{
			Type:              ScanTypeSbom,
			ProducesMimeTypes: []string{MimeTypeSBOMReport},
			Parameters:        &SBOMParameters{SBOMMediaTypes: []string{MediaTypeSPDX}},
		}},
	}
}

// SBOMURLParameter is the query Harbor's SBOM handler appends to every
// report poll of an SBOM job.
func SBOMURLParameter() string { return "sbom_media_type=application%2Fspdx%2Bjson" }
