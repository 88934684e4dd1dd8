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
