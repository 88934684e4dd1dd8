package controller

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Endpoint names passed to Config.Observe and logged; fixed strings so that
// metric label values stay bounded.
const (
	EndpointAuth      = "auth"
	EndpointLogout    = "logout"
	EndpointKeepAlive = "keepalive"
	EndpointScan      = "scan"
	EndpointSummary   = "summary"
	EndpointImages    = "images"
	EndpointImage     = "image"
	EndpointPing      = "ping"
)

// Defaults of Config.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultPollTimeout        = 90 * time.Second
	DefaultControllerLongPoll = 30 * time.Second
	DefaultMaxBodySize        = 256 << 20
	DefaultBackoffMin         = time.Second
	DefaultBackoffMax         = 30 * time.Second
)

// Config configures a Client.
type Config struct {
	URL         string        // e.g. https://127.0.0.1:10443
	TLS         *tls.Config   // nil: system roots
	PollTimeout time.Duration // client timeout of one long-poll call; must exceed the controller's (30 s); default 90 s
	Timeout     time.Duration // other calls; default 10 s
	Logger      *slog.Logger

	// ControllerLongPoll is the controller's repo_scan_long_poll_timeout;
	// PollTimeout must exceed it, or the controller would answer a request
	// nobody reads and the next poll would start the scan again.
	ControllerLongPoll time.Duration
	// MaxBodySize bounds a response body, compressed and decompressed
	// (reports reach tens of MB); default 256 MiB.
	MaxBodySize int
	// MaxConns bounds connections for ordinary calls (default 32). Each scan
	// long-poll has a connection of its own besides, so that long-polls
	// never starve logins and look-ups and an abandoned one can be cut.
	MaxConns int
	// BackoffMin and BackoffMax bound the exponential back-off (with jitter)
	// after a 429 or a network error during a scan; default 1 s and 30 s.
	BackoffMin, BackoffMax time.Duration
	// Compression asks the controller for gzip bodies: "on", "off", or ""
	// (auto: off when the controller is on this machine's loopback, as in
	// the sidecar, where compressing costs both sides CPU and saves nothing).
	Compression string
	// Observe, when set, is called after every HTTP exchange with the fixed
	// endpoint name, the HTTP status (0 when there was no answer) and the
	// duration; proxy records its metrics with it.
	Observe func(endpoint string, status int, d time.Duration)
}

// Client talks to one controller REST endpoint. Safe for concurrent use.
type Client struct {
	base        string // scheme://host[/prefix] without trailing slash
	timeout     time.Duration
	pollTimeout time.Duration
	maxBody     int
	backoffMin  time.Duration
	backoffMax  time.Duration
	observe     func(string, int, time.Duration)
	gzip        bool // ask for gzip bodies (not over loopback)
	log         *slog.Logger
	hc          *fasthttp.HostClient
	newHC       func(maxConns int, idle time.Duration, sets ...*connSet) *fasthttp.HostClient

	// dialer makes the TCP connection; tests swap in an in-memory one.
	dialer func(addr string, timeout time.Duration) (net.Conn, error)
	// conns holds every open connection, so that Close can end them all.
	conns connSet
}

