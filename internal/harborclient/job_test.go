package harborclient

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient/adaptertest"
)

// fastJob keeps Harbor's arithmetic (2 intervals, Refresh-After seconds)
// with a unit of 10 ms instead of a second.
const unit = 10 * time.Millisecond

func jobClient(t *testing.T, url string) *Client {
	return newClient(t, Options{URL: url, FirstCheckInterval: 2 * unit, RetryUnit: unit})
}

func vulnReq() *ScanRequest {
	return NewVulnerabilityRequest("http://core:8080", BasicAuthorization("robot$scanner-x", "secret"),
		Artifact{Repository: "library/alpine", Tag: "3.19", Digest: "sha256:aa", MimeType: MimeTypeDockerArtifact, Size: 10})
}

func TestRunScanJobDefaultRefreshHonoured(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(id, accept, q string, n int) adaptertest.Response {
		if n <= 2 {
			return adaptertest.NotReady("") // Harbor then waits 5 s
		}
		return adaptertest.Response{Status: 200, Body: adaptertest.VulnReport(nil)}
	}}
	s := newServer(t, a)
	c := jobClient(t, s.URL)
	res, err := c.RunScanJob(context.Background(), vulnReq(), []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport}, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "id-1" || res.Polls != 6 || len(res.Results) != 2 {
		t.Fatalf("result %+v", res)
	}
	for _, r := range res.Results {
		if r.Polls != 3 || !slices.Equal(r.RetryAfters, []int{5, 5}) || r.RefreshMissing != 2 || r.Err != nil || r.Summary == nil {
			t.Fatalf("%s: %+v", r.MimeType, r)
		}
		// 2 units before the first poll, then 5 units twice.
		if r.Elapsed < 12*unit {
			t.Fatalf("%s finished after %v, before Harbor's schedule allows", r.MimeType, r.Elapsed)
		}
	}
	// Every MIME type was polled, with its own Accept.
	seen := map[string]int{}
	var submitAt, firstPoll time.Time
	for _, r := range a.Requests() {
		if r.Method == "POST" {
			submitAt = r.At
			continue
		}
		if firstPoll.IsZero() {
			firstPoll = r.At
		}
		seen[r.Header.Get("Accept")]++
	}
	if seen[MimeTypeGenericVulnerabilityReport] != 3 || seen[MimeTypeNativeReport] != 3 {
		t.Fatalf("polls by Accept %v", seen)
	}
	if firstPoll.Sub(submitAt) < 2*unit {
		t.Fatalf("first poll %v after submit, before the first-check interval", firstPoll.Sub(submitAt))
	}
	s1 := res.Summary
	if s1.Severity != "Critical" || s1.Count("Critical") != 1 || s1.Count("High") != 2 || s1.Count("Medium") != 1 || s1.Count("Low") != 1 || s1.Fixable != 3 {
		t.Fatalf("summary %+v", s1)
	}
	st := c.Stats()
	if st.Submits != 1 || st.Polls != 6 || st.NotReady != 4 || st.Reports != 2 || st.RefreshFalls != 4 || st.Failures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRunScanJobRefreshAfterOverflowFallsBack(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(id, accept, q string, n int) adaptertest.Response {
		switch n {
		case 1:
			return adaptertest.NotReady("200") // not an int8: Harbor uses 5
		case 2:
			return adaptertest.NotReady("1")
		}
		return adaptertest.Response{Status: 200, Body: adaptertest.VulnReport([]adaptertest.Item{})}
	}}
	s := newServer(t, a)
	res, err := jobClient(t, s.URL).RunScanJob(context.Background(), vulnReq(), []string{MimeTypeGenericVulnerabilityReport}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Results[0]; !slices.Equal(r.RetryAfters, []int{5, 1}) || r.Elapsed < 8*unit || r.RefreshInvalid != 1 || r.RefreshMissing != 0 {
		t.Fatalf("%+v", r)
	}
	if res.Summary.Severity != "None" || res.Summary.Total != 0 {
		t.Fatalf("summary %+v", res.Summary)
	}
}

func TestRunScanJobFailuresInHarborsWords(t *testing.T) {
	m := MimeTypeGenericVulnerabilityReport
	cases := []struct {
		name string
		resp adaptertest.Response
		want string // exact, or prefix when ending in "…"
	}{
		{"404", adaptertest.Response{Status: 404}, "check scan report with mime type " + m + ": general response handler: unexpected status code: 404, expected: 200"},
		{"500 json", adaptertest.JSONError(500, "Image not found"), "check scan report with mime type " + m + ": Image not found: general response handler: unexpected status code: 500, expected: 200"},
		{"500 not json", adaptertest.Response{Status: 500, Body: []byte("Internal Server Error")}, "check scan report with mime type " + m + ": general response handler: invalid character 'I' looking for beginning of value"},
		{"200 empty", adaptertest.Response{Status: 200}, "scan job: resolve report data: empty JSON data"},
		{"200 string score", adaptertest.Response{Status: 200, Body: []byte(`{"vulnerabilities":[{"preferred_cvss":{"score_v3":"9.8"}}]}`)}, "scan job: resolve report data: json: cannot unmarshal string into Go struct field…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, &adaptertest.Adapter{Report: func(string, string, string, int) adaptertest.Response { return c.resp }})
			res, err := jobClient(t, s.URL).RunScanJob(context.Background(), vulnReq(), []string{m}, "")
			if err == nil {
				t.Fatal("job succeeded")
			}
			if p, ok := strings.CutSuffix(c.want, "…"); ok {
				if !strings.HasPrefix(err.Error(), p) {
					t.Fatalf("err = %v\nwant prefix %s", err, p)
				}
			} else if err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
			if res.Results[0].Err == nil || res.Results[0].Polls != 1 {
				t.Fatalf("result %+v", res.Results[0])
			}
		})
	}
}

