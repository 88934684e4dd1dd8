package check

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Environment variables that may carry the secrets instead of flags, which
// other users of the machine can read from the process list.
const (
	EnvCredential       = "HARBOR_SCANNER_CREDENTIAL"
	EnvRegistryPassword = "HARBOR_REGISTRY_PASSWORD"
)

// DefaultURL is the adapter's default listen address.
const DefaultURL = "http://127.0.0.1:8090"

// RegisterFlags defines the check subcommand's flags on fs, filling o.
func RegisterFlags(fs *flag.FlagSet, o *Options) {
	fs.StringVar(&o.URL, "url", DefaultURL, "adapter URL as registered in Harbor (also the first argument)")
	fs.StringVar(&o.Auth, "auth", "", `auth type of the registration: "" (none), Basic, Bearer or APIKey`)
	fs.StringVar(&o.Credential, "credential", os.Getenv(EnvCredential), `access credential ("user:password" for Basic); default $`+EnvCredential)
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM bundle Harbor trusts (its CA bundle), to test TLS trust with")
	fs.BoolVar(&o.SkipVerify, "skip-verify", false, `go on past an untrusted certificate, as a registration with "Skip certificate verification"`)
	fs.Func("image", "image to scan, repository[:tag]@sha256:<digest> (repeatable; none checks metadata only)", func(s string) error {
		o.Images = append(o.Images, s)
		return nil
	})
	fs.StringVar(&o.RegistryURL, "registry-url", "", "registry URL to put in scan requests, as Harbor would (e.g. https://harbor.example.com or http://core:8080)")
	fs.StringVar(&o.RegistryUser, "registry-user", "", "robot account for registry.authorization")
	fs.StringVar(&o.RegistryPassword, "registry-password", os.Getenv(EnvRegistryPassword), "robot secret; default $"+EnvRegistryPassword)
	fs.StringVar(&o.ManifestType, "manifest-type", "", "manifest media type of the images (default the Docker v2 manifest)")
	fs.BoolVar(&o.SBOM, "sbom", false, "also generate an SBOM per image, as Harbor's \"Generate SBOM\"")
	fs.DurationVar(&o.Timeout, "timeout", 0, "timeout of each call (default Harbor's 5s)")
	fs.DurationVar(&o.ScanTimeout, "scan-timeout", 0, "give up on an image's job after this long (default 10m; Harbor never does)")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON document instead of lines")
}

// Main runs the check subcommand: it parses args, checks, and returns the
// exit code: 0 when Harbor would work with the adapter, 1 when not, 2 for
// bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: harbor-scanner-neuvector check [flags] [URL]\n\nActs as Harbor's client against a running adapter and says what would stop Harbor from using it.")
		fs.PrintDefaults()
	}
	var o Options
	RegisterFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch fs.NArg() {
	case 0:
	case 1:
		o.URL = fs.Arg(0)
	default:
		fmt.Fprintf(stderr, "check: one URL at most, got %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if Run(ctx, o, stdout) {
		return 0
	}
	return 1
}
