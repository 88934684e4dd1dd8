package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
)

func sbomFixture() *ScanRepoReport {
	r := genReport(21, 10)
	r.Digest = testArtifact.Digest
	return r
}

// splitSbomReport decodes the HarborSbomReport and returns its sbom member.
func splitSbomReport(t *testing.T, doc []byte) (SbomReport, []byte) {
	t.Helper()
	var rep SbomReport
	if err := json.Unmarshal(doc, &rep); err != nil {
		t.Fatalf("HarborSbomReport: %v", err)
	}
	if len(rep.Sbom) == 0 || rep.Sbom[0] != '{' {
		t.Fatalf("sbom is not a JSON object: %.40s", rep.Sbom)
	}
	return rep, rep.Sbom
}

func TestSPDX(t *testing.T) {
	r := sbomFixture()
	doc, err := EncodeSbomReport(r, testArtifact, MediaSPDX, testScanner, genTime)
	if err != nil {
		t.Fatal(err)
	}
	rep, raw := splitSbomReport(t, doc)
	if rep.MediaType != MediaSPDX || rep.GeneratedAt != "2026-12-04T21:00:00Z" || rep.Artifact.Digest != testArtifact.Digest || rep.Scanner != testScanner {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(string(doc), `"vendor_attributes":{"neuvector":{"base_os":"debian:12","cvedb_create_time":"2026-07-01T00:00:00Z","cvedb_version":"3.912"}}`) {
		t.Errorf("vendor_attributes: %s", doc[:min(len(doc), 600)])
	}
	validateOpenAPI(t, "scanner-adapter-openapi-v1.2.yaml", "HarborSbomReport", doc)
	validateJSONSchema(t, "spdx-2.3.schema.json", raw)

	sd, err := spdxjson.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("tools-golang cannot read it back: %v", err)
	}
	// image + OS + the distinct modules (one exact repeat dropped)
	if got, want := len(sd.Packages), 2+len(r.Modules)-1; got != want {
		t.Fatalf("%d packages, want %d", got, want)
	}
	purls := map[string]bool{}
	var imagePurl string
	contains := 0
	for _, p := range sd.Packages {
		for _, ref := range p.PackageExternalReferences {
			if ref.RefType == "purl" {
				if _, err := packageurl.FromString(ref.Locator); err != nil {
					t.Errorf("purl %q: %v", ref.Locator, err)
				}
				purls[ref.Locator] = true
				if p.PackageSPDXIdentifier == "Image" {
					imagePurl = ref.Locator
				}
			}
		}
	}
	for _, rel := range sd.Relationships {
		if rel.Relationship == "CONTAINS" && rel.RefA.ElementRefID == "Image" {
			contains++
		}
	}
	if contains != len(sd.Packages)-1 {
		t.Errorf("image CONTAINS %d of %d packages", contains, len(sd.Packages)-1)
	}
	if imagePurl != "pkg:oci/app@sha256:"+strings.TrimPrefix(testArtifact.Digest, "sha256:")+"?repository_url=harbor.example.com%2Flibrary%2Fapp&tag=1.0" {
		t.Errorf("image purl %q", imagePurl)
	}
	for _, want := range []string{
		"pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12",
		"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
		"pkg:pypi/flask-cors@3.0.10",
		"pkg:npm/%40types/node@20.1.0",
		"pkg:golang/golang.org/x/net@v0.17.0",
		"pkg:gem/rack@2.2.3",
		"pkg:composer/monolog@2.9.1",
		"pkg:nuget/Newtonsoft.Json@12.0.1",
	} {
		if !purls[want] {
			t.Errorf("missing purl %s (have %v)", want, purls)
		}
	}
	if !strings.Contains(string(raw), `"referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:apache:log4j:2.14.1`) ||
		!strings.Contains(string(raw), `"referenceType":"cpe22Type"`) {
		t.Error("CPEs missing from externalRefs")
	}
}

func TestCycloneDX(t *testing.T) {
	r := sbomFixture()
	doc, err := EncodeSbomReport(r, testArtifact, MediaCycloneDX, testScanner, genTime)
	if err != nil {
		t.Fatal(err)
	}
	rep, raw := splitSbomReport(t, doc)
	if rep.MediaType != MediaCycloneDX {
		t.Fatalf("media_type %s", rep.MediaType)
	}
	validateOpenAPI(t, "scanner-adapter-openapi-v1.2.yaml", "HarborSbomReport", doc)
	validateJSONSchema(t, "cyclonedx-bom-1.6.schema.json", raw)

	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("cyclonedx-go cannot read it back: %v", err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatalf("bom header %+v", bom)
	}
	if bom.Metadata.Component.Type != cdx.ComponentTypeContainer || bom.Metadata.Component.Version != testArtifact.Digest {
		t.Errorf("root component %+v", bom.Metadata.Component)
	}
	refs := map[string]bool{}
	var haveMavenGroup, haveOS bool
	for _, c := range *bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("duplicate bom-ref %s", c.BOMRef)
		}
		refs[c.BOMRef] = true
		if c.PackageURL != "" {
			if _, err := packageurl.FromString(c.PackageURL); err != nil {
				t.Errorf("purl %q: %v", c.PackageURL, err)
			}
		}
		if c.Group == "org.apache.logging.log4j" && c.Name == "log4j-core" && c.CPE == "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*" {
			haveMavenGroup = true
		}
		if c.Type == cdx.ComponentTypeOS && c.Name == "debian" && c.Version == "12" {
			haveOS = true
		}
	}
	if !haveMavenGroup || !haveOS {
		t.Errorf("maven group/cpe %v, OS component %v", haveMavenGroup, haveOS)
	}
	deps := (*bom.Dependencies)[0]
	if deps.Ref != bom.Metadata.Component.BOMRef || len(*deps.Dependencies) != len(*bom.Components) {
		t.Errorf("image depends on %d of %d components", len(*deps.Dependencies), len(*bom.Components))
	}
}

