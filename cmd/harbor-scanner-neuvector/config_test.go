package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	files := map[string]string{"/run/secret/pw": "s3cret\n"}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, os.ErrNotExist
	}
	var out bytes.Buffer
	return loadConfig(args, func(k string) string { return env[k] }, read, &out)
}

func TestConfigDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAddr != ":8090" || c.OpsAddr != ":8091" || c.TLS {
		t.Errorf("addr %q ops %q tls %v", c.APIAddr, c.OpsAddr, c.TLS)
	}
	if c.ControllerURL != "https://127.0.0.1:10443" || c.AuthMode != "passthrough" {
		t.Errorf("controller %q auth %q", c.ControllerURL, c.AuthMode)
	}
	if c.CacheBytes != 256<<20 || c.CVEDBRefresh != 30*time.Second || c.ScanDeadline != time.Hour {
		t.Errorf("cache %d refresh %s deadline %s", c.CacheBytes, c.CVEDBRefresh, c.ScanDeadline)
	}
	if c.CertFile != "/etc/neuvector/certs/ssl-cert.pem" || c.KeyFile != "/etc/neuvector/certs/ssl-cert.key" {
		t.Errorf("cert %q key %q", c.CertFile, c.KeyFile)
	}
	if c.PollTimeout <= 30*time.Second {
		t.Errorf("poll timeout %s must exceed the controller's 30s long-poll", c.PollTimeout)
	}
}

