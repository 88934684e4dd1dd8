package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

const digest = "sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1"

// opts are fast Options for tests: no system roots (so only the CA file
// can make a certificate trusted), short poll timing.
func opts(url string) Options {
	return Options{URL: url, systemRoots: x509.NewCertPool(), FirstCheckInterval: time.Millisecond, RetryUnit: time.Millisecond}
}

func runCheck(t *testing.T, o Options) (bool, string) {
	t.Helper()
	var b bytes.Buffer
	ok := Run(context.Background(), o, &b)
	t.Log("\n" + b.String())
	return ok, b.String()
}

func mustContain(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// tlsServer is an httptest TLS server (127.0.0.1) whose handshake errors,
// caused on purpose by the checks, are not logged.
func tlsServer(h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	return s
}

func writeCA(t *testing.T, s *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUntrustedCertificateDiagnosed(t *testing.T) {
	a := &adaptertest.Adapter{}
	s := tlsServer(a)
	defer s.Close()
	ok, out := runCheck(t, opts(s.URL))
	if ok {
		t.Fatal("untrusted certificate passed")
	}
	mustContain(t, out,
		"✗ tls: Harbor would not trust the certificate: x509: certificate signed by unknown authority",
		"verifies TLS even when \"Skip certificate verification\" is ticked",
		"trust bundle of harbor-core and harbor-jobservice",
		"in-cluster HTTP endpoint",
		"SANs: [example.com, *.example.com, 127.0.0.1, ::1]; host name \"127.0.0.1\" matches",
		"- metadata: skipped")
	if n := len(a.Requests()); n != 0 {
		t.Fatalf("%d API requests made past an untrusted certificate", n)
	}

	// With skip-verify the rest is tested, but the verdict stays a failure.
	o := opts(s.URL)
	o.SkipVerify = true
	ok, out = runCheck(t, o)
	if ok {
		t.Fatal("skip-verify hid the Test connection failure")
	}
	mustContain(t, out, "✓ metadata: 200 in", "✓ metadata: valid for Harbor")
}

func TestTrustedViaCAFile(t *testing.T) {
	a := &adaptertest.Adapter{}
	s := tlsServer(a)
	defer s.Close()
	o := opts(s.URL)
	o.CAFile = writeCA(t, s)
	ok, out := runCheck(t, o)
	if !ok {
		t.Fatal("trusted via the CA file, yet failed")
	}
	mustContain(t, out, "✓ tls: Harbor would trust the certificate once "+o.CAFile+" is in the trust bundle",
		"not trusted by the system roots alone", "✓ metadata: 200 in", "NeuVector 5.4.0 by SUSE",
		"✓ metadata: valid for Harbor (Validate passes)", "✓ Harbor would work with this adapter.")
	if n := len(a.Requests()); n != 1 {
		t.Fatalf("%d requests, want the one metadata call", n)
	}

	// The CA does not help a host name the certificate does not carry.
	o.URL = strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	ok, out = runCheck(t, o)
	if ok {
		t.Fatal("host name mismatch passed")
	}
	mustContain(t, out, "certificate is valid for", `the certificate does not name "localhost"`)
}

func TestBadCAFile(t *testing.T) {
	o := opts("https://127.0.0.1:1")
	o.CAFile = filepath.Join(t.TempDir(), "none.pem")
	if ok, out := runCheck(t, o); ok || !strings.Contains(out, "✗ config: CA file:") {
		t.Fatal("missing CA file not reported")
	}
}

func TestSlowMetadata(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	s := httptest.NewServer(&adaptertest.Adapter{MetadataHold: hold})
	defer s.Close()
	o := opts(s.URL)
	o.Timeout = 150 * time.Millisecond
	ok, out := runCheck(t, o)
	if ok {
		t.Fatal("metadata slower than the timeout passed")
	}
	mustContain(t, out, "- tls: plain HTTP", "✗ metadata: GET "+s.URL+"/api/v1/metadata failed after",
		"Client.Timeout exceeded", "no complete answer within 150ms, Harbor's timeout", "goharbor/harbor#21707")
}

func TestSlowButInTimeMetadataWarns(t *testing.T) {
	a := &adaptertest.Adapter{}
	// 30 ms of latency from the request's arrival: slower than the 10 ms
	// threshold below, well inside the timeout.
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-time.After(30 * time.Millisecond)
		a.ServeHTTP(w, r)
	}))
	defer s.Close()
	o := opts(s.URL)
	o.slowAfter = 10 * time.Millisecond
	ok, out := runCheck(t, o)
	if !ok {
		t.Fatal("a slow but timely answer must warn, not fail")
	}
	mustContain(t, out, "! metadata: 200 in", "should be answered from memory", "1 warning(s)")
}

