package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// What the manifests must agree with: the adapter, the NeuVector controller
// pod and the old adapter's Service. One place, so a change shows up here.
const (
	namespace           = "neuvector"
	controllerName      = "neuvector-controller-pod" // Deployment and its main container
	sidecarName         = "harbor-scanner-neuvector"
	serviceName         = "neuvector-service-registry-adapter"
	servicePortName     = "registry-adapter"
	routeName           = "neuvector-route-registry-adapter"
	sidecarImage        = "docker.io/neuvector/harbor-scanner-neuvector:0.1.0"
	adapterCommand      = "/usr/local/bin/adapter" // the name NeuVector's enforcer knows
	nonRootUID          = 65532
	httpPort            = 8090 // the old adapter's HTTP port
	httpsPort           = 9443 // the old adapter's HTTPS port
	opsPort             = 8091
	harborNamespace     = "harbor"
	defaultContainerKey = "kubectl.kubernetes.io/default-container"
	servingCertKey      = "service.beta.openshift.io/serving-cert-secret-name"
	// GOMEMLIMIT must leave at least this much above the cache budget for
	// decoding the largest report (tens of MB) and the rest of the heap.
	minDecodeHeadroom = 128 << 20
)

// adapterOpsPaths are the paths the adapter serves on its ops listener
// (OPS_ADDR; design.md "Operations"). The probes must use these; keep them in
// sync with proxy/ops.go (TestOpsPathsServedByProxy reads it).
var adapterOpsPaths = struct{ Healthz, Readyz, Metrics string }{
	Healthz: "/healthz",
	Readyz:  "/readyz",
	Metrics: "/metrics",
}

type protoPort struct {
	Proto corev1.Protocol
	Port  int32
}

func (p protoPort) String() string { return fmt.Sprintf("%d/%s", p.Port, p.Proto) }

// controllerPorts are the ports the NeuVector controller listens on
// (controller-api.md §17.3): REST 10443, federation 11443, Consul 18300 and
// Serf 18301 (TCP and UDP), gRPC 18400, healthz/migration 18500, admission
// webhook 20443, CRD webhook 30443. UDP 18300 is listed too, as the brief
// asks: admitting it costs nothing.
var controllerPorts = []protoPort{
	{corev1.ProtocolTCP, 10443},
	{corev1.ProtocolTCP, 11443},
	{corev1.ProtocolTCP, 18300},
	{corev1.ProtocolUDP, 18300},
	{corev1.ProtocolTCP, 18301},
	{corev1.ProtocolUDP, 18301},
	{corev1.ProtocolTCP, 18400},
	{corev1.ProtocolTCP, 18500},
	{corev1.ProtocolTCP, 20443},
	{corev1.ProtocolTCP, 30443},
}

// adapterSettings are the adapter's configuration variables, read from the
// settings table in cmd/harbor-scanner-neuvector/config.go, so that a variable
// the manifests set but the adapter does not know fails here.
type adapterSettings struct {
	known  map[string]bool
	secret map[string]bool // also readable from <NAME>_FILE
}

var settingRE = regexp.MustCompile(`\{env:\s*"([A-Z0-9_]+)"([^\n]*)`)

func loadAdapterSettings(t testing.TB) adapterSettings {
	t.Helper()
	p := filepath.Join(repoRoot(t), "cmd", "harbor-scanner-neuvector", "config.go")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the adapter's settings table: %v", err)
	}
	s := adapterSettings{known: map[string]bool{}, secret: map[string]bool{}}
	for _, m := range settingRE.FindAllStringSubmatch(string(b), -1) {
		s.known[m[1]] = true
		if strings.Contains(m[2], "secret: true") {
			s.secret[m[1]] = true
		}
	}
	// A table this small means the file changed shape, not that the adapter
	// lost its settings: fail loudly rather than check against nothing.
	if len(s.known) < 10 || !s.known["OPS_ADDR"] || !s.known["SCANNER_API_ADDR"] {
		t.Fatalf("found only %d settings in %s; update settingRE to the table's new shape", len(s.known), p)
	}
	return s
}

// runtimeEnv are variables the Go runtime reads, not the adapter's table.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true}

// parseBytes reads a byte size as the adapter's CACHE_MAX_BYTES and the Go
// runtime's GOMEMLIMIT accept it: plain bytes, or with B/KiB/MiB/GiB/TiB.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v * u.mult, err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// addrPort is the port of a listen address such as ":8090".
func addrPort(addr string) (int32, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, fmt.Errorf("no port in %q", addr)
	}
	p, err := strconv.ParseInt(addr[i+1:], 10, 32)
	return int32(p), err
}
