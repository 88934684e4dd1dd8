package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Errors of the Server.
var (
	ErrServerConfig  = errors.New("proxy: invalid server configuration")
	ErrListen        = errors.New("proxy: cannot listen")
	ErrServe         = errors.New("proxy: listener failed")
	ErrServerRunning = errors.New("proxy: server already started")
)

// Defaults of ServerConfig, applied to zero fields by NewServer.
const (
	DefaultOpsAddr         = ":8091"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxHeaderBytes  = 8 << 10
	DefaultReadTimeout     = 15 * time.Second
	DefaultWriteTimeout    = 60 * time.Second
	DefaultIdleTimeout     = 120 * time.Second
	DefaultMaxConns        = 1024
	DefaultShutdownTimeout = 25 * time.Second
	// DefaultBackendShutdownTimeout is the longest Backend.Shutdown gets
	// (controller logouts); less when ShutdownTimeout is short.
	DefaultBackendShutdownTimeout = 5 * time.Second
)

// BuildInfo labels harbor_scanner_neuvector_build_info; the Makefile sets
// the values through the cmd layer.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// ServerConfig is the transport's configuration. Zero fields take the
// documented defaults; cmd maps environment variables and flags to it.
type ServerConfig struct {
	// Addr is the API listener's address (SCANNER_API_ADDR), e.g. ":8090"
	// for HTTP or ":9443" for HTTPS; "127.0.0.1:0" picks a free port.
	Addr string
	// OpsAddr is the plain-HTTP listener of /healthz, /readyz and /metrics
	// (OPS_ADDR); default ":8091".
	OpsAddr string

	// TLSEnabled serves the API over HTTPS with CertFile and KeyFile
	// (PEM; both required), reloaded when they change on disk.
	TLSEnabled bool
	CertFile   string
	KeyFile    string
	// ClientCAFile, when set, requires every API client to present a
	// certificate signed by one of its CAs (mTLS). Read once at start.
	ClientCAFile string
	// TLSReloadInterval is how often the certificate files are checked
	// for a change; default 5 s.
	TLSReloadInterval time.Duration

	// MaxBodyBytes is the largest request body accepted; larger ones get
	// a 413 ErrorResponse. Default 1 MiB (a scan request is a few KiB).
	MaxBodyBytes int
	// MaxHeaderBytes bounds the request line plus headers; larger ones get
	// 431. Default 8 KiB.
	MaxHeaderBytes int
	// ReadTimeout bounds reading a whole request, body included (slow
	// clients). Default 15 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response; it must allow a 40 MB report
	// on a slow link. Default 60 s.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long. Default
	// 120 s.
	IdleTimeout time.Duration
	// MaxConns caps the connections open on the API listener (never the
	// ops listener); over it a client gets a 503 ErrorResponse. Default
	// 1024; negative means no cap.
	MaxConns int
	// MaxConnsPerIP caps the connections of one client address on the API
	// listener (429 over it). Default 0: no cap, because Harbor's core and
	// jobservice pods, or an ingress, each hold many connections.
	MaxConnsPerIP int

	// ShutdownTimeout bounds Run's return after ctx is cancelled, whatever
	// the clients and the backend do. Default 25 s, within Kubernetes'
	// default 30 s grace period.
	ShutdownTimeout time.Duration
	// DrainDelay keeps the API listener accepting after readiness turned
	// 503, so that endpoints and load balancers stop routing to the pod
	// before it refuses connections. Default 0.
	DrainDelay time.Duration
	// BackendShutdownTimeout is the deadline given to Backend.Shutdown
	// (logouts). Default 5 s, at most a fifth of ShutdownTimeout.
	BackendShutdownTimeout time.Duration

	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Version labels the build_info metric.
	Version BuildInfo
	// WriteMetrics, when set, is called by /metrics after the server's own
	// metrics, for series kept outside MetricsSet (cache gauges).
	WriteMetrics func(w io.Writer)
}

