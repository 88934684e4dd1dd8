package harborclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

// Reports come from the adapter under test: decoding and summarising must
// never panic, and a summary must be consistent with itself.
func FuzzResolveVuln(f *testing.F) {
	f.Add(adaptertest.VulnReport(nil))
	f.Add([]byte(`{"vulnerabilities":null}`))
	f.Add([]byte(`{"vulnerabilities":[null,{"id":"a","severity":"negligible","fix_version":"1"}]}`))
	f.Add([]byte(`{"vulnerabilities":[{"preferred_cvss":{"score_v3":"9"}}]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ResolveVuln(data)
		if err != nil {
			return
		}
		s := Summarize(r)
		sum := 0
		for _, n := range s.Counts {
			sum += n
		}
		if sum != s.Total || s.Fixable > s.Total || s.Total+s.Duplicates > len(r.Vulnerabilities) {
			t.Fatalf("inconsistent summary %+v of %d items", s, len(r.Vulnerabilities))
		}
		switch s.Severity {
		case SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
		default:
			t.Fatalf("overall severity %q", s.Severity)
		}
	})
}

func FuzzResolveSBOM(f *testing.F) {
	f.Add(adaptertest.SBOMReport(2))
	f.Add([]byte(`{"sbom":"x"}`))
	f.Add([]byte(`{"sbom":{"components":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ResolveSBOM(data)
		if err == nil && r.Packages() < -1 {
			t.Fatal("negative package count")
		}
	})
}

// Metadata and error bodies are decoded from whatever answers at the URL.
func FuzzMetadataAndErrorBodies(f *testing.F) {
	f.Add(adaptertest.DefaultMetadata(), 200)
	f.Add([]byte(`{"error":{"message":"x"}}`), 500)
	f.Add([]byte(`{"error":null}`), 404)
	f.Add([]byte(`<html>`), 502)
	f.Add([]byte(``), 401)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		md := &Metadata{}
		if json.Unmarshal(body, md) == nil {
			_ = md.Validate()
			_ = md.ProducesMimeTypes(MimeTypeDockerArtifact, ScanTypeVulnerability)
		}
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		data, err := handle(resp, 200)
		if status == 200 {
			if err != nil || !bytes.Equal(data, body) {
				t.Fatalf("200 body altered: %v", err)
			}
			return
		}
		var re *ResponseError
		if !errors.As(err, &re) || re.StatusCode != status || len(re.Body) > 1024 {
			t.Fatalf("err %v", err)
		}
		if !strings.Contains(err.Error(), "general response handler") {
			t.Fatalf("text %q", err)
		}
	})
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"adapter:8080", "https://a/endpoint/?q=1", " http://[::1]:80/ ", "ftp://x", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeURL(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("%q -> %q", s, u)
		}
	})
}
