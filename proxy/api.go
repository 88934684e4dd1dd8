package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/cache"
	"github.com/neuvector/harbor-scanner-neuvector/proxy/controller"
	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// APIConfig is everything the Harbor API needs. cmd maps environment
// variables and flags onto it; zero values take the documented defaults
// (DefaultAPIConfig shows them).
type APIConfig struct {
	// Scanner is what metadata and reports name as the scanner; empty fields
	// default to "NeuVector", "SUSE" and "dev".
	Scanner translate.Scanner

	// Client talks to the controller (required).
	Client *controller.Client
	// Sessions is the controller session pool; nil builds one over Client
	// with SessionIdle.
	Sessions *controller.Sessions
	// SessionIdle is how long an unused pass-through session is kept before
	// it is logged out (default 4 min, under the controller's 5 min idle
	// timeout).
	SessionIdle time.Duration

	// Auth is how Harbor authenticates to the adapter (default
	// passthrough). Each static mode needs its secret below and
	// ControllerCred.
	Auth AuthMode
	// HarborUsername and HarborPassword are what Harbor sends as Basic in
	// AuthBasic mode (HARBOR_BASIC_AUTH_USERNAME / _PASSWORD).
	HarborUsername string
	HarborPassword string
	// HarborBearerToken is the token Harbor sends in AuthBearer mode.
	HarborBearerToken string
	// HarborAPIKey is the X-ScannerAdapter-API-Key value in AuthAPIKey mode.
	HarborAPIKey string
	// ControllerCred is the adapter's own controller identity in every mode
	// but passthrough: an API key "name:secret" (recommended) or a user.
	ControllerCred controller.Cred
	// VerifyOK and VerifyFail bound how long a pass-through credential's
	// verdict is cached (defaults 60 s and 5 s).
	VerifyOK   time.Duration
	VerifyFail time.Duration

	// RegistryMap rewrites registry URLs the controller cannot resolve:
	// Harbor URL prefix → controller-reachable URL, e.g. "http://core:8080" →
	// "http://harbor-core.harbor.svc:80". The longest matching prefix wins.
	RegistryMap map[string]string
	// IgnoreProxy is sent as ignore_proxy on every scan (nil: not sent, the
	// controller's proxy settings apply).
	IgnoreProxy *bool
	// FeedBasedSeverity maps severities from the feed rating
	// (USE_FEED_BASED_SEVERITY).
	FeedBasedSeverity bool

	// CVEDBRefresh is how often the CVE DB version is read (default 30 s).
	CVEDBRefresh time.Duration
	// ReadyCheck is how often the controller's REST API is pinged for
	// readiness (default 5 s).
	ReadyCheck time.Duration
	// ScanDeadline bounds every scan from its ID's issue time, 429 back-off
	// included (default 60 min). Unknown IDs younger than this answer 302.
	ScanDeadline time.Duration
	// Workers is how many controller scans run at once (default 256: each
	// mostly waits on a long-poll, and the controller queues 2,048; a scan
	// handed to the controller survives an adapter restart, one still in
	// this adapter's queue does not).
	Workers int
	// QueueSize bounds the distinct digests waiting for a worker (default
	// 50,000); beyond it POST /scan answers 503 "scanner busy".
	QueueSize int
	// CacheBytes is the report cache budget (default 256 MiB) and CacheTTL
	// how long a report is kept (default 24 h).
	CacheBytes int64
	CacheTTL   time.Duration
	// MaxJobs bounds the scan jobs held (default 100,000, some 40 MB); an
	// evicted job is still answered from the cache by its digest.
	MaxJobs int
	// SBOMSourceBytes bounds the module inventories kept so that an SBOM of
	// a digest scanned for vulnerabilities needs no new scan (default 32 MiB).
	SBOMSourceBytes int64
	// RefreshAfter is the Refresh-After of 302 answers, 1–127 seconds
	// (default 5).
	RefreshAfter int
	// SBOM advertises and serves the sbom capability (cmd defaults it to
	// true; the zero value switches it off).
	SBOM bool

	// Logger receives JSON logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// DefaultAPIConfig returns the defaults cmd starts from.
func DefaultAPIConfig() APIConfig {
	return APIConfig{
		Auth:            AuthPassthrough,
		SessionIdle:     4 * time.Minute,
		VerifyOK:        60 * time.Second,
		VerifyFail:      5 * time.Second,
		CVEDBRefresh:    30 * time.Second,
		ReadyCheck:      5 * time.Second,
		ScanDeadline:    60 * time.Minute,
		Workers:         256,
		QueueSize:       50000,
		CacheBytes:      256 << 20,
		CacheTTL:        24 * time.Hour,
		MaxJobs:         100000,
		SBOMSourceBytes: 32 << 20,
		RefreshAfter:    5,
		SBOM:            true,
	}
}

// Configuration errors.
var ErrConfig = errors.New("proxy: invalid configuration")

func (c *APIConfig) defaults() error {
	d := DefaultAPIConfig()
	if c.Scanner.Name == "" {
		c.Scanner.Name = "NeuVector"
	}
	if c.Scanner.Vendor == "" {
		c.Scanner.Vendor = "SUSE"
	}
	if c.Scanner.Version == "" {
		c.Scanner.Version = "dev"
	}
	if c.Auth == "" {
		c.Auth = d.Auth
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur(&c.SessionIdle, d.SessionIdle)
	setDur(&c.VerifyOK, d.VerifyOK)
	setDur(&c.VerifyFail, d.VerifyFail)
	setDur(&c.CVEDBRefresh, d.CVEDBRefresh)
	setDur(&c.ReadyCheck, d.ReadyCheck)
	setDur(&c.ScanDeadline, d.ScanDeadline)
	setDur(&c.CacheTTL, d.CacheTTL)
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.QueueSize <= 0 {
		c.QueueSize = d.QueueSize
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = d.CacheBytes
	}
	if c.MaxJobs <= 0 {
		c.MaxJobs = d.MaxJobs
	}
	if c.SBOMSourceBytes <= 0 {
		c.SBOMSourceBytes = d.SBOMSourceBytes
	}
	if c.RefreshAfter == 0 {
		c.RefreshAfter = d.RefreshAfter
	}
	if c.RefreshAfter < 1 || c.RefreshAfter > 127 {
		return fmt.Errorf("%w: RefreshAfter %d: must be 1..127 seconds (Harbor parses it as int8)", ErrConfig, c.RefreshAfter)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Client == nil {
		return fmt.Errorf("%w: a controller client is required", ErrConfig)
	}
	switch c.Auth {
	case AuthPassthrough:
	case AuthBasic:
		if c.HarborUsername == "" || c.HarborPassword == "" {
			return fmt.Errorf("%w: auth mode basic needs HARBOR_BASIC_AUTH_USERNAME and HARBOR_BASIC_AUTH_PASSWORD", ErrConfig)
		}
		if strings.Contains(c.HarborUsername, ":") {
			return fmt.Errorf("%w: HARBOR_BASIC_AUTH_USERNAME must not contain ':'", ErrConfig)
		}
	case AuthBearer:
		if c.HarborBearerToken == "" {
			return fmt.Errorf("%w: auth mode bearer needs SCANNER_BEARER_TOKEN", ErrConfig)
		}
	case AuthAPIKey:
		if c.HarborAPIKey == "" {
			return fmt.Errorf("%w: auth mode apikey needs SCANNER_API_KEY", ErrConfig)
		}
	case AuthNone:
	default:
		return fmt.Errorf("%w: SCANNER_AUTH %q: must be passthrough, basic, bearer, apikey or none", ErrConfig, c.Auth)
	}
	if c.Auth != AuthPassthrough && c.ControllerCred.APIKey == "" &&
		(c.ControllerCred.Username == "" || c.ControllerCred.Password == "") {
		return fmt.Errorf("%w: auth mode %s calls the controller with the adapter's own credentials: "+
			"set CONTROLLER_API_KEY, or CONTROLLER_USERNAME and CONTROLLER_PASSWORD", ErrConfig, c.Auth)
	}
	for from, to := range c.RegistryMap {
		if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") ||
			!strings.HasPrefix(to, "http://") && !strings.HasPrefix(to, "https://") {
			return fmt.Errorf("%w: registry mapping %q → %q: both sides must be http(s) URLs", ErrConfig, from, to)
		}
	}
	return nil
}

// API is the Harbor side of the adapter: metadata, scan, report. It
// implements Backend.
//
// Choices where the design leaves room, in short:
//   - POST /scan never waits: cached → done at once; digest in flight → the
//     job joins the flight; else one task per digest on a bounded queue
//     (QueueSize) drained by Workers. Only a full queue answers 503.
//   - Before scanning, a worker looks the digest up in _repo_scan then
//     fed._repo_scan and takes a result of the current CVE DB. A 403 turns
//     look-ups off for lookupRetry (logged once, counted).
//   - SBOM: an SBOM scan builds both documents from the scan's modules. A
//     vulnerability-only scan keeps its modules in a byte-bounded LRU
//     (SBOMSourceBytes, memory on top of CacheBytes); older ones are rebuilt
//     from _repo_scan, and only failing that scanned again.
//   - A report request for an ID this process does not hold waits up to
//     recoveryWait for a background look-up (cache, _repo_scan,
//     fed._repo_scan; at most one per digest every recoveryRetry), then
//     answers 302 while the ID is younger than ScanDeadline, 404 after.
//   - Reports are streamed from the cache's chunks, never copied whole into
//     a response buffer.
type API struct {
	cfg      APIConfig
	log      *slog.Logger
	client   *controller.Client
	sessions *controller.Sessions
	static   *controller.Session // the adapter's own identity (static modes)
	auth     *authenticator
	handler  fasthttp.RequestHandler

	store   *cache.Store
	jobs    *cache.Jobs
	flights *cache.Flights
	sources *sbomSources

	queue chan *scanTask

	cvedb     atomic.Pointer[cvedbState]
	metadata  atomic.Pointer[metadataDoc]
	cvedbKick chan struct{} // asks the CVE DB loop to read now

	lookupsForbidden atomic.Bool
	lookupsOffUntil  atomic.Int64 // unix nanoseconds; look-ups skipped until then after a 403
	controllerOK     atomic.Bool
	controllerAt     atomic.Int64 // unix nanoseconds of the last readiness check
	controllerErr    atomic.Pointer[string]

	recMu        sync.Mutex
	recoveries   map[string]*recovery // background look-ups by purpose and digest
	refreshAfter []byte               // Refresh-After value of 302 answers

	// ctx ends at Shutdown: workers abandon their long-polls.
	ctx      context.Context
	cancel   context.CancelFunc
	workers  sync.WaitGroup
	started  atomic.Bool
	stopOnce sync.Once
}

// NewAPI validates cfg and builds the API. Workers start at once (so
// handler tests need no Run); Run adds the background loops.
func NewAPI(cfg APIConfig) (*API, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	a := &API{
		cfg:       cfg,
		log:       cfg.Logger,
		client:    cfg.Client,
		sessions:  cfg.Sessions,
		store:     cache.NewStore(cfg.CacheBytes, cfg.CacheTTL),
		jobs:      cache.NewJobs(cfg.MaxJobs, 2*cfg.ScanDeadline),
		flights:   cache.NewFlights(),
		sources:   newSBOMSources(cfg.SBOMSourceBytes),
		queue:     make(chan *scanTask, cfg.QueueSize),
		cvedbKick: make(chan struct{}, 1),

		recoveries:   make(map[string]*recovery),
		refreshAfter: formatRefreshAfter(cfg.RefreshAfter),
	}
	if a.sessions == nil {
		a.sessions = controller.NewSessions(cfg.Client, cfg.SessionIdle,
			controller.WithVerifyTTL(cfg.VerifyOK, cfg.VerifyFail))
	}
	if cfg.Auth != AuthPassthrough {
		a.static = controller.NewStaticSession(cfg.Client, cfg.ControllerCred)
	}
	a.auth = &authenticator{
		mode:     cfg.Auth,
		sessions: a.sessions,
		now:      cfg.Now,
		okTTL:    cfg.VerifyOK,
		failTTL:  cfg.VerifyFail,
		timeout:  4 * time.Second,
		verdicts: make(map[[32]byte]verdict),
		verify:   a.verifyCred,
		onVerified: func() {
			// The first credential Harbor sends is often "Test connection":
			// read the CVE DB now (this request already waited on a login)
			// so that its metadata shows the database date.
			if a.cvedb.Load().version == "" {
				ctx, cancel := context.WithTimeout(a.ctx, time.Second)
				a.refreshCVEDB(ctx)
				cancel()
			}
		},
	}
	switch cfg.Auth {
	case AuthBasic:
		a.auth.secret = sha256.Sum256([]byte(cfg.HarborUsername + ":" + cfg.HarborPassword))
	case AuthBearer:
		a.auth.secret = sha256.Sum256([]byte(cfg.HarborBearerToken))
	case AuthAPIKey:
		a.auth.secret = sha256.Sum256([]byte(cfg.HarborAPIKey))
	}
	a.cvedb.Store(&cvedbState{})
	a.rebuildMetadata()
	a.controllerErr.Store(new(string))
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.handler = a.newRouter()
	for range cfg.Workers {
		a.workers.Add(1)
		go a.worker()
	}
	return a, nil
}

// Handler is the Harbor API handler (both base paths).
func (a *API) Handler() fasthttp.RequestHandler { return a.handler }

// Run runs the background loops (CVE DB refresh, controller readiness
// check) until ctx ends.
func (a *API) Run(ctx context.Context) {
	a.started.Store(true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.cvedbLoop(ctx) }()
	go func() { defer wg.Done(); a.readyLoop(ctx) }()
	wg.Wait()
}

// Status reports what the background loops know, without calling the
// controller.
func (a *API) Status() Status {
	db := a.cvedb.Load()
	st := Status{
		ControllerOK:     a.controllerOK.Load(),
		ControllerError:  *a.controllerErr.Load(),
		CVEDBVersion:     db.version,
		CVEDBCreateTime:  db.createTime,
		LookupsForbidden: a.lookupsForbidden.Load(),
		QueueDepth:       len(a.queue),
		Jobs:             a.jobs.Len(),
		InFlight:         a.flights.Len(),
		Session:          "none",
	}
	if at := a.controllerAt.Load(); at != 0 {
		st.ControllerCheckedAt = time.Unix(0, at)
	}
	if a.static != nil {
		st.Session = a.static.Kind()
	} else if s := a.sessions.Any(); s != nil {
		st.Session = s.Kind()
	}
	return st
}

// Shutdown abandons the long-polls in flight (the controller finishes those
// scans and keeps them in _repo_scan) and logs controller sessions out
// within ctx.
func (a *API) Shutdown(ctx context.Context) {
	a.stopOnce.Do(func() {
		a.cancel()
		done := make(chan struct{})
		go func() { a.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		if a.static != nil {
			a.static.Logout(ctx)
		}
		a.sessions.CloseAll(ctx)
	})
}

// staticCred is the controller identity of the static modes.
func (a *API) staticCred() controller.Cred { return a.cfg.ControllerCred }

// verifyCred checks a pass-through credential with the controller; failed
// logins count against the user name and the client address.
func (a *API) verifyCred(ctx context.Context, cred controller.Cred, clientAddr string) error {
	return a.sessions.VerifyFrom(ctx, cred, clientAddr)
}

func noRelease() {}

// session returns the controller session to act with: the adapter's own in
// static modes, else cred's, pinned until release (a new token would
// restart the controller's scan job).
func (a *API) session(ctx context.Context, cred controller.Cred) (*controller.Session, func(), error) {
	if a.static != nil {
		return a.static, noRelease, nil
	}
	return a.sessions.Acquire(ctx, cred)
}
