package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"

	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// setting is one configuration item: an environment variable with a
// matching flag. The table below is the single source of truth for
// `serve --help` and for the README table (a test keeps them in sync).
type setting struct {
	env    string
	def    string // default as the operator writes it; "" means unset
	help   string
	secret bool // value never printed; also readable from <env>_FILE
	value  string
	set    bool // given by flag or env
}

// flagName is the flag spelling of an env name: SCANNER_API_ADDR → scanner-api-addr.
func (s *setting) flagName() string {
	return strings.ToLower(strings.ReplaceAll(s.env, "_", "-"))
}

func settingsTable() []*setting {
	return []*setting{
		{env: "SCANNER_API_ADDR", help: "listen address of the Harbor API (default :8090 for HTTP, :9443 for HTTPS)"},
		{env: "HARBOR_SERVER_PROTO", def: "http", help: "http or https (the existing NeuVector adapter's variable)"},
		{env: "SCANNER_TLS_CERT_FILE", def: "/etc/neuvector/certs/ssl-cert.pem", help: "HTTPS certificate (PEM chain), reloaded when it changes"},
		{env: "SCANNER_TLS_KEY_FILE", def: "/etc/neuvector/certs/ssl-cert.key", help: "HTTPS private key (PEM), reloaded when it changes"},
		{env: "SCANNER_TLS_CLIENT_CA_FILE", help: "CA bundle: when set, Harbor must present a client certificate it signed (mTLS)"},
		{env: "OPS_ADDR", def: ":8091", help: "plain-HTTP listener for /healthz, /readyz and /metrics (never exposed by the Service)"},
		{env: "CONTROLLER_URL", def: "https://127.0.0.1:10443", help: "NeuVector controller REST API"},
		{env: "CONTROLLER_TLS_INSECURE", def: "false", help: "skip verification of the controller's certificate (self-signed; use only over pod loopback)"},
		{env: "CONTROLLER_CA_FILE", help: "CA bundle to verify the controller's certificate"},
		{env: "CONTROLLER_TLS_PIN", help: "SHA-256 (hex) of the controller certificate's public key (SPKI) to pin"},
		{env: "CONTROLLER_LONG_POLL", def: "30s", help: "the controller's repo_scan_long_poll_timeout (its REPO_SCAN_LONG_POLL_TIMEOUT), if the operator changed it"},
		{env: "CONTROLLER_POLL_TIMEOUT", def: "90s", help: "client timeout of one scan long-poll call; must exceed CONTROLLER_LONG_POLL, or the controller answers a call nobody reads and the next one scans again"},
		{env: "CONTROLLER_TIMEOUT", def: "10s", help: "client timeout of other controller calls"},
		{env: "SCANNER_AUTH", def: "passthrough", help: "how Harbor authenticates: passthrough (NeuVector user or API key), basic, bearer, apikey, none; basic when HARBOR_BASIC_AUTH_USERNAME is set"},
		{env: "HARBOR_BASIC_AUTH_USERNAME", help: "user name Harbor sends (SCANNER_AUTH=basic)"},
		{env: "HARBOR_BASIC_AUTH_PASSWORD", secret: true, help: "password Harbor sends (SCANNER_AUTH=basic)"},
		{env: "SCANNER_BEARER_TOKEN", secret: true, help: "token Harbor sends as Authorization: Bearer (SCANNER_AUTH=bearer)"},
		{env: "SCANNER_API_KEY", secret: true, help: "key Harbor sends as X-ScannerAdapter-API-Key (SCANNER_AUTH=apikey)"},
		{env: "CONTROLLER_API_KEY", secret: true, help: "NeuVector API key name:secret the adapter uses in static modes (recommended)"},
		{env: "CONTROLLER_USERNAME", help: "NeuVector user the adapter uses in static modes (instead of an API key)"},
		{env: "CONTROLLER_PASSWORD", secret: true, help: "password of CONTROLLER_USERNAME"},
		{env: "REGISTRY_URL_MAP", help: "comma-separated FROM=TO rewrites of Harbor's registry URL for the controller, e.g. http://core:8080=http://harbor-core.harbor.svc"},
		{env: "CONTROLLER_IGNORE_PROXY", help: "true/false: ignore_proxy sent with each scan (unset: the controller's proxy settings apply)"},
		{env: "USE_FEED_BASED_SEVERITY", def: "false", help: "map severities from the CVE feed rating (the existing adapter's variable)"},
		{env: "CVEDB_REFRESH_INTERVAL", def: "30s", help: "how often the CVE DB version is read from the controller"},
		{env: "SCAN_DEADLINE", def: "60m", help: "a scan not finished by then fails; an unknown scan ID older than this is reported lost"},
		{env: "SCAN_WORKERS", def: "256", help: "scans the adapter keeps in the controller's queue at once (the controller queues 2,048 and finishes a scan whose caller went away, so a scan handed over survives an adapter restart)"},
		{env: "REFRESH_AFTER", def: "5", help: "seconds Harbor waits between report polls (Refresh-After, 1-127)"},
		{env: "CACHE_MAX_BYTES", def: "256MiB", help: "byte budget of the report cache (bytes, or with KiB/MiB/GiB)"},
		{env: "CACHE_TTL", def: "24h", help: "how long a cached report is served"},
		{env: "MAX_JOBS", def: "100000", help: "scan jobs remembered by ID (oldest dropped first; a dropped ID is recovered by digest)"},
		{env: "SBOM_ENABLED", def: "true", help: "advertise and serve the SBOM capability (SPDX and CycloneDX)"},
		{env: "MAX_BODY_BYTES", def: "1MiB", help: "largest request body accepted (413 above)"},
		{env: "MAX_CONNS", def: "1024", help: "concurrent connections on the API listener (not the ops listener)"},
		{env: "READ_TIMEOUT", def: "30s", help: "API listener read timeout"},
		{env: "WRITE_TIMEOUT", def: "60s", help: "API listener write timeout (large reports on slow links)"},
		{env: "IDLE_TIMEOUT", def: "120s", help: "API listener keep-alive idle timeout"},
		{env: "SHUTDOWN_TIMEOUT", def: "25s", help: "bound on graceful shutdown (fits Kubernetes' 30s grace period)"},
		{env: "DRAIN_DELAY", def: "2s", help: "on SIGTERM, keep accepting this long after readiness turned 503, so endpoints stop routing here first"},
		{env: "LOG_LEVEL", def: "info", help: "debug, info, warn or error"},
	}
}

