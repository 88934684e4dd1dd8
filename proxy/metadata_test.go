package proxy

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// metadataOf fetches and decodes GET /metadata, checking what Harbor's
// Validate() checks (harbor-contract.md §8.5).
func metadataOf(t *testing.T, a *API, accept string, auth ...string) (translate.Metadata, map[string]any) {
	t.Helper()
	hdr := map[string]string{"Accept": accept}
	if len(auth) > 0 {
		hdr["Authorization"] = auth[0]
	}
	resp := call(a.Handler(), "GET", "/api/v1/metadata", hdr, nil)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d %q", resp.StatusCode(), resp.Body())
	}
	want := translate.MimeMetadata10
	if accept == translate.MimeMetadata11 {
		want = translate.MimeMetadata11
	}
	if ct := string(resp.Header.ContentType()); ct != want {
		t.Fatalf("Content-Type %q, want %q", ct, want)
	}
	var md translate.Metadata
	if err := json.Unmarshal(resp.Body(), &md); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(resp.Body(), &raw); err != nil {
		t.Fatal(err)
	}
	if md.Scanner.Name == "" || md.Scanner.Vendor == "" || md.Scanner.Version == "" {
		t.Fatalf("scanner %+v has an empty field", md.Scanner)
	}
	if len(md.Capabilities) == 0 {
		t.Fatal("no capabilities")
	}
	for _, c := range md.Capabilities {
		if !slices.Contains(c.ConsumesMimeTypes, translate.MimeDockerManifestV2) ||
			!slices.Contains(c.ConsumesMimeTypes, translate.MimeOCIManifest) {
			t.Fatalf("capability %s consumes %v", c.Type, c.ConsumesMimeTypes)
		}
		if len(c.ProducesMimeTypes) != 1 {
			t.Fatalf("capability %s produces %v: Harbor polls every one", c.Type, c.ProducesMimeTypes)
		}
	}
	props, _ := raw["properties"].(map[string]any)
	for k, v := range props {
		s, ok := v.(string)
		if !ok || s == "" {
			t.Fatalf("property %s = %#v: must be a non-empty string", k, v)
		}
	}
	return md, raw
}

func TestMetadataContent(t *testing.T) {
	a := newUnitAPI(t, nil)
	for _, accept := range []string{translate.MimeMetadata10, translate.MimeMetadata11, "*/*", ""} {
		md, raw := metadataOf(t, a, accept)
		if len(md.Capabilities) != 2 {
			t.Fatalf("capabilities %+v, want vulnerability and sbom", md.Capabilities)
		}
		v, s := md.Capabilities[0], md.Capabilities[1]
		if v.Type != "vulnerability" || v.ProducesMimeTypes[0] != translate.MimeVuln11 {
			t.Fatalf("vulnerability capability %+v", v)
		}
		if s.Type != "sbom" || s.ProducesMimeTypes[0] != translate.MimeSBOMReport10 {
			t.Fatalf("sbom capability %+v", s)
		}
		caps := raw["capabilities"].([]any)
		attrs := caps[1].(map[string]any)["additional_attributes"].(map[string]any)
		media := attrs["sbom_media_types"].([]any)
		if len(media) != 2 || media[0] != translate.MediaSPDX || media[1] != translate.MediaCycloneDX {
			t.Fatalf("sbom_media_types %v", media)
		}
		p := md.Properties
		if p[translate.PropScannerType] != "os-package-vulnerability" || p[translate.PropRegistryAuthType] != "Basic" {
			t.Fatalf("properties %v", p)
		}
		// The CVE DB is unknown yet: omitted, never empty.
		if _, ok := p[translate.PropDBUpdatedAt]; ok {
			t.Fatalf("database time sent while unknown: %v", p)
		}
	}
}

func TestMetadataFollowsCVEDB(t *testing.T) {
	a := newUnitAPI(t, nil)
	a.noteCVEDB("4.100", "2026-11-30T08:00:00Z")
	md, _ := metadataOf(t, a, translate.MimeMetadata10)
	if md.Properties[translate.PropDBUpdatedAt] != "2026-11-30T08:00:00Z" ||
		md.Properties[translate.PropNeuVectorCVEDBVer] != "4.100" {
		t.Fatalf("properties %v", md.Properties)
	}
	// A report with a newer version but no create time keeps no stale time.
	a.noteCVEDB("4.101", "")
	md, _ = metadataOf(t, a, translate.MimeMetadata10)
	if md.Properties[translate.PropNeuVectorCVEDBVer] != "4.101" {
		t.Fatalf("version not updated: %v", md.Properties)
	}
	if got := md.Properties[translate.PropDBUpdatedAt]; got != "" {
		t.Fatalf("create time %q of the old DB kept for the new one", got)
	}
}

func TestMetadataWithoutSBOM(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) { c.SBOM = false })
	md, _ := metadataOf(t, a, translate.MimeMetadata10)
	if len(md.Capabilities) != 1 || md.Capabilities[0].Type != "vulnerability" {
		t.Fatalf("capabilities %+v", md.Capabilities)
	}
}

// In pass-through mode the adapter has no controller identity before
// Harbor's first call; that first call (often "Test connection") already
// shows the CVE database date.
func TestFirstPassThroughMetadataHasDBDate(t *testing.T) {
	s := newSim(t, sim.Config{CVEDBCreateTime: "2026-11-30T12:00:00Z"})
	e := newEnv(t, s, nil)
	hdr := map[string]string{"Accept": translate.MimeMetadata10}
	for k, v := range e.auth {
		hdr[k] = v
	}
	resp := call(e.h, "GET", "/api/v1/metadata", hdr, nil)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	var md translate.Metadata
	if err := json.Unmarshal(resp.Body(), &md); err != nil {
		t.Fatal(err)
	}
	if got := md.Properties[translate.PropDBUpdatedAt]; got != "2026-11-30T12:00:00Z" {
		t.Fatalf("first metadata: database date %q", got)
	}
}
