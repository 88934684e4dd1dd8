package sim

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func images(t *testing.T, h *harness, hdr map[string]string, registry, query string) []translate.RegistryImageSummary {
	t.Helper()
	r := h.do("GET", "/v1/scan/registry/"+registry+"/images"+query, hdr, nil)
	if r.status != 200 {
		t.Fatalf("images %s%s: %d %s", registry, query, r.status, r.body)
	}
	var d translate.RegistryImagesData
	if err := json.Unmarshal(r.body, &d); err != nil || d.Images == nil {
		t.Fatalf("images body %s: %v", r.body, err)
	}
	return d.Images
}

func TestRepoScanStoreAndFilters(t *testing.T) {
	h := start(t, Config{Vulns: 40})
	token := h.login("admin", "admin")
	for i := 1; i <= 3; i++ {
		if i == 3 {
			h.s.SetCVEDB("4.200", "2026-11-01T00:00:00Z")
		}
		if r := h.scanUntilDone(tok(token), scanBody(digestN(i))); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	all := images(t, h, tok(token), "_repo_scan", "")
	if len(all) != 3 {
		t.Fatalf("%d images", len(all))
	}
	d2 := digestN(2)
	for _, q := range []string{"?f_digest=eq," + url.QueryEscape(d2), "?f_digest=" + url.QueryEscape(d2)} {
		got := images(t, h, tok(token), "_repo_scan", q)
		if len(got) != 1 || got[0].Digest != d2 {
			t.Fatalf("%s: %+v", q, got)
		}
		s := got[0]
		rep := GenerateReport(d2, "library/app", "https://harbor.example.com/", 40, DefaultCVEDBVersion, DefaultCVEDBCreateTime)
		crit, high, med := 0, 0, 0
		for _, v := range rep.Vulnerabilities {
			switch v.Severity {
			case "Critical":
				crit++
			case "High":
				high++
			case "Medium":
				med++
			}
		}
		if s.ImageID != rep.ImageID || s.ScannerVersion != DefaultCVEDBVersion || s.Status != "finished" || s.BaseOS != rep.BaseOS ||
			s.Critical != crit || s.High != high || s.Medium != med || s.ScannedTimeStamp == 0 || s.ScannedAt == "" {
			t.Fatalf("summary %+v", s)
		}
	}
	if got := images(t, h, tok(token), "_repo_scan", "?f_digest=eq,sha256:none"); len(got) != 0 {
		t.Fatalf("no match returned %d", len(got))
	}
	if got := images(t, h, tok(token), "_repo_scan", "?f_scanner_version=neq,4.200"); len(got) != 2 {
		t.Fatalf("neq: %d", len(got))
	}
	if got := images(t, h, tok(token), "_repo_scan", "?f_scanner_version=4.200"); len(got) != 1 || got[0].Digest != digestN(3) {
		t.Fatalf("scanner_version: %+v", got)
	}
	if got := images(t, h, tok(token), "_repo_scan", "?f_digest=in,"+digestN(1)+","+digestN(3)); len(got) != 2 {
		t.Fatalf("in: %d", len(got))
	}
	if got := images(t, h, tok(token), "_repo_scan", "?start=1&limit=1"); len(got) != 1 || got[0].Digest != digestN(2) {
		t.Fatalf("paging: %+v", got)
	}

	// The report by image ID: RESTScanReport, no image metadata.
	id := images(t, h, tok(token), "_repo_scan", "?f_digest="+d2)[0].ImageID
	r := h.do("GET", "/v1/scan/registry/_repo_scan/image/"+id, tok(token), nil)
	var rd translate.ScanReportData
	if err := json.Unmarshal(r.body, &rd); err != nil || r.status != 200 || rd.Report == nil || len(rd.Report.Vulnerabilities) != 40 || rd.Report.SignatureData == nil {
		t.Fatalf("image report: %d %.200s", r.status, r.body)
	}
	for _, p := range []string{"/v1/scan/registry/_repo_scan/image/nope", "/v1/scan/registry/other/images", "/v1/scan/registry/fed._repo_scan/images"} {
		r := h.do("GET", p, tok(token), nil)
		if e := r.restErr(t); r.status != 404 || e.Code != 7 {
			t.Errorf("%s: %d %+v", p, r.status, e)
		}
	}
}

func TestRepoScanBound(t *testing.T) {
	st := newImageStore(RepoScanMax)
	now := time.Now()
	put := func(i int) string {
		id := digestN(i)[7:]
		st.put(&translate.ScanRepoReport{ImageID: id, Digest: digestN(i)}, []byte(id), now)
		return id
	}
	for i := range RepoScanMax + 10 {
		put(i)
	}
	if st.len() != RepoScanMax {
		t.Fatalf("len %d", st.len())
	}
	for i := range 10 {
		if st.get(digestN(i)[7:]) != nil {
			t.Fatalf("oldest entry %d kept", i)
		}
	}
	// A rescan refreshes an entry: it is evicted last.
	keep := put(10)
	for i := range RepoScanMax - 1 {
		put(100000 + i)
	}
	if st.get(keep) == nil || st.get(digestN(11)[7:]) != nil {
		t.Fatal("refresh did not move the entry to the back")
	}
}

func TestClusterModeSharesStore(t *testing.T) {
	gate := make(chan struct{})
	h := startGated(t, Config{LongPoll: 2 * time.Second}, gate)
	url2, err := h.s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.s.URLs(); len(got) != 2 || got[0] != h.url || got[1] != url2 || h.s.URL() != h.url {
		t.Fatalf("URLs %v", got)
	}
	token := h.login("admin", "admin")
	// Sessions are cluster-wide.
	if r := doURL(t, h.c, "PATCH", url2+"/v1/auth", tok(token), nil); r.status != 200 {
		t.Fatalf("token on the second replica: %d", r.status)
	}
	// Jobs are per replica: the same key on another replica is another scan.
	d := digestN(7)
	done := make(chan reply, 2)
	go func() { done <- h.do("POST", "/v1/scan/repository", tok(token), scanBody(d)) }()
	go func() { done <- doURL(t, h.c, "POST", url2+"/v1/scan/repository", tok(token), scanBody(d)) }()
	eventually(t, "two replicas to scan", func() bool { return h.s.Stats().ScansStarted == 2 })
	close(gate)
	<-done
	<-done
	// Results are cluster-wide, and so are the stats.
	var d2 translate.RegistryImagesData
	r := doURL(t, h.c, "GET", url2+"/v1/scan/registry/_repo_scan/images?f_digest="+d, tok(token), nil)
	if err := json.Unmarshal(r.body, &d2); err != nil || len(d2.Images) != 1 {
		t.Fatalf("second replica store: %s", r.body)
	}
	var st Stats
	if err := json.Unmarshal(doURL(t, h.c, "GET", url2+"/sim/stats", nil, nil).body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Replicas != 2 || st.ScansFinished != 2 || st.RepoScanImages != 1 || st.Logins != 1 {
		t.Fatalf("cluster stats: %+v", st)
	}
}

func TestRouterErrorsAndGzip(t *testing.T) {
	h := start(t, Config{Vulns: 30})
	for _, c := range []struct {
		method, path string
		status, code int
	}{
		{"GET", "/v1/nope", 404, 1},
		{"GET", "/v1/scan/registry/_repo_scan", 404, 1},
		{"GET", "/v1/auth", 405, 2},
		{"PUT", "/v1/scan/repository", 405, 2},
		{"POST", "/v1/scan/registry/_repo_scan/images", 405, 2},
	} {
		r := h.do(c.method, c.path, nil, nil)
		if e := r.restErr(t); r.status != c.status || e.Code != c.code || e.Message != e.Error {
			t.Errorf("%s %s: %d %+v", c.method, c.path, r.status, e)
		}
	}
	token := h.login("admin", "admin")
	h.scanUntilDone(tok(token), scanBody(digestN(1)))

	// A raw transport shows the encoding Go's client would hide.
	raw := &http.Client{Transport: &http.Transport{TLSClientConfig: h.s.TLSConfig(), DisableCompression: true}}
	get := func(path string, gz bool) *http.Response {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		req.Header.Set("X-Auth-Token", token)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	id := images(t, h, tok(token), "_repo_scan", "")[0].ImageID
	resp := get("/v1/scan/registry/_repo_scan/image/"+id, true)
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("large body not gzipped: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var rd translate.ScanReportData
	if err := json.NewDecoder(zr).Decode(&rd); err != nil || len(rd.Report.Vulnerabilities) != 30 {
		t.Fatalf("gzip body: %v", err)
	}
	if resp := get("/v1/scan/registry/_repo_scan/image/"+id, false); resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzipped without Accept-Encoding")
	}
	resp = get("/v1/system/summary", true)
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "" || len(body) > gzipMin {
		t.Fatalf("small body gzipped: %v %d", resp.Header, len(body))
	}
}