// Config is the parsed configuration of `serve`.
type Config struct {
	APIAddr, OpsAddr            string
	TLS                         bool
	CertFile, KeyFile, ClientCA string

	ControllerURL      string
	ControllerInsecure bool
	ControllerCAFile   string
	ControllerPin      string
	PollTimeout        time.Duration
	LongPoll           time.Duration
	ControllerTimeout  time.Duration

	AuthMode                   string
	HarborUser, HarborPassword string
	BearerToken, APIKey        string
	CtrlAPIKey                 string
	CtrlUsername, CtrlPassword string
	RegistryMap                map[string]string
	IgnoreProxy                *bool
	FeedSeverity               bool
	CVEDBRefresh, ScanDeadline time.Duration
	Workers, RefreshAfter      int
	CacheBytes                 int64
	CacheTTL                   time.Duration
	MaxJobs                    int
	SBOM                       bool
	MaxBody                    int64
	MaxConns                   int
	ReadTO, WriteTO, IdleTO    time.Duration
	ShutdownTimeout            time.Duration
	DrainDelay                 time.Duration
	LogLevel                   string
}

// errConfig prefixes every configuration error so main can exit 2.
var errConfig = errors.New("invalid configuration")

func cfgErr(env, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", errConfig, env, fmt.Sprintf(format, args...))
}

