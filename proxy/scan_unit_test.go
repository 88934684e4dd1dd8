package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// POST /scan answers every status of the contract with a JSON body
// (harbor-contract.md §13 items 7 and 8), and 202 without waiting.
func TestScanRequestStatuses(t *testing.T) {
	a := newUnitAPI(t, nil)
	noSBOM := newUnitAPI(t, func(c *APIConfig) { c.SBOM = false })
	good := string(scanBody(testDigest, robotAuth("robot$x", "pw"), ""))
	cases := []struct {
		name   string
		api    *API
		body   string
		status int
	}{
		{"harbor 2.11 body", a, string(scanBody(testDigest, robotAuth("robot$x", "pw"), "vulnerability")), 202},
		{"pre-2.11 body", a, good, 202},
		{"anonymous registry", a, string(scanBody(testDigest, "", "")), 202},
		{"not JSON", a, "{", 400},
		{"wrong JSON type", a, `{"registry":{"url":1},"artifact":{"repository":"r","digest":"` + testDigest + `"}}`, 400},
		{"missing digest", a, `{"registry":{"url":"https://h"},"artifact":{"repository":"r"}}`, 422},
		{"bad registry URL", a, `{"registry":{"url":"ftp://h"},"artifact":{"repository":"r","digest":"` + testDigest + `"}}`, 422},
		{"missing repository", a, `{"registry":{"url":"https://h"},"artifact":{"digest":"` + testDigest + `"}}`, 422},
		{"unknown capability", a, `{"registry":{"url":"https://h"},"artifact":{"repository":"r","digest":"` + testDigest +
			`"},"enabled_capabilities":[{"type":"malware"}]}`, 501},
		{"sbom switched off", noSBOM, string(scanBody(testDigest, "", "sbom")), 501},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := call(tc.api.Handler(), "POST", "/endpoint/api/v1/scan",
				map[string]string{"Content-Type": translate.MimeScanRequest10}, []byte(tc.body))
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d, want %d: %q", resp.StatusCode(), tc.status, resp.Body())
			}
			if tc.status != 202 {
				msg := errorMessage(t, resp)
				if strings.Contains(msg, "robot") || strings.Contains(msg, "cm9ib3Q") {
					t.Fatalf("error echoes the authorization: %q", msg)
				}
				return
			}
			var sr translate.ScanResponse
			if err := json.Unmarshal(resp.Body(), &sr); err != nil || sr.ID == "" {
				t.Fatalf("202 body %q", resp.Body())
			}
		})
	}
}

// A full queue is a 503, not a silently lost job.
func TestScanQueueFull(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) { c.QueueSize = 1; c.Workers = 1 })
	a.Shutdown(t.Context()) // stop the workers so the queue stays full
	a.ctx = t.Context()     // but keep accepting requests
	codes := map[int]int{}
	for i := range 3 {
		resp := call(a.Handler(), "POST", "/api/v1/scan", nil, scanBody(digestN(100+i), "", ""))
		codes[resp.StatusCode()]++
		if resp.StatusCode() == 503 && !strings.Contains(errorMessage(t, resp), "busy") {
			t.Fatalf("503 body %q", resp.Body())
		}
	}
	if codes[202] != 1 || codes[503] != 2 {
		t.Fatalf("statuses %v, want one 202 then 503s", codes)
	}
}

func TestRegistryMapping(t *testing.T) {
	a := newUnitAPI(t, func(c *APIConfig) {
		c.RegistryMap = map[string]string{
			"http://core:8080":         "http://harbor-core.harbor.svc:80/",
			"https://harbor.example/":  "https://internal.example",
			"https://harbor.example/x": "https://x.example",
		}
	})
	for in, want := range map[string]string{
		"http://core:8080":              "http://harbor-core.harbor.svc:80",
		"http://core:8080/":             "http://harbor-core.harbor.svc:80/",
		"http://core:80801":             "http://core:80801",
		"https://harbor.example":        "https://internal.example",
		"https://harbor.example/x/y":    "https://x.example/y",
		"https://other.example":         "https://other.example",
		"https://harbor.example.evil/v": "https://harbor.example.evil/v",
	} {
		if got := a.mapRegistry(in); got != want {
			t.Errorf("mapRegistry(%q) = %q, want %q", in, got, want)
		}
	}
	// The request the controller gets: digest as tag, no layers, robot
	// credentials decoded, ignore_proxy as configured.
	yes := true
	a.cfg.IgnoreProxy = &yes
	req, err := translate.DecodeScanRequest(scanBody(testDigest, robotAuth("robot$p+s", "pw:x"), ""))
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.controllerRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Registry != "http://harbor-core.harbor.svc:80" || r.Tag != testDigest || r.ScanLayers ||
		r.Username != "robot$p+s" || r.Password != "pw:x" || r.IgnoreProxy == nil || !*r.IgnoreProxy ||
		r.Repository != "library/alpine" {
		t.Fatalf("controller request %+v", r)
	}
}
