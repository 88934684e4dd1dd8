// Package sim is an in-process NeuVector controller for tests, benchmarks
// and the demo: the REST API subset of controller-api.md §13 over HTTPS
// (TLS 1.3, HTTP/1.1, self-signed certificate made at start), with the
// controller's status codes and {"code","error","message"} error bodies.
//
// It is a test double of a real product, so it follows the real API rather
// than the adapter's convenience: session tokens with idle timeout, hard
// expiry and a per-user session limit, failed-login lock-out, API keys,
// permissions by role; the POST /v1/scan/repository long-poll with its job
// key (request body + caller's token), worker pool, bounded queue (429),
// 304 while running and 500 code 26 on scan errors; GET /v1/system/summary;
// the _repo_scan store (8,192 images) and fed._repo_scan, filled from a
// federation primary. Reports come from GenerateReport.
//
// Several listeners (Listen called more than once) act as controller
// replicas of one cluster: sessions and the image stores are shared, as the
// real cluster shares them through its KV store, while each replica has its
// own long-poll jobs, queue and workers, as each real controller process does.
//
// Lock-out numbers (configurable): LoginFailures (default 5) wrong passwords
// in a row for a known user block it for LoginBlock (default 30 min); the
// failure that reaches the limit and every login while blocked get 401 code
// 47, a correct password included.
//
// Known differences from the real controller: JSON keys come in struct
// order, not sorted; scan_layers is ignored (layers is always []); every
// scan takes the configured latency, failures included; fed._repo_scan
// answers 404 code 7 unless this sim is a managed cluster whose primary
// shares (as a joint without that registry would); the federation pull is
// simplified (see fed.go).
//
// Test hooks, without auth: GET /sim/stats, POST /sim/faults, POST
// /sim/cvedb, POST /sim/latency, POST /sim/expire-tokens.
package sim

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Sentinel errors.
var (
	ErrClosed = errors.New("sim: closed")
	ErrConfig = errors.New("sim: invalid configuration")
)

// Defaults, as the real controller's (controller-api.md §13).
const (
	DefaultWorkers         = 6
	DefaultQueueCap        = 2048
	DefaultLongPoll        = 30 * time.Second
	DefaultIdleTimeout     = 300 * time.Second
	DefaultMaxSessions     = 32
	DefaultCVEDBVersion    = "4.017"
	DefaultCVEDBCreateTime = "2026-07-01T00:00:00Z"
	DefaultFedPoll         = time.Minute
	DefaultLoginFailures   = 5
	DefaultLoginBlock      = 30 * time.Minute
	// TokenLife is the hard expiry of a session token (jwtTokenLife).
	TokenLife = 6 * time.Hour
	// RepoScanMax bounds _repo_scan and fed._repo_scan (ScanPersistImageMax).
	RepoScanMax = 8192
)

// User is a local controller user.
type User struct {
	Name     string
	Password string
	Role     string // "admin", "reader", "ciops", "ciscan-reg" or one of Config.Roles
	// MustReset makes a correct login answer 200 with "token":null and
	// "need_to_reset_password":true, as for a user whose password expired.
	MustReset bool
}

// APIKey is a controller API key, sent as X-Auth-Apikey: name:secret.
type APIKey struct {
	Name   string
	Secret string
	Role   string
}

// Config configures a simulator. Zero values mean the defaults above.
type Config struct {
	Users        []User        // default: {admin, admin, role "admin"}
	APIKeys      []APIKey      // name, secret, role
	ScanLatency  time.Duration // how long one scan takes
	Vulns        int           // vulnerabilities per image (default 25; negative: none)
	Workers      int           // max_concurrent_repo_scan_tasks, default 6
	QueueCap     int           // scan_job_queue_capacity, default 2048
	LongPoll     time.Duration // repo_scan_long_poll_timeout, default 30s
	IdleTimeout  time.Duration // token idle timeout, default 300s
	MaxSessions  int           // per user, default 32
	RegistryAuth string        // "user:pass": scans with other registry creds fail 500/26 "authentication error"

	CVEDBVersion, CVEDBCreateTime string // defaults DefaultCVEDBVersion, DefaultCVEDBCreateTime

	FedPrimary string        // primary's HTTPS URL: this sim is a managed cluster
	FedPoll    time.Duration // default 1m, as the real poll_interval
	// FedNoShare turns deploy_repo_scan_data off when this sim acts as a
	// primary (the brief's FedShare, inverted so that the zero value is the
	// default: sharing on).
	FedNoShare bool
	// FedTLS verifies the primary; nil skips verification, since the
	// primary's certificate is self-signed and made at its start.
	FedTLS *tls.Config

	// Roles adds or overrides roles by name.
	Roles         map[string][]translate.Permission
	LoginFailures int           // wrong passwords in a row before a block, default 5
	LoginBlock    time.Duration // how long a block lasts, default 30m

	Logger *slog.Logger

	fedBatch int // images per scan_data_internal reply; tests make it small
}

// Sim is a running simulator. Safe for concurrent use.
type Sim struct {
	cfg      Config
	log      *slog.Logger
	cert     tls.Certificate
	pool     *x509.CertPool
	jointID  string
	latency  atomic.Int64
	fedShare bool

	mu       sync.Mutex // guards the fields below
	cvedb    string
	cvedbAt  string
	faults   map[string]fault
	replicas []*replica
	closed   bool
	fedOn    bool // fed._repo_scan exists (managed cluster, primary shares)

	auth *authState
	repo *imageStore // _repo_scan
	fed  *imageStore // fed._repo_scan
	st   counters

	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	// gate, when set by a test before Listen, holds every scan after its
	// latency until a value is received, so tests can order events.
	gate chan struct{}
}

