package harborclient_test

import (
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// The client declares Harbor's strings on its own, so that a typo in the
// adapter's constants cannot hide behind a shared one; this test catches a
// difference between the two sides either way.
func TestMimeStringsAgreeWithTheAdapter(t *testing.T) {
	pairs := []struct{ harbor, adapter string }{
		{harborclient.MimeTypeAdapterMeta, translate.MimeMetadata10},
		{harborclient.MimeTypeScanRequest, translate.MimeScanRequest10},
		{harborclient.MimeTypeScanResponse, translate.MimeScanResponse10},
		{harborclient.MimeTypeNativeReport, translate.MimeVulnHarbor10},
		{harborclient.MimeTypeGenericVulnerabilityReport, translate.MimeVuln11},
		{harborclient.MimeTypeRawReport, translate.MimeVulnRaw},
		{harborclient.MimeTypeSBOMReport, translate.MimeSBOMReport10},
		{harborclient.MimeTypeOCIArtifact, translate.MimeOCIManifest},
		{harborclient.MimeTypeDockerArtifact, translate.MimeDockerManifestV2},
		{harborclient.MediaTypeSPDX, translate.MediaSPDX},
		{harborclient.MediaTypeCycloneDX, translate.MediaCycloneDX},
		{harborclient.ScanTypeVulnerability, translate.CapabilityVulnerability},
		{harborclient.ScanTypeSbom, translate.CapabilitySBOM},
		{harborclient.PropRegistryAuthType, translate.PropRegistryAuthType},
	}
	for _, p := range pairs {
		if p.harbor != p.adapter {
			t.Errorf("Harbor sends/expects %q, the adapter has %q", p.harbor, p.adapter)
		}
	}
}
