package controller

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

func TestFindImageNewestMatch(t *testing.T) {
	f := newFakeController(t)
	var gotName, gotFilter string
	f.images = func(w http.ResponseWriter, r *http.Request) {
		gotName, gotFilter = r.PathValue("name"), r.URL.Query().Get("f_digest")
		imgs := translate.RegistryImagesData{Images: []translate.RegistryImageSummary{
			{Digest: "sha256:d1", ImageID: "old", ScannedTimeStamp: 100},
			{Digest: "sha256:d1", ImageID: "new", ScannedTimeStamp: 300, Labels: map[string]string{"pad": strings.Repeat("p", 2000)}},
			{Digest: "sha256:d1", ImageID: "mid", ScannedTimeStamp: 200},
			{Digest: "sha256:other", ImageID: "ignored", ScannedTimeStamp: 900},
		}}
		writeJSON(w, r, 200, imgs)
	}
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	im, err := c.FindImage(ctx, sess, FedRepoScanRegistry, "sha256:d1")
	if err != nil {
		t.Fatal(err)
	}
	if im == nil || im.ImageID != "new" {
		t.Fatalf("got %+v", im)
	}
	if gotName != "fed._repo_scan" || gotFilter != "eq,sha256:d1" {
		t.Fatalf("name %q filter %q", gotName, gotFilter)
	}
	if im, err := c.FindImage(ctx, sess, RepoScanRegistry, "sha256:none"); err != nil || im != nil {
		t.Fatalf("no match: %v %v", im, err)
	}
}

func TestFindImageMissingRegistryAndForbidden(t *testing.T) {
	f := newFakeController(t)
	status := 404
	f.images = func(w http.ResponseWriter, r *http.Request) {
		restErr(w, r, status, map[int]int{404: translate.CodeObjectNotFound, 403: translate.CodeObjectAccessDenied}[status], "")
	}
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	if im, err := c.FindImage(ctx, sess, FedRepoScanRegistry, "sha256:d1"); err != nil || im != nil {
		t.Fatalf("missing fed registry: %v %v", im, err)
	}
	status = 403
	if _, err := c.FindImage(ctx, sess, RepoScanRegistry, "sha256:d1"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("403: %v", err)
	}
}

func TestImageReport(t *testing.T) {
	f := newFakeController(t)
	f.image = func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "abc123" {
			restErr(w, r, 404, translate.CodeObjectNotFound, "image "+r.PathValue("id")+" not found")
			return
		}
		writeJSON(w, r, 200, translate.ScanReportData{Report: &translate.ScanReport{
			Vulnerabilities: []translate.Vulnerability{{Name: "CVE-1"}}}})
	}
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	rep, err := c.ImageReport(ctx, sess, RepoScanRegistry, "abc123")
	if err != nil || len(rep.Vulnerabilities) != 1 {
		t.Fatalf("%v %v", rep, err)
	}
	_, err = c.ImageReport(ctx, sess, RepoScanRegistry, "nope")
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown image: %v", err)
	}
}

func TestSummaryGzipAndBadBodies(t *testing.T) {
	f := newFakeController(t)
	f.summaryPad = 5000 // over 1200 bytes: gzipped, as the controller does
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	sum, err := c.Summary(ctx, sess)
	if err != nil || sum.CVEDBVersion != "4.017" || sum.CVEDBCreateTime != "2026-07-01T00:00:00Z" {
		t.Fatalf("%+v %v", sum, err)
	}
	f.mu.Lock()
	h := f.headers[len(f.headers)-1]
	f.mu.Unlock()
	if h.Get("Accept-Encoding") != "gzip" || h.Get(headerAPIKey) != testAPIKey {
		t.Fatalf("headers %v", h)
	}
}

func TestPing(t *testing.T) {
	f := newFakeController(t)
	c := f.client(t)
	ctx := ctxT(t, 10*time.Second)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("401 JSON counts as answering: %v", err)
	}
	// Something that is not the controller.
	other := newFakeController(t)
	other.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	})
	if err := other.client(t).Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("502 html: %v", err)
	}
}

func TestObserveAndDebugLog(t *testing.T) {
	f := newFakeController(t)
	var mu sync.Mutex
	seen := map[string][]int{}
	var logBuf syncBuffer
	c := f.client(t, func(cfg *Config) {
		cfg.Observe = func(ep string, status int, d time.Duration) {
			if d <= 0 {
				t.Errorf("duration %s", d)
			}
			mu.Lock()
			seen[ep] = append(seen[ep], status)
			mu.Unlock()
		}
		cfg.Logger = debugLogger(&logBuf)
	})
	f.scan = reportOK("sha256:abc")
	ctx := ctxT(t, 10*time.Second)
	sess := NewStaticSession(c, Cred{Username: testUser, Password: testPassword})
	if _, err := c.ScanRepository(ctx, sess, testScanReq()); err != nil {
		t.Fatal(err)
	}
	c.Summary(ctx, sess)
	c.FindImage(ctx, sess, RepoScanRegistry, "sha256:x")
	c.Ping(ctx)
	sess.Logout(ctx)
	mu.Lock()
	defer mu.Unlock()
	want := map[string][]int{"auth": {200}, "scan": {200}, "summary": {200}, "images": {200}, "ping": {401}, "logout": {200}}
	for ep, st := range want {
		if len(seen[ep]) != 1 || seen[ep][0] != st[0] {
			t.Errorf("endpoint %s: %v, want %v", ep, seen[ep], st)
		}
	}
	if !strings.Contains(logBuf.String(), `"endpoint":"scan"`) {
		t.Fatalf("no debug log of the scan call: %s", logBuf.String())
	}
}

func TestCloseCutsCallsInFlight(t *testing.T) {
	f := newFakeController(t)
	f.images = func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	c := f.client(t)
	sess := NewStaticSession(c, Cred{APIKey: testAPIKey})
	done := make(chan error, 1)
	go func() {
		_, err := c.FindImage(context.Background(), sess, RepoScanRegistry, "sha256:x")
		done <- err
	}()
	eventually(t, 5*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.headers) == 1
	}, "the request to arrive")
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cut the call")
	}
	if _, err := c.Summary(context.Background(), sess); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call after Close: %v", err)
	}
}
