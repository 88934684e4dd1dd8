package sim

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func TestScanLongPoll304Then200(t *testing.T) {
	h := start(t, Config{LongPoll: 50 * time.Millisecond, ScanLatency: 300 * time.Millisecond, Vulns: 7})
	token := h.login("admin", "admin")
	d := digestN(1)
	r := h.do("POST", "/v1/scan/repository", tok(token), scanBody(d))
	if r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Fatalf("first poll: %d %q", r.status, r.body)
	}
	r = h.scanUntilDone(tok(token), scanBody(d))
	if r.status != 200 {
		t.Fatalf("final: %d %s", r.status, r.body)
	}
	rep := decodeReport(t, r.body)
	if rep.Digest != d || rep.Tag != d || rep.Repository != "library/app" || rep.Registry != "https://harbor.example.com/" ||
		len(rep.Vulnerabilities) != 7 || rep.CVEDBVersion != DefaultCVEDBVersion {
		t.Fatalf("report: %+v", rep)
	}
	st := h.s.Stats()
	if st.ScansStarted != 1 || st.ScansFinished != 1 || st.Polls304 < 1 || st.JobsPending != 0 || st.RepoScanImages != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// Delivered jobs are gone: the identical POST scans again.
	h.s.SetLatency(0)
	if r := h.scanUntilDone(tok(token), scanBody(d)); r.status != 200 {
		t.Fatalf("rescan: %d", r.status)
	}
	if n := h.s.Stats().ScansStarted; n != 2 {
		t.Fatalf("scans after rescan: %d", n)
	}
}

func TestScanValidation(t *testing.T) {
	h := start(t, Config{})
	token := h.login("admin", "admin")
	req := func(reg, repo, tag string) translate.ScanRepoReqData {
		return translate.ScanRepoReqData{Request: &translate.ScanRepoRequest{Registry: reg, Repository: repo, Tag: tag}}
	}
	cases := []struct {
		name string
		body any
		msg  string
	}{
		{"not json", "{x", "Request in wrong format"},
		{"no request", `{}`, "Request in wrong format"},
		{"registry scheme", req("ftp://h", "a", "b"), "Invalid Registry URL"},
		{"registry no host", req("https://", "a", "b"), "Invalid Registry URL"},
		{"no repository", req("https://h", "", "b"), "No repository name provided"},
	}
	for _, c := range cases {
		r := h.do("POST", "/v1/scan/repository", tok(token), c.body)
		if e := r.restErr(t); r.status != 400 || e.Code != 6 || e.Message != c.msg || e.Error != "Request in wrong format" {
			t.Errorf("%s: %d %+v", c.name, r.status, e)
		}
	}
	r := h.scanUntilDone(tok(token), req("https://h", "a/b", ""))
	if rep := decodeReport(t, r.body); rep.Tag != "latest" || rep.Registry != "https://h/" || len(rep.Digest) != 71 {
		t.Fatalf("default tag: %+v", rep)
	}
	r = h.scanUntilDone(tok(token), req("https://registry-1.docker.io", "nginx", "1.27"))
	if rep := decodeReport(t, r.body); rep.Repository != "library/nginx" || rep.Tag != "1.27" {
		t.Fatalf("docker hub: %s %s", rep.Repository, rep.Tag)
	}
	if st := h.s.Stats(); st.ScansStarted != 2 {
		t.Fatalf("invalid requests started scans: %+v", st)
	}
}