// loadConfig fills the table from env, then flags (flags win), and parses it.
func loadConfig(args []string, getenv func(string) string, readFile func(string) ([]byte, error), usageOut io.Writer) (*Config, error) {
	table := settingsTable()
	byEnv := map[string]*setting{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	for _, s := range table {
		byEnv[s.env] = s
		if v := getenv(s.env); v != "" {
			s.value, s.set = v, true
		}
		if s.secret {
			if p := getenv(s.env + "_FILE"); p != "" {
				if s.set {
					return nil, cfgErr(s.env, "set both %s and %s_FILE; set one", s.env, s.env)
				}
				b, err := readFile(p)
				if err != nil {
					return nil, cfgErr(s.env+"_FILE", "cannot read %s: %v", p, err)
				}
				s.value, s.set = strings.TrimRight(string(b), "\r\n"), true
			}
		}
		s := s
		fs.Func(s.flagName(), s.help+" [$"+s.env+"]", func(v string) error {
			s.value, s.set = v, true
			return nil
		})
	}
	fs.Usage = func() { printUsage(usageOut, table) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errConfig, fs.Arg(0))
	}
	get := func(env string) string {
		s := byEnv[env]
		if s.set {
			return strings.TrimSpace(s.value)
		}
		return s.def
	}
	return parseConfig(get, func(env string) bool { return byEnv[env].set })
}

func printUsage(w io.Writer, table []*setting) {
	fmt.Fprintln(w, "Usage: harbor-scanner-neuvector serve [flags]")
	fmt.Fprintln(w, "\nEvery setting is an environment variable or the flag of the same name; a flag wins.")
	fmt.Fprintln(w, "Secrets can also be read from a file named by <VARIABLE>_FILE.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tVARIABLE\tDEFAULT\tMEANING")
	for _, s := range table {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\t%s\n", s.flagName(), s.env, def, s.help)
	}
	tw.Flush()
}