// New returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// Not echoed: a mistyped URL may carry credentials.
		return nil, errors.New("controller: the controller URL does not parse: want https://host:port")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("controller: bad controller URL %q: want https://host:port", u.Redacted())
	}
	c := &Client{
		base:        u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"),
		timeout:     orDur(cfg.Timeout, DefaultTimeout),
		pollTimeout: orDur(cfg.PollTimeout, DefaultPollTimeout),
		maxBody:     cfg.MaxBodySize,
		backoffMin:  orDur(cfg.BackoffMin, DefaultBackoffMin),
		backoffMax:  orDur(cfg.BackoffMax, DefaultBackoffMax),
		observe:     cfg.Observe,
		log:         cfg.Logger,
		dialer: func(addr string, timeout time.Duration) (net.Conn, error) {
			return net.DialTimeout("tcp", addr, timeout)
		},
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodySize
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	if lp := orDur(cfg.ControllerLongPoll, DefaultControllerLongPoll); c.pollTimeout <= lp {
		return nil, fmt.Errorf("controller: the long-poll timeout (%s) must exceed the controller's long-poll (%s)", c.pollTimeout, lp)
	}
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr = net.JoinHostPort(u.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	tlsCfg := cfg.TLS
	if tlsCfg == nil {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsCfg = tlsCfg.Clone()
	}
	// Every scan long-poll has a connection of its own (so that abandoning
	// it cuts just that one): resume TLS sessions rather than pay a full
	// handshake per scan, on both sides of the connection.
	if tlsCfg.ClientSessionCache == nil {
		tlsCfg.ClientSessionCache = tls.NewLRUClientSessionCache(256)
	}
	// In the sidecar the controller is on the pod's loopback: compressing
	// reports there costs the controller's CPU and ours and saves nothing,
	// and the traffic never leaves the pod, so the post-quantum hybrid key
	// exchange of each new connection buys nothing either.
	loopback := isLoopback(u.Hostname())
	switch cfg.Compression {
	case "on":
		c.gzip = true
	case "off":
		c.gzip = false
	case "":
		c.gzip = !loopback
	default:
		return nil, fmt.Errorf("controller: Compression %q is not on, off or empty", cfg.Compression)
	}
	if loopback && tlsCfg.CurvePreferences == nil {
		tlsCfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	}
	c.newHC = func(maxConns int, idle time.Duration, sets ...*connSet) *fasthttp.HostClient {
		sets = append(sets, &c.conns)
		return &fasthttp.HostClient{
			Addr:                   addr,
			Name:                   "harbor-scanner-neuvector",
			IsTLS:                  u.Scheme == "https",
			TLSConfig:              tlsCfg,
			MaxConns:               maxConns,
			MaxConnWaitTimeout:     5 * time.Second,
			MaxIdleConnDuration:    idle,
			MaxResponseBodySize:    c.maxBody,
			DisablePathNormalizing: true, // keep the escaping of registry names
			DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
				return c.dial(addr, timeout, sets)
			},
		}
	}
	c.hc = c.newHC(orInt(cfg.MaxConns, 32), 30*time.Second)
	return c, nil
}

// isLoopback tells whether host names this machine's loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func orDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orInt(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// connSet tracks open connections so that they can be cut: all of them at
// Close, or those of one abandoned scan.
type connSet struct {
	mu     sync.Mutex
	m      map[*trackedConn]struct{}
	closed bool
}

// add registers t; false when the set is closed already.
func (s *connSet) add(t *trackedConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.m == nil {
		s.m = make(map[*trackedConn]struct{})
	}
	s.m[t] = struct{}{}
	return true
}

func (s *connSet) remove(t *trackedConn) {
	s.mu.Lock()
	delete(s.m, t)
	s.mu.Unlock()
}

// closeAll closes every connection of the set and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*trackedConn, 0, len(s.m))
	for t := range s.m {
		conns = append(conns, t)
	}
	s.mu.Unlock()
	for _, t := range conns {
		t.Close()
	}
}

// trackedConn leaves its sets when closed.
type trackedConn struct {
	net.Conn
	sets []*connSet
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		for _, s := range t.sets {
			s.remove(t)
		}
	})
	return t.Conn.Close()
}

func (c *Client) dial(addr string, timeout time.Duration, sets []*connSet) (net.Conn, error) {
	conn, err := c.dialer(addr, timeout)
	if err != nil {
		return nil, err
	}
	t := &trackedConn{Conn: conn, sets: sets}
	for _, s := range sets {
		if !s.add(t) {
			t.Close()
			return nil, errClientClosed
		}
	}
	return t, nil
}

var errClientClosed = errors.New("client closed")

// Close closes every connection, ending abandoned long-polls at shutdown;
// later calls fail with ErrUnavailable. Log sessions out before.
func (c *Client) Close() {
	c.conns.closeAll()
	c.hc.CloseIdleConnections()
}

// exchange is one HTTP request to the controller.
type exchange struct {
	ep      string
	method  string
	path    string // escaped, starting with /v1/
	body    []byte
	auth    authHeader
	timeout time.Duration
	// hc, when set, is the scan's own HostClient; abandon cuts its
	// connection when the caller's ctx ends mid-request.
	hc      *fasthttp.HostClient
	abandon func()
}

type authHeader struct {
	name, value string
}