// Joiners of one job are told apart from new jobs by the key: body + token.
func TestScanJobKey(t *testing.T) {
	gate := make(chan struct{})
	h := startGated(t, Config{LongPoll: time.Second}, gate)
	token := h.login("admin", "admin")
	d := digestN(2)

	// Five pollers with one key wait on one scan; only one gets the result.
	const n = 5
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() { statuses <- h.do("POST", "/v1/scan/repository", tok(token), scanBody(d)).status })
	}
	eventually(t, "pollers to join", func() bool { return h.s.Stats().JobsJoined == n-1 })
	if st := h.s.Stats(); st.ScansStarted != 1 || st.JobsPending != 1 {
		t.Fatalf("one key, stats: %+v", st)
	}
	gate <- struct{}{}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[200] != 1 || got[304] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 304", got, n-1)
	}

	// A new token (a re-login) starts a new scan of the same body.
	other := h.login("admin", "admin")
	done := make(chan reply, 2)
	go func() { done <- h.do("POST", "/v1/scan/repository", tok(token), scanBody(d)) }()
	go func() { done <- h.do("POST", "/v1/scan/repository", tok(other), scanBody(d)) }()
	eventually(t, "two scans", func() bool { return h.s.Stats().ScansStarted == 3 })
	gate <- struct{}{}
	gate <- struct{}{}
	for range 2 {
		if r := <-done; r.status != 200 {
			t.Fatalf("per-token scan: %d", r.status)
		}
	}

	// API keys have token "": two callers with keys share one job.
	h2 := startGated(t, Config{LongPoll: time.Second, APIKeys: []APIKey{{"k1", "s1", "admin"}, {"k2", "s2", "ciops"}}}, gate)
	for _, k := range []string{"k1:s1", "k2:s2"} {
		go func() {
			done <- h2.do("POST", "/v1/scan/repository", map[string]string{"X-Auth-Apikey": k}, scanBody(d))
		}()
	}
	eventually(t, "API key join", func() bool { return h2.s.Stats().JobsJoined == 1 })
	gate <- struct{}{}
	a, b := <-done, <-done
	if a.status+b.status != 200+304 || h2.s.Stats().ScansStarted != 1 {
		t.Fatalf("API keys: %d %d, %+v", a.status, b.status, h2.s.Stats())
	}
}

func TestScanQueueFull429(t *testing.T) {
	gate := make(chan struct{})
	h := startGated(t, Config{Workers: 1, QueueCap: 1, LongPoll: 20 * time.Millisecond}, gate)
	token := h.login("admin", "admin")
	if r := h.do("POST", "/v1/scan/repository", tok(token), scanBody(digestN(1))); r.status != 304 {
		t.Fatalf("A: %d", r.status)
	}
	eventually(t, "worker to take A", func() bool { return h.s.Stats().ScansRunning == 1 })
	if r := h.do("POST", "/v1/scan/repository", tok(token), scanBody(digestN(2))); r.status != 304 {
		t.Fatalf("B (queued): %d", r.status)
	}
	r := h.do("POST", "/v1/scan/repository", tok(token), scanBody(digestN(3)))
	if e := r.restErr(t); r.status != 429 || e.Code != 26 || e.Message != "Maximum concurrent scan limit (1) reached." || e.Error != "Fail to scan repository" {
		t.Fatalf("C: %d %+v", r.status, e)
	}
	// Polling a queued job is not a new enqueue.
	if r := h.do("POST", "/v1/scan/repository", tok(token), scanBody(digestN(2))); r.status != 304 {
		t.Fatalf("B again: %d", r.status)
	}
	if st := h.s.Stats(); st.ScansRejected429 != 1 || st.ScansQueued != 1 || st.JobsPending != 2 {
		t.Fatalf("stats: %+v", st)
	}
	close(gate)
	for _, d := range []string{digestN(1), digestN(2), digestN(3)} {
		if r := h.scanUntilDone(tok(token), scanBody(d)); r.status != 200 {
			t.Fatalf("%s: %d", d, r.status)
		}
	}
}

