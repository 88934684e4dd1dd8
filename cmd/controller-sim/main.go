// Command controller-sim runs the NeuVector controller simulator
// (package proxy/controller/sim) standalone, for the demo and for
// acceptance checks. One -addr per listener; several make a cluster of
// controller replicas sharing one store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller/sim"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, serves until SIGTERM/SIGINT and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, addrs, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "controller-sim:", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg.Logger = log
	s, err := sim.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "controller-sim:", err)
		return 2
	}
	for _, a := range addrs {
		url, err := s.Listen(a)
		if err != nil {
			log.Error("listen failed", "addr", a, "err", err)
			_ = s.Close()
			return 1
		}
		fmt.Fprintln(stdout, "controller-sim listening on", url)
	}
	<-ctx.Done()
	log.Info("controller-sim stopping")
	if err := s.Close(); err != nil {
		log.Error("close", "err", err)
	}
	return 0
}

func parse(args []string, stderr io.Writer) (sim.Config, []string, error) {
	var (
		cfg      sim.Config
		addrs    listFlag
		users    listFlag
		keys     listFlag
		fedShare bool
	)
	fs := flag.NewFlagSet("controller-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&addrs, "addr", "listen address, e.g. 127.0.0.1:10443 (repeatable: one controller replica each; default 127.0.0.1:10443)")
	fs.DurationVar(&cfg.ScanLatency, "scan-latency", 2*time.Second, "how long one scan takes")
	fs.IntVar(&cfg.Vulns, "vulns", sim.DefaultVulns, "vulnerabilities per image")
	fs.StringVar(&cfg.RegistryAuth, "registry-auth", "", "USER:PASS: scans with other registry credentials fail (500, code 26, \"authentication error\")")
	fs.IntVar(&cfg.Workers, "workers", sim.DefaultWorkers, "max_concurrent_repo_scan_tasks per replica")
	fs.IntVar(&cfg.QueueCap, "queue", sim.DefaultQueueCap, "scan_job_queue_capacity per replica")
	fs.DurationVar(&cfg.LongPoll, "long-poll", sim.DefaultLongPoll, "repo_scan_long_poll_timeout")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", sim.DefaultIdleTimeout, "session token idle timeout")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", sim.DefaultMaxSessions, "sessions per user")
	fs.StringVar(&cfg.CVEDBVersion, "cvedb-version", sim.DefaultCVEDBVersion, "CVE database version")
	fs.StringVar(&cfg.CVEDBCreateTime, "cvedb-create-time", sim.DefaultCVEDBCreateTime, "CVE database create time (RFC3339)")
	fs.StringVar(&cfg.FedPrimary, "fed-primary", "", "primary's HTTPS URL: this simulator is a managed cluster")
	fs.DurationVar(&cfg.FedPoll, "fed-poll", sim.DefaultFedPoll, "how often a managed cluster polls its primary")
	fs.BoolVar(&fedShare, "fed-share", true, "as a primary, share repository scan results (deploy_repo_scan_data)")
	fs.Var(&users, "user", "NAME:PASSWORD:ROLE (repeatable; default admin:admin:admin)")
	fs.Var(&keys, "apikey", "NAME:SECRET:ROLE (repeatable)")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if len(addrs) == 0 {
		addrs = listFlag{"127.0.0.1:10443"}
	}
	cfg.FedNoShare = !fedShare
	for _, u := range users {
		p := strings.SplitN(u, ":", 3)
		if len(p) != 3 || p[0] == "" || p[2] == "" {
			return cfg, nil, fmt.Errorf("-user %q: want NAME:PASSWORD:ROLE", redact(u))
		}
		cfg.Users = append(cfg.Users, sim.User{Name: p[0], Password: p[1], Role: p[2]})
	}
	for _, k := range keys {
		p := strings.SplitN(k, ":", 3)
		if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" {
			return cfg, nil, fmt.Errorf("-apikey %q: want NAME:SECRET:ROLE", redact(k))
		}
		cfg.APIKeys = append(cfg.APIKeys, sim.APIKey{Name: p[0], Secret: p[1], Role: p[2]})
	}
	return cfg, addrs, nil
}

// redact keeps the name of a NAME:SECRET:ROLE flag out of an error without
// its secret.
func redact(v string) string {
	name, _, _ := strings.Cut(v, ":")
	return name + ":…"
}
