package proxy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// specDir is where the pluggable-scanner-spec OpenAPI files are: SPEC_DIR,
// or ../shared/spec beside the repository.
func specDir() string {
	if d := os.Getenv("SPEC_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "spec")
}

func loadSpec(t *testing.T, version string) *openapi3.T {
	t.Helper()
	path := filepath.Join(specDir(), "scanner-adapter-openapi-v"+version+".yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("spec %s not available (set SPEC_DIR): %v", path, err)
	}
	l := openapi3.NewLoader()
	doc, err := l.LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return doc
}

// checkResponse validates a response against the spec: the schema the spec
// gives for (path, method, status, Content-Type), or ErrorResponse for the
// error statuses the spec leaves undefined (401, 404, 405, 503). A 302 must
// carry an integer Refresh-After and no body.
func checkResponse(t *testing.T, doc *openapi3.T, path, method string, resp *fasthttp.Response) {
	t.Helper()
	status := resp.StatusCode()
	if status == 302 {
		if _, err := strconv.ParseInt(string(resp.Header.Peek("Refresh-After")), 10, 8); err != nil || len(resp.Body()) != 0 {
			t.Fatalf("%s %s: 302 with Refresh-After %q and %d body bytes", method, path, resp.Header.Peek("Refresh-After"), len(resp.Body()))
		}
		return
	}
	ct := string(resp.Header.ContentType())
	var schema *openapi3.SchemaRef
	if item := doc.Paths.Find(path); item != nil {
		if op := item.GetOperation(method); op != nil {
			if r := op.Responses.Status(status); r != nil && r.Value != nil {
				if mt := r.Value.Content.Get(ct); mt != nil {
					schema = mt.Schema
				} else if len(r.Value.Content) > 0 {
					t.Fatalf("%s %s %d: Content-Type %q not in the spec's %v", method, path, status, ct, keys(r.Value.Content))
				}
			}
		}
	}
	if schema == nil {
		if status < 400 {
			t.Fatalf("%s %s: status %d not in the spec", method, path, status)
		}
		if ct != translate.MimeError10 {
			t.Fatalf("%s %s %d: Content-Type %q", method, path, status, ct)
		}
		schema = doc.Components.Schemas["ErrorResponse"]
	}
	var v any
	if err := json.Unmarshal(body(t, resp), &v); err != nil {
		t.Fatalf("%s %s %d: body is not JSON: %v", method, path, status, err)
	}
	if err := schema.Value.VisitJSON(v); err != nil {
		t.Fatalf("%s %s %d: body does not match the spec: %v\n%s", method, path, status, err, body(t, resp))
	}
}

func keys(c openapi3.Content) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	return out
}

// Real responses of every endpoint and status, validated against the v1.2
// and v1.1 specs.
func TestResponsesMatchSpec(t *testing.T) {
	for _, version := range []string{"1.2", "1.1"} {
		t.Run(version, func(t *testing.T) {
			doc := loadSpec(t, version)
			if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
				t.Logf("the spec itself has known defects (harbor-contract.md §4): %v", err)
			}
			s := newSim(t, sim.Config{})
			e := newEnv(t, s, nil)
			auth := e.auth["Authorization"]
			check := func(specPath, method, uri string, hdr map[string]string, reqBody []byte) *fasthttp.Response {
				t.Helper()
				if hdr == nil {
					hdr = map[string]string{}
				}
				if _, ok := hdr["Authorization"]; !ok {
					hdr["Authorization"] = auth
				}
				resp := call(e.h, method, uri, hdr, reqBody)
				checkResponse(t, doc, specPath, method, resp)
				return resp
			}
			check("/metadata", "GET", "/api/v1/metadata", map[string]string{"Accept": translate.MimeMetadata10}, nil)
			check("/metadata", "GET", "/api/v1/metadata", map[string]string{"Authorization": basic("admin", "wrong")}, nil)
			check("/scan", "POST", "/api/v1/scan", nil, []byte("{"))
			check("/scan", "POST", "/api/v1/scan", nil, []byte(`{"registry":{"url":"x"},"artifact":{}}`))
			check("/scan", "POST", "/api/v1/scan", nil, []byte(`{"registry":{"url":"https://h"},"artifact":{"repository":"r","digest":"`+
				testDigest+`"},"enabled_capabilities":[{"type":"malware"}]}`))
			sbomCap := "sbom"
			if version == "1.1" {
				sbomCap = "" // no SBOM in v1.1
			}
			resp := check("/scan", "POST", "/api/v1/scan", nil, scanBody(digestN(500), robotAuth("robot$x", robotPass), sbomCap))
			var sr translate.ScanResponse
			_ = json.Unmarshal(resp.Body(), &sr)
			reportPath := "/scan/{scan_request_id}/report"
			uri := "/api/v1/scan/" + sr.ID + "/report"
			vuln := map[string]string{"Accept": translate.MimeVuln11, "Accept-Encoding": "gzip"}
			check(reportPath, "GET", uri, vuln, nil) // 302 or 200
			e.vulnReport(sr.ID)
			check(reportPath, "GET", uri, vuln, nil)
			check(reportPath, "GET", uri, map[string]string{"Accept": translate.MimeVulnHarbor10}, nil)
			if version == "1.2" {
				e.poll(sr.ID, translate.MimeSBOMReport10, "?sbom_media_type=application%2Fspdx%2Bjson")
				for _, q := range []string{"?sbom_media_type=application%2Fspdx%2Bjson", "?sbom_media_type=application/vnd.cyclonedx+json", ""} {
					check(reportPath, "GET", uri+q, map[string]string{"Accept": translate.MimeSBOMReport10}, nil)
				}
			}
			check(reportPath, "GET", uri, map[string]string{"Accept": "text/html"}, nil)
			check(reportPath, "GET", "/api/v1/scan/malformed/report", vuln, nil)
			s.SetFault(digestN(501), 26, "Image not found")
			resp = check("/scan", "POST", "/api/v1/scan", nil, scanBody(digestN(501), robotAuth("robot$x", robotPass), ""))
			_ = json.Unmarshal(resp.Body(), &sr)
			e.poll(sr.ID, translate.MimeVuln11, "")
			check(reportPath, "GET", "/api/v1/scan/"+sr.ID+"/report", vuln, nil) // 500
		})
	}
}
