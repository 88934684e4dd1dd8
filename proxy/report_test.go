package proxy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func TestSBOMMediaTypeQuery(t *testing.T) {
	cases := []struct {
		q    string
		kind cache.Kind
		ok   bool
	}{
		{"sbom_media_type=application%2Fspdx%2Bjson", cache.KindSPDX, true},
		{"sbom_media_type=application/spdx+json", cache.KindSPDX, true}, // '+' typed by hand stays '+'
		{"sbom_media_type=application%2fspdx%2bjson", cache.KindSPDX, true},
		{"x=1&sbom_media_type=application%2Fvnd.cyclonedx%2Bjson", cache.KindCycloneDX, true},
		{"sbom_media_type=application/vnd.cyclonedx+json&x=1", cache.KindCycloneDX, true},
		{"sbom_media_type=application/spdx json", 0, false},
		{"sbom_media_type=application%2Fspdx%20json", 0, false},
		{"sbom_media_type=", 0, false},
		{"sbom_media_type=%2", 0, false},
		{"sbom_media_type=%zz", 0, false},
		{"sbom_media_type=" + strings.Repeat("a", 100), 0, false},
		{"", 0, false},
		{"sbom_media_typo=application/spdx+json", 0, false},
		{"sbom_media_type", 0, false},
	}
	for _, tc := range cases {
		k, ok := sbomMediaType([]byte(tc.q))
		if ok != tc.ok || (ok && k != tc.kind) {
			t.Errorf("sbomMediaType(%q) = %v %v, want %v %v", tc.q, k, ok, tc.kind, tc.ok)
		}
	}
}

func TestReportID(t *testing.T) {
	for _, tc := range []struct {
		path, id string
		ok       bool
	}{
		{"/api/v1/scan/abc/report", "abc", true},
		{"/endpoint/api/v1/scan/a-b_c/report", "a-b_c", true},
		{"/api/v1/scan//report", "", false},
		{"/api/v1/scan/a/b/report", "", false},
		{"/api/v1/scan/abc/reports", "", false},
		{"/api/v2/scan/abc/report", "", false},
	} {
		id, ok := reportID([]byte(tc.path))
		if ok != tc.ok || string(id) != tc.id {
			t.Errorf("reportID(%q) = %q %v", tc.path, id, ok)
		}
	}
}

const sampleReport = `{"generated_at":"2026-12-01T00:00:00Z","artifact":{"repository":"library/alpine","digest":"` +
	testDigest + `"},"scanner":{"name":"NeuVector","vendor":"SUSE","version":"5.4.0"},"severity":"High","vulnerabilities":[]}`

func TestReportStates(t *testing.T) {
	a := newUnitAPI(t, nil)
	h := a.Handler()
	vuln := map[string]string{"Accept": translate.MimeVuln11}

	// Done: the stored bytes with the exact MIME asked, gzip when accepted.
	id := doneJob(t, a, testDigest, "4.017", []byte(sampleReport))
	for _, accept := range []string{translate.MimeVuln11, translate.MimeVulnHarbor10} {
		for _, enc := range []string{"", "gzip"} {
			resp := call(h, "GET", "/api/v1/scan/"+id+"/report", map[string]string{"Accept": accept, "Accept-Encoding": enc}, nil)
			if resp.StatusCode() != 200 {
				t.Fatalf("done: %d %q", resp.StatusCode(), resp.Body())
			}
			if ct := string(resp.Header.ContentType()); ct != accept {
				t.Fatalf("Content-Type %q, want %q", ct, accept)
			}
			if (enc == "gzip") != (string(resp.Header.ContentEncoding()) == "gzip") {
				t.Fatalf("Accept-Encoding %q: Content-Encoding %q", enc, resp.Header.ContentEncoding())
			}
			if got := body(t, resp); !bytes.Equal(got, []byte(sampleReport)) {
				t.Fatalf("body %q", got)
			}
		}
	}
	// The old base path serves the same job.
	if resp := call(h, "GET", "/endpoint/api/v1/scan/"+id+"/report", vuln, nil); resp.StatusCode() != 200 {
		t.Fatalf("old base path: %d", resp.StatusCode())
	}

	// Queued and running: 302 with Refresh-After and Location, empty body.
	qid, sid := cache.NewScanID(testDigest, "library/alpine", time.Now())
	j := cache.NewJob(qid, sid)
	a.jobs.Add(j)
	for range 2 {
		uri := "/api/v1/scan/" + qid + "/report?sbom_media_type=application/spdx+json"
		resp := call(h, "GET", uri, vuln, nil)
		if resp.StatusCode() != 302 {
			t.Fatalf("queued: %d", resp.StatusCode())
		}
		if ra := string(resp.Header.Peek("Refresh-After")); ra != "5" {
			t.Fatalf("Refresh-After %q", ra)
		}
		if loc := string(resp.Header.Peek("Location")); loc != uri {
			t.Fatalf("Location %q, want %q", loc, uri)
		}
		if len(resp.Body()) != 0 {
			t.Fatalf("302 body %q", resp.Body())
		}
		j.SetRunning()
	}

	// Failed: 500 with the message.
	j.Fail("NeuVector scan failed: Image not found")
	resp := call(h, "GET", "/api/v1/scan/"+qid+"/report", vuln, nil)
	if resp.StatusCode() != 500 || errorMessage(t, resp) != "NeuVector scan failed: Image not found" {
		t.Fatalf("failed: %d %q", resp.StatusCode(), resp.Body())
	}

	// Bad Accept: 400 JSON. Raw is never served.
	for _, accept := range []string{"text/html", translate.MimeVulnRaw} {
		resp = call(h, "GET", "/api/v1/scan/"+id+"/report", map[string]string{"Accept": accept}, nil)
		if resp.StatusCode() != 400 {
			t.Fatalf("Accept %q: %d", accept, resp.StatusCode())
		}
		errorMessage(t, resp)
	}

	// SBOM without or with a bad sbom_media_type: 400.
	sbom := map[string]string{"Accept": translate.MimeSBOMReport10}
	for _, q := range []string{"", "?sbom_media_type=text%2Fplain"} {
		resp = call(h, "GET", "/api/v1/scan/"+id+"/report"+q, sbom, nil)
		if resp.StatusCode() != 400 || !strings.Contains(errorMessage(t, resp), "sbom_media_type") {
			t.Fatalf("sbom query %q: %d %q", q, resp.StatusCode(), resp.Body())
		}
	}
}

