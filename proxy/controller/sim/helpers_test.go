package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// harness is a simulator on loopback with a client that verifies its
// certificate.
type harness struct {
	t   *testing.T
	s   *Sim
	url string
	c   *http.Client
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	return startGated(t, cfg, nil)
}

func startGated(t *testing.T, cfg Config, gate chan struct{}) *harness {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.gate = gate
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, s: s, url: url, c: newClient(s)}
}

func newClient(s *Sim) *http.Client {
	tr := &http.Transport{TLSClientConfig: s.TLSConfig(), MaxIdleConnsPerHost: 64}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type reply struct {
	status int
	body   []byte
	hdr    http.Header
}

// restErr decodes an error body.
func (r reply) restErr(t *testing.T) translate.RESTError {
	t.Helper()
	var e translate.RESTError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("status %d: body %q is not a RESTError: %v", r.status, r.body, err)
	}
	return e
}

func (h *harness) do(method, path string, hdr map[string]string, body any) reply {
	return doURL(h.t, h.c, method, h.url+path, hdr, body)
}

func doURL(t *testing.T, c *http.Client, method, url string, hdr map[string]string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, data, resp.Header}
}

func authBody(user, pass string) translate.AuthData {
	return translate.AuthData{Password: &translate.AuthPassword{Username: user, Password: pass}}
}

func (h *harness) login(user, pass string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/auth", nil, authBody(user, pass))
	if r.status != 200 {
		h.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	var td translate.TokenData
	if err := json.Unmarshal(r.body, &td); err != nil || td.Token == nil || td.Token.Token == "" {
		h.t.Fatalf("login body %s: %v", r.body, err)
	}
	return td.Token.Token
}

func tok(token string) map[string]string { return map[string]string{"X-Auth-Token": token} }

func scanBody(digest string) translate.ScanRepoReqData {
	return translate.ScanRepoReqData{Request: &translate.ScanRepoRequest{
		Registry: "https://harbor.example.com", Repository: "library/app", Tag: digest,
	}}
}

func digestN(i int) string {
	const hexd = "0123456789abcdef"
	b := []byte("sha256:" + strings.Repeat("0", 64))
	for p := len(b) - 1; i > 0; p-- {
		b[p] = hexd[i%16]
		i /= 16
	}
	return string(b)
}

// scanUntilDone repeats the identical POST on 304, as a client must.
func (h *harness) scanUntilDone(hdr map[string]string, body any) reply {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := h.do("POST", "/v1/scan/repository", hdr, body)
		if r.status != http.StatusNotModified {
			return r
		}
	}
	h.t.Fatal("scan did not finish")
	return reply{}
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func decodeReport(t *testing.T, body []byte) *translate.ScanRepoReport {
	t.Helper()
	var d translate.ScanRepoReportData
	if err := json.Unmarshal(body, &d); err != nil || d.Report == nil {
		t.Fatalf("report body %.200s: %v", body, err)
	}
	return d.Report
}