func TestScanFaults(t *testing.T) {
	h := start(t, Config{LongPoll: time.Second})
	token := h.login("admin", "admin")
	d := digestN(9)
	h.s.SetFault(d, 26, "Image not found")
	r := h.scanUntilDone(tok(token), scanBody(d))
	if e := r.restErr(t); r.status != 500 || e.Code != 26 || e.Message != "Image not found" || e.Error != "Fail to scan repository" {
		t.Fatalf("fault: %d %+v", r.status, e)
	}
	// Over HTTP: code 24 carries no detail, as on the controller.
	if r := h.do("POST", "/sim/faults", nil, FaultRequest{Digest: d, Code: 24, Message: "rpc"}); r.status != 200 {
		t.Fatalf("fault hook: %d", r.status)
	}
	r = h.scanUntilDone(tok(token), scanBody(d))
	if e := r.restErr(t); r.status != 500 || e.Code != 24 || e.Message != "Cluster RPC error" {
		t.Fatalf("code 24: %d %+v", r.status, e)
	}
	h.do("POST", "/sim/faults", nil, FaultRequest{Digest: d}) // clears
	if r := h.scanUntilDone(tok(token), scanBody(d)); r.status != 200 {
		t.Fatalf("after clear: %d %s", r.status, r.body)
	}
	st := h.s.Stats()
	if st.ScansFailed != 2 || st.ScansFinished != 1 || st.ScansStarted != 3 || st.RepoScanImages != 1 || st.JobsPending != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if r := h.do("POST", "/sim/faults", nil, `{"code":26}`); r.status != 400 || r.restErr(t).Code != 6 {
		t.Fatalf("fault without digest: %d", r.status)
	}
}

func TestScanRegistryAuth(t *testing.T) {
	h := start(t, Config{RegistryAuth: "robot$p+nv:pw", LongPoll: time.Second})
	token := h.login("admin", "admin")
	body := func(u, p string) translate.ScanRepoReqData {
		b := scanBody(digestN(4))
		b.Request.Username, b.Request.Password = u, p
		return b
	}
	r := h.scanUntilDone(tok(token), body("robot$p+nv", "wrong"))
	if e := r.restErr(t); r.status != 500 || e.Code != 26 || e.Message != "authentication error" {
		t.Fatalf("mismatch: %d %+v", r.status, e)
	}
	if r := h.scanUntilDone(tok(token), body("", "")); r.status != 500 {
		t.Fatalf("no creds: %d", r.status)
	}
	if r := h.scanUntilDone(tok(token), body("robot$p+nv", "pw")); r.status != 200 {
		t.Fatalf("match: %d %s", r.status, r.body)
	}
	if st := h.s.Stats(); st.RepoScanImages != 1 || st.ScansFailed != 2 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestCVEDBChangeReachesReports(t *testing.T) {
	h := start(t, Config{LongPoll: time.Second})
	token := h.login("admin", "admin")
	if r := h.do("POST", "/sim/cvedb", nil, CVEDBRequest{Version: "4.100", CreateTime: "2026-12-01T00:00:00Z"}); r.status != 200 {
		t.Fatalf("cvedb hook: %d", r.status)
	}
	if r := h.do("POST", "/sim/cvedb", nil, CVEDBRequest{Version: "x", CreateTime: "yesterday"}); r.status != 400 {
		t.Fatalf("bad time accepted: %d", r.status)
	}
	rep := decodeReport(t, h.scanUntilDone(tok(token), scanBody(digestN(5))).body)
	if rep.CVEDBVersion != "4.100" || rep.CVEDBCreateTime != "2026-12-01T00:00:00Z" {
		t.Fatalf("report DB: %s %s", rep.CVEDBVersion, rep.CVEDBCreateTime)
	}
	if r := h.do("POST", "/sim/latency", nil, LatencyRequest{Latency: "15ms"}); r.status != 200 || h.s.latency.Load() != int64(15*time.Millisecond) {
		t.Fatalf("latency hook: %d", r.status)
	}
	if r := h.do("POST", "/sim/latency", nil, LatencyRequest{Latency: "-1s"}); r.status != 400 {
		t.Fatalf("negative latency: %d", r.status)
	}
}
