package sim

import (
	"reflect"
	"testing"
	"time"
)

func TestFederationPrimaryToManaged(t *testing.T) {
	p := start(t, Config{})
	m := start(t, Config{FedPrimary: p.url, FedPoll: 20 * time.Millisecond, FedTLS: p.s.TLSConfig()})
	pt, mt := p.login("admin", "admin"), m.login("admin", "admin")

	eventually(t, "first federation poll", func() bool { return m.s.Stats().FedPolls > 0 })
	if got := images(t, m, tok(mt), "fed._repo_scan", ""); len(got) != 0 {
		t.Fatalf("fed store before any scan: %d", len(got))
	}
	d := digestN(21)
	if r := p.scanUntilDone(tok(pt), scanBody(d)); r.status != 200 {
		t.Fatal(r.status)
	}
	eventually(t, "result to reach the managed cluster", func() bool { return m.s.Stats().FedRepoScanImages == 1 })
	got := images(t, m, tok(mt), "fed._repo_scan", "?f_digest=eq,"+d)
	want := images(t, p, tok(pt), "_repo_scan", "?f_digest=eq,"+d)
	if len(got) != 1 || !reflect.DeepEqual(got[0], want[0]) {
		t.Fatalf("fed summary %+v, primary %+v", got, want)
	}
	if got[0].ScannerVersion != DefaultCVEDBVersion || got[0].ScannedTimeStamp != want[0].ScannedTimeStamp {
		t.Fatalf("fed summary fields: %+v", got[0])
	}
	if r := m.do("GET", "/v1/scan/registry/fed._repo_scan/image/"+got[0].ImageID, tok(mt), nil); r.status != 200 {
		t.Fatalf("fed report: %d", r.status)
	}
	if n := len(images(t, m, tok(mt), "_repo_scan", "")); n != 0 || m.s.Stats().ScansStarted != 0 {
		t.Fatalf("managed _repo_scan %d, scans %d", n, m.s.Stats().ScansStarted)
	}

	// A managed cluster's own scans stay in its own _repo_scan.
	if r := m.scanUntilDone(tok(mt), scanBody(digestN(22))); r.status != 200 {
		t.Fatal(r.status)
	}
	if n := len(images(t, m, tok(mt), "_repo_scan", "")); n != 1 {
		t.Fatalf("managed _repo_scan after own scan: %d", n)
	}
	// A rescan on the primary (new CVE DB) is propagated as an update.
	p.s.SetCVEDB("4.500", "2026-12-01T00:00:00Z")
	p.scanUntilDone(tok(pt), scanBody(d))
	eventually(t, "update to propagate", func() bool {
		g := images(t, m, tok(mt), "fed._repo_scan", "?f_digest="+d)
		return len(g) == 1 && g[0].ScannerVersion == "4.500"
	})
	if st := m.s.Stats(); st.FedRepoScanImages != 1 || st.FedPollErrors != 0 {
		t.Fatalf("managed stats: %+v", st)
	}
}

func TestFederationShareOff(t *testing.T) {
	p := start(t, Config{FedNoShare: true})
	m := start(t, Config{FedPrimary: p.url, FedPoll: 20 * time.Millisecond}) // nil FedTLS: skip verification
	pt, mt := p.login("admin", "admin"), m.login("admin", "admin")
	p.scanUntilDone(tok(pt), scanBody(digestN(31)))
	base := m.s.Stats().FedPolls
	eventually(t, "three polls after the scan", func() bool { return m.s.Stats().FedPolls >= base+3 })
	st := m.s.Stats()
	if st.FedRepoScanImages != 0 || st.FedPollErrors != 0 {
		t.Fatalf("stats: %+v", st)
	}
	r := m.do("GET", "/v1/scan/registry/fed._repo_scan/images", tok(mt), nil)
	if e := r.restErr(t); r.status != 404 || e.Code != 7 {
		t.Fatalf("fed._repo_scan with sharing off: %d %+v", r.status, e)
	}
}

// Batching: more images than one scan_data_internal reply carries.
func TestFederationBatches(t *testing.T) {
	const batch = 4
	p := start(t, Config{fedBatch: batch})
	now := time.Now()
	for i := range batch*2 + 5 {
		rep := GenerateReport(digestN(1000+i), "r", "https://h/", 2, "1", "t")
		p.s.repo.put(rep, []byte(rep.ImageID), now)
	}
	m := start(t, Config{FedPrimary: p.url, FedPoll: 20 * time.Millisecond, FedTLS: p.s.TLSConfig()})
	eventually(t, "all batches", func() bool { return m.s.Stats().FedRepoScanImages == batch*2+5 })
	// Deletions propagate too.
	p.s.repo.remove(GenerateReport(digestN(1000), "r", "https://h/", 2, "1", "t").ImageID)
	eventually(t, "deletion", func() bool { return m.s.Stats().FedRepoScanImages == batch*2+4 })
}