// TestSbomDeterministic: same scan, same bytes but for the creation time,
// whatever the order of the controller's modules.
func TestSbomDeterministic(t *testing.T) {
	for _, mt := range []string{MediaSPDX, MediaCycloneDX} {
		r1 := sbomFixture()
		r2 := sbomFixture()
		r2.Modules = append([]Module(nil), r2.Modules...)
		for i, j := 0, len(r2.Modules)-1; i < j; i, j = i+1, j-1 {
			r2.Modules[i], r2.Modules[j] = r2.Modules[j], r2.Modules[i]
		}
		a, err := EncodeSbomReport(r1, testArtifact, mt, testScanner, genTime)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := EncodeSbomReport(r2, testArtifact, mt, testScanner, genTime)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: module order changes the document", mt)
		}
		later, _ := EncodeSbomReport(r1, testArtifact, mt, testScanner, genTime.Add(time.Hour))
		stamp := func(d []byte) []byte {
			return bytes.ReplaceAll(d, []byte("2026-12-04T22:00:00Z"), []byte("2026-12-04T21:00:00Z"))
		}
		if !bytes.Equal(stamp(later), a) {
			t.Fatalf("%s: a later generation differs beyond its time stamps", mt)
		}
		other := *r1
		other.Digest = "sha256:" + strings.Repeat("e", 64)
		oa := testArtifact
		oa.Digest = other.Digest
		c, _ := EncodeSbomReport(&other, oa, mt, testScanner, genTime)
		if bytes.Equal(a, c) {
			t.Fatalf("%s: another digest gives the same document", mt)
		}
	}
}

func TestSbomEdgeCases(t *testing.T) {
	if _, err := EncodeSbomReport(sbomFixture(), testArtifact, "text/plain", testScanner, genTime); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown media type: %v", err)
	}
	if _, err := EncodeSbomReport(nil, testArtifact, MediaSPDX, testScanner, genTime); err == nil {
		t.Error("nil report accepted")
	}
	// No modules and no base OS: still valid documents.
	bare := &ScanRepoReport{Digest: testArtifact.Digest}
	for mt, schema := range map[string]string{MediaSPDX: "spdx-2.3.schema.json", MediaCycloneDX: "cyclonedx-bom-1.6.schema.json"} {
		doc, err := EncodeSbomReport(bare, Artifact{Repository: "a", Digest: testArtifact.Digest}, mt, Scanner{}, genTime)
		if err != nil {
			t.Fatal(err)
		}
		_, raw := splitSbomReport(t, doc)
		validateJSONSchema(t, schema, raw)
		validateOpenAPI(t, "scanner-adapter-openapi-v1.2.yaml", "HarborSbomReport", doc)
	}
}

func TestModulePURL(t *testing.T) {
	cases := []struct {
		m      Module
		baseOS string
		want   string
	}{
		{Module{Name: "musl", Version: "1.2.4-r2", Source: "alpine:3.19"}, "", "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19"},
		{Module{Name: "bash", Version: "4.4.20-4.el8", Source: "rhel:8"}, "", "pkg:rpm/redhat/bash@4.4.20-4.el8?distro=rhel-8"},
		{Module{Name: "curl", Version: "7.81.0", Source: ""}, "ubuntu:22.04", "pkg:deb/ubuntu/curl@7.81.0?distro=ubuntu-22.04"},
		{Module{Name: "x", Version: "1", Source: "plan9:4"}, "", ""},
		{Module{Name: "jar:thing", Version: "1", Source: "jar"}, "", ""},
		{Module{Name: ".NET:Core", Version: "6.0.5", Source: ".NET"}, "", ""},
		{Module{Name: "Wordpress", Version: "6.4.1", Source: "Wordpress"}, "", ""},
		{Module{Name: "go:github.com/foo/bar/v2", Version: "2.1.0", Source: "golang"}, "", "pkg:golang/github.com/foo/bar/v2@v2.1.0"},
	}
	for _, c := range cases {
		if got := modulePURL(&c.m, c.baseOS); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}

// TestSchemaValidatorRejects makes sure the offline schema validation can
// fail.
func TestSchemaValidatorRejects(t *testing.T) {
	s := jsonSchema(t, "cyclonedx-bom-1.6.schema.json")
	v := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "not-a-urn"}
	if err := s.Validate(v); err == nil {
		t.Error("a bad serialNumber validated")
	}
	s = jsonSchema(t, "spdx-2.3.schema.json")
	if err := s.Validate(map[string]any{"spdxVersion": "SPDX-2.3"}); err == nil {
		t.Error("an SPDX document without its required fields validated")
	}
}