// Server runs the API listener (the Backend's handler behind panic
// recovery, metrics, request logging and the transport limits, over HTTP
// or HTTPS) and the ops listener, and shuts both down gracefully.
type Server struct {
	cfg     ServerConfig
	backend Backend
	log     *slog.Logger

	api *fasthttp.Server
	ops *fasthttp.Server

	certs     *certReloader
	tlsConfig *tls.Config
	buildInfo string

	shuttingDown atomic.Bool
	started      atomic.Bool
	ready        chan struct{}

	mu      sync.Mutex
	addr    string
	opsAddr string
	limiter *limitListener

	// testHookBeforeClose runs in shutdown just before the API listener
	// closes, so a test can observe the order of the steps.
	testHookBeforeClose func()
}

// NewServer checks cfg, applies defaults, and loads the TLS material, so a
// bad certificate stops the start rather than the first handshake.
func NewServer(cfg ServerConfig, backend Backend) (*Server, error) {
	if backend == nil {
		return nil, fmt.Errorf("%w: no backend", ErrServerConfig)
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		backend:   backend,
		log:       cfg.Logger,
		ready:     make(chan struct{}),
		buildInfo: buildInfoLine(cfg.Version),
	}
	if cfg.TLSEnabled {
		certs, err := newCertReloader(cfg.CertFile, cfg.KeyFile, cfg.TLSReloadInterval, s.log)
		if err != nil {
			return nil, err
		}
		var clientCAs *x509.CertPool
		if cfg.ClientCAFile != "" {
			p, err := loadClientCAs(cfg.ClientCAFile)
			if err != nil {
				return nil, err
			}
			clientCAs = p
		}
		s.certs = certs
		s.tlsConfig = newTLSConfig(certs, clientCAs)
	}
	logger := newFasthttpLogger(s.log)
	s.api = &fasthttp.Server{
		Handler:            s.wrap(backend.Handler()),
		ErrorHandler:       s.onRequestError,
		Name:               "harbor-scanner-neuvector",
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		MaxRequestBodySize: cfg.MaxBodyBytes,
		ReadBufferSize:     cfg.MaxHeaderBytes,
		CloseOnShutdown:    true,
		Logger:             logger,
	}
	s.ops = &fasthttp.Server{
		Handler: s.opsHandler,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			status, body := requestErrorResponse(err)
			writeTransportError(ctx, status, body)
		},
		Name:               "harbor-scanner-neuvector-ops",
		ReadTimeout:        5 * time.Second,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxRequestBodySize: 64 << 10,
		CloseOnShutdown:    true,
		Logger:             logger,
	}
	return s, nil
}

