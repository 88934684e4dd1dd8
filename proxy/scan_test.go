package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Secrets used across the integration tests; none may appear in a log line
// or an error body.
const (
	adminPass    = "Adm1n-pa55word-xyz"
	robotPass    = "robot-secret-9f8e7d"
	apiKeySecret = "apikey-secret-5a4b3c"
)

// env is an adapter wired to a simulated controller on loopback.
type env struct {
	t    *testing.T
	sim  *sim.Sim
	api  *API
	h    fasthttp.RequestHandler
	logs *syncBuf
	auth map[string]string // Harbor's auth header for the adapter
}

func newSim(t *testing.T, cfg sim.Config) *sim.Sim {
	t.Helper()
	if len(cfg.Users) == 0 {
		cfg.Users = []sim.User{{Name: "admin", Password: adminPass, Role: "admin"}}
	}
	cfg.APIKeys = append(cfg.APIKeys, sim.APIKey{Name: "harbor", Secret: apiKeySecret, Role: "ciscan-reg"})
	if cfg.LongPoll == 0 {
		cfg.LongPoll = 300 * time.Millisecond
	}
	if cfg.ScanLatency == 0 {
		cfg.ScanLatency = 50 * time.Millisecond
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newEnv starts an adapter (pass-through with the admin user unless mod
// says otherwise) on s, with its background loops running.
func newEnv(t *testing.T, s *sim.Sim, mod func(*APIConfig)) *env {
	t.Helper()
	logs := &syncBuf{}
	log := debugLogger(logs)
	c, err := controller.New(controller.Config{
		URL: s.URL(), TLS: s.TLSConfig(), Logger: log,
		ControllerLongPoll: 300 * time.Millisecond, PollTimeout: 5 * time.Second, Timeout: 3 * time.Second,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultAPIConfig()
	cfg.Client = c
	cfg.Logger = log
	cfg.Workers = 8
	cfg.CVEDBRefresh = 100 * time.Millisecond
	cfg.ReadyCheck = 100 * time.Millisecond
	cfg.Scanner = translate.Scanner{Name: "NeuVector", Vendor: "SUSE", Version: "5.4.0"}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer scancel()
		a.Shutdown(sctx)
		c.Close()
	})
	e := &env{t: t, sim: s, api: a, h: a.Handler(), logs: logs,
		auth: map[string]string{"Authorization": basic("admin", adminPass)}}
	return e
}

func robotAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// scanBody is a scan request as Harbor ≥ 2.11 sends it.
func scanBody(digest, registryAuth string, capability string) []byte {
	caps := ""
	switch capability {
	case "vulnerability":
		caps = `,"enabled_capabilities":[{"type":"vulnerability","produces_mime_types":["` + translate.MimeVuln11 + `"],"parameters":null}]`
	case "sbom":
		caps = `,"enabled_capabilities":[{"type":"sbom","produces_mime_types":["` + translate.MimeSBOMReport10 +
			`"],"parameters":{"sbom_media_types":["application/spdx+json"]}}]`
	}
	return []byte(`{"registry":{"url":"http://core:8080","authorization":"` + registryAuth + `","insecure":false},` +
		`"artifact":{"repository":"library/alpine","tag":"3.19","digest":"` + digest +
		`","mime_type":"application/vnd.oci.image.manifest.v1+json","size":1234}` + caps + `}`)
}

func digestN(n int) string { return fmt.Sprintf("sha256:%064x", n+1) }

// submit POSTs a scan and returns the ID, failing on anything but 202.
func (e *env) submit(body []byte) string {
	e.t.Helper()
	hdr := map[string]string{"Content-Type": translate.MimeScanRequest10, "Accept": translate.MimeScanResponse10}
	for k, v := range e.auth {
		hdr[k] = v
	}
	resp := call(e.h, "POST", "/api/v1/scan", hdr, body)
	if resp.StatusCode() != 202 {
		e.t.Fatalf("POST /scan: %d %q", resp.StatusCode(), resp.Body())
	}
	if ct := string(resp.Header.ContentType()); ct != translate.MimeScanResponse10 {
		e.t.Fatalf("POST /scan Content-Type %q", ct)
	}
	var sr translate.ScanResponse
	if err := json.Unmarshal(resp.Body(), &sr); err != nil || sr.ID == "" || len(sr.ID) > 256 {
		e.t.Fatalf("POST /scan body %q: %v", resp.Body(), err)
	}
	return sr.ID
}

// poll GETs the report like Harbor until it is not 302 (deadline 15 s).
func (e *env) poll(id, accept, query string) *fasthttp.Response {
	e.t.Helper()
	hdr := map[string]string{"Accept": accept, "Accept-Encoding": "gzip"}
	for k, v := range e.auth {
		hdr[k] = v
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := call(e.h, "GET", "/api/v1/scan/"+id+"/report"+query, hdr, nil)
		if resp.StatusCode() != 302 {
			return resp
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("report %s still 302 after 15 s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vulnReport polls id for the vulnerability report and decodes it.
func (e *env) vulnReport(id string) translate.VulnReport {
	e.t.Helper()
	resp := e.poll(id, translate.MimeVuln11, "")
	if resp.StatusCode() != 200 {
		e.t.Fatalf("report: %d %q", resp.StatusCode(), resp.Body())
	}
	var vr translate.VulnReport
	if err := json.Unmarshal(body(e.t, resp), &vr); err != nil {
		e.t.Fatal(err)
	}
	return vr
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestScanEndToEnd(t *testing.T) {
	s := newSim(t, sim.Config{Vulns: 30})
	e := newEnv(t, s, nil)
	d := digestN(1)
	id := e.submit(scanBody(d, robotAuth("robot$p+scanner", robotPass), ""))
	vr := e.vulnReport(id)
	if vr.Artifact.Digest != d || vr.Artifact.Repository != "library/alpine" || vr.Scanner.Name != "NeuVector" {
		t.Fatalf("report header %+v %+v", vr.Artifact, vr.Scanner)
	}
	if len(vr.Vulnerabilities) == 0 || vr.Severity == "" {
		t.Fatalf("report has %d vulnerabilities, severity %q", len(vr.Vulnerabilities), vr.Severity)
	}
	// The deprecated native type is served too.
	if resp := e.poll(id, translate.MimeVulnHarbor10, ""); resp.StatusCode() != 200 ||
		string(resp.Header.ContentType()) != translate.MimeVulnHarbor10 {
		t.Fatalf("harbor+json 1.0: %d %q", resp.StatusCode(), resp.Header.ContentType())
	}
	// The same digest again is answered from the cache: no second scan.
	id2 := e.submit(scanBody(d, robotAuth("robot$p+scanner", robotPass), "vulnerability"))
	resp := call(e.h, "GET", "/api/v1/scan/"+id2+"/report", map[string]string{
		"Accept": translate.MimeVuln11, "Authorization": e.auth["Authorization"]}, nil)
	if resp.StatusCode() != 200 {
		t.Fatalf("cached scan not ready at once: %d", resp.StatusCode())
	}
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("controller scans %d, want 1", st.ScansStarted)
	}
	// The CVE DB version came from the controller.
	if st := e.api.Status(); st.CVEDBVersion != sim.DefaultCVEDBVersion || st.Session != "token" {
		t.Fatalf("status %+v", st)
	}
	// One JSON line per finished scan, with its facts.
	lines := scanLines(t, e.logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d scan lines, want 2: %v", len(lines), lines)
	}
	if lines[0]["id"] != id || lines[0]["digest"] != d || lines[0]["outcome"] != "scanned" ||
		lines[0]["repository"] != "library/alpine" || lines[0]["duration_seconds"] == nil {
		t.Fatalf("scan line %v", lines[0])
	}
	if lines[1]["outcome"] != "cached" {
		t.Fatalf("second scan line %v", lines[1])
	}
}

// scanLines returns the "scan finished" log records.
func scanLines(t *testing.T, logs string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, `"scan finished"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestScanFailureReachesHarbor(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	d := digestN(2)
	s.SetFault(d, 26, "Image not found")
	resp := e.poll(e.submit(scanBody(d, robotAuth("robot$x", robotPass), "")), translate.MimeVuln11, "")
	if resp.StatusCode() != 500 || !strings.Contains(errorMessage(t, resp), "Image not found") {
		t.Fatalf("failed scan: %d %q", resp.StatusCode(), resp.Body())
	}
}

func TestConcurrentRequestsOneControllerScan(t *testing.T) {
	s := newSim(t, sim.Config{ScanLatency: 300 * time.Millisecond})
	e := newEnv(t, s, nil)
	d := digestN(3)
	const n = 100
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i] = e.submit(scanBody(d, robotAuth("robot$x", robotPass), "")) })
	}
	wg.Wait()
	for i := range n {
		wg.Go(func() {
			if resp := e.poll(ids[i], translate.MimeVuln11, ""); resp.StatusCode() != 200 {
				t.Errorf("job %d: %d %q", i, resp.StatusCode(), resp.Body())
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("100 requests for one digest caused %d controller scans", st.ScansStarted)
	}
}

func TestCVEDBChangeRescans(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	d := digestN(4)
	e.vulnReport(e.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	s.SetCVEDB("4.018", "2026-12-01T00:00:00Z")
	eventually(t, "the new CVE DB version", func() bool { return e.api.currentCVEDB() == "4.018" })
	md, _ := metadataOf(t, e.api, translate.MimeMetadata10, e.auth["Authorization"])
	if md.Properties[translate.PropDBUpdatedAt] != "2026-12-01T00:00:00Z" {
		t.Fatalf("metadata did not follow the CVE DB: %v", md.Properties)
	}
	e.vulnReport(e.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	if st := s.Stats(); st.ScansStarted != 2 {
		t.Fatalf("controller scans %d, want 2 (one per CVE DB)", st.ScansStarted)
	}
}

func TestTokenExpiryRelogin(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	e.vulnReport(e.submit(scanBody(digestN(5), robotAuth("robot$x", robotPass), "")))
	logins := s.Stats().Logins
	s.ExpireTokens()
	e.vulnReport(e.submit(scanBody(digestN(6), robotAuth("robot$x", robotPass), "")))
	if got := s.Stats().Logins; got != logins+1 {
		t.Fatalf("logins %d → %d, want one re-login", logins, got)
	}
}

func TestControllerQueueFullThenSuccess(t *testing.T) {
	s := newSim(t, sim.Config{Workers: 1, QueueCap: 1, ScanLatency: 150 * time.Millisecond})
	e := newEnv(t, s, nil)
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = e.submit(scanBody(digestN(10+i), robotAuth("robot$x", robotPass), ""))
	}
	for _, id := range ids {
		e.vulnReport(id)
	}
	st := s.Stats()
	if st.ScansRejected429 == 0 {
		t.Fatal("the simulator never answered 429: the test did not test back-off")
	}
	if st.ScansFinished != int64(len(ids)) {
		t.Fatalf("scans finished %d, want %d", st.ScansFinished, len(ids))
	}
}

// Another replica (a second adapter on the same controller) serves an ID it
// never issued from _repo_scan, and a POST for a digest the controller
// already holds costs no scan.
func TestReplicasShareThroughRepoScan(t *testing.T) {
	s := newSim(t, sim.Config{})
	e1 := newEnv(t, s, nil)
	e2 := newEnv(t, s, nil)
	d := digestN(20)
	id := e1.submit(scanBody(d, robotAuth("robot$x", robotPass), ""))
	want := e1.vulnReport(id)
	got := e2.vulnReport(id)
	if len(got.Vulnerabilities) != len(want.Vulnerabilities) || got.Artifact.Digest != d {
		t.Fatalf("recovered report has %d vulnerabilities (want %d), digest %q",
			len(got.Vulnerabilities), len(want.Vulnerabilities), got.Artifact.Digest)
	}
	e3 := newEnv(t, s, nil)
	e3.vulnReport(e3.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("controller scans %d, want 1", st.ScansStarted)
	}
	if l := scanLines(t, e3.logs.String()); len(l) != 1 || l[0]["outcome"] != "recovered" {
		t.Fatalf("e3 scan lines %v", l)
	}
}

// A user without reg_scan read scans all the same; the 403 is noted.
func TestLookupsForbidden(t *testing.T) {
	s := newSim(t, sim.Config{Users: []sim.User{{Name: "admin", Password: adminPass, Role: "ciops"}}})
	e := newEnv(t, s, nil)
	before := lookupsForbiddenTotal.Get()
	e.vulnReport(e.submit(scanBody(digestN(21), robotAuth("robot$x", robotPass), "")))
	if !e.api.Status().LookupsForbidden {
		t.Fatal("LookupsForbidden not set after a 403")
	}
	if lookupsForbiddenTotal.Get() == before {
		t.Fatal("the 403 was not counted")
	}
	if n := strings.Count(e.logs.String(), "reg_scan read"); n != 1 {
		t.Fatalf("the 403 was logged %d times, want once", n)
	}
	e.vulnReport(e.submit(scanBody(digestN(22), robotAuth("robot$x", robotPass), "")))
	if n := strings.Count(e.logs.String(), "reg_scan read"); n != 1 {
		t.Fatalf("the 403 was logged %d times after a second scan, want once", n)
	}
}

// Jobs that joined a flight which failed on the leader's registry
// credentials retry once with their own.
func TestJoinedJobRetriesWithOwnRegistryCredentials(t *testing.T) {
	s := newSim(t, sim.Config{RegistryAuth: "robot$good:" + robotPass, ScanLatency: 300 * time.Millisecond})
	e := newEnv(t, s, nil)
	d := digestN(30)
	bad := e.submit(scanBody(d, robotAuth("robot$gone", "expired"), ""))
	good := e.submit(scanBody(d, robotAuth("robot$good", robotPass), ""))
	resp := e.poll(bad, translate.MimeVuln11, "")
	if resp.StatusCode() != 500 || !strings.Contains(errorMessage(t, resp), "authentication error") {
		t.Fatalf("leader with bad credentials: %d %q", resp.StatusCode(), resp.Body())
	}
	if resp := e.poll(good, translate.MimeVuln11, ""); resp.StatusCode() != 200 {
		t.Fatalf("joined job with good credentials: %d %q", resp.StatusCode(), resp.Body())
	}
}

func TestBearerRegistryAuthorizationFailsClearly(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	resp := e.poll(e.submit(scanBody(digestN(31), "Bearer eyJhbGciOi.secret.jwt", "")), translate.MimeVuln11, "")
	if resp.StatusCode() != 500 || !strings.Contains(errorMessage(t, resp), "Bearer") {
		t.Fatalf("bearer registry auth: %d %q", resp.StatusCode(), resp.Body())
	}
	if strings.Contains(string(resp.Body()), "secret.jwt") {
		t.Fatal("the token is echoed")
	}
	if s.Stats().ScansStarted != 0 {
		t.Fatal("a scan was started without usable credentials")
	}
}

// An SBOM of a digest scanned for vulnerabilities costs no controller scan;
// both formats are served with the media type asked.
func TestSBOMFromTheSameScan(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	d := digestN(40)
	e.vulnReport(e.submit(scanBody(d, robotAuth("robot$x", robotPass), "vulnerability")))
	id := e.submit(scanBody(d, robotAuth("robot$x", robotPass), "sbom"))
	for _, q := range []struct{ query, media string }{
		{"?sbom_media_type=application%2Fspdx%2Bjson", translate.MediaSPDX},
		{"?sbom_media_type=application/vnd.cyclonedx+json", translate.MediaCycloneDX},
	} {
		resp := e.poll(id, translate.MimeSBOMReport10, q.query)
		if resp.StatusCode() != 200 || string(resp.Header.ContentType()) != translate.MimeSBOMReport10 {
			t.Fatalf("SBOM %s: %d %q %q", q.media, resp.StatusCode(), resp.Header.ContentType(), resp.Body())
		}
		var sr struct {
			MediaType string         `json:"media_type"`
			Sbom      map[string]any `json:"sbom"`
		}
		if err := json.Unmarshal(body(t, resp), &sr); err != nil {
			t.Fatal(err)
		}
		if sr.MediaType != q.media || len(sr.Sbom) == 0 {
			t.Fatalf("SBOM report media_type %q, sbom %d keys", sr.MediaType, len(sr.Sbom))
		}
	}
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("controller scans %d, want 1", st.ScansStarted)
	}
	// An SBOM scan of a new digest builds both documents at once.
	id = e.submit(scanBody(digestN(41), robotAuth("robot$x", robotPass), "sbom"))
	if resp := e.poll(id, translate.MimeSBOMReport10, "?sbom_media_type=application%2Fspdx%2Bjson"); resp.StatusCode() != 200 {
		t.Fatalf("SBOM scan: %d %q", resp.StatusCode(), resp.Body())
	}
}

// Static mode: Harbor's Basic credentials checked by the adapter, the
// controller called with the adapter's API key (no session at all).
func TestStaticModeWithControllerAPIKey(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, func(c *APIConfig) {
		c.Auth = AuthBasic
		c.HarborUsername, c.HarborPassword = "harbor", "hb-secret"
		c.ControllerCred = controller.Cred{APIKey: "harbor:" + apiKeySecret}
	})
	e.auth = map[string]string{"Authorization": basic("harbor", "hb-secret")}
	eventually(t, "the CVE DB from the summary", func() bool { return e.api.currentCVEDB() != "" })
	e.vulnReport(e.submit(scanBody(digestN(50), robotAuth("robot$x", robotPass), "")))
	if st := s.Stats(); st.Logins != 0 {
		t.Fatalf("%d logins with an API key", st.Logins)
	}
	if st := e.api.Status(); st.Session != "api-key" || !st.ControllerOK {
		t.Fatalf("status %+v", st)
	}
}

// Pass-through: a NeuVector API key in X-ScannerAdapter-API-Key; a wrong
// password is a 401 (and the refusal is cached briefly).
func TestPassthroughCredentials(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	e.auth = map[string]string{HeaderAPIKey: "harbor:" + apiKeySecret}
	e.vulnReport(e.submit(scanBody(digestN(60), robotAuth("robot$x", robotPass), "")))

	wrong := map[string]string{"Authorization": basic("admin", "wrong-password")}
	for range 3 {
		resp := call(e.h, "GET", "/api/v1/metadata", wrong, nil)
		if resp.StatusCode() != 401 {
			t.Fatalf("wrong password: %d", resp.StatusCode())
		}
		errorMessage(t, resp)
	}
	if f := s.Stats().LoginFailures; f != 1 {
		t.Fatalf("%d failed logins at the controller, want 1 (refusal cached)", f)
	}
}

// Shutdown logs every pass-through session out.
func TestShutdownLogsOut(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	e.vulnReport(e.submit(scanBody(digestN(70), robotAuth("robot$x", robotPass), "")))
	if s.Stats().ActiveSessions == 0 {
		t.Fatal("no session to log out")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	e.api.Shutdown(ctx)
	if n := s.Stats().ActiveSessions; n != 0 {
		t.Fatalf("%d sessions left after Shutdown", n)
	}
	resp := call(e.h, "POST", "/api/v1/scan", map[string]string{"Authorization": e.auth["Authorization"]},
		scanBody(digestN(71), "", ""))
	if resp.StatusCode() != 503 {
		t.Fatalf("POST after shutdown: %d", resp.StatusCode())
	}
}

// No secret reaches a log line (debug level, adapter and controller client)
// or an error body, whatever happens.
func TestSecretsNeverLogged(t *testing.T) {
	s := newSim(t, sim.Config{RegistryAuth: "robot$good:" + robotPass})
	e := newEnv(t, s, nil)
	var bodies []string
	keep := func(r *fasthttp.Response) { bodies = append(bodies, string(r.Body())) }
	d := digestN(80)
	s.SetFault(digestN(81), 26, "Image not found")
	for _, ra := range []string{robotAuth("robot$good", robotPass), robotAuth("robot$bad", robotPass+"x")} {
		keep(e.poll(e.submit(scanBody(d, ra, "")), translate.MimeVuln11, ""))
		keep(e.poll(e.submit(scanBody(digestN(81), ra, "")), translate.MimeVuln11, ""))
	}
	keep(call(e.h, "GET", "/api/v1/metadata", map[string]string{"Authorization": basic("admin", adminPass+"x")}, nil))
	keep(call(e.h, "POST", "/api/v1/scan", e.auth, []byte(`{"registry":{"url":"ftp://x","authorization":"Basic `+
		base64.StdEncoding.EncodeToString([]byte("u:"+robotPass))+`"},"artifact":{"repository":"r","digest":"sha256:1"}}`)))
	e.auth = map[string]string{HeaderAPIKey: "harbor:" + apiKeySecret + "x"}
	keep(call(e.h, "GET", "/api/v1/metadata", e.auth, nil))
	logs := e.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Fatal("no debug lines: the test does not look at debug level")
	}
	b64 := base64.StdEncoding.EncodeToString([]byte("robot$good:" + robotPass))
	for _, secret := range []string{adminPass, robotPass, apiKeySecret, b64} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q in the logs", secret)
		}
		for _, b := range bodies {
			if strings.Contains(b, secret) {
				t.Errorf("secret %q in an error body %q", secret, b)
			}
		}
	}
}

// With the module inventories gone from memory, an SBOM of a scanned digest
// is rebuilt from _repo_scan: still no second controller scan.
func TestSBOMAfterSourcesEvicted(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, func(c *APIConfig) { c.SBOMSourceBytes = 1 })
	d := digestN(42)
	e.vulnReport(e.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	id := e.submit(scanBody(d, robotAuth("robot$x", robotPass), "sbom"))
	resp := e.poll(id, translate.MimeSBOMReport10, "?sbom_media_type=application%2Fspdx%2Bjson")
	if resp.StatusCode() != 200 {
		t.Fatalf("SBOM: %d %q", resp.StatusCode(), resp.Body())
	}
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("controller scans %d, want 1", st.ScansStarted)
	}
}

// Readiness follows the controller's REST API, from memory.
func TestReadinessFollowsController(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, nil)
	eventually(t, "controller OK", func() bool { return e.api.Status().ControllerOK })
	if st := e.api.Status(); st.ControllerCheckedAt.IsZero() || st.ControllerError != "" {
		t.Fatalf("status %+v", st)
	}
	s.Close()
	eventually(t, "controller not OK", func() bool { return !e.api.Status().ControllerOK })
	if st := e.api.Status(); st.ControllerError == "" {
		t.Fatalf("no reason given: %+v", st)
	}
}

// An ID of another replica polled for an SBOM is recovered with the SBOM
// built from the look-up's modules.
func TestUnknownIDRecoveryWithSBOM(t *testing.T) {
	s := newSim(t, sim.Config{})
	e1 := newEnv(t, s, nil)
	e2 := newEnv(t, s, nil)
	id := e1.submit(scanBody(digestN(43), robotAuth("robot$x", robotPass), "sbom"))
	q := "?sbom_media_type=application%2Fvnd.cyclonedx%2Bjson"
	if resp := e1.poll(id, translate.MimeSBOMReport10, q); resp.StatusCode() != 200 {
		t.Fatalf("e1: %d %q", resp.StatusCode(), resp.Body())
	}
	resp := e2.poll(id, translate.MimeSBOMReport10, q)
	if resp.StatusCode() != 200 || !strings.Contains(string(body(t, resp)), translate.MediaCycloneDX) {
		t.Fatalf("e2: %d %q", resp.StatusCode(), resp.Body())
	}
	if st := s.Stats(); st.ScansStarted != 1 {
		t.Fatalf("controller scans %d, want 1", st.ScansStarted)
	}
}

// A scan that outlives its deadline fails with a message saying so.
func TestScanDeadline(t *testing.T) {
	s := newSim(t, sim.Config{ScanLatency: 3 * time.Second})
	e := newEnv(t, s, func(c *APIConfig) { c.ScanDeadline = 400 * time.Millisecond })
	start := time.Now()
	resp := e.poll(e.submit(scanBody(digestN(90), robotAuth("robot$x", robotPass), "")), translate.MimeVuln11, "")
	if resp.StatusCode() != 500 || errorMessage(t, resp) != "scan did not finish within 400ms" {
		t.Fatalf("deadline: %d %q", resp.StatusCode(), resp.Body())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the job failed after %v, long past its deadline", d)
	}
}

// A managed cluster's adapter serves a digest its federation primary
// already scanned (fed._repo_scan) without scanning, and scans again once
// the CVE DB versions differ.
func TestFederationManagedReusesPrimary(t *testing.T) {
	primary := newSim(t, sim.Config{})
	managed := newSim(t, sim.Config{FedPrimary: primary.URL(), FedPoll: 20 * time.Millisecond, FedTLS: primary.TLSConfig()})
	ep := newEnv(t, primary, nil)
	em := newEnv(t, managed, nil)
	d := digestN(95)
	ep.vulnReport(ep.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	eventually(t, "the primary's result in fed._repo_scan", func() bool { return managed.Stats().FedRepoScanImages > 0 })
	em.vulnReport(em.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	if n := managed.Stats().ScansStarted; n != 0 {
		t.Fatalf("managed cluster scanned %d times, want 0", n)
	}
	managed.SetCVEDB("4.020", "2026-12-02T00:00:00Z")
	eventually(t, "the managed adapter to see the new CVE DB", func() bool { return em.api.currentCVEDB() == "4.020" })
	em.vulnReport(em.submit(scanBody(d, robotAuth("robot$x", robotPass), "")))
	if n := managed.Stats().ScansStarted; n != 1 {
		t.Fatalf("managed cluster scanned %d times after a CVE DB change, want 1", n)
	}
}

// In pass-through mode the CVE DB is read as soon as a first credential is
// verified, not at the next refresh tick.
func TestFirstCredentialReadsCVEDB(t *testing.T) {
	s := newSim(t, sim.Config{})
	e := newEnv(t, s, func(c *APIConfig) { c.CVEDBRefresh = time.Hour })
	if v := e.api.currentCVEDB(); v != "" {
		t.Fatalf("CVE DB %q known before any credential", v)
	}
	// The first call verifies the credential; the read it starts may land
	// before or after this very answer, but long before the hourly tick.
	metadataOf(t, e.api, translate.MimeMetadata10, e.auth["Authorization"])
	eventually(t, "the CVE DB read after the first credential", func() bool {
		md, _ := metadataOf(t, e.api, translate.MimeMetadata10, e.auth["Authorization"])
		return md.Properties[translate.PropDBUpdatedAt] == sim.DefaultCVEDBCreateTime
	})
}

// Static mode: neither Harbor's Basic password, nor the bearer token, nor
// the controller user's password reach a log line or an error body.
func TestSecretsNeverLoggedStatic(t *testing.T) {
	const harborPass, bearer = "hb-static-pa55-77", "bearer-static-tok-88"
	s := newSim(t, sim.Config{})
	for _, mode := range []AuthMode{AuthBasic, AuthBearer} {
		e := newEnv(t, s, func(c *APIConfig) {
			c.Auth = mode
			c.HarborUsername, c.HarborPassword, c.HarborBearerToken = "harbor", harborPass, bearer
			c.ControllerCred = controller.Cred{Username: "admin", Password: adminPass}
		})
		e.auth = map[string]string{"Authorization": basic("harbor", harborPass)}
		if mode == AuthBearer {
			e.auth = map[string]string{"Authorization": "Bearer " + bearer}
		}
		var bodies []string
		bodies = append(bodies, string(e.vulnReportBody(e.submit(scanBody(digestN(200+len(mode)), robotAuth("robot$x", robotPass), "")))))
		for _, hdr := range []map[string]string{
			{"Authorization": basic("harbor", harborPass+"x")}, {"Authorization": "Bearer " + bearer + "x"}} {
			bodies = append(bodies, string(call(e.h, "GET", "/api/v1/metadata", hdr, nil).Body()))
		}
		logs := e.logs.String()
		for _, secret := range []string{harborPass, bearer, adminPass, robotPass} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s: secret %q in the logs", mode, secret)
			}
			for _, b := range bodies[1:] {
				if strings.Contains(b, secret) {
					t.Errorf("%s: secret %q in an error body %q", mode, secret, b)
				}
			}
		}
	}
}

// vulnReportBody polls id and returns the report body.
func (e *env) vulnReportBody(id string) []byte {
	e.t.Helper()
	resp := e.poll(id, translate.MimeVuln11, "")
	if resp.StatusCode() != 200 {
		e.t.Fatalf("report: %d %q", resp.StatusCode(), resp.Body())
	}
	return body(e.t, resp)
}