func TestInvalidMetadataInHarborsWords(t *testing.T) {
	cases := map[string]struct{ md, want string }{
		"OCI only": {
			`{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[{"consumes_mime_types":["application/vnd.oci.image.manifest.v1+json"],"produces_mime_types":["application/vnd.security.vulnerability.report; version=1.1"]}]}`,
			"✗ metadata: Harbor's validation rejects it: missing application/vnd.docker.distribution.manifest.v2+json in consumes_mime_types",
		},
		"no space": {
			`{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[{"consumes_mime_types":["application/vnd.docker.distribution.manifest.v2+json"],"produces_mime_types":["application/vnd.security.vulnerability.report;version=1.1"]}]}`,
			"✗ metadata: Harbor's validation rejects it: missing application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0 or application/vnd.security.vulnerability.report; version=1.1 in produces_mime_types",
		},
		"no vendor": {
			`{"scanner":{"name":"a","version":"c"},"capabilities":[]}`,
			"✗ metadata: Harbor's validation rejects it: invalid scanner in metadata",
		},
		"number property": {
			`{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[],"properties":{"x":1}}`,
			"every properties value must be a JSON string",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := httptest.NewServer(&adaptertest.Adapter{Metadata: []byte(c.md)})
			defer s.Close()
			ok, out := runCheck(t, opts(s.URL))
			if ok {
				t.Fatal("invalid metadata passed")
			}
			mustContain(t, out, c.want)
		})
	}
}

func TestUnauthorized(t *testing.T) {
	a := &adaptertest.Adapter{Authorize: func(r *http.Request) bool {
		return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:secret"))
	}}
	s := httptest.NewServer(a)
	defer s.Close()
	o := opts(s.URL)
	o.Auth, o.Credential = "Basic", "admin:wrong"
	ok, out := runCheck(t, o)
	if ok {
		t.Fatal("401 passed")
	}
	mustContain(t, out, "unauthorized: general response handler: unexpected status code: 401, expected: 200",
		"Harbor would show the scanner as unreachable; check the registration's credentials and auth type")
	all := out
	o.Credential = "admin:secret"
	ok, out = runCheck(t, o)
	if !ok {
		t.Fatal("right credentials failed")
	}
	all += out
	o.Credential = ""
	if ok, out := runCheck(t, o); ok || !strings.Contains(out, "access_credential is required for auth type Basic") {
		t.Fatal("empty credential not refused as Harbor refuses it")
	}
	for _, secret := range []string{"wrong", "secret", base64.StdEncoding.EncodeToString([]byte("admin:secret"))} {
		if strings.Contains(all, secret) {
			t.Fatalf("credential %q printed", secret)
		}
	}
}

