package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
)

func TestE2ECleanScan(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "300ms", "-vulns", "30")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	// Harbor polls every produces type; the deprecated 1.0 type is served too.
	mimes = append(mimes, harborclient.MimeTypeNativeReport)
	digest := digestOf("clean")
	res, err := c.RunScanJob(context.Background(), vulnRequest("library/alpine", digest), mimes, "")
	if err != nil {
		t.Fatalf("job failed: %v", err)
	}
	want := sim.GenerateReport(digest, "library/alpine", "http://core:8080/", 30, sim.DefaultCVEDBVersion, sim.DefaultCVEDBCreateTime)
	wantCounts := map[string]int{}
	seen := map[string]bool{}
	for _, v := range want.Vulnerabilities {
		k := v.Name + "-" + v.PackageName + "-" + v.PackageVersion
		if !seen[k] {
			seen[k] = true
			wantCounts[v.Severity]++
		}
	}
	for _, m := range mimes {
		r := res.Result(m)
		if r == nil || r.Err != nil || r.Summary == nil {
			t.Fatalf("%s: %+v", m, r)
		}
		if r.Summary.Total != len(seen) {
			t.Errorf("%s: %d vulnerabilities, simulator reported %d distinct", m, r.Summary.Total, len(seen))
		}
		for sev, n := range wantCounts {
			if got := r.Summary.Count(sev); got != n {
				t.Errorf("%s: %s %d, want %d", m, sev, got, n)
			}
		}
		if r.Summary.Duplicates != 0 {
			t.Errorf("%s: %d duplicate (id, package, version) items", m, r.Summary.Duplicates)
		}
	}
	if st := s.stats(t); st.ScansStarted != 1 {
		t.Errorf("simulator scans %d, want 1", st.ScansStarted)
	}
}

func TestE2EScanFailureReachesHarbor(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "100ms")
	a := startAdapter(t, s.URLs[0])
	digest := digestOf("missing")
	s.post(t, "/sim/faults", map[string]any{"digest": digest, "code": 26, "message": "Image not found"})
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	_, err := c.RunScanJob(context.Background(), vulnRequest("library/missing", digest), vulnMimes(t, c), "")
	if err == nil || !strings.Contains(err.Error(), "Image not found") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("want Harbor's job error with the controller message and 500, got %v", err)
	}
}

func TestE2EWrongRegistryCredentials(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "100ms", "-registry-auth", robotUser+":the-right-one")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	_, err := c.RunScanJob(context.Background(), vulnRequest("library/alpine", digestOf("regauth")), vulnMimes(t, c), "")
	if err == nil || !strings.Contains(err.Error(), "authentication error") {
		t.Fatalf("want the registry authentication failure, got %v", err)
	}
	if strings.Contains(err.Error(), robotSecret) {
		t.Fatal("robot secret in Harbor's job error")
	}
}

func TestE2EHundredConcurrentScansOneDigest(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "500ms")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	digest := digestOf("hundred")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.RunScanJob(context.Background(), vulnRequest("library/alpine", digest), mimes, ""); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("job failed: %v", err)
	}
	if st := s.stats(t); st.ScansStarted != 1 {
		t.Fatalf("100 scan requests of one digest caused %d controller scans, want 1", st.ScansStarted)
	}
}

func TestE2ECVEDBChangeRescans(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "100ms")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	digest := digestOf("cvedb")
	for i := 0; i < 2; i++ { // the second one is a cache hit
		if _, err := c.RunScanJob(context.Background(), vulnRequest("library/alpine", digest), mimes, ""); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.stats(t); st.ScansStarted != 1 {
		t.Fatalf("scans %d before the DB update, want 1", st.ScansStarted)
	}
	s.post(t, "/sim/cvedb", map[string]string{"version": "4.100", "create_time": "2026-12-01T00:00:00Z"})
	waitFor(t, "metadata to show the new CVE DB", 10*time.Second, func() bool {
		md, err := c.GetMetadata(context.Background())
		return err == nil && strings.HasPrefix(md.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"], "2026-12-01")
	})
	if _, err := c.RunScanJob(context.Background(), vulnRequest("library/alpine", digest), mimes, ""); err != nil {
		t.Fatal(err)
	}
	if st := s.stats(t); st.ScansStarted != 2 {
		t.Fatalf("scans %d after the DB update, want 2", st.ScansStarted)
	}
}

func TestE2EExpiredTokenLogsInAgain(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "100ms")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	if _, err := c.RunScanJob(context.Background(), vulnRequest("library/a", digestOf("tok1")), mimes, ""); err != nil {
		t.Fatal(err)
	}
	before := s.stats(t).Logins
	s.post(t, "/sim/expire-tokens", map[string]string{})
	if _, err := c.RunScanJob(context.Background(), vulnRequest("library/b", digestOf("tok2")), mimes, ""); err != nil {
		t.Fatalf("scan after the token expired: %v", err)
	}
	if after := s.stats(t).Logins; after <= before {
		t.Fatalf("logins %d → %d: the adapter did not log in again", before, after)
	}
}

func TestE2EController429ThenSuccess(t *testing.T) {
	t.Parallel()
	// One worker and a queue of one: concurrent scans of distinct digests
	// overflow the controller's queue and get 429 until it drains.
	s := startSim(t, "-scan-latency", "300ms", "-workers", "1", "-queue", "1")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := c.RunScanJob(context.Background(), vulnRequest("library/x", digestOf(string(rune('a'+i))+"429")), mimes, ""); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("job failed: %v", err)
	}
	st := s.stats(t)
	if st.ScansRejected429 == 0 {
		t.Fatal("the controller never answered 429: the test did not exercise back-off")
	}
	if st.ScansFinished != 5 {
		t.Fatalf("finished %d scans, want 5", st.ScansFinished)
	}
}
