package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
)

func TestParseFlags(t *testing.T) {
	cfg, addrs, err := parse([]string{
		"-addr", "127.0.0.1:1", "-addr", "127.0.0.1:2", "-scan-latency", "3s", "-vulns", "7",
		"-registry-auth", "u:p", "-workers", "2", "-queue", "9", "-long-poll", "5s", "-cvedb-version", "9.9",
		"-fed-primary", "https://127.0.0.1:3", "-fed-poll", "2s", "-fed-share=false",
		"-user", "admin:admin:admin", "-user", "ci:pw:ciops", "-apikey", "harbor:s:ciscan-reg",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 2 || cfg.ScanLatency != 3*time.Second || cfg.Vulns != 7 || cfg.RegistryAuth != "u:p" ||
		cfg.Workers != 2 || cfg.QueueCap != 9 || cfg.LongPoll != 5*time.Second || cfg.CVEDBVersion != "9.9" ||
		cfg.FedPrimary != "https://127.0.0.1:3" || cfg.FedPoll != 2*time.Second || !cfg.FedNoShare ||
		len(cfg.Users) != 2 || cfg.Users[1] != (sim.User{Name: "ci", Password: "pw", Role: "ciops"}) ||
		len(cfg.APIKeys) != 1 || cfg.APIKeys[0].Secret != "s" {
		t.Fatalf("cfg %+v addrs %v", cfg, addrs)
	}
	cfg, addrs, _ = parse(nil, io.Discard)
	if len(addrs) != 1 || cfg.FedNoShare || cfg.Users != nil {
		t.Fatalf("defaults: %+v %v", cfg, addrs)
	}
	for _, bad := range [][]string{{"-user", "nopass"}, {"-apikey", "a:b"}, {"-vulns", "x"}, {"extra"}} {
		if _, _, err := parse(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	_, _, err = parse([]string{"-apikey", "name:topsecret"}, io.Discard)
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("secret in error: %v", err)
	}
}

// serve prints one line per listener, answers, and returns 0 when its
// context ends (as on SIGTERM).
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- serve(ctx, []string{"-addr", "127.0.0.1:0", "-addr", "127.0.0.1:0", "-scan-latency", "0s"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var urls []string
	for len(urls) < 2 && sc.Scan() {
		url, ok := strings.CutPrefix(sc.Text(), "controller-sim listening on ")
		if !ok || !strings.HasPrefix(url, "https://127.0.0.1:") {
			t.Fatalf("line %q", sc.Text())
		}
		urls = append(urls, url)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	// The certificate is made per run, so this client cannot pin it.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second}
	resp, err := c.Get(urls[1] + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st sim.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Replicas != 2 || resp.TLS.Version != tls.VersionTLS13 || resp.ProtoMajor != 1 {
		t.Fatalf("stats %+v, err %v, tls %x", st, err, resp.TLS.Version)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
}

func TestServeBadConfig(t *testing.T) {
	if c := serve(context.Background(), []string{"-user", "a:b:nosuchrole"}, io.Discard, io.Discard); c != 2 {
		t.Fatalf("exit code %d", c)
	}
}