// do sends x and returns the response, which the caller owns and releases
// with fasthttp.ReleaseResponse. Only an error means there is no response.
// When ctx ends first, do returns at once: the request goroutine finishes
// when x.abandon (or Close) cuts its connection, or at its own deadline, and
// frees itself.
func (c *Client) do(ctx context.Context, x *exchange) (*fasthttp.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(ctx, x.ep)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.Header.SetMethod(x.method)
	req.SetRequestURI(c.base + x.path)
	req.Header.Set("Accept", "application/json")
	if c.gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if x.body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(x.body)
	}
	if x.auth.name != "" {
		req.Header.Set(x.auth.name, x.auth.value)
	}
	deadline := time.Now().Add(x.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	hc := c.hc
	if x.hc != nil {
		hc = x.hc
	}
	start := time.Now()
	var err error
	if ctx.Done() == nil {
		err = hc.DoDeadline(req, resp, deadline)
	} else {
		done := make(chan error, 1)
		go func() { done <- hc.DoDeadline(req, resp, deadline) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			if x.abandon != nil {
				x.abandon()
			}
			go func() {
				<-done
				fasthttp.ReleaseRequest(req)
				fasthttp.ReleaseResponse(resp)
			}()
			c.record(x, 0, time.Since(start), false)
			return nil, ctxErr(ctx, x.ep)
		}
	}
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		// The caller giving up is not a controller error: not observed.
		done := ctxDone(ctx)
		c.record(x, 0, time.Since(start), !done)
		if done {
			return nil, ctxErr(ctx, x.ep)
		}
		// Transport errors name addresses and TLS failures, never headers.
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, x.ep, err)
	}
	c.record(x, resp.StatusCode(), time.Since(start), true)
	return resp, nil
}

func (c *Client) record(x *exchange, status int, d time.Duration, observe bool) {
	if observe && c.observe != nil {
		c.observe(x.ep, status, d)
	}
	// The path holds registry names and digests only; bodies and headers
	// (credentials) are never logged.
	c.log.Debug("controller call", "endpoint", x.ep, "method", x.method, "path", x.path,
		"status", status, "duration", d)
}

// body returns the decompressed body of resp, or ErrUnavailable when it
// cannot be decompressed within the size limit.
func (c *Client) body(ep string, resp *fasthttp.Response) ([]byte, error) {
	if bytes.EqualFold(resp.Header.ContentEncoding(), []byte("gzip")) {
		b, err := resp.BodyGunzipWithLimit(c.maxBody)
		if err != nil {
			return nil, &StatusError{Endpoint: ep, Status: resp.StatusCode(), Text: "undecodable gzip body", err: ErrUnavailable}
		}
		return b, nil
	}
	return resp.Body(), nil
}

// decodeInto decodes a 200 body; a body that is not the expected JSON is
// ErrUnavailable with the status (a truncated answer is not a result).
func (c *Client) decodeInto(ep string, resp *fasthttp.Response, v any) error {
	b, err := c.body(ep, resp)
	if err != nil {
		return err
	}
	return decodeJSON(ep, resp.StatusCode(), b, v)
}

// decodeJSON decodes a controller answer into a wire type; any failure is
// ErrUnavailable naming the endpoint and status, never the bytes.
func decodeJSON(ep string, status int, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return &StatusError{Endpoint: ep, Status: status, Text: "malformed JSON body", err: ErrUnavailable}
	}
	return nil
}

// decodeRESTError decodes a controller error body; ok is false when the body
// is not a RESTError (a proxy's HTML page, a truncated body).
func decodeRESTError(b []byte) (re translate.RESTError, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return re, false
	}
	if err := json.Unmarshal(b, &re); err != nil || re.Code == 0 {
		return translate.RESTError{}, false
	}
	return re, true
}

// restError decodes resp's error body (nil when it is not a RESTError).
func (c *Client) restError(ep string, resp *fasthttp.Response) *translate.RESTError {
	b, err := c.body(ep, resp)
	if err != nil {
		return nil
	}
	re, ok := decodeRESTError(b)
	if !ok {
		return nil
	}
	return &re
}

// failure maps a non-200 answer of an ordinary call to an error.
func (c *Client) failure(ep string, resp *fasthttp.Response) error {
	status := resp.StatusCode()
	re := c.restError(ep, resp)
	switch {
	case status == fasthttp.StatusUnauthorized:
		return statusErr(ErrAuth, ep, status, re)
	case status == fasthttp.StatusForbidden:
		return statusErr(ErrForbidden, ep, status, re)
	case status == fasthttp.StatusNotFound && re != nil && re.Code == translate.CodeObjectNotFound:
		return statusErr(ErrNotFound, ep, status, re)
	}
	return statusErr(ErrUnavailable, ep, status, re)
}