func (c *ServerConfig) setDefaults() error {
	if c.Addr == "" {
		return fmt.Errorf("%w: Addr (SCANNER_API_ADDR) is empty", ErrServerConfig)
	}
	if c.OpsAddr == "" {
		c.OpsAddr = DefaultOpsAddr
	}
	if c.TLSEnabled && (c.CertFile == "" || c.KeyFile == "") {
		return fmt.Errorf("%w: TLS needs CertFile and KeyFile (SCANNER_TLS_CERT_FILE, SCANNER_TLS_KEY_FILE)", ErrServerConfig)
	}
	if !c.TLSEnabled && c.ClientCAFile != "" {
		return fmt.Errorf("%w: ClientCAFile (SCANNER_TLS_CLIENT_CA_FILE) needs TLS", ErrServerConfig)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxBodyBytes", int64(c.MaxBodyBytes)}, {"MaxHeaderBytes", int64(c.MaxHeaderBytes)},
		{"MaxConnsPerIP", int64(c.MaxConnsPerIP)},
		{"ReadTimeout", int64(c.ReadTimeout)}, {"WriteTimeout", int64(c.WriteTimeout)},
		{"IdleTimeout", int64(c.IdleTimeout)}, {"ShutdownTimeout", int64(c.ShutdownTimeout)},
		{"DrainDelay", int64(c.DrainDelay)}, {"BackendShutdownTimeout", int64(c.BackendShutdownTimeout)},
		{"TLSReloadInterval", int64(c.TLSReloadInterval)},
	} {
		if f.v < 0 {
			return fmt.Errorf("%w: %s is negative", ErrServerConfig, f.name)
		}
	}
	setDefault(&c.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.TLSReloadInterval, DefaultTLSReloadInterval)
	switch {
	case c.MaxConns == 0:
		c.MaxConns = DefaultMaxConns
	case c.MaxConns < 0:
		c.MaxConns = 0 // no cap
	}
	if c.BackendShutdownTimeout == 0 {
		c.BackendShutdownTimeout = min(DefaultBackendShutdownTimeout, c.ShutdownTimeout/5)
	}
	if c.DrainDelay+c.BackendShutdownTimeout >= c.ShutdownTimeout {
		return fmt.Errorf("%w: DrainDelay (%s) plus BackendShutdownTimeout (%s) must be below ShutdownTimeout (%s)",
			ErrServerConfig, c.DrainDelay, c.BackendShutdownTimeout, c.ShutdownTimeout)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, v := range []*string{&c.Version.Version, &c.Version.Commit, &c.Version.Date} {
		if *v == "" {
			*v = "unknown"
		}
	}
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Ready is closed once both listeners are bound and serving.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the API listener's bound address ("" before Ready).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// OpsAddr is the ops listener's bound address ("" before Ready).
func (s *Server) OpsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opsAddr
}

// ShuttingDown reports whether a graceful shutdown began; a backend may
// use it to refuse new scans with 503.
func (s *Server) ShuttingDown() bool { return s.shuttingDown.Load() }

// Run binds both listeners, serves until ctx is cancelled, then shuts down
// gracefully: /readyz turns 503, the API listener keeps accepting for
// DrainDelay, then stops accepting while in-flight requests finish,
// Backend.Shutdown runs with its own short deadline, and the ops listener
// closes last. Run returns within ShutdownTimeout of ctx's cancellation
// whatever clients or the backend do; it returns nil after a shutdown
// (overruns are logged) and an error only when a listener could not be
// bound or failed.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrServerRunning
	}
	apiLn, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("%w: API listener %s: %v", ErrListen, s.cfg.Addr, err)
	}
	opsLn, err := net.Listen("tcp", s.cfg.OpsAddr)
	if err != nil {
		_ = apiLn.Close()
		return fmt.Errorf("%w: ops listener %s: %v", ErrListen, s.cfg.OpsAddr, err)
	}
	lim := newLimitListener(apiLn, s.cfg.MaxConns, s.cfg.MaxConnsPerIP, s.tlsConfig, s.log)
	var ln net.Listener = lim
	if s.tlsConfig != nil {
		ln = tls.NewListener(lim, s.tlsConfig)
	}
	s.mu.Lock()
	s.addr, s.opsAddr, s.limiter = apiLn.Addr().String(), opsLn.Addr().String(), lim
	s.mu.Unlock()

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if s.certs != nil {
		go s.certs.watch(bg)
	}
	apiDone, opsDone := make(chan error, 1), make(chan error, 1)
	go func() { apiDone <- s.api.Serve(ln) }()
	go func() { opsDone <- s.ops.Serve(opsLn) }()
	close(s.ready)
	s.log.Info("listening", "addr", s.Addr(), "ops_addr", s.OpsAddr(), "tls", s.tlsConfig != nil,
		"mtls", s.cfg.ClientCAFile != "", "max_conns", s.cfg.MaxConns)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-apiDone:
		runErr = fmt.Errorf("%w: API: %v", ErrServe, err)
		apiDone <- nil // shutdown below waits for it
	case err := <-opsDone:
		runErr = fmt.Errorf("%w: ops: %v", ErrServe, err)
		opsDone <- nil
	}
	s.shutdown(ln, opsLn, apiDone, opsDone)
	return runErr
}