func parseConfig(get func(string) string, isSet func(string) bool) (*Config, error) {
	c := &Config{}
	var err error
	switch p := strings.ToLower(get("HARBOR_SERVER_PROTO")); p {
	case "", "http":
	case "https":
		c.TLS = true
	default:
		return nil, cfgErr("HARBOR_SERVER_PROTO", "%q is not http or https", p)
	}
	c.APIAddr = get("SCANNER_API_ADDR")
	if c.APIAddr == "" {
		c.APIAddr = ":8090"
		if c.TLS {
			c.APIAddr = ":9443"
		}
	}
	if err := checkAddr("SCANNER_API_ADDR", c.APIAddr); err != nil {
		return nil, err
	}
	c.OpsAddr = get("OPS_ADDR")
	if err := checkAddr("OPS_ADDR", c.OpsAddr); err != nil {
		return nil, err
	}
	c.CertFile, c.KeyFile, c.ClientCA = get("SCANNER_TLS_CERT_FILE"), get("SCANNER_TLS_KEY_FILE"), get("SCANNER_TLS_CLIENT_CA_FILE")
	if c.ClientCA != "" && !c.TLS {
		return nil, cfgErr("SCANNER_TLS_CLIENT_CA_FILE", "mTLS needs HARBOR_SERVER_PROTO=https")
	}

	c.ControllerURL = get("CONTROLLER_URL")
	u, perr := url.Parse(c.ControllerURL)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, cfgErr("CONTROLLER_URL", "%q is not an http(s) URL with a host", c.ControllerURL)
	}
	if c.ControllerInsecure, err = parseBool("CONTROLLER_TLS_INSECURE", get); err != nil {
		return nil, err
	}
	c.ControllerCAFile, c.ControllerPin = get("CONTROLLER_CA_FILE"), strings.ToLower(get("CONTROLLER_TLS_PIN"))
	if c.ControllerPin != "" {
		if b, e := hexLen(c.ControllerPin); e != nil || b != 32 {
			return nil, cfgErr("CONTROLLER_TLS_PIN", "must be 64 hex characters (SHA-256 of the certificate's SPKI)")
		}
	}
	if c.LongPoll, err = parseDur("CONTROLLER_LONG_POLL", get, time.Second); err != nil {
		return nil, err
	}
	if c.PollTimeout, err = parseDur("CONTROLLER_POLL_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}
	if c.PollTimeout <= c.LongPoll {
		return nil, cfgErr("CONTROLLER_POLL_TIMEOUT", "%s must exceed the controller's long-poll CONTROLLER_LONG_POLL (%s)", c.PollTimeout, c.LongPoll)
	}
	if c.ControllerTimeout, err = parseDur("CONTROLLER_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}

	c.HarborUser, c.HarborPassword = get("HARBOR_BASIC_AUTH_USERNAME"), get("HARBOR_BASIC_AUTH_PASSWORD")
	c.BearerToken, c.APIKey = get("SCANNER_BEARER_TOKEN"), get("SCANNER_API_KEY")
	c.CtrlAPIKey, c.CtrlUsername, c.CtrlPassword = get("CONTROLLER_API_KEY"), get("CONTROLLER_USERNAME"), get("CONTROLLER_PASSWORD")
	c.AuthMode = strings.ToLower(get("SCANNER_AUTH"))
	if !isSet("SCANNER_AUTH") && c.HarborUser != "" {
		c.AuthMode = "basic" // the NeuVector chart sets these for the old adapter
	}
	switch c.AuthMode {
	case "passthrough", "none":
	case "basic":
		if c.HarborUser == "" || c.HarborPassword == "" {
			return nil, cfgErr("HARBOR_BASIC_AUTH_USERNAME", "SCANNER_AUTH=basic needs HARBOR_BASIC_AUTH_USERNAME and HARBOR_BASIC_AUTH_PASSWORD")
		}
	case "bearer":
		if c.BearerToken == "" {
			return nil, cfgErr("SCANNER_BEARER_TOKEN", "SCANNER_AUTH=bearer needs SCANNER_BEARER_TOKEN (or SCANNER_BEARER_TOKEN_FILE)")
		}
	case "apikey":
		if c.APIKey == "" {
			return nil, cfgErr("SCANNER_API_KEY", "SCANNER_AUTH=apikey needs SCANNER_API_KEY (or SCANNER_API_KEY_FILE)")
		}
	default:
		return nil, cfgErr("SCANNER_AUTH", "%q is not one of passthrough, basic, bearer, apikey, none", c.AuthMode)
	}
	if c.AuthMode != "passthrough" {
		// Static modes: the adapter calls the controller with its own identity.
		if c.CtrlAPIKey == "" && (c.CtrlUsername == "" || c.CtrlPassword == "") {
			return nil, cfgErr("CONTROLLER_API_KEY", "SCANNER_AUTH=%s checks Harbor's credentials itself and needs its own NeuVector identity: set CONTROLLER_API_KEY (name:secret, recommended) or CONTROLLER_USERNAME and CONTROLLER_PASSWORD", c.AuthMode)
		}
		if c.CtrlAPIKey != "" && !strings.Contains(c.CtrlAPIKey, ":") {
			return nil, cfgErr("CONTROLLER_API_KEY", "must be name:secret")
		}
	}

	if c.RegistryMap, err = parseMap("REGISTRY_URL_MAP", get("REGISTRY_URL_MAP")); err != nil {
		return nil, err
	}
	if v := get("CONTROLLER_IGNORE_PROXY"); v != "" {
		b, e := strconv.ParseBool(v)
		if e != nil {
			return nil, cfgErr("CONTROLLER_IGNORE_PROXY", "%q is not true or false", v)
		}
		c.IgnoreProxy = &b
	}
	if c.FeedSeverity, err = parseBool("USE_FEED_BASED_SEVERITY", get); err != nil {
		return nil, err
	}
	if c.CVEDBRefresh, err = parseDur("CVEDB_REFRESH_INTERVAL", get, time.Second); err != nil {
		return nil, err
	}
	if c.ScanDeadline, err = parseDur("SCAN_DEADLINE", get, time.Minute); err != nil {
		return nil, err
	}
	if c.Workers, err = parseInt("SCAN_WORKERS", get, 1, 2048); err != nil {
		return nil, err
	}
	if c.RefreshAfter, err = parseInt("REFRESH_AFTER", get, 1, 127); err != nil {
		return nil, err
	}
	if c.CacheBytes, err = parseBytes("CACHE_MAX_BYTES", get, 1<<20); err != nil {
		return nil, err
	}
	if c.CacheTTL, err = parseDur("CACHE_TTL", get, time.Minute); err != nil {
		return nil, err
	}
	if c.MaxJobs, err = parseInt("MAX_JOBS", get, 100, 10_000_000); err != nil {
		return nil, err
	}
	if c.SBOM, err = parseBool("SBOM_ENABLED", get); err != nil {
		return nil, err
	}
	if c.MaxBody, err = parseBytes("MAX_BODY_BYTES", get, 4096); err != nil {
		return nil, err
	}
	if c.MaxConns, err = parseInt("MAX_CONNS", get, 1, 1_000_000); err != nil {
		return nil, err
	}
	if c.ReadTO, err = parseDur("READ_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}
	if c.WriteTO, err = parseDur("WRITE_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}
	if c.IdleTO, err = parseDur("IDLE_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}
	if c.ShutdownTimeout, err = parseDur("SHUTDOWN_TIMEOUT", get, time.Second); err != nil {
		return nil, err
	}
	if c.DrainDelay, err = parseDur("DRAIN_DELAY", get, 0); err != nil {
		return nil, err
	}
	if c.DrainDelay*2 > c.ShutdownTimeout {
		return nil, cfgErr("DRAIN_DELAY", "%s must be at most half of SHUTDOWN_TIMEOUT (%s)", c.DrainDelay, c.ShutdownTimeout)
	}
	c.LogLevel = strings.ToLower(get("LOG_LEVEL"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, cfgErr("LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	return c, nil
}

func checkAddr(env, addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		return cfgErr(env, "%q is not host:port (e.g. :8090)", addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return cfgErr(env, "%q has no valid port", addr)
	}
	return nil
}

func parseBool(env string, get func(string) string) (bool, error) {
	v := get(env)
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, cfgErr(env, "%q is not true or false", v)
	}
	return b, nil
}

func parseDur(env string, get func(string) string, min time.Duration) (time.Duration, error) {
	v := get(env)
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, cfgErr(env, "%q is not a duration such as 30s or 5m", v)
	}
	if d < min {
		return 0, cfgErr(env, "%s is below the minimum of %s", d, min)
	}
	return d, nil
}

func parseInt(env string, get func(string) string, min, max int) (int, error) {
	v := get(env)
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, cfgErr(env, "%q is not a whole number from %d to %d", v, min, max)
	}
	return n, nil
}

// parseBytes reads 268435456, 256MiB, 256Mi, 1GiB, 512KiB (also MB/GB as
// powers of 1000).
func parseBytes(env string, get func(string) string, min int64) (int64, error) {
	v := get(env)
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suf)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, cfgErr(env, "%q is not a size such as 268435456 or 256MiB", v)
	}
	if n*mult < min {
		return 0, cfgErr(env, "%s is below the minimum of %d bytes", v, min)
	}
	return n * mult, nil
}

func parseMap(env, v string) (map[string]string, error) {
	if v == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.TrimRight(strings.TrimSpace(from), "/"), strings.TrimRight(strings.TrimSpace(to), "/")
		if !ok || !isHTTPURL(from) || !isHTTPURL(to) {
			return nil, cfgErr(env, "%q is not FROM=TO with two http(s) URLs", pair)
		}
		m[from] = to
	}
	return m, nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func hexLen(s string) (int, error) {
	if len(s)%2 != 0 {
		return 0, errors.New("odd length")
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return 0, errors.New("not hex")
		}
	}
	return len(s) / 2, nil
}

// settingNames lists every variable name (for the README sync test).
func settingNames() []string {
	var out []string
	for _, s := range settingsTable() {
		out = append(out, s.env)
	}
	sort.Strings(out)
	return out
}
