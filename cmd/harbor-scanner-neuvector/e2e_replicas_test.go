package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

// roundRobin is a loopback HTTP balancer that sends each request to the next
// backend, so a job's POST and its polls land on different replicas (the
// worst case of a Kubernetes Service with keep-alive spread over pods).
func roundRobin(t *testing.T, backends ...string) string {
	t.Helper()
	var proxies []*httputil.ReverseProxy
	for _, b := range backends {
		u, _ := url.Parse(b)
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(u))
	}
	var n atomic.Uint64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[n.Add(1)%uint64(len(proxies))].ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

func TestE2EReplicasServeEachOthersScans(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-addr", freeAddr(t), "-addr", freeAddr(t), "-addr", freeAddr(t), "-scan-latency", "300ms")
	var apis []string
	for _, u := range s.URLs {
		apis = append(apis, startAdapter(t, u).API)
	}
	c := harbor(t, roundRobin(t, apis...), harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	const digests = 9
	var wg sync.WaitGroup
	errs := make(chan error, digests)
	for i := 0; i < digests; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := c.RunScanJob(context.Background(), vulnRequest("library/r", digestOf(fmt.Sprint("replica", i))), mimes, "")
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("job failed across replicas: %v", err)
	}
	if st := s.stats(t); st.ScansStarted != digests {
		t.Fatalf("%d controller scans for %d digests, want one each", st.ScansStarted, digests)
	}
}

func TestE2EAdapterKilledMidScan(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "2s")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	resp, err := c.SubmitScan(context.Background(), vulnRequest("library/k", digestOf("killed")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the scan to reach the controller", 5*time.Second, func() bool { return s.stats(t).ScansRunning > 0 })
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	a.restart(t)
	// Harbor keeps polling the same ID as if nothing happened.
	deadline := time.Now().Add(20 * time.Second)
	for _, m := range mimes {
		for {
			body, retry, err := c.GetScanReport(context.Background(), resp.ID, m, "")
			if err == nil {
				if _, err := harborclient.ResolveVuln(body); err != nil {
					t.Fatalf("report after restart: %v", err)
				}
				break
			}
			if retry == 0 {
				t.Fatalf("%s after restart: %v", m, err)
			}
			if time.Now().After(deadline) {
				t.Fatal("report never came after the restart")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if st := s.stats(t); st.ScansStarted != 1 {
		t.Fatalf("%d controller scans, want 1: the restarted adapter scanned again", st.ScansStarted)
	}
}

func TestE2EFederationManagedReusesPrimary(t *testing.T) {
	t.Parallel()
	primary := startSim(t, "-scan-latency", "200ms")
	managed := startSim(t, "-scan-latency", "200ms", "-fed-primary", primary.URLs[0], "-fed-poll", "200ms")
	ap := startAdapter(t, primary.URLs[0])
	am := startAdapter(t, managed.URLs[0])
	cp := harbor(t, ap.API, harborclient.AuthBasic, "admin:admin")
	cm := harbor(t, am.API, harborclient.AuthBasic, "admin:admin")
	digest := digestOf("federated")
	if _, err := cp.RunScanJob(context.Background(), vulnRequest("library/f", digest), vulnMimes(t, cp), ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the managed cluster to pull the primary's result", 10*time.Second, func() bool {
		return managed.stats(t).FedRepoScanImages > 0
	})
	mimes := vulnMimes(t, cm)
	if _, err := cm.RunScanJob(context.Background(), vulnRequest("library/f", digest), mimes, ""); err != nil {
		t.Fatal(err)
	}
	if st := managed.stats(t); st.ScansStarted != 0 {
		t.Fatalf("managed cluster scanned %d times; the primary's result should have served", st.ScansStarted)
	}
	// A newer CVE DB on the managed side makes the propagated result stale.
	managed.post(t, "/sim/cvedb", map[string]string{"version": "9.000", "create_time": "2026-12-02T00:00:00Z"})
	waitFor(t, "the managed adapter to see the new CVE DB", 10*time.Second, func() bool {
		md, err := cm.GetMetadata(context.Background())
		return err == nil && md.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"] != "" &&
			md.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"][:10] == "2026-12-02"
	})
	if _, err := cm.RunScanJob(context.Background(), vulnRequest("library/f", digest), mimes, ""); err != nil {
		t.Fatal(err)
	}
	if st := managed.stats(t); st.ScansStarted != 1 {
		t.Fatalf("managed cluster scans %d after its CVE DB changed, want 1", st.ScansStarted)
	}
}