func TestRunScanJobMergesErrorsAndKeepsGoodResults(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(id, accept, q string, n int) adaptertest.Response {
		switch accept {
		case MimeTypeNativeReport:
			return adaptertest.Response{Status: 404}
		case MimeTypeRawReport:
			return adaptertest.JSONError(415, "unsupported")
		}
		return adaptertest.Response{Status: 200, Body: adaptertest.VulnReport(nil)}
	}}
	s := newServer(t, a)
	mimes := []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport, MimeTypeRawReport}
	res, err := jobClient(t, s.URL).RunScanJob(context.Background(), vulnReq(), mimes, "")
	want := "check scan report with mime type " + MimeTypeNativeReport + ": general response handler: unexpected status code: 404, expected: 200: " +
		"check scan report with mime type " + MimeTypeRawReport + ": unsupported: general response handler: unexpected status code: 415, expected: 200"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if r := res.Result(MimeTypeGenericVulnerabilityReport); r == nil || r.Err != nil || r.Summary == nil || res.Summary != r.Summary {
		t.Fatalf("good MIME result %+v", r)
	}
	if res.Result("nope") != nil {
		t.Fatal("Result of an unpolled type")
	}
}

func TestRunScanJobSubmitFailure(t *testing.T) {
	a := &adaptertest.Adapter{Scan: func(int, []byte) adaptertest.Response { return adaptertest.JSONError(422, "invalid artifact") }}
	s := newServer(t, a)
	res, err := jobClient(t, s.URL).RunScanJob(context.Background(), vulnReq(), []string{MimeTypeGenericVulnerabilityReport}, "")
	want := "scan job: submit scan request: v1 client: submit scan: invalid artifact: general response handler: unexpected status code: 422, expected: 202"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v", err)
	}
	if res.ID != "" || res.Polls != 0 || len(a.Requests()) != 1 {
		t.Fatalf("polled after a failed submit: %+v", res)
	}
}

func TestRunScanJobSBOM(t *testing.T) {
	a := &adaptertest.Adapter{}
	s := newServer(t, a)
	sr := NewSBOMRequest("http://core:8080", "Basic x", Artifact{Repository: "r", Digest: "sha256:1", MimeType: MimeTypeOCIArtifact})
	res, err := jobClient(t, s.URL).RunScanJob(context.Background(), sr, []string{MimeTypeSBOMReport}, SBOMURLParameter())
	if err != nil {
		t.Fatal(err)
	}
	r := res.Results[0]
	if r.SBOM == nil || r.SBOM.MediaType != MediaTypeSPDX || r.SBOM.Packages() != 3 || res.Summary != nil {
		t.Fatalf("%+v", r)
	}
	for _, q := range a.Requests()[1:] {
		if q.RawQuery != "sbom_media_type=application%2Fspdx%2Bjson" {
			t.Fatalf("poll without the SBOM parameter: %q", q.RawQuery)
		}
	}

	a.Report = func(string, string, string, int) adaptertest.Response {
		return adaptertest.Response{Status: 200, Body: []byte(`{"media_type":"application/spdx+json","sbom":"{\"spdxVersion\":\"SPDX-2.3\"}"}`)}
	}
	_, err = jobClient(t, s.URL).RunScanJob(context.Background(), sr, []string{MimeTypeSBOMReport}, SBOMURLParameter())
	if err == nil || !strings.HasPrefix(err.Error(), "scan job: post scan: json: cannot unmarshal string") {
		t.Fatalf("sbom as a string: %v", err)
	}
}

func TestRunScanJobStopsWithContext(t *testing.T) {
	a := &adaptertest.Adapter{Report: func(string, string, string, int) adaptertest.Response { return adaptertest.NotReady("1") }}
	s := newServer(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	c := jobClient(t, s.URL)
	done := make(chan error, 1)
	go func() {
		_, err := c.RunScanJob(ctx, vulnReq(), []string{MimeTypeGenericVulnerabilityReport}, "")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().NotReady < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no polls")
		}
		time.Sleep(unit)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("job did not stop")
	}
}
