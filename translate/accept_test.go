package translate

import (
	"errors"
	"testing"
)

func TestParseReportAccept(t *testing.T) {
	cases := []struct {
		accept string
		kind   ReportKind
		ct     string
		err    error
	}{
		{MimeVuln11, ReportVuln, MimeVuln11, nil},
		{MimeVulnHarbor10, ReportVuln, MimeVulnHarbor10, nil},
		{MimeSBOMReport10, ReportSBOM, MimeSBOMReport10, nil},
		{"", ReportVuln, MimeVuln11, nil},
		{"*/*", ReportVuln, MimeVuln11, nil},
		{"application/*", ReportVuln, MimeVuln11, nil},
		{"application/json", ReportVuln, MimeVuln11, nil},
		{"Application/JSON; charset=utf-8", ReportVuln, MimeVuln11, nil},
		{"  ,  ", ReportVuln, MimeVuln11, nil},
		{"application/vnd.security.vulnerability.report;version=1.1", ReportVuln, MimeVuln11, nil},
		{"APPLICATION/VND.SECURITY.VULNERABILITY.REPORT ;  Version=1.1", ReportVuln, MimeVuln11, nil},
		{`application/vnd.security.vulnerability.report; version="1.1"`, ReportVuln, MimeVuln11, nil},
		{"application/vnd.security.vulnerability.report", ReportVuln, MimeVuln11, nil},
		{"application/vnd.scanner.adapter.vuln.report.harbor+json;version=1.0", ReportVuln, MimeVulnHarbor10, nil},
		{"application/vnd.security.sbom.report+json;version=1.0", ReportSBOM, MimeSBOMReport10, nil},
		{MimeVulnRaw, 0, "", ErrBadAccept},
		{"application/vnd.security.vulnerability.report; version=1.0", 0, "", ErrBadAccept},
		{"application/vnd.security.sbom.report+json; version=2.0", 0, "", ErrBadAccept},
		{"text/html", 0, "", ErrBadAccept},
		{MediaSPDX, 0, "", ErrBadAccept},
		{MimeVulnRaw + ", " + MimeVulnHarbor10 + ";q=0.5", ReportVuln, MimeVulnHarbor10, nil},
		{"text/html, " + MimeSBOMReport10 + ", " + MimeVuln11, ReportSBOM, MimeSBOMReport10, nil},
		{MimeVuln11 + ";q=0, " + MimeVulnHarbor10, ReportVuln, MimeVulnHarbor10, nil},
		{MimeVuln11 + ";q=0.0", 0, "", ErrBadAccept},
		{"text/html, */*;q=0.1", ReportVuln, MimeVuln11, nil},
	}
	for _, c := range cases {
		k, ct, err := ParseReportAccept([]byte(c.accept))
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%q: err %v, want %v", c.accept, err, c.err)
			continue
		}
		if err == nil && (k != c.kind || ct != c.ct) {
			t.Errorf("%q: got %d %q, want %d %q", c.accept, k, ct, c.kind, c.ct)
		}
	}
}