// shutdown is Run's graceful end, bounded by ShutdownTimeout.
func (s *Server) shutdown(apiLn, opsLn net.Listener, apiDone, opsDone <-chan error) {
	start := time.Now()
	deadline := start.Add(s.cfg.ShutdownTimeout)
	s.shuttingDown.Store(true)
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout, "drain_delay", s.cfg.DrainDelay)

	if s.cfg.DrainDelay > 0 {
		time.Sleep(s.cfg.DrainDelay) // the listener keeps serving meanwhile
	}

	// The ops listener gets a slice of the budget at the end, so the
	// HTTP drain and the backend cannot use all of it.
	opsReserve := min(time.Second, s.cfg.ShutdownTimeout/10)
	httpDeadline := deadline.Add(-s.cfg.BackendShutdownTimeout - opsReserve)
	if s.testHookBeforeClose != nil {
		s.testHookBeforeClose()
	}
	// Closing the listener ourselves also covers a Serve goroutine that
	// has not registered it with fasthttp yet (ctx cancelled at once).
	_ = apiLn.Close()
	hctx, cancel := context.WithDeadline(context.Background(), httpDeadline)
	if err := s.api.ShutdownWithContext(hctx); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Warn("in-flight requests did not finish before the shutdown deadline", "error", err.Error())
	}
	cancel()
	waitOr(apiDone, time.Until(httpDeadline))

	bDeadline := time.Now().Add(s.cfg.BackendShutdownTimeout)
	if d := deadline.Add(-opsReserve); bDeadline.After(d) {
		bDeadline = d
	}
	bctx, cancel := context.WithDeadline(context.Background(), bDeadline)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("backend shutdown panicked", "panic", panicText(r))
			}
		}()
		s.backend.Shutdown(bctx)
	}()
	select {
	case <-done:
	case <-bctx.Done():
		s.log.Warn("backend shutdown did not finish before its deadline; abandoning it")
	}
	cancel()

	_ = opsLn.Close()
	octx, cancel := context.WithDeadline(context.Background(), deadline)
	if err := s.ops.ShutdownWithContext(octx); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Warn("ops listener did not close before the shutdown deadline", "error", err.Error())
	}
	cancel()
	waitOr(opsDone, time.Until(deadline))
	s.log.Info("shut down", "took", time.Since(start))
}

// waitOr waits for c for at most d.
func waitOr(c <-chan error, d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
	case <-t.C:
	}
}

// wrap puts the backend's handler behind panic recovery, request metrics
// and the debug request log.
func (s *Server) wrap(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		route := routeOf(ctx.Path())
		if s.shuttingDown.Load() {
			// Let keep-alive clients reconnect elsewhere while draining.
			ctx.SetConnectionClose()
		}
		defer s.finish(ctx, route, start)
		next(ctx)
	}
}

// finish is wrap's deferred half: it recovers a panic into a 500
// ErrorResponse, then counts and logs the answer. The duration is the
// handler's; the body is written after it returns.
func (s *Server) finish(ctx *fasthttp.RequestCtx, route int, start time.Time) {
	if r := recover(); r != nil {
		httpPanics.Inc()
		s.log.Error("handler panicked", "route", routeNames[route], "panic", panicText(r), "stack", string(debug.Stack()))
		writeTransportError(ctx, fasthttp.StatusInternalServerError, bodyInternal)
		ctx.SetConnectionClose()
	}
	d := time.Since(start)
	code := ctx.Response.StatusCode()
	observeRequest(route, code, d)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		// Method, route, status and duration only: never headers, path
		// (the scan ID) or body.
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "request",
			slog.String("method", string(ctx.Method())), slog.String("route", routeNames[route]),
			slog.Int("status", code), slog.Duration("duration", d))
	}
}

// panicText describes a panic without echoing arbitrary values, which may
// hold request data: runtime errors (nil dereference, index out of range)
// are safe to print, anything else is named by its type.
func panicText(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("panic value of type %T", r)
}
