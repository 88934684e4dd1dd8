package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/neuvector/harbor-scanner-neuvector/proxy"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
)

// serve wires the configuration into the proxy and runs it until ctx ends.
func serve(ctx context.Context, cfg *Config, stdout io.Writer) error {
	log, err := proxy.NewLogger(stdout, cfg.LogLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(log)

	ctlTLS, err := controllerTLS(cfg)
	if err != nil {
		return err
	}
	client, err := controller.New(controller.Config{
		URL:                cfg.ControllerURL,
		TLS:                ctlTLS,
		PollTimeout:        cfg.PollTimeout,
		ControllerLongPoll: cfg.LongPoll,
		Timeout:            cfg.ControllerTimeout,
		Logger:             log,
		Observe:            proxy.ObserveController,
	})
	if err != nil {
		return err
	}

	ac := proxy.DefaultAPIConfig()
	ac.Scanner.Version = version
	ac.Client = client
	ac.Auth = proxy.AuthMode(cfg.AuthMode)
	ac.HarborUsername, ac.HarborPassword = cfg.HarborUser, cfg.HarborPassword
	ac.HarborBearerToken, ac.HarborAPIKey = cfg.BearerToken, cfg.APIKey
	if cfg.AuthMode != "passthrough" {
		ac.ControllerCred = controller.Cred{APIKey: cfg.CtrlAPIKey, Username: cfg.CtrlUsername, Password: cfg.CtrlPassword}
		if cfg.CtrlAPIKey != "" {
			ac.ControllerCred.Username, ac.ControllerCred.Password = "", ""
		}
	}
	ac.RegistryMap = cfg.RegistryMap
	ac.IgnoreProxy = cfg.IgnoreProxy
	ac.FeedBasedSeverity = cfg.FeedSeverity
	ac.CVEDBRefresh = cfg.CVEDBRefresh
	ac.ScanDeadline = cfg.ScanDeadline
	ac.Workers = cfg.Workers
	ac.CacheBytes, ac.CacheTTL = cfg.CacheBytes, cfg.CacheTTL
	ac.MaxJobs = cfg.MaxJobs
	ac.RefreshAfter = cfg.RefreshAfter
	ac.SBOM = cfg.SBOM
	ac.Logger = log
	api, err := proxy.NewAPI(ac)
	if err != nil {
		return err
	}

	srv, err := proxy.NewServer(proxy.ServerConfig{
		Addr:            cfg.APIAddr,
		OpsAddr:         cfg.OpsAddr,
		TLSEnabled:      cfg.TLS,
		CertFile:        cfg.CertFile,
		KeyFile:         cfg.KeyFile,
		ClientCAFile:    cfg.ClientCA,
		MaxBodyBytes:    int(cfg.MaxBody),
		ReadTimeout:     cfg.ReadTO,
		WriteTimeout:    cfg.WriteTO,
		IdleTimeout:     cfg.IdleTO,
		MaxConns:        cfg.MaxConns,
		ShutdownTimeout: cfg.ShutdownTimeout,
		DrainDelay:      cfg.DrainDelay,
		Logger:          log,
		Version:         proxy.BuildInfo{Version: version, Commit: commit, Date: date},
		WriteMetrics:    api.WriteMetrics,
	}, api)
	if err != nil {
		return err
	}

	log.Info("starting harbor-scanner-neuvector",
		"version", version, "commit", commit,
		"api_addr", cfg.APIAddr, "https", cfg.TLS, "mtls", cfg.ClientCA != "", "ops_addr", cfg.OpsAddr,
		"controller_url", cfg.ControllerURL, "controller_tls", controllerTLSMode(cfg),
		"auth", cfg.AuthMode, "cache_bytes", cfg.CacheBytes, "sbom", cfg.SBOM)
	if cfg.AuthMode == "passthrough" {
		log.Info("pass-through mode: register the scanner in Harbor with a NeuVector user (Basic) or API key (X-ScannerAdapter-API-Key) that has ci_scan write and reg_scan read; the adapter has no controller identity of its own until Harbor calls")
	}

	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	go api.Run(apiCtx)
	err = srv.Run(ctx) // ends with api.Shutdown: scans abandoned, sessions logged out
	stopAPI()
	client.Close() // cut whatever connection is left
	log.Info("stopped")
	return err
}

func controllerTLS(cfg *Config) (*tls.Config, error) {
	if !strings.HasPrefix(cfg.ControllerURL, "https://") {
		return nil, nil
	}
	switch {
	case cfg.ControllerPin != "":
		return controller.TLSConfigPinned(cfg.ControllerPin)
	case cfg.ControllerCAFile != "":
		c, err := controller.TLSConfigFromCAFile(cfg.ControllerCAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CONTROLLER_CA_FILE: %v", errConfig, err)
		}
		return c, nil
	case cfg.ControllerInsecure:
		return controller.TLSConfigInsecure(), nil
	}
	return nil, nil // system roots
}

func controllerTLSMode(cfg *Config) string {
	switch {
	case !strings.HasPrefix(cfg.ControllerURL, "https://"):
		return "plain-http"
	case cfg.ControllerPin != "":
		return "pinned"
	case cfg.ControllerCAFile != "":
		return "ca-file"
	case cfg.ControllerInsecure:
		return "insecure-skip-verify"
	}
	return "system-roots"
}
