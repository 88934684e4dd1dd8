package translate

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// sbomNamespace is the UUID namespace of the name-based (v5) UUIDs that
// make SBOM identifiers deterministic: same scan, same identifiers.
var sbomNamespace = [16]byte{0x6b, 0x1c, 0x3e, 0x52, 0x8f, 0x0d, 0x4a, 0x5e, 0x9d, 0x61, 0x27, 0x3b, 0x40, 0x8e, 0xc1, 0x55}

// uuidV5 is RFC 9562's name-based UUID (SHA-1).
func uuidV5(name string) string {
	h := sha1.New()
	h.Write(sbomNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// sbomModule is one distinct module with what both formats need.
type sbomModule struct {
	m    *Module
	key  string // source, name, version, file: identity and order
	id   string // content-derived, stable whatever the other modules
	name string // name without NeuVector's ecosystem prefix
	grp  string // maven group
	purl string
	os   bool
}

// collectModules dedupes and orders the report's modules deterministically.
func collectModules(r *ScanRepoReport) []sbomModule {
	mods := make([]sbomModule, 0, len(r.Modules))
	seen := make(map[string]bool, len(r.Modules))
	for i := range r.Modules {
		m := &r.Modules[i]
		if m.Name == "" {
			continue
		}
		key := m.Source + "\x00" + m.Name + "\x00" + m.Version + "\x00" + m.File
		if seen[key] {
			continue
		}
		seen[key] = true
		sum := sha256.Sum256([]byte(key))
		sm := sbomModule{m: m, key: key, id: hex.EncodeToString(sum[:8]), name: m.Name, purl: modulePURL(m, r.BaseOS)}
		sm.os = isOSNamespace(m.Source) || m.Source == ""
		if !sm.os {
			switch strings.ToLower(m.Source) {
			case "jar", "java", "maven":
				if g, a, ok := strings.Cut(m.Name, ":"); ok && g != "jar" {
					sm.grp, sm.name = g, a
				} else if ok {
					sm.name = a
				}
			case "golang", "go":
				sm.name = strings.TrimPrefix(m.Name, "go:")
			default:
				// "python:requests", "ruby:rack", "php:monolog", ".NET:Newtonsoft.Json"
				if p, n, ok := strings.Cut(m.Name, ":"); ok && n != "" && strings.EqualFold(p, m.Source) {
					sm.name = n
					if p == ".NET" && n == "Core" {
						// NeuVector's name for the runtime itself
						sm.name = ".NET Core"
					}
				}
			}
		}
		mods = append(mods, sm)
	}
	slices.SortFunc(mods, func(a, b sbomModule) int { return strings.Compare(a.key, b.key) })
	return mods
}

// errNoReport is EncodeSbomReport's error for a nil report.
var errNoReport = errors.New("translate: no controller report")

// EncodeSbomReport builds the HarborSbomReport with an SBOM document in
// mediaType (MediaSPDX: SPDX 2.3; MediaCycloneDX: CycloneDX 1.6) describing
// the image and every module of the report. Output is deterministic: the
// same scan gives the same bytes except for generatedAt.
func EncodeSbomReport(r *ScanRepoReport, a Artifact, mediaType string, s Scanner, generatedAt time.Time) ([]byte, error) {
	if r == nil {
		return nil, errNoReport
	}
	created := generatedAt.UTC().Truncate(time.Second)
	var doc []byte
	var err error
	switch mediaType {
	case MediaSPDX:
		doc, err = encodeSPDX(r, a, s, created)
	case MediaCycloneDX:
		doc, err = encodeCycloneDX(r, a, s, created)
	default:
		return nil, unsupported("sbom_media_type: supported are application/spdx+json and application/vnd.cyclonedx+json")
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(doc)+512)
	out = append(out, `{"generated_at":`...)
	out = AppendJSONString(out, created.Format(time.RFC3339))
	out = append(out, `,"artifact":`...)
	out = appendArtifact(out, &Artifact{Repository: a.Repository, Digest: a.Digest, Tag: a.Tag, MimeType: a.MimeType})
	out = append(out, `,"scanner":`...)
	out = appendScanner(out, &s)
	facts := map[string]any{}
	for k, v := range map[string]string{"base_os": r.BaseOS, "cvedb_version": r.CVEDBVersion, "cvedb_create_time": r.CVEDBCreateTime} {
		if v != "" {
			facts[k] = v
		}
	}
	if len(facts) > 0 {
		out = append(out, `,"vendor_attributes":`...)
		out, _ = appendMap(out, map[string]any{VendorName: facts})
	}
	out = append(out, `,"media_type":`...)
	out = AppendJSONString(out, mediaType)
	out = append(out, `,"sbom":`...)
	out = append(out, doc...)
	return append(out, '}'), nil
}

// imageName is how both formats name the image: repository@digest.
func imageName(a Artifact) string { return a.Repository + "@" + a.Digest }

// spdxChecksum maps the digest to an SPDX checksum.
func spdxChecksum(digest string) (spdxcommon.Checksum, bool) {
	algo, hexv, _ := strings.Cut(digest, ":")
	switch algo {
	case "sha256":
		return spdxcommon.Checksum{Algorithm: spdxcommon.SHA256, Value: hexv}, true
	case "sha384":
		return spdxcommon.Checksum{Algorithm: spdxcommon.SHA384, Value: hexv}, true
	case "sha512":
		return spdxcommon.Checksum{Algorithm: spdxcommon.SHA512, Value: hexv}, true
	}
	return spdxcommon.Checksum{}, false
}

func encodeSPDX(r *ScanRepoReport, a Artifact, s Scanner, created time.Time) ([]byte, error) {
	mods := collectModules(r)
	imageID := spdxcommon.ElementID("Image")
	image := &spdx.Package{
		PackageName:               a.Repository,
		PackageSPDXIdentifier:     imageID,
		PackageVersion:            a.Digest,
		PackageDownloadLocation:   "NOASSERTION",
		FilesAnalyzed:             false,
		IsFilesAnalyzedTagPresent: true,
		PrimaryPackagePurpose:     "CONTAINER",
		PackageComment:            "Container image scanned by NeuVector",
	}
	if cs, ok := spdxChecksum(a.Digest); ok {
		image.PackageChecksums = []spdxcommon.Checksum{cs}
	}
	if p := imagePURL(r.Registry, a); p != "" {
		image.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: spdxcommon.CategoryPackageManager, RefType: spdxcommon.TypePackageManagerPURL, Locator: p,
		}}
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      imageName(a),
		DocumentNamespace: "https://neuvector.com/spdxdocs/harbor-scanner-neuvector/" + uuidV5("spdx\x00"+a.Digest+"\x00"+r.CVEDBVersion),
		CreationInfo: &spdx.CreationInfo{
			Creators: creators(s),
			Created:  created.Format(time.RFC3339),
		},
		Packages: []*spdx.Package{image},
		Relationships: []*spdx.Relationship{{
			RefA:         spdxcommon.MakeDocElementID("", "DOCUMENT"),
			RefB:         spdxcommon.MakeDocElementID("", string(imageID)),
			Relationship: spdxcommon.TypeRelationshipDescribe,
		}},
	}
	if osName, osVer := splitNamespace(r.BaseOS); osName != "" {
		osID := spdxcommon.ElementID("OperatingSystem")
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:               osName,
			PackageSPDXIdentifier:     osID,
			PackageVersion:            osVer,
			PackageDownloadLocation:   "NOASSERTION",
			FilesAnalyzed:             false,
			IsFilesAnalyzedTagPresent: true,
			PrimaryPackagePurpose:     "OPERATING_SYSTEM",
		})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         spdxcommon.MakeDocElementID("", string(imageID)),
			RefB:         spdxcommon.MakeDocElementID("", string(osID)),
			Relationship: spdxcommon.TypeRelationshipContains,
		})
	}
	for i := range mods {
		sm := &mods[i]
		id := spdxcommon.ElementID("Package-" + sm.id)
		p := &spdx.Package{
			PackageName:               sm.fullName(),
			PackageSPDXIdentifier:     id,
			PackageVersion:            sm.m.Version,
			PackageDownloadLocation:   "NOASSERTION",
			FilesAnalyzed:             false,
			IsFilesAnalyzedTagPresent: true,
			PrimaryPackagePurpose:     "LIBRARY",
		}
		if sm.m.File != "" {
			p.PackageSourceInfo = "found in " + sm.m.File
		}
		if sm.purl != "" {
			p.PackageExternalReferences = append(p.PackageExternalReferences, &spdx.PackageExternalReference{
				Category: spdxcommon.CategoryPackageManager, RefType: spdxcommon.TypePackageManagerPURL, Locator: sm.purl,
			})
		}
		for _, cpe := range sm.m.CPEs {
			refType := ""
			switch {
			case strings.HasPrefix(cpe, "cpe:2.3:"):
				refType = spdxcommon.TypeSecurityCPE23Type
			case strings.HasPrefix(cpe, "cpe:/"):
				refType = spdxcommon.TypeSecurityCPE22Type
			default:
				continue
			}
			p.PackageExternalReferences = append(p.PackageExternalReferences, &spdx.PackageExternalReference{
				Category: spdxcommon.CategorySecurity, RefType: refType, Locator: cpe,
			})
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         spdxcommon.MakeDocElementID("", string(imageID)),
			RefB:         spdxcommon.MakeDocElementID("", string(id)),
			Relationship: spdxcommon.TypeRelationshipContains,
		})
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf); err != nil {
		return nil, fmt.Errorf("translate: spdx: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// fullName is the SPDX package name: maven keeps group:artifact.
func (sm *sbomModule) fullName() string {
	if sm.grp != "" {
		return sm.grp + ":" + sm.name
	}
	return sm.name
}

func creators(s Scanner) []spdxcommon.Creator {
	tool := "harbor-scanner-neuvector"
	if s.Name != "" {
		tool = s.Name
	}
	if s.Version != "" {
		tool += "-" + s.Version
	}
	cs := []spdxcommon.Creator{{CreatorType: "Tool", Creator: tool}}
	if s.Vendor != "" {
		cs = append(cs, spdxcommon.Creator{CreatorType: "Organization", Creator: s.Vendor})
	}
	return cs
}

func cdxHash(digest string) (cdx.Hash, bool) {
	algo, hexv, _ := strings.Cut(digest, ":")
	switch algo {
	case "sha256":
		return cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: hexv}, true
	case "sha384":
		return cdx.Hash{Algorithm: cdx.HashAlgoSHA384, Value: hexv}, true
	case "sha512":
		return cdx.Hash{Algorithm: cdx.HashAlgoSHA512, Value: hexv}, true
	}
	return cdx.Hash{}, false
}

func encodeCycloneDX(r *ScanRepoReport, a Artifact, s Scanner, created time.Time) ([]byte, error) {
	mods := collectModules(r)
	imageRef := imagePURL(r.Registry, a)
	if imageRef == "" {
		imageRef = "image:" + imageName(a)
	}
	image := cdx.Component{
		BOMRef:     imageRef,
		Type:       cdx.ComponentTypeContainer,
		Name:       a.Repository,
		Version:    a.Digest,
		PackageURL: imagePURL(r.Registry, a),
	}
	if h, ok := cdxHash(a.Digest); ok {
		image.Hashes = &[]cdx.Hash{h}
	}
	var imageProps []cdx.Property
	if a.Tag != "" {
		imageProps = append(imageProps, cdx.Property{Name: "neuvector:tag", Value: a.Tag})
	}
	if r.BaseOS != "" {
		imageProps = append(imageProps, cdx.Property{Name: "neuvector:base_os", Value: r.BaseOS})
	}
	if len(imageProps) > 0 {
		image.Properties = &imageProps
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: "harbor-scanner-neuvector", Version: s.Version}
	if s.Name != "" {
		tool.Name = s.Name
	}
	if s.Vendor != "" {
		tool.Supplier = &cdx.OrganizationalEntity{Name: s.Vendor}
	}
	comps := make([]cdx.Component, 0, len(mods)+1)
	refs := make([]string, 0, len(mods)+1)
	if osName, osVer := splitNamespace(r.BaseOS); osName != "" {
		ref := "os:" + r.BaseOS
		comps = append(comps, cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeOS, Name: osName, Version: osVer})
		refs = append(refs, ref)
	}
	purlCount := make(map[string]int, len(mods))
	for i := range mods {
		if mods[i].purl != "" {
			purlCount[mods[i].purl]++
		}
	}
	for i := range mods {
		sm := &mods[i]
		ref := sm.purl
		if ref == "" || purlCount[ref] > 1 {
			// a bom-ref must be unique: the same package in two files
			ref = "pkg-" + sm.id
		}
		c := cdx.Component{
			BOMRef:     ref,
			Type:       cdx.ComponentTypeLibrary,
			Group:      sm.grp,
			Name:       sm.name,
			Version:    sm.m.Version,
			PackageURL: sm.purl,
		}
		var props []cdx.Property
		for j, cpe := range sm.m.CPEs {
			if j == 0 {
				c.CPE = cpe
				continue
			}
			props = append(props, cdx.Property{Name: "neuvector:cpe", Value: cpe})
		}
		if sm.m.Source != "" {
			props = append(props, cdx.Property{Name: "neuvector:source", Value: sm.m.Source})
		}
		if sm.m.File != "" {
			props = append(props, cdx.Property{Name: "neuvector:file", Value: sm.m.File})
		}
		if len(props) > 0 {
			c.Properties = &props
		}
		comps = append(comps, c)
		refs = append(refs, ref)
	}
	bom := &cdx.BOM{
		JSONSchema:   "http://cyclonedx.org/schema/bom-1.6.schema.json",
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_6,
		SerialNumber: "urn:uuid:" + uuidV5("cyclonedx\x00"+a.Digest+"\x00"+r.CVEDBVersion),
		Version:      1,
		Metadata: &cdx.Metadata{
			Timestamp: created.Format(time.RFC3339),
			Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
			Component: &image,
		},
		Components:   &comps,
		Dependencies: &[]cdx.Dependency{{Ref: imageRef, Dependencies: &refs}},
	}
	if len(comps) == 0 {
		bom.Components = nil
		bom.Dependencies = &[]cdx.Dependency{{Ref: imageRef}}
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).Encode(bom); err != nil {
		return nil, fmt.Errorf("translate: cyclonedx: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
