package translate

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestDecodeScanRepoReport(t *testing.T) {
	want := genReport(9, 20)
	body, err := json.Marshal(ScanRepoReportData{Report: want})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeScanRepoReport(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("decoded report differs from the encoded one")
	}
	// A controller body as §13.4 shows it, with fields this package ignores.
	body = []byte(`{"report":{"verdict":"","image_id":"07cc","registry":"https://harbor.example.com/","repository":"proj/app","tag":"1.27",
		"digest":"sha256:` + testDigest[7:] + `","size":159950606,"author":"","base_os":"debian:12","created_at":"2025-10-07T21:06:46Z",
		"cvedb_version":"4.017","cvedb_create_time":"2026-07-01T00:00:00Z","layers":[],"os_scan_status":"OSScanStatusSupported",
		"vulnerabilities":[{"name":"CVE-2024-1","score":4.3,"severity":"Medium","vectors":"AV:N","description":"d","file_name":"","package_name":"openssl",
		"package_version":"3.0","fixed_version":"3.1 OR 3.2","link":"https://x","score_v3":5.3,"vectors_v3":"CVSS:3.1/AV:N","published_timestamp":1700000000,
		"last_modified_timestamp":1700000001,"cpes":["cpe:2.3:a:o:o:3.0"],"cves":["CVE-2024-1"],"feed_rating":"moderate","in_base_image":true,"tags":["accepted"]}],
		"modules":[{"name":"openssl","file":"","version":"3.0","source":"debian:12","cves":[{"name":"CVE-2024-1","status":"fix exists"}],"cpes":["cpe:2.3:a:o:o:3.0"]}],
		"checks":[{"test_number":"I.4.1","category":"image","type":"image","profile":"Level 1","scored":true,"automated":true,"description":"d","remediation":"r","level":"WARN","message":[],"tags_v2":{"x":1}}],
		"secrets":[],"setid_perms":[],"envs":["PATH=/bin"],"labels":{"a":"b"},"cmds":["sh"],"signature_data":{"verifiers":[],"verification_timestamp":""},"future_field":{"x":[1,2]}}}`)
	r, err := DecodeScanRepoReport(body)
	if err != nil {
		t.Fatal(err)
	}
	if r.CVEDBVersion != "4.017" || len(r.Vulnerabilities) != 1 || r.Vulnerabilities[0].ScoreV3 != 5.3 || !r.Vulnerabilities[0].InBaseImage ||
		len(r.Modules) != 1 || r.Modules[0].CVEs[0].Status != "fix exists" {
		t.Fatalf("decoded %+v", r)
	}

	for _, bad := range []string{``, `[]`, `{}`, `{"report":null}`, `{"report":`, `{"report":{"vulnerabilities":{}}}`, `{"report":{"size":"big"}}`, `nope`} {
		if _, err := DecodeScanRepoReport([]byte(bad)); !errors.Is(err, ErrBadReport) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