func TestReportSBOMDisabled(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) { c.SBOM = false })
	id := doneJob(t, a, testDigest, "4.017", []byte(sampleReport))
	resp := call(a.Handler(), "GET", "/api/v1/scan/"+id+"/report?sbom_media_type=application%2Fspdx%2Bjson",
		map[string]string{"Accept": translate.MimeSBOMReport10}, nil)
	if resp.StatusCode() != 501 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	errorMessage(t, resp)
}

// IDs this process never issued: malformed → 404; a valid one whose digest
// is cached is served (another replica's POST); unknown and young → 302;
// unknown and past the deadline → 404 "lost".
func TestReportUnknownIDs(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clock := now
	a := newUnitAPI(t, func(c *APIConfig) {
		c.Now = func() time.Time { return clock }
		c.ScanDeadline = time.Hour
	})
	h := a.Handler()
	vuln := map[string]string{"Accept": translate.MimeVuln11}

	for _, bad := range []string{"not-an-id", "AAAA", strings.Repeat("A", 300)} {
		resp := call(h, "GET", "/api/v1/scan/"+bad+"/report", vuln, nil)
		if resp.StatusCode() != 404 {
			t.Fatalf("malformed %q: %d", bad, resp.StatusCode())
		}
		errorMessage(t, resp)
	}

	// Issued by another replica; this one has the digest cached.
	a.noteCVEDB("4.017", "")
	doneJob(t, a, testDigest, "4.017", []byte(sampleReport))
	other, _ := cache.NewScanID(testDigest, "library/alpine", now)
	resp := call(h, "GET", "/api/v1/scan/"+other+"/report", vuln, nil)
	if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), []byte(sampleReport)) {
		t.Fatalf("cached digest: %d %q", resp.StatusCode(), resp.Body())
	}
	if _, ok := a.jobs.Get(other); !ok {
		t.Fatal("recovered ID not adopted as a job")
	}

	// A digest nobody has: 302 while young (look-ups cannot reach the
	// controller here), 404 "lost" after the deadline.
	const d2 = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	lost, _ := cache.NewScanID(d2, "library/busybox", now)
	resp = call(h, "GET", "/api/v1/scan/"+lost+"/report", vuln, nil)
	if resp.StatusCode() != 302 {
		t.Fatalf("young unknown: %d %q", resp.StatusCode(), resp.Body())
	}
	clock = now.Add(time.Hour + time.Second)
	resp = call(h, "GET", "/api/v1/scan/"+lost+"/report", vuln, nil)
	if resp.StatusCode() != 404 || !strings.Contains(errorMessage(t, resp), "lost") {
		t.Fatalf("old unknown: %d %q", resp.StatusCode(), resp.Body())
	}

	// An ID from the future is forged: 404, not an endless 302.
	future, _ := cache.NewScanID(d2, "x", clock.Add(time.Hour))
	if resp = call(h, "GET", "/api/v1/scan/"+future+"/report", vuln, nil); resp.StatusCode() != 404 {
		t.Fatalf("future ID: %d", resp.StatusCode())
	}
}

// A cached entry of an older CVE DB answers an ID only if it was scanned
// after the ID was issued.
func TestEntryForAcceptance(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	a := newUnitAPI(t, func(c *APIConfig) { c.Now = func() time.Time { return now } })
	a.noteCVEDB("4.018", "")
	e := a.store.NewEntry(testDigest, "4.017", now.Add(-time.Minute))
	e.SetDoc(cache.KindVuln, a.store.NewDoc([]byte(sampleReport), nil, nil))
	a.store.Put(e)
	_, sid := cache.NewScanID(testDigest, "r", now)
	if a.entryFor(sid) != nil {
		t.Fatal("an old-DB result scanned before the ID was issued was accepted")
	}
	_, older := cache.NewScanID(testDigest, "r", now.Add(-2*time.Minute))
	if a.entryFor(older) == nil {
		t.Fatal("an old-DB result scanned after the ID was issued was refused")
	}
}
