package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

func getStatus(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Readiness follows the controller: 503 while it is down, 200 again when it
// is back, and never because Harbor has not called yet (pass-through).
func TestE2EReadinessFollowsController(t *testing.T) {
	t.Parallel()
	simAddr := freeAddr(t)
	s := startSim(t, "-addr", simAddr)
	a := startAdapter(t, s.URLs[0])
	waitFor(t, "ready with no Harbor request seen yet", 15*time.Second, func() bool {
		code, _ := getStatus(a.Ops + "/readyz")
		return code == 200
	})
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	if _, err := c.GetMetadata(context.Background()); err != nil {
		t.Fatalf("metadata: %v", err)
	}
	s.stop()
	waitFor(t, "503 once the controller is gone", 20*time.Second, func() bool {
		code, _ := getStatus(a.Ops + "/readyz")
		return code == 503
	})
	if code, _ := getStatus(a.Ops + "/healthz"); code != 200 {
		t.Fatalf("healthz %d while the controller is down: the process still serves", code)
	}
	// Metadata keeps answering from memory while the controller is away,
	// for a credential already verified.
	start := time.Now()
	md, err := c.GetMetadata(context.Background())
	if err != nil || md.Validate() != nil {
		t.Fatalf("metadata while the controller is down: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("metadata took %s while the controller is down", d)
	}
	s2 := startSim(t, "-addr", simAddr)
	_ = s2
	waitFor(t, "200 once the controller is back", 20*time.Second, func() bool {
		code, _ := getStatus(a.Ops + "/readyz")
		return code == 200
	})
}

func TestE2EMetricsMoveWithScans(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "100ms")
	a := startAdapter(t, s.URLs[0])
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	req := vulnRequest("library/m", digestOf("metrics"))
	for i := 0; i < 2; i++ {
		if _, err := c.RunScanJob(context.Background(), req, mimes, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, body := getStatus(a.Ops + "/metrics")
	for _, want := range []string{
		`harbor_scanner_neuvector_scans_total{result="submitted"} 2`,
		`harbor_scanner_neuvector_scans_total{result="cached"} 1`,
		`harbor_scanner_neuvector_scans_total{result="finished"} 1`,
		`harbor_scanner_neuvector_http_requests_total{route="scan",code="202"} 2`,
		`harbor_scanner_neuvector_build_info{`,
		`harbor_scanner_neuvector_controller_request_duration_seconds_bucket{endpoint="scan"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, name := range []string{"cache_hits_total", "cache_misses_total", "cache_bytes", "queue_depth"} {
		if !strings.Contains(body, "harbor_scanner_neuvector_"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if strings.Contains(body, `harbor_scanner_neuvector_cache_bytes 0`) {
		t.Error("cache_bytes is 0 after a finished scan")
	}
}

// SIGTERM during load: exit 0 within the bound, sessions logged out.
func TestE2ESigtermDuringLoad(t *testing.T) {
	t.Parallel()
	s := startSim(t, "-scan-latency", "20s")
	a := startAdapter(t, s.URLs[0], "SHUTDOWN_TIMEOUT=6s", "DRAIN_DELAY=1s")
	c := harbor(t, a.API, harborclient.AuthBasic, "admin:admin")
	mimes := vulnMimes(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c.RunScanJob(ctx, vulnRequest("library/l", digestOf(string(rune('a'+i))+"load")), mimes, "")
		}(i)
	}
	waitFor(t, "scans running in the controller", 10*time.Second, func() bool { return s.stats(t).ScansRunning > 0 })
	if st := s.stats(t); st.ActiveSessions == 0 {
		t.Fatal("no controller session before shutdown: the test would prove nothing")
	}
	start := time.Now()
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		t.Fatal("adapter did not exit within 15s of SIGTERM")
	}
	took := time.Since(start)
	if a.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit code %d: %s", a.cmd.ProcessState.ExitCode(), a.out.String())
	}
	if took > 8*time.Second {
		t.Fatalf("shutdown took %s, bound is SHUTDOWN_TIMEOUT=6s", took)
	}
	if st := s.stats(t); st.ActiveSessions != 0 {
		t.Fatalf("%d controller sessions left after shutdown (logouts %d)", st.ActiveSessions, st.Logouts)
	}
	cancel()
	wg.Wait()
}

// Known secrets never appear in the adapter's debug logs or in any body
// Harbor gets, whatever happens: scans, failures, wrong credentials.
func TestE2ESecretsNeverLogged(t *testing.T) {
	t.Parallel()
	const (
		userPass  = "Harbor-NV-Pa55word-7f3a"
		apiSecret = "apikey-secret-9c2e41"
		badPass   = "Wrong-Pa55word-e81b"
	)
	s := startSim(t, "-scan-latency", "100ms", "-user", "harbor:"+userPass+":admin",
		"-apikey", "hk:"+apiSecret+":admin", "-registry-auth", robotUser+":"+robotSecret)
	a := startAdapter(t, s.URLs[0])
	var bodies []string
	run := func(auth, cred string, req *harborclient.ScanRequest) {
		c := harbor(t, a.API, auth, cred)
		_, err := c.RunScanJob(context.Background(), req, []string{harborclient.MimeTypeGenericVulnerabilityReport}, "")
		if err != nil {
			bodies = append(bodies, err.Error())
		}
	}
	run(harborclient.AuthBasic, "harbor:"+userPass, vulnRequest("library/s1", digestOf("s1")))
	run(harborclient.AuthAPIKey, "hk:"+apiSecret, vulnRequest("library/s2", digestOf("s2")))
	run(harborclient.AuthBasic, "harbor:"+badPass, vulnRequest("library/s3", digestOf("s3")))
	wrongRobot := vulnRequest("library/s4", digestOf("s4"))
	wrongRobot.Registry.Authorization = harborclient.BasicAuthorization(robotUser, "not-the-robot-secret-5d1")
	run(harborclient.AuthBasic, "harbor:"+userPass, wrongRobot)
	if len(bodies) < 2 {
		t.Fatalf("expected the bad-password and wrong-robot jobs to fail, got %v", bodies)
	}
	a.stop()
	logs := a.out.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Fatal("no debug lines: the test would prove nothing")
	}
	secrets := []string{userPass, apiSecret, badPass, robotSecret, "not-the-robot-secret-5d1",
		base64.StdEncoding.EncodeToString([]byte("harbor:" + userPass)),
		base64.StdEncoding.EncodeToString([]byte(robotUser + ":" + robotSecret)),
		base64.StdEncoding.EncodeToString([]byte("hk:" + apiSecret))}
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("adapter log contains secret %q", sec)
		}
		for _, b := range bodies {
			if strings.Contains(b, sec) {
				t.Errorf("error seen by Harbor contains secret %q: %s", sec, b)
			}
		}
	}
	// Every line is JSON.
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}
