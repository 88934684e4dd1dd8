// Package check is `harbor-scanner-neuvector check`: it acts as Harbor's
// client (package harborclient) against a running adapter and diagnoses
// what would go wrong when Harbor registers it: TLS trust, metadata
// (status, latency, Harbor's validation, auth), and, for given images, a
// scan and report poll exactly as jobservice runs them.
package check

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/harborclient"
)

// Options of a check. The zero value of a field is Harbor's behaviour.
type Options struct {
	URL        string // the URL as registered in Harbor
	Auth       string // "", Basic, Bearer, APIKey (X-ScannerAdapter-API-Key)
	Credential string // access_credential; for Basic "user:password"
	CAFile     string // Harbor's CA bundle (PEM) to test trust with
	SkipVerify bool   // test the rest as a registration with skip_certVerify
	// Images to scan, "repository[:tag]@sha256:…"; none checks metadata only.
	Images []string
	// RegistryURL goes into scan requests as registry.url (Harbor sends its
	// own URL, e.g. https://harbor.example.com or http://core:8080).
	RegistryURL      string
	RegistryUser     string // robot account for registry.authorization
	RegistryPassword string
	// ManifestType of the images (default Docker v2 manifest).
	ManifestType string
	SBOM         bool          // also run an SBOM job per image
	Timeout      time.Duration // per call, Harbor's 5 s by default
	// ScanTimeout bounds each image's job (Harbor has none; default 10 min).
	ScanTimeout time.Duration
	JSON        bool // one JSON document instead of lines

	// FirstCheckInterval and RetryUnit are Harbor's 2 s and 1 s; tests
	// shrink them.
	FirstCheckInterval time.Duration
	RetryUnit          time.Duration

	systemRoots *x509.CertPool // tests: stand-in for the system store
	nowFn       func() time.Time
	slowAfter   time.Duration // tests: the metadata warning threshold
}

// slowMetadata is when metadata latency earns a warning (Harbor's timeout
// fails it): every scan trigger and artifact listing pings the adapter.
const slowMetadata = time.Second

func (o *Options) now() time.Time {
	if o.nowFn != nil {
		return o.nowFn()
	}
	return time.Now()
}

// Run checks the adapter at o.URL, writes what it finds to out, and tells
// whether Harbor would work with it (no step failed; warnings allowed).
func Run(ctx context.Context, o Options, out io.Writer) bool {
	return RunReport(ctx, o, out).OK
}

// RunReport is Run returning the whole report, so a caller can tell a
// registration problem (RegistrationOK false) from scans that failed.
func RunReport(ctx context.Context, o Options, out io.Writer) Report {
	if o.Timeout <= 0 {
		o.Timeout = harborclient.DefaultTimeout
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = 10 * time.Minute
	}
	if o.slowAfter <= 0 {
		o.slowAfter = slowMetadata
	}
	if o.ManifestType == "" {
		o.ManifestType = harborclient.MimeTypeDockerArtifact
	}
	p := &printer{out: out, json: o.JSON}
	p.rep.URL = o.URL
	run(ctx, &o, p)
	p.finish()
	return p.rep
}

func run(ctx context.Context, o *Options, p *printer) {
	base, err := harborclient.NormalizeURL(o.URL)
	if err != nil {
		p.add(&Step{Step: "config", Status: Fail, Message: "Harbor would refuse the URL: " + err.Error()})
		return
	}
	u, _ := url.Parse(base)
	if len(o.Images) > 0 && o.RegistryURL == "" {
		p.add(&Step{Step: "config", Status: Fail, Message: "scanning images needs the registry URL Harbor would send (e.g. https://harbor.example.com or http://core:8080)"})
		return
	}
	imgs := make([]imageRef, 0, len(o.Images))
	for _, s := range o.Images {
		r, err := parseImage(s)
		if err != nil {
			p.add(&Step{Step: "config", Status: Fail, Message: err.Error()})
			return
		}
		imgs = append(imgs, r)
	}

	t := checkTLS(ctx, o, u, p)
	if t.stop {
		return
	}
	skip := false
	if !t.trusted {
		if !o.SkipVerify {
			p.add(&Step{Step: "metadata", Status: Info, Message: "skipped: Harbor cannot get past TLS (set skip-verify to test the rest as a registration with \"Skip certificate verification\")"})
			return
		}
		skip = true
	}
	c, err := harborclient.New(harborclient.Options{
		URL: o.URL, Auth: o.Auth, Credential: o.Credential,
		SkipCertVerify: skip, RootCAs: t.roots, Timeout: o.Timeout,
		FirstCheckInterval: o.FirstCheckInterval, RetryUnit: o.RetryUnit,
	})
	if err != nil {
		p.add(&Step{Step: "config", Status: Fail, Message: "Harbor would refuse the registration: " + err.Error()})
		return
	}
	defer c.CloseIdleConnections()

	md := checkMetadata(ctx, o, c, p)
	if md == nil || len(imgs) == 0 {
		return
	}
	scanImages(ctx, o, c, md, imgs, p)
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
