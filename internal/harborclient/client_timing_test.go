package harborclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

// bigReport is a report of n vulnerabilities, about 200 bytes each.
func bigReport(n int) []byte {
	items := make([]adaptertest.Item, n)
	sev := []string{"Critical", "High", "Medium", "Low", "Negligible"}
	for i := range items {
		items[i] = adaptertest.Item{ID: fmt.Sprintf("CVE-2026-%05d", i), Package: fmt.Sprintf("pkg%d", i%300), Version: "1.0", FixVersion: "1.1", Severity: sev[i%5]}
	}
	return adaptertest.VulnReport(items)
}

// What Harbor's side costs per report: decode (ResolveData) and summary.
// The load test's client must not be what limits it.
func BenchmarkResolveAndSummarize5000(b *testing.B) {
	body := bigReport(5000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ResolveVuln(body)
		if err != nil {
			b.Fatal(err)
		}
		if Summarize(r).Total != 5000 {
			b.Fatal("wrong total")
		}
	}
}

// One report poll over loopback, 200 with a 5,000-item body: the client's
// share of a cache-hit round trip.
func BenchmarkGetScanReport5000(b *testing.B) {
	body := bigReport(5000)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer s.Close()
	c, err := New(Options{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.GetScanReport(context.Background(), "id", MimeTypeGenericVulnerabilityReport, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// A 302 poll: the steady state of a long scan-all.
func BenchmarkGetScanReportNotReady(b *testing.B) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Refresh-After", "10")
		w.WriteHeader(http.StatusFound)
	}))
	defer s.Close()
	c, err := New(Options{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ra, _ := c.GetScanReport(context.Background(), "id", MimeTypeGenericVulnerabilityReport, ""); ra != 10 {
			b.Fatal("not a 302")
		}
	}
}