type fault struct {
	code    int
	message string
}

// New validates cfg, fills defaults and makes the certificate. It does not
// listen: call Listen.
func New(cfg Config) (*Sim, error) {
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.QueueCap == 0 {
		cfg.QueueCap = DefaultQueueCap
	}
	if cfg.LongPoll == 0 {
		cfg.LongPoll = DefaultLongPoll
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Vulns == 0 {
		cfg.Vulns = DefaultVulns
	}
	if cfg.CVEDBVersion == "" {
		cfg.CVEDBVersion = DefaultCVEDBVersion
	}
	if cfg.CVEDBCreateTime == "" {
		cfg.CVEDBCreateTime = DefaultCVEDBCreateTime
	}
	if cfg.FedPoll == 0 {
		cfg.FedPoll = DefaultFedPoll
	}
	if cfg.LoginFailures == 0 {
		cfg.LoginFailures = DefaultLoginFailures
	}
	if cfg.fedBatch == 0 {
		cfg.fedBatch = defaultFedBatch
	}
	if cfg.LoginBlock == 0 {
		cfg.LoginBlock = DefaultLoginBlock
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []User{{Name: "admin", Password: "admin", Role: "admin"}}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Workers < 0 || cfg.QueueCap < 0 || cfg.LongPoll < 0 || cfg.IdleTimeout < 0 ||
		cfg.MaxSessions < 0 || cfg.ScanLatency < 0 || cfg.FedPoll < 0 || cfg.LoginFailures < 0 {
		return nil, fmt.Errorf("%w: negative count or duration", ErrConfig)
	}
	if cfg.RegistryAuth != "" && !containsColon(cfg.RegistryAuth) {
		return nil, fmt.Errorf("%w: RegistryAuth must be user:pass", ErrConfig)
	}
	auth, err := newAuthState(&cfg)
	if err != nil {
		return nil, err
	}
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	s := &Sim{
		cfg:      cfg,
		log:      cfg.Logger,
		cert:     cert,
		pool:     pool,
		jointID:  hex.EncodeToString(id[:]),
		fedShare: !cfg.FedNoShare,
		cvedb:    cfg.CVEDBVersion,
		cvedbAt:  cfg.CVEDBCreateTime,
		faults:   map[string]fault{},
		auth:     auth,
		repo:     newImageStore(RepoScanMax),
		fed:      newImageStore(RepoScanMax),
		done:     make(chan struct{}),
	}
	s.st.init()
	s.latency.Store(int64(cfg.ScanLatency))
	if cfg.FedPrimary != "" {
		s.wg.Add(1)
		go s.fedLoop()
	}
	return s, nil
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// Listen serves the API on addr (e.g. "127.0.0.1:0") and returns its https
// URL. Each call adds a controller replica sharing this simulator's store.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.cert},
		NextProtos:   []string{"http/1.1"},
	}
	// Registered and counted in the WaitGroup under the lock, so that a
	// concurrent Close either sees this replica whole or refuses it.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", ErrClosed
	}
	rp := newReplica(s, len(s.replicas))
	rp.url = "https://" + ln.Addr().String()
	rp.srv = &http.Server{
		Handler: rp,
		// A non-nil empty map turns HTTP/2 off, as on the real controller.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.replicas = append(s.replicas, rp)
	rp.start()
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := rp.srv.Serve(tls.NewListener(ln, tlsCfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("controller-sim listener stopped", "addr", rp.url, "err", err)
		}
	}()
	s.log.Info("controller-sim listening", "url", rp.url, "replica", rp.idx)
	return rp.url, nil
}

// URL is the first listener's https URL ("" before Listen).
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replicas) == 0 {
		return ""
	}
	return s.replicas[0].url
}

// URLs lists every listener's https URL in Listen order.
func (s *Sim) URLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.replicas))
	for i, rp := range s.replicas {
		out[i] = rp.url
	}
	return out
}

// CertPool holds the self-signed certificate, to verify the simulator.
func (s *Sim) CertPool() *x509.CertPool { return s.pool }

// TLSConfig is a client configuration that verifies the simulator.
func (s *Sim) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS13}
}

// SetFault makes every scan of digest fail with code (26: 500 code 26 with
// message; other codes: 500 with that code). Code 0 or an empty message
// clears it.
func (s *Sim) SetFault(digest string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 || message == "" {
		delete(s.faults, digest)
		return
	}
	s.faults[digest] = fault{code, message}
}

// SetCVEDB changes the CVE database version and create time reported from
// now on.
func (s *Sim) SetCVEDB(version, createTime string) {
	s.mu.Lock()
	s.cvedb, s.cvedbAt = version, createTime
	s.mu.Unlock()
}

func (s *Sim) cvedbNow() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cvedb, s.cvedbAt
}

// SetLatency sets how long scans started from now take.
func (s *Sim) SetLatency(d time.Duration) { s.latency.Store(int64(max(d, 0))) }

// ExpireTokens invalidates every session token (401 code 3 on next use), as
// an idle timeout would.
func (s *Sim) ExpireTokens() { s.auth.expireAll() }

// Close stops every listener, worker and the federation poller. Long-polls
// in progress are cut off.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	reps := s.replicas
	s.mu.Unlock()
	close(s.done)
	var first error
	for _, rp := range reps {
		if err := rp.srv.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.wg.Wait()
	return first
}
