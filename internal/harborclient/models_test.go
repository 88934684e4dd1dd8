package harborclient

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
)

func validMetadata() *Metadata {
	return &Metadata{
		Scanner: &Scanner{Name: "NeuVector", Vendor: "SUSE", Version: "5.4"},
		Capabilities: []*ScannerCapability{{
			Type:              ScanTypeVulnerability,
			ConsumesMimeTypes: []string{MimeTypeOCIArtifact, MimeTypeDockerArtifact},
			ProducesMimeTypes: []string{MimeTypeGenericVulnerabilityReport},
		}},
	}
}

func TestValidateHarborCases(t *testing.T) {
	wantProduces := "missing application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0 or application/vnd.security.vulnerability.report; version=1.1 in produces_mime_types"
	cases := []struct {
		name   string
		modify func(*Metadata)
		want   string
	}{
		{"valid", func(*Metadata) {}, ""},
		{"no scanner", func(m *Metadata) { m.Scanner = nil }, "invalid scanner in metadata"},
		{"empty vendor", func(m *Metadata) { m.Scanner.Vendor = "" }, "invalid scanner in metadata"},
		{"empty version", func(m *Metadata) { m.Scanner.Version = "" }, "invalid scanner in metadata"},
		{"no capabilities", func(m *Metadata) { m.Capabilities = nil }, "invalid capabilities in metadata"},
		{"OCI only", func(m *Metadata) { m.Capabilities[0].ConsumesMimeTypes = []string{MimeTypeOCIArtifact} },
			"missing application/vnd.docker.distribution.manifest.v2+json in consumes_mime_types"},
		{"no space before version", func(m *Metadata) {
			m.Capabilities[0].ProducesMimeTypes = []string{"application/vnd.security.vulnerability.report;version=1.1"}
		}, wantProduces},
		{"raw only", func(m *Metadata) { m.Capabilities[0].ProducesMimeTypes = []string{MimeTypeRawReport} }, wantProduces},
		{"second capability bad", func(m *Metadata) {
			m.Capabilities = append(m.Capabilities, &ScannerCapability{Type: ScanTypeSbom, ConsumesMimeTypes: []string{MimeTypeOCIArtifact}, ProducesMimeTypes: []string{MimeTypeSBOMReport}})
		}, "missing application/vnd.docker.distribution.manifest.v2+json in consumes_mime_types"},
		{"sbom type accepted", func(m *Metadata) { m.Capabilities[0].ProducesMimeTypes = []string{MimeTypeSBOMReport} }, ""},
		{"native accepted", func(m *Metadata) {
			m.Capabilities[0].ProducesMimeTypes = []string{MimeTypeRawReport, MimeTypeNativeReport}
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			md := validMetadata()
			c.modify(md)
			err := md.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("Validate() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestMetadataDecodeLikeHarbor(t *testing.T) {
	md := &Metadata{}
	err := json.Unmarshal([]byte(`{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[],"properties":{"n":1}}`), md)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("non-string property: err = %v, want an UnmarshalTypeError as Harbor gets", err)
	}
	md = &Metadata{}
	if err := json.Unmarshal([]byte(`{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[{"consumes_mime_types":["x"],"produces_mime_types":["y"],"additional_attributes":{"k":[1]}}]}`), md); err != nil {
		t.Fatalf("additional_attributes must be ignored: %v", err)
	}
}

func TestProducesMimeTypes(t *testing.T) {
	md := validMetadata()
	md.Capabilities[0].Type = "" // empty means vulnerability
	md.Capabilities[0].ProducesMimeTypes = []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport}
	md.Capabilities = append(md.Capabilities, &ScannerCapability{Type: ScanTypeSbom, ConsumesMimeTypes: []string{MimeTypeDockerArtifact}, ProducesMimeTypes: []string{MimeTypeSBOMReport}})
	if got := md.ProducesMimeTypes(MimeTypeDockerArtifact, ScanTypeVulnerability); !slices.Equal(got, []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport}) {
		t.Fatalf("vulnerability: %v", got)
	}
	if got := md.ProducesMimeTypes(MimeTypeOCIArtifact, ScanTypeSbom); got != nil {
		t.Fatalf("sbom capability does not consume OCI, got %v", got)
	}
	if got := md.ProducesMimeTypes(MimeTypeDockerArtifact, ScanTypeSbom); !slices.Equal(got, []string{MimeTypeSBOMReport}) {
		t.Fatalf("sbom: %v", got)
	}
	if got := (*Metadata)(nil).ProducesMimeTypes(MimeTypeDockerArtifact, ScanTypeSbom); got != nil {
		t.Fatalf("nil metadata: %v", got)
	}
}

func TestRegistryAuthorizationType(t *testing.T) {
	md := validMetadata()
	if md.RegistryAuthorizationType() != "Basic" {
		t.Fatal("default must be Basic")
	}
	md.Properties = map[string]string{PropRegistryAuthType: "bearer"}
	if md.RegistryAuthorizationType() != "Basic" {
		t.Fatal("only the exact Bearer selects bearer")
	}
	md.Properties[PropRegistryAuthType] = "Bearer"
	if md.RegistryAuthorizationType() != "Bearer" {
		t.Fatal("Bearer not honoured")
	}
}

// The bodies Harbor ≥ 2.11 sends, as harbor-contract.md §3.2 shows them.
func TestScanRequestBodiesAreHarbors(t *testing.T) {
	a := Artifact{Repository: "library/alpine", Tag: "3.19", Digest: "sha256:abc", MimeType: MimeTypeOCIArtifact, Size: 1234}
	b, _ := json.Marshal(NewVulnerabilityRequest("https://harbor.example.com", "Basic cm9ib3Q=", a))
	want := `{"registry":{"url":"https://harbor.example.com","authorization":"Basic cm9ib3Q=","insecure":false},` +
		`"artifact":{"repository":"library/alpine","tag":"3.19","digest":"sha256:abc","mime_type":"application/vnd.oci.image.manifest.v1+json","size":1234},` +
		`"enabled_capabilities":[{"type":"vulnerability","produces_mime_types":["application/vnd.security.vulnerability.report; version=1.1"],"parameters":null}]}`
	if string(b) != want {
		t.Fatalf("vulnerability body\n got %s\nwant %s", b, want)
	}
	a.Tag = ""
	b, _ = json.Marshal(NewSBOMRequest("http://core:8080", "", a))
	want = `{"registry":{"url":"http://core:8080","authorization":"","insecure":false},` +
		`"artifact":{"repository":"library/alpine","tag":"","digest":"sha256:abc","mime_type":"application/vnd.oci.image.manifest.v1+json","size":1234},` +
		`"enabled_capabilities":[{"type":"sbom","produces_mime_types":["application/vnd.security.sbom.report+json; version=1.0"],"parameters":{"sbom_media_types":["application/spdx+json"]}}]}`
	if string(b) != want {
		t.Fatalf("sbom body\n got %s\nwant %s", b, want)
	}
	if SBOMURLParameter() != "sbom_media_type="+url.QueryEscape(MediaTypeSPDX) {
		t.Fatalf("SBOM URL parameter %q", SBOMURLParameter())
	}
}

func TestNormalizeURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"adapter:8080", "http://adapter:8080"},
		{"  https://adapter.ns:8443/  ", "https://adapter.ns:8443"},
		{"http://adapter/endpoint/", "http://adapter/endpoint"},
		{"http://adapter/endpoint?x=1", "http://adapter/endpoint"},
		{"https://adapter//", "https://adapter"},
	}
	for _, c := range cases {
		got, err := NormalizeURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "  / ", "ftp://adapter"} {
		if _, err := NormalizeURL(bad); !errors.Is(err, ErrURL) {
			t.Errorf("NormalizeURL(%q) err = %v, want ErrURL", bad, err)
		}
	}
}