func TestWrongBasePathAndProxyPage(t *testing.T) {
	s := httptest.NewServer(&adaptertest.Adapter{Prefix: "/endpoint"})
	defer s.Close()
	ok, out := runCheck(t, opts(s.URL))
	if ok {
		t.Fatal("404 passed")
	}
	mustContain(t, out, "wrong base path", "(…/endpoint)", "404 answer is not JSON", "NO_PROXY")
	if ok, _ := runCheck(t, opts(s.URL+"/endpoint/")); !ok {
		t.Fatal("the right base path failed")
	}
	ok, out = runCheck(t, opts(s.URL+"/endpoint/api/v1"))
	if ok {
		t.Fatal("double /api/v1 passed")
	}
	mustContain(t, out, "already ends in /api/v1")

	s2 := httptest.NewServer(&adaptertest.Adapter{MetadataResponse: &adaptertest.Response{Status: 502, Body: []byte("<html><body>Bad Gateway</body></html>"), Header: http.Header{"Content-Type": {"text/html"}}}})
	defer s2.Close()
	ok, out = runCheck(t, opts(s2.URL))
	if ok {
		t.Fatal("proxy page passed")
	}
	mustContain(t, out, "general response handler: invalid character '<' looking for beginning of value",
		"the 502 answer is not JSON (Content-Type text/html", "NO_PROXY of harbor-core and harbor-jobservice")
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, scheme := range []string{"http", "https"} {
		ok, out := runCheck(t, opts(scheme+"://"+addr))
		if ok {
			t.Fatalf("%s: nothing listening, yet passed", scheme)
		}
		mustContain(t, out, "connection refused", "nothing listens there")
	}
}

func TestScanImages(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(id, accept, q string, n int) adaptertest.Response {
		if n == 1 {
			return adaptertest.NotReady("1")
		}
		if accept == harborclient.MimeTypeSBOMReport {
			return adaptertest.Response{Status: 200, Body: adaptertest.SBOMReport(7)}
		}
		return adaptertest.Response{Status: 200, Body: adaptertest.VulnReport(nil)}
	}}
	s := httptest.NewServer(a)
	defer s.Close()
	o := opts(s.URL)
	o.Images = []string{"library/alpine:3.19@" + digest}
	o.RegistryURL, o.RegistryUser, o.RegistryPassword = "http://core:8080", "robot$scanner-1", "pw"
	o.SBOM = true
	ok, out := runCheck(t, o)
	if !ok {
		t.Fatal("scan failed")
	}
	mustContain(t, out,
		"✓ scan: library/alpine:3.19@sha256:4bcff63911fc… Critical 1 High 2 Medium 1 Low 1 (fixable 3) in",
		"✓ sbom: library/alpine:3.19@sha256:4bcff63911fc… SBOM application/spdx+json, 7 packages in",
		"Refresh-After used [1]")
	var posts int
	for _, r := range a.Requests() {
		if r.Method != http.MethodPost {
			continue
		}
		posts++
		var sr harborclient.ScanRequest
		if err := json.Unmarshal(r.Body, &sr); err != nil {
			t.Fatal(err)
		}
		if sr.Registry.URL != "http://core:8080" || sr.Registry.Authorization != harborclient.BasicAuthorization("robot$scanner-1", "pw") ||
			sr.Artifact.Repository != "library/alpine" || sr.Artifact.Tag != "3.19" || sr.Artifact.Digest != digest ||
			sr.Artifact.MimeType != harborclient.MimeTypeDockerArtifact {
			t.Fatalf("scan request %s", r.Body)
		}
	}
	if posts != 2 {
		t.Fatalf("%d scan requests, want a vulnerability and an SBOM job", posts)
	}
	for _, secret := range []string{"robot$scanner-1:pw", harborclient.BasicAuthorization("robot$scanner-1", "pw")} {
		if strings.Contains(out, secret) {
			t.Fatalf("robot credentials printed: %q", secret)
		}
	}
}

func TestScanFailureInHarborsWords(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(string, string, string, int) adaptertest.Response {
		return adaptertest.JSONError(500, "Image not found")
	}}
	s := httptest.NewServer(a)
	defer s.Close()
	o := opts(s.URL)
	o.Images = []string{"library/alpine@" + digest}
	o.RegistryURL = "https://harbor.example.com"
	ok, out := runCheck(t, o)
	if ok {
		t.Fatal("failed scan passed")
	}
	mustContain(t, out, "✗ scan: library/alpine@sha256:4bcff63911fc… failed in",
		"check scan report with mime type application/vnd.security.vulnerability.report; version=1.1: Image not found: general response handler: unexpected status code: 500, expected: 200",
		"the image was not found where the adapter looked",
		"the registration works, but 1 of 1 scan jobs failed")
	if strings.Contains(out, "would not work with this adapter as registered") {
		t.Error("a failed scan was reported as a registration problem")
	}
	rep := RunReport(context.Background(), o, io.Discard)
	if rep.OK || !rep.RegistrationOK {
		t.Errorf("ok %v registration_ok %v, want false and true", rep.OK, rep.RegistrationOK)
	}
}

