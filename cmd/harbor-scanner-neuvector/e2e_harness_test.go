package main

// End-to-end harness: the real binaries (adapter and controller simulator)
// as separate processes on loopback, driven by internal/harborclient, which
// behaves like Harbor's jobservice (5 s timeout, no redirects, exact headers,
// Refresh-After as an int8).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hsn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, b := range []struct{ out, pkg string }{
		{"harbor-scanner-neuvector", "."},
		{"controller-sim", "../controller-sim"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", b.pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's output for assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startProc(t testing.TB, env []string, stdout io.Writer, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, name), args...)
	p.cmd.Env = append(os.Environ(), env...)
	if stdout == nil {
		stdout = p.out
	}
	p.cmd.Stdout = stdout
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop() })
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// simProc is a controller-sim process (one or more replicas).
type simProc struct {
	*proc
	URLs []string
}

func startSim(t testing.TB, args ...string) *simProc {
	t.Helper()
	n := 0
	for _, a := range args {
		if a == "-addr" {
			n++
		}
	}
	if n == 0 {
		args = append([]string{"-addr", freeAddr(t)}, args...)
		n = 1
	}
	pr, pw := io.Pipe()
	p := startProc(t, nil, pw, "controller-sim", args...)
	s := &simProc{proc: p}
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for len(s.URLs) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("controller-sim exited: %s", p.out.String())
			}
			if u, ok := strings.CutPrefix(l, "controller-sim listening on "); ok {
				s.URLs = append(s.URLs, strings.TrimSpace(u))
			}
		case <-deadline:
			t.Fatalf("controller-sim did not start: %s", p.out.String())
		}
	}
	go io.Copy(io.Discard, pr)
	return s
}

var insecureHTTP = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{TLSClientConfig: insecureTLS()},
}

func (s *simProc) stats(t testing.TB) sim.Stats {
	t.Helper()
	var st sim.Stats
	resp, err := insecureHTTP.Get(s.URLs[0] + "/sim/stats")
	if err != nil {
		t.Fatalf("sim stats: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (s *simProc) post(t testing.TB, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := insecureHTTP.Post(s.URLs[0]+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

// adapterProc is a harbor-scanner-neuvector serve process.
type adapterProc struct {
	*proc
	API, Ops string // base URLs
	env      []string
}

func startAdapter(t testing.TB, controllerURL string, env ...string) *adapterProc {
	t.Helper()
	api, ops := freeAddr(t), freeAddr(t)
	full := append([]string{
		"SCANNER_API_ADDR=" + api, "OPS_ADDR=" + ops,
		"CONTROLLER_URL=" + controllerURL, "CONTROLLER_TLS_INSECURE=true",
		"REFRESH_AFTER=1", "CVEDB_REFRESH_INTERVAL=1s", "LOG_LEVEL=debug",
		"SHUTDOWN_TIMEOUT=8s", "DRAIN_DELAY=0s",
	}, env...)
	a := &adapterProc{API: "http://" + api, Ops: "http://" + ops, env: full}
	a.proc = startProc(t, full, nil, "harbor-scanner-neuvector", "serve")
	a.waitHealthy(t)
	return a
}

// restart starts the same adapter again on the same addresses.
func (a *adapterProc) restart(t testing.TB) {
	t.Helper()
	a.proc = startProc(t, a.env, nil, "harbor-scanner-neuvector", "serve")
	a.waitHealthy(t)
}

func (a *adapterProc) waitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(a.Ops + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-a.done:
			t.Fatalf("adapter exited: %v\n%s", a.err, a.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("adapter not healthy: %s", a.out.String())
}

// harbor returns a Harbor-like client; Harbor's timing is kept, scaled so
// that one Refresh-After second lasts 100 ms.
func harbor(t testing.TB, url, auth, cred string) *harborclient.Client {
	t.Helper()
	c, err := harborclient.New(harborclient.Options{
		URL: url, Auth: auth, Credential: cred,
		FirstCheckInterval: 200 * time.Millisecond,
		RetryUnit:          100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	robotUser   = "robot$proj+scanner-e2e"
	robotSecret = "robot-secret-0123456789"
)

func digestOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

func vulnRequest(repo, digest string) *harborclient.ScanRequest {
	return harborclient.NewVulnerabilityRequest("http://core:8080",
		harborclient.BasicAuthorization(robotUser, robotSecret),
		harborclient.Artifact{Repository: repo, Tag: "latest", Digest: digest,
			MimeType: harborclient.MimeTypeDockerArtifact, Size: 1234})
}

// vulnMimes is what Harbor polls for a vulnerability job: every produces
// type of the capability (from metadata, validated as Harbor does).
func vulnMimes(t testing.TB, c *harborclient.Client) []string {
	t.Helper()
	md, err := c.GetMetadata(context.Background())
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if err := md.Validate(); err != nil {
		t.Fatalf("Harbor would reject the metadata: %v", err)
	}
	m := md.ProducesMimeTypes(harborclient.MimeTypeDockerArtifact, harborclient.ScanTypeVulnerability)
	if len(m) == 0 {
		t.Fatal("no vulnerability capability for Docker v2 manifests")
	}
	return m
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