func TestParseSeverityVersion3(t *testing.T) {
	cases := map[string]string{
		"Critical": "Critical", "critical": "Critical", "CRITICAL": "Critical",
		"HIGH": "High", "medium": "Medium", "low": "Low",
		"Negligible": "None", "negligible": "None", "None": "None",
		"Unknown": "Unknown", "": "Unknown", "severe": "Unknown", "Moderate": "Unknown",
	}
	for in, want := range cases {
		if got := ParseSeverityVersion3(in); got != want {
			t.Errorf("ParseSeverityVersion3(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	r, err := ResolveVuln([]byte(`{"severity":"Low","vulnerabilities":[
		{"id":"A","package":"p","version":"1","severity":"critical","fix_version":"2"},
		{"id":"A","package":"p","version":"1","severity":"Low"},
		{"id":"B","package":"p","version":"1","severity":"Negligible"},
		{"id":"C","package":"q","version":"1","severity":"weird","fix_version":"3"},
		{"id":"D","package":"q","version":"1","severity":"Medium"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(r)
	if s.Severity != "Critical" || s.Total != 4 || s.Fixable != 2 || s.Duplicates != 1 || s.Reported != "Low" {
		t.Fatalf("summary %+v", s)
	}
	for sev, n := range map[string]int{"Critical": 1, "None": 1, "Unknown": 1, "Medium": 1, "Low": 0} {
		if s.Count(sev) != n {
			t.Errorf("%s = %d, want %d", sev, s.Count(sev), n)
		}
	}
	if got := Summarize(&VulnReport{}); got.Severity != "None" || got.Total != 0 {
		t.Fatalf("empty report summary %+v", got)
	}
	// Unknown has the same code as None, so it never raises the overall.
	if got := Summarize(&VulnReport{Vulnerabilities: []*VulnerabilityItem{{ID: "x", Severity: "?"}}}); got.Severity != "None" {
		t.Fatalf("only-unknown overall = %s, want None as Harbor computes it", got.Severity)
	}
}

func TestResolveLikeHarbor(t *testing.T) {
	if _, err := ResolveVuln(nil); err == nil || err.Error() != "empty JSON data" {
		t.Fatalf("empty: %v", err)
	}
	_, err := ResolveVuln([]byte(`{"vulnerabilities":[{"id":"x","preferred_cvss":{"score_v3":"7.5"}}]}`))
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("string score must fail to decode, got %v", err)
	}
	for _, ok := range []string{`{"vulnerabilities":null}`, `{"vulnerabilities":[]}`, `{}`} {
		if _, err := ResolveVuln([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if _, err := ResolveSBOM([]byte(`{"media_type":"application/spdx+json","sbom":"{}"}`)); err == nil {
		t.Fatal("an SBOM given as a string must fail")
	}
	r, err := ResolveSBOM([]byte(`{"media_type":"application/spdx+json","sbom":{"packages":[{},{}]}}`))
	if err != nil || r.Packages() != 2 {
		t.Fatalf("sbom: %v %v", r, err)
	}
	r, _ = ResolveSBOM([]byte(`{"sbom":{"components":[{}]}}`))
	if r.Packages() != 1 {
		t.Fatalf("cyclonedx components = %d", r.Packages())
	}
	r, _ = ResolveSBOM([]byte(`{"sbom":{}}`))
	if r.Packages() != -1 {
		t.Fatalf("no package list = %d", r.Packages())
	}
}

func TestFunctionForms(t *testing.T) {
	if Validate(nil) != ErrInvalidScanner || Validate(validMetadata()) != nil {
		t.Fatal("Validate")
	}
	if got := ProducesMimeTypes(validMetadata(), MimeTypeOCIArtifact, ScanTypeVulnerability); !slices.Equal(got, []string{MimeTypeGenericVulnerabilityReport}) {
		t.Fatalf("ProducesMimeTypes %v", got)
	}
}

func TestLegacyRequestShape(t *testing.T) {
	sr := NewVulnerabilityRequest("http://core:8080", "Basic eA==", Artifact{Repository: "library/alpine", Tag: "3.19", Digest: "sha256:abc", MimeType: MimeTypeDockerArtifact, Size: 99})
	sr.Legacy = true
	b, err := json.Marshal(sr)
	want := `{"registry":{"url":"http://core:8080","authorization":"Basic eA=="},"artifact":{"repository":"library/alpine","tag":"3.19","digest":"sha256:abc","mime_type":"application/vnd.docker.distribution.manifest.v2+json"}}`
	if err != nil || string(b) != want {
		t.Fatalf("legacy body\n got %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(&ScanRequest{Legacy: true}); string(b) != `{"registry":null,"artifact":null}` {
		t.Fatalf("empty legacy %s", b)
	}
}
