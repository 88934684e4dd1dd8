package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/internal/check"
)

// runCheck acts as Harbor against a running adapter: metadata validation as
// Harbor does it, TLS trust as Harbor's "Test connection" sees it, and
// optional scans polled with Harbor's timing. Exit 0: all good; 1: a scan
// failed; 2: usage error or a registration problem.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o check.Options
	var images multiFlag
	fs.StringVar(&o.URL, "url", "", "adapter URL as registered in Harbor, e.g. https://neuvector-service-registry-adapter.neuvector:9443")
	auth := fs.String("auth", "", "authentication Harbor uses: none, basic, bearer, apikey")
	fs.StringVar(&o.Credential, "credential", "", "access credential (basic: user:password); prefer $HARBOR_SCANNER_CREDENTIAL, flags show in ps")
	fs.StringVar(&o.CAFile, "ca-file", "", "CA bundle Harbor trusts (PEM), to test the adapter's certificate with")
	fs.BoolVar(&o.SkipVerify, "insecure", false, "continue past TLS verification as a registration with 'skip certificate verification'")
	fs.Var(&images, "image", "image to scan, repository[:tag]@sha256:… (repeatable; none: metadata only)")
	fs.StringVar(&o.RegistryURL, "registry", "", "registry.url sent in scan requests (Harbor's URL, e.g. http://core:8080)")
	fs.StringVar(&o.RegistryUser, "registry-user", "", "robot account put into registry.authorization")
	fs.StringVar(&o.RegistryPassword, "registry-password", "", "robot secret (prefer $HARBOR_REGISTRY_PASSWORD)")
	fs.BoolVar(&o.SBOM, "sbom", false, "also run an SBOM job per image")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Second, "per-call timeout (Harbor's is 5s)")
	fs.DurationVar(&o.ScanTimeout, "scan-timeout", 10*time.Minute, "bound on each image's job")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON document")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: harbor-scanner-neuvector check --url URL [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if o.URL == "" {
		fmt.Fprintln(stderr, "check: --url is required")
		fs.Usage()
		return 2
	}
	switch strings.ToLower(*auth) {
	case "", "none":
	case "basic":
		o.Auth = "Basic"
	case "bearer":
		o.Auth = "Bearer"
	case "apikey":
		o.Auth = "APIKey"
	default:
		fmt.Fprintf(stderr, "check: --auth %q is not none, basic, bearer or apikey\n", *auth)
		return 2
	}
	if o.Credential == "" {
		o.Credential = os.Getenv("HARBOR_SCANNER_CREDENTIAL")
	}
	if o.RegistryPassword == "" {
		o.RegistryPassword = os.Getenv("HARBOR_REGISTRY_PASSWORD")
	}
	if o.Auth != "" && o.Credential == "" {
		fmt.Fprintln(stderr, "check: --auth needs a credential (--credential or $HARBOR_SCANNER_CREDENTIAL), as Harbor does")
		return 2
	}
	o.Images = images
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	rep := check.RunReport(ctx, o, stdout)
	switch {
	case rep.OK:
		return 0
	case rep.RegistrationOK:
		return 1 // only scans failed
	}
	return 2
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
