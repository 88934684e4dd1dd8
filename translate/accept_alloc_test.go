//go:build !race

package translate

import "testing"

// Harbor's exact Accept strings are parsed on every poll: no allocation.
func TestParseReportAcceptAllocs(t *testing.T) {
	for _, a := range []string{MimeVuln11, MimeVulnHarbor10, MimeSBOMReport10, "", "*/*",
		"application/vnd.security.vulnerability.report;version=1.1", MimeVulnRaw + ", " + MimeVuln11} {
		b := []byte(a)
		if n := testing.AllocsPerRun(100, func() { _, _, _ = ParseReportAccept(b) }); n != 0 {
			t.Errorf("%q: %v allocs", a, n)
		}
	}
}

// The encoders allocate per report, not per finding.
func TestEncodeAllocs(t *testing.T) {
	r := genReport(77, 500)
	// without duplicates: merging is the one per-finding allocation left
	r.Vulnerabilities = slicesUniqueFindings(r.Vulnerabilities)
	rep := NewVulnReport(r, testArtifact, genTime, Options{Scanner: testScanner})
	if n := testing.AllocsPerRun(5, func() { EncodeVulnReport(rep) }); n > 3 {
		t.Errorf("EncodeVulnReport: %v allocs for %d findings", n, len(rep.Vulnerabilities))
	}
	if n := testing.AllocsPerRun(5, func() { EncodeScanRepoReport(r, testArtifact, genTime, Options{Scanner: testScanner}) }); n > 40 {
		t.Errorf("EncodeScanRepoReport: %v allocs for %d findings", n, len(r.Vulnerabilities))
	}
}

func slicesUniqueFindings(vs []Vulnerability) []Vulnerability {
	seen := map[findingKey]bool{}
	var out []Vulnerability
	for _, v := range vs {
		k := findingKey{v.Name, v.PackageName, v.PackageVersion}
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}
