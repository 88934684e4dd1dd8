package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// procCPU returns the user+system CPU time of pid from /proc (clock ticks
// of 10 ms), and its peak RSS (VmHWM) in bytes.
func procCPU(pid int) (time.Duration, int64) {
	var cpu time.Duration
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			f := strings.Fields(s[i+2:])
			if len(f) > 13 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				cpu = time.Duration(ut+st) * 10 * time.Millisecond
			}
		}
	}
	var hwm int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				hwm = kb << 10
			}
		}
	}
	return cpu, hwm
}

// BenchmarkLoadRun is the loopback load run of BENCHMARKS.md: the adapter and
// the simulator as processes (scan latency 1 s, 6 controller workers as the
// real controller has), LOAD_DIGESTS distinct digests (600) scanned by
// LOAD_JOBS concurrent Harbor-like jobs (30: three jobservice replicas at
// Harbor's default max_job_workers of 10), each with Harbor's own timing
// (2 s before the first poll, then Refresh-After). Round 1 is measured
// against the simulator's lower bound (digests × latency ÷ workers); round 2
// submits every digest again and must cost no controller scan.
//
//	go test -run '^$' -bench LoadRun -benchtime 1x -timeout 30m ./cmd/harbor-scanner-neuvector/
func BenchmarkLoadRun(b *testing.B) {
	digests, jobs := envInt("LOAD_DIGESTS", 600), envInt("LOAD_JOBS", 30)
	vulns, workers := envInt("LOAD_VULNS", 100), 6
	latency := time.Duration(envInt("LOAD_LATENCY_MS", 1000)) * time.Millisecond
	for range b.N {
		b.StopTimer()
		s := startSim(b, "-scan-latency", latency.String(), "-workers", strconv.Itoa(workers), "-vulns", strconv.Itoa(vulns))
		a := startAdapter(b, s.URLs[0], "LOG_LEVEL=info")
		c, err := harborclient.New(harborclient.Options{URL: a.API, Auth: harborclient.AuthBasic, Credential: "admin:admin"})
		if err != nil {
			b.Fatal(err)
		}
		md, err := c.GetMetadata(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		mimes := md.ProducesMimeTypes(harborclient.MimeTypeDockerArtifact, harborclient.ScanTypeVulnerability)
		round := func() (time.Duration, int64) {
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < jobs; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(digests) {
							return
						}
						req := vulnRequest(fmt.Sprintf("library/load%d", i%50), digestOf(fmt.Sprint("load", i)))
						if _, err := c.RunScanJob(context.Background(), req, mimes, ""); err != nil {
							failed.Add(1)
							b.Logf("job %d: %v", i, err)
						}
					}
				}()
			}
			wg.Wait()
			return time.Since(start), failed.Load()
		}
		cpu0, _ := procCPU(a.cmd.Process.Pid)
		b.StartTimer()
		wall1, failed1 := round()
		b.StopTimer()
		cpu1, rss1 := procCPU(a.cmd.Process.Pid)
		scans1 := s.stats(b).ScansStarted
		wall2, failed2 := round()
		cpu2, rss2 := procCPU(a.cmd.Process.Pid)
		scans2 := s.stats(b).ScansStarted - scans1
		st := c.Stats()
		bound := time.Duration(digests) * latency / time.Duration(workers)
		if failed1+failed2 > 0 {
			b.Errorf("%d jobs failed", failed1+failed2)
		}
		if scans1 != int64(digests) || scans2 != 0 {
			b.Errorf("controller scans: round 1 %d (want %d), round 2 %d (want 0)", scans1, digests, scans2)
		}
		b.ReportMetric(wall1.Seconds(), "round1-wall-s")
		b.ReportMetric(bound.Seconds(), "lower-bound-s")
		b.ReportMetric(wall1.Seconds()/bound.Seconds(), "wall/bound")
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(digests), "adapter-cpu-ms/scan")
		b.ReportMetric(float64(rss1)/(1<<20), "peak-rss-MiB")
		b.ReportMetric(wall2.Seconds(), "round2-wall-s")
		b.ReportMetric(float64(scans2), "round2-controller-scans")
		b.ReportMetric(float64((cpu2-cpu1).Microseconds())/1000/float64(digests), "round2-cpu-ms/job")
		b.ReportMetric(float64(st.Polls)/float64(2*digests), "polls/job")
		_ = rss2
		a.stop()
		s.stop()
	}
}
