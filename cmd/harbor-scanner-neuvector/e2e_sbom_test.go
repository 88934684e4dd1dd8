package main

import (
	"context"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
)

// Harbor's SBOM job (enabled_capabilities type sbom, polled with
// ?sbom_media_type=application%2Fspdx%2Bjson) after a vulnerability scan of
// the same digest: both SBOM formats, no second controller scan.
func TestE2ESBOMFromTheSameScan(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "200ms", "-vulns", "20")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	md, err := c.GetMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sbomMimes := md.ProducesMimeTypes(harborclient.MimeTypeDockerArtifact, harborclient.ScanTypeSbom)
	if len(sbomMimes) != 1 || sbomMimes[0] != harborclient.MimeTypeSBOMReport {
		t.Fatalf("SBOM capability produces %v, want exactly the SBOM report type", sbomMimes)
	}
	digest := digestOf("sbom")
	art := harborclient.Artifact{Repository: "library/sbom", Tag: "1", Digest: digest, MimeType: harborclient.MimeTypeDockerArtifact, Size: 99}
	if _, err := c.RunScanJob(context.Background(), vulnRequest("library/sbom", digest), vulnMimes(t, c), ""); err != nil {
		t.Fatal(err)
	}
	rep := sim.GenerateReport(digest, "library/sbom", "http://core:8080/", 20, sim.DefaultCVEDBVersion, sim.DefaultCVEDBCreateTime)
	vulnerable := map[string]bool{}
	for _, v := range rep.Vulnerabilities {
		vulnerable[v.PackageName+"@"+v.PackageVersion] = true
	}
	auth := harborclient.BasicAuthorization(robotUser, robotSecret)
	for _, tc := range []struct{ param, media string }{
		{harborclient.SBOMURLParameter(), harborclient.MediaTypeSPDX},
		{"sbom_media_type=application%2Fvnd.cyclonedx%2Bjson", harborclient.MediaTypeCycloneDX},
		{"sbom_media_type=application/spdx+json", harborclient.MediaTypeSPDX}, // a '+' typed by hand is a '+'
	} {
		res, err := c.RunScanJob(context.Background(), harborclient.NewSBOMRequest("http://core:8080", auth, art), sbomMimes, tc.param)
		if err != nil {
			t.Fatalf("%s: %v", tc.param, err)
		}
		r := res.Result(harborclient.MimeTypeSBOMReport)
		if r == nil || r.SBOM == nil {
			t.Fatalf("%s: no SBOM", tc.param)
		}
		if r.SBOM.MediaType != tc.media {
			t.Errorf("%s: media_type %q, want %q", tc.param, r.SBOM.MediaType, tc.media)
		}
		if n := r.SBOM.Packages(); n < len(vulnerable) || n < len(rep.Modules) {
			t.Errorf("%s: %d packages; the scan found %d modules, %d of them vulnerable", tc.param, n, len(rep.Modules), len(vulnerable))
		}
	}
	if st := s.stats(t); st.ScansStarted != 1 {
		t.Fatalf("%d controller scans for one vulnerability report and three SBOMs, want 1", st.ScansStarted)
	}
}
