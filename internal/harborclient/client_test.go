package harborclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h) // httptest listens on 127.0.0.1
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestNewIsHarborsClient(t *testing.T) {
	c := newClient(t, Options{URL: "adapter:8080/endpoint/", SkipCertVerify: true})
	if c.BaseURL() != "http://adapter:8080/endpoint/api/v1" {
		t.Fatalf("base %q", c.BaseURL())
	}
	if c.http.Timeout != 5*time.Second {
		t.Fatalf("timeout %v", c.http.Timeout)
	}
	if err := c.http.CheckRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Fatalf("CheckRedirect = %v", err)
	}
	tr := c.http.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 100 || tr.MaxIdleConns != 100 || !tr.TLSClientConfig.InsecureSkipVerify || tr.Proxy == nil {
		t.Fatalf("transport %+v", tr)
	}
	if c.opt.FirstCheckInterval != 2*time.Second || c.opt.RetryUnit != time.Second {
		t.Fatalf("job timing %v %v", c.opt.FirstCheckInterval, c.opt.RetryUnit)
	}
}

func TestAuthKinds(t *testing.T) {
	cases := []struct {
		kind, cred, header, want string
	}{
		{"", "", "Authorization", ""},
		{"Basic", "user:p@ss:word", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:p@ss:word"))},
		{"Bearer", "tok", "Authorization", "Bearer tok"},
		{"APIKey", "name:secret", "X-ScannerAdapter-API-Key", "name:secret"},
		{"X-ScannerAdapter-API-Key", "k", "X-ScannerAdapter-API-Key", "k"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			a := &adaptertest.Adapter{}
			s := newServer(t, a)
			cl := newClient(t, Options{URL: s.URL, Auth: c.kind, Credential: c.cred})
			if _, err := cl.GetMetadata(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := a.Requests()[0]
			if got := r.Header.Get(c.header); got != c.want {
				t.Fatalf("%s = %q, want %q", c.header, got, c.want)
			}
			if got := r.Header.Get("Accept"); got != MimeTypeAdapterMeta {
				t.Fatalf("Accept %q", got)
			}
		})
	}
	for _, kind := range []string{"Basic", "Bearer", "APIKey"} {
		if _, err := New(Options{URL: "x", Auth: kind}); !errors.Is(err, ErrAuthType) || !strings.Contains(err.Error(), "access_credential is required") {
			t.Errorf("%s with empty credential: %v", kind, err)
		}
	}
	if _, err := New(Options{URL: "x", Auth: "Digest", Credential: "c"}); !errors.Is(err, ErrAuthType) || !strings.Contains(err.Error(), "auth type Digest is not supported") {
		t.Errorf("unknown kind: %v", err)
	}
	// The authorizer itself refuses an empty credential, with Harbor's words.
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	if err := (authorizer{kind: AuthBasic}).authorize(req); err == nil || err.Error() != "Basic: missing data to authorize request" {
		t.Errorf("empty basic: %v", err)
	}
}

func TestGetMetadataErrorsInHarborsWords(t *testing.T) {
	cases := []struct {
		name string
		resp adaptertest.Response
		want string
	}{
		{"401 json", adaptertest.JSONError(401, "bad credentials"), "v1 client: get metadata: bad credentials: general response handler: unexpected status code: 401, expected: 200"},
		{"404 empty", adaptertest.Response{Status: 404}, "v1 client: get metadata: general response handler: unexpected status code: 404, expected: 200"},
		{"502 html", adaptertest.Response{Status: 502, Body: []byte("<html>bad gateway</html>")}, "v1 client: get metadata: general response handler: invalid character '<' looking for beginning of value"},
		{"200 not json", adaptertest.Response{Status: 200, Body: []byte("ok")}, "v1 client: get metadata: invalid character 'o' looking for beginning of value"},
		{"200 empty", adaptertest.Response{Status: 200}, "v1 client: get metadata: unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := c.resp
			s := newServer(t, &adaptertest.Adapter{MetadataResponse: &resp})
			_, err := newClient(t, Options{URL: s.URL}).GetMetadata(context.Background())
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
		})
	}
	// The status stays available for diagnosis even where Harbor hides it.
	resp := adaptertest.Response{Status: 502, Body: []byte("<html>")}
	s := newServer(t, &adaptertest.Adapter{MetadataResponse: &resp})
	_, err := newClient(t, Options{URL: s.URL}).GetMetadata(context.Background())
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 502 || string(re.Body) != "<html>" {
		t.Fatalf("ResponseError %+v", re)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	a := &adaptertest.Adapter{MetadataResponse: &adaptertest.Response{Status: 302, Header: http.Header{"Location": {"/api/v1/metadata2"}}}}
	s := newServer(t, a)
	_, err := newClient(t, Options{URL: s.URL}).GetMetadata(context.Background())
	if err == nil || !strings.HasSuffix(err.Error(), "unexpected status code: 302, expected: 200") {
		t.Fatalf("err = %v", err)
	}
	if n := len(a.Requests()); n != 1 {
		t.Fatalf("%d requests: the redirect was followed", n)
	}
}

func TestTimeout(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	s := newServer(t, &adaptertest.Adapter{MetadataHold: hold})
	start := time.Now()
	_, err := newClient(t, Options{URL: s.URL, Timeout: 100 * time.Millisecond}).GetMetadata(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout exceeded") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestSubmitScan(t *testing.T) {
	a := &adaptertest.Adapter{}
	s := newServer(t, a)
	c := newClient(t, Options{URL: s.URL + "/", Auth: "Bearer", Credential: "t"})
	sr := NewVulnerabilityRequest("http://core:8080", BasicAuthorization("robot$x", "s"), Artifact{Repository: "r", Digest: "sha256:1", MimeType: MimeTypeDockerArtifact})
	resp, err := c.SubmitScan(context.Background(), sr)
	if err != nil || resp.ID != "id-1" {
		t.Fatalf("%v %v", resp, err)
	}
	r := a.Requests()[0]
	want, _ := json.Marshal(sr)
	if r.Method != http.MethodPost || r.Path != "/api/v1/scan" || string(r.Body) != string(want) ||
		r.Header.Get("Content-Type") != MimeTypeScanRequest || r.Header.Get("Accept") != MimeTypeScanResponse ||
		r.Header.Get("Authorization") != "Bearer t" {
		t.Fatalf("request %+v body %s", r, r.Body)
	}

	// Only 202 is success: a 200 with a valid body is an error, and since the
	// body is JSON without "error" the message part is empty, as in Harbor.
	a.Scan = func(int, []byte) adaptertest.Response {
		return adaptertest.Response{Status: 200, Body: []byte(`{"id":"x"}`)}
	}
	_, err = c.SubmitScan(context.Background(), sr)
	if err == nil || err.Error() != "v1 client: submit scan: : general response handler: unexpected status code: 200, expected: 202" {
		t.Fatalf("200: %v", err)
	}
	if _, err := c.SubmitScan(context.Background(), nil); err == nil {
		t.Fatal("nil request accepted")
	}
}

func TestGetScanReport(t *testing.T) {
	type reply = adaptertest.Response
	cases := []struct {
		name      string
		resp      reply
		retry     int
		parseErr  bool
		wantErr   string
		notReady  bool
		wantBytes string
	}{
		{name: "302 without Refresh-After", resp: adaptertest.NotReady(""), retry: 5, notReady: true},
		{name: "302 Refresh-After 10", resp: adaptertest.NotReady("10"), retry: 10, notReady: true},
		{name: "302 Refresh-After 127", resp: adaptertest.NotReady("127"), retry: 127, notReady: true},
		{name: "302 Refresh-After 200 overflows int8", resp: adaptertest.NotReady("200"), retry: 5, parseErr: true, notReady: true},
		{name: "302 Refresh-After 1.5", resp: adaptertest.NotReady("1.5"), retry: 5, parseErr: true, notReady: true},
		{name: "302 Refresh-After -1", resp: adaptertest.NotReady("-1"), retry: -1, notReady: true},
		{name: "200", resp: reply{Status: 200, Body: []byte(`{"x":1}`)}, wantBytes: `{"x":1}`},
		{name: "404 empty", resp: reply{Status: 404}, wantErr: "general response handler: unexpected status code: 404, expected: 200"},
		{name: "404 json", resp: adaptertest.JSONError(404, "scan lost"), wantErr: "scan lost: general response handler: unexpected status code: 404, expected: 200"},
		{name: "500 json", resp: adaptertest.JSONError(500, "Image not found"), wantErr: "Image not found: general response handler: unexpected status code: 500, expected: 200"},
		{name: "500 not json", resp: reply{Status: 500, Body: []byte("not json")}, wantErr: "general response handler: invalid character 'o' in literal null (expecting 'u')"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logged []string
			a := &adaptertest.Adapter{Report: func(id, accept, q string, n int) adaptertest.Response { return c.resp }}
			s := newServer(t, a)
			cl := newClient(t, Options{URL: s.URL, Logf: func(f string, args ...any) { logged = append(logged, f) }})
			body, retry, err := cl.GetScanReport(context.Background(), "abc_-", MimeTypeGenericVulnerabilityReport, "")
			var nr *ReportNotReadyError
			if c.notReady {
				if !errors.As(err, &nr) || !errors.Is(err, ErrNotReady) || retry != c.retry || nr.RetryAfter != c.retry || (nr.ParseErr != nil) != c.parseErr {
					t.Fatalf("retry %d err %v", retry, err)
				}
				if c.parseErr != (len(logged) == 1) {
					t.Fatalf("logged %v", logged)
				}
				st := cl.Stats()
				if st.NotReady != 1 || (st.RefreshFalls == 1) != (c.retry == 5) {
					t.Fatalf("stats %+v", st)
				}
				return
			}
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v\nwant %s", err, c.wantErr)
				}
				return
			}
			if err != nil || string(body) != c.wantBytes {
				t.Fatalf("%s %v", body, err)
			}
			r := a.Requests()[0]
			if r.Path != "/api/v1/scan/abc_-/report" || r.RawQuery != "" || r.Header.Get("Accept") != MimeTypeGenericVulnerabilityReport {
				t.Fatalf("request %+v", r)
			}
		})
	}
}

func TestGetScanReportURLParameter(t *testing.T) {
	a := &adaptertest.Adapter{}
	s := newServer(t, a)
	c := newClient(t, Options{URL: s.URL + "/endpoint"})
	a.Prefix = "/endpoint"
	if _, _, err := c.GetScanReport(context.Background(), "i", MimeTypeSBOMReport, SBOMURLParameter()); err != nil {
		t.Fatal(err)
	}
	r := a.Requests()[0]
	if r.Path != "/endpoint/api/v1/scan/i/report" || r.RawQuery != "sbom_media_type=application%2Fspdx%2Bjson" {
		t.Fatalf("%s?%s", r.Path, r.RawQuery)
	}
	if _, _, err := c.GetScanReport(context.Background(), "", MimeTypeSBOMReport, ""); err == nil || err.Error() != "empty scan request ID" {
		t.Fatalf("empty id: %v", err)
	}
	if _, _, err := c.GetScanReport(context.Background(), "i", "", ""); err == nil || err.Error() != "missing report mime type" {
		t.Fatalf("empty mime: %v", err)
	}
}