func TestUnsupportedSBOM(t *testing.T) {
	md := `{"scanner":{"name":"a","vendor":"b","version":"c"},"capabilities":[{"consumes_mime_types":["application/vnd.oci.image.manifest.v1+json","application/vnd.docker.distribution.manifest.v2+json"],"produces_mime_types":["application/vnd.security.vulnerability.report; version=1.1"]}],"properties":{"harbor.scanner-adapter/vulnerability-database-updated-at":"x"}}`
	s := httptest.NewServer(&adaptertest.Adapter{Metadata: []byte(md)})
	defer s.Close()
	o := opts(s.URL)
	o.Images = []string{"r@" + digest}
	o.RegistryURL = "http://core:8080"
	o.SBOM = true
	ok, out := runCheck(t, o)
	if ok {
		t.Fatal("SBOM asked of a scanner without the capability, yet passed")
	}
	mustContain(t, out, "does not support sbom scanning")
}

func TestJSONOutput(t *testing.T) {
	s := httptest.NewServer(&adaptertest.Adapter{})
	defer s.Close()
	o := opts(s.URL)
	o.JSON = true
	o.Images = []string{"library/alpine@" + digest}
	o.RegistryURL = "http://core:8080"
	var b bytes.Buffer
	if !Run(context.Background(), o, &b) {
		t.Fatalf("failed: %s", b.String())
	}
	var rep Report
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, b.String())
	}
	var img *ImageResult
	for _, st := range rep.Steps {
		if st.Image != nil {
			img = st.Image
		}
	}
	if !rep.OK || rep.URL != s.URL || img == nil || img.Severity != "Critical" || img.Counts["High"] != 2 || img.Fixable != 3 || img.ID != "id-1" {
		t.Fatalf("report %+v image %+v", rep, img)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]struct {
		o    Options
		want string
	}{
		"bad scheme":     {Options{URL: "ftp://x"}, "Harbor would refuse the URL"},
		"no registry":    {Options{URL: "http://127.0.0.1:1", Images: []string{"r@" + digest}}, "needs the registry URL"},
		"tag not digest": {Options{URL: "http://127.0.0.1:1", Images: []string{"r:latest"}, RegistryURL: "http://core"}, "want repository[:tag]@sha256"},
		"auth kind":      {Options{URL: "http://127.0.0.1:1", Auth: "Digest", Credential: "x"}, "auth type Digest is not supported"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if name == "auth kind" {
				// The auth check comes after connecting; give it something to connect to.
				s := httptest.NewServer(&adaptertest.Adapter{})
				defer s.Close()
				c.o.URL = s.URL
			}
			c.o.systemRoots = x509.NewCertPool()
			ok, out := runCheck(t, c.o)
			if ok || !strings.Contains(out, c.want) {
				t.Fatalf("want failure with %q", c.want)
			}
		})
	}
}

func TestParseImage(t *testing.T) {
	cases := map[string]imageRef{
		"library/alpine@" + digest:               {repository: "library/alpine", digest: digest},
		"library/alpine:3.19@" + digest:          {repository: "library/alpine", tag: "3.19", digest: digest},
		"proj/a/b:v1@" + digest:                  {repository: "proj/a/b", tag: "v1", digest: digest},
		"harbor.example.com:443/p/r@" + digest:   {repository: "harbor.example.com:443/p/r", digest: digest},
		"harbor.example.com:443/p/r:t@" + digest: {repository: "harbor.example.com:443/p/r", tag: "t", digest: digest},
	}
	for in, want := range cases {
		got, err := parseImage(in)
		want.arg = in
		if err != nil || got != want {
			t.Errorf("parseImage(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"library/alpine", "a@sha256:abc", "@" + digest, "a@md5:" + digest[7:], "a@sha256:" + strings.ToUpper(digest[7:])} {
		if _, err := parseImage(bad); err == nil {
			t.Errorf("parseImage(%q) accepted", bad)
		}
	}
}