func TestConfigHTTPSDefaultPort(t *testing.T) {
	c, err := load(t, map[string]string{"HARBOR_SERVER_PROTO": "https"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS || c.APIAddr != ":9443" {
		t.Fatalf("tls %v addr %q", c.TLS, c.APIAddr)
	}
	c, err = load(t, map[string]string{"HARBOR_SERVER_PROTO": "https", "SCANNER_API_ADDR": "127.0.0.1:7443"})
	if err != nil || c.APIAddr != "127.0.0.1:7443" {
		t.Fatalf("addr %v %v", c, err)
	}
}

func TestConfigFlagWinsOverEnv(t *testing.T) {
	c, err := load(t, map[string]string{"SCANNER_API_ADDR": ":1111"}, "--scanner-api-addr", ":2222", "-log-level=debug")
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAddr != ":2222" || c.LogLevel != "debug" {
		t.Fatalf("addr %q level %q", c.APIAddr, c.LogLevel)
	}
}

func TestConfigBasicFromChartVariables(t *testing.T) {
	env := map[string]string{"HARBOR_BASIC_AUTH_USERNAME": "harbor", "HARBOR_BASIC_AUTH_PASSWORD_FILE": "/run/secret/pw", "CONTROLLER_API_KEY": "adapter:key"}
	c, err := load(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthMode != "basic" || c.HarborUser != "harbor" || c.HarborPassword != "s3cret" {
		t.Fatalf("mode %q user %q pw %q", c.AuthMode, c.HarborUser, c.HarborPassword)
	}
}

func TestConfigStaticModeNeedsControllerIdentity(t *testing.T) {
	_, err := load(t, map[string]string{"SCANNER_AUTH": "bearer", "SCANNER_BEARER_TOKEN": "t"})
	if err == nil || !strings.Contains(err.Error(), "CONTROLLER_API_KEY") || !strings.Contains(err.Error(), "CONTROLLER_USERNAME") {
		t.Fatalf("want an error naming the controller credential variables, got %v", err)
	}
}

func TestConfigRejectsEachBadValue(t *testing.T) {
	cases := []struct{ env, val string }{
		{"HARBOR_SERVER_PROTO", "ftp"},
		{"SCANNER_API_ADDR", "8090"},
		{"OPS_ADDR", "localhost:http-alt:1"},
		{"CONTROLLER_URL", "127.0.0.1:10443"},
		{"CONTROLLER_TLS_INSECURE", "yes please"},
		{"CONTROLLER_TLS_PIN", "abc"},
		{"CONTROLLER_POLL_TIMEOUT", "10s"},
		{"CONTROLLER_LONG_POLL", "1ms"},
		{"CONTROLLER_TIMEOUT", "soon"},
		{"SCANNER_AUTH", "kerberos"},
		{"REGISTRY_URL_MAP", "core:8080"},
		{"CONTROLLER_IGNORE_PROXY", "maybe"},
		{"USE_FEED_BASED_SEVERITY", "2"},
		{"CVEDB_REFRESH_INTERVAL", "-5s"},
		{"SCAN_DEADLINE", "10s"},
		{"SCAN_WORKERS", "0"},
		{"REFRESH_AFTER", "128"},
		{"CACHE_MAX_BYTES", "lots"},
		{"CACHE_TTL", "1"},
		{"MAX_JOBS", "-1"},
		{"SBOM_ENABLED", "on"},
		{"MAX_BODY_BYTES", "1"},
		{"MAX_CONNS", "none"},
		{"READ_TIMEOUT", "0s"},
		{"WRITE_TIMEOUT", "x"},
		{"IDLE_TIMEOUT", "x"},
		{"SHUTDOWN_TIMEOUT", "x"},
		{"LOG_LEVEL", "verbose"},
		{"DRAIN_DELAY", "20s"},
	}
	for _, tc := range cases {
		_, err := load(t, map[string]string{tc.env: tc.val})
		if err == nil {
			t.Errorf("%s=%q accepted", tc.env, tc.val)
			continue
		}
		if !errors.Is(err, errConfig) || !strings.Contains(err.Error(), tc.env) {
			t.Errorf("%s=%q: error %q does not name the variable", tc.env, tc.val, err)
		}
	}
	// Every setting of the table is covered above, so a new setting needs a case.
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.env] = true
	}
	for _, s := range settingsTable() {
		if !covered[s.env] && s.env != "SCANNER_TLS_CERT_FILE" && s.env != "SCANNER_TLS_KEY_FILE" &&
			s.env != "SCANNER_TLS_CLIENT_CA_FILE" && s.env != "CONTROLLER_CA_FILE" && !s.secret &&
			s.env != "HARBOR_BASIC_AUTH_USERNAME" && s.env != "CONTROLLER_USERNAME" {
			t.Errorf("no invalid-value case for %s", s.env)
		}
	}
}

func TestConfigSizesAndMaps(t *testing.T) {
	c, err := load(t, map[string]string{"CACHE_MAX_BYTES": "512MiB", "REGISTRY_URL_MAP": "http://core:8080/=http://harbor-core.harbor.svc, https://a.example=https://b.example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheBytes != 512<<20 {
		t.Errorf("cache bytes %d", c.CacheBytes)
	}
	if c.RegistryMap["http://core:8080"] != "http://harbor-core.harbor.svc" || c.RegistryMap["https://a.example"] != "https://b.example" {
		t.Errorf("map %v", c.RegistryMap)
	}
}

func TestConfigSecretFileAndValueConflict(t *testing.T) {
	_, err := load(t, map[string]string{"CONTROLLER_PASSWORD": "x", "CONTROLLER_PASSWORD_FILE": "/run/secret/pw"})
	if err == nil || !strings.Contains(err.Error(), "CONTROLLER_PASSWORD") {
		t.Fatalf("got %v", err)
	}
	_, err = load(t, map[string]string{"SCANNER_API_KEY_FILE": "/nope"})
	if err == nil || !strings.Contains(err.Error(), "SCANNER_API_KEY_FILE") {
		t.Fatalf("got %v", err)
	}
}

func TestServeHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := loadConfig([]string{"--help"}, func(string) string { return "" }, os.ReadFile, &out)
	if err == nil {
		t.Fatal("--help returned no error")
	}
	for _, s := range settingsTable() {
		if !strings.Contains(out.String(), s.env) || !strings.Contains(out.String(), "--"+s.flagName()) {
			t.Errorf("help lacks %s", s.env)
		}
	}
}
