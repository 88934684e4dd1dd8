// Command harbor-scanner-neuvector is the Harbor pluggable-scanner adapter for
// NeuVector. Subcommands: serve (the adapter), check (act as Harbor against
// a running adapter and diagnose registration problems), version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Set by the Makefile with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := loadConfig(args[1:], os.Getenv, os.ReadFile, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "harbor-scanner-neuvector:", err)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := serve(ctx, cfg, stdout); err != nil {
			fmt.Fprintln(stderr, "harbor-scanner-neuvector:", err)
			return 1
		}
		return 0
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "harbor-scanner-neuvector %s (commit %s, built %s)\n", version, commit, date)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "harbor-scanner-neuvector: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: harbor-scanner-neuvector <command> [flags]

Commands:
  serve     run the adapter (serve --help lists every setting)
  check     act as Harbor against a running adapter and diagnose registration problems
  version   print version, commit and build date
`)
}
