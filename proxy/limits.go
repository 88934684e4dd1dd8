package proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/neuvector/harbor-scanner-neuvector/translate"
)

// Fixed error bodies of the transport layer. They never echo the request:
// fasthttp's own parse errors quote raw header bytes, credentials included.
var (
	bodyTooLarge     = transportErrorBody("request body too large")
	bodyHeaderLarge  = transportErrorBody("request header too large")
	bodyTimeout      = transportErrorBody("request timeout")
	bodyMalformed    = transportErrorBody("malformed request")
	bodyInternal     = transportErrorBody("internal error")
	bodyTooManyConns = transportErrorBody("too many connections")
	bodyTooManyPerIP = transportErrorBody("too many connections from this address")
)

func transportErrorBody(msg string) []byte {
	// msg is a constant without characters JSON must escape.
	return []byte(`{"error":{"message":"` + msg + `"}}`)
}

// writeTransportError answers with one of the fixed ErrorResponse bodies,
// in the shape and MIME type the API uses.
func writeTransportError(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType(translate.MimeError10)
	ctx.SetBody(body)
}

// requestErrorResponse maps an error fasthttp met while reading a request
// to the status and body the client gets.
func requestErrorResponse(err error) (int, []byte) {
	var small *fasthttp.ErrSmallBuffer
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fasthttp.StatusRequestEntityTooLarge, bodyTooLarge
	case errors.As(err, &small):
		return fasthttp.StatusRequestHeaderFieldsTooLarge, bodyHeaderLarge
	case errors.As(err, &timeout) && timeout.Timeout():
		return fasthttp.StatusRequestTimeout, bodyTimeout
	}
	return fasthttp.StatusBadRequest, bodyMalformed
}

// onRequestError is the API server's fasthttp ErrorHandler: every request
// fasthttp cannot read (body over the limit, header too large, malformed
// request line, timeout) gets a JSON ErrorResponse instead of fasthttp's
// text/plain one, and is counted like any other answer.
func (s *Server) onRequestError(ctx *fasthttp.RequestCtx, err error) {
	status, body := requestErrorResponse(err)
	writeTransportError(ctx, status, body)
	route := routeOf(ctx.Path())
	httpRequestsCounter(route, status).Inc()
	// The reason is the fixed message, never err: it may quote the request.
	s.log.Debug("request rejected", "route", routeNames[route], "status", status)
}

// limitListener caps the connections open on the API listener, in total
// and per client address. A connection over a cap is answered with a JSON
// 503 (total) or 429 (per address) and closed; the ops listener has no
// such cap, so the kubelet always reaches the probes.
type limitListener struct {
	net.Listener
	max   int // 0: no total cap
	perIP int // 0: no per-address cap
	// tlsConfig, when set, is used to handshake a rejected connection so
	// that its client can read the JSON answer.
	tlsConfig *tls.Config
	log       *slog.Logger

	open      atomic.Int64
	lastWarn  atomic.Int64 // unix nanoseconds of the last "cap reached" warning
	mu        sync.Mutex
	byIP      map[string]int
	rejecters chan struct{} // bounds the goroutines answering rejected connections
}

// maxRejecters bounds the goroutines answering rejected connections; past
// it a rejected connection is closed without an answer.
const maxRejecters = 64

// rejectTimeout bounds the answer to a rejected connection, handshake
// included.
const rejectTimeout = 2 * time.Second

func newLimitListener(ln net.Listener, maxConns, perIP int, tlsConfig *tls.Config, log *slog.Logger) *limitListener {
	return &limitListener{
		Listener:  ln,
		max:       maxConns,
		perIP:     perIP,
		tlsConfig: tlsConfig,
		log:       log,
		byIP:      make(map[string]int),
		rejecters: make(chan struct{}, maxRejecters),
	}
}

// Accept returns the next connection within the caps, answering and
// closing those over them.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := ""
		if l.perIP > 0 {
			ip = hostOf(c.RemoteAddr())
		}
		switch l.acquire(ip) {
		case limitOK:
			return &limitConn{Conn: c, l: l, ip: ip}, nil
		case limitTotal:
			connsRejectedMax.Inc()
			l.warn("API connection cap reached; rejecting connections", "max_conns", l.max)
			l.reject(c, fasthttp.StatusServiceUnavailable, bodyTooManyConns)
		case limitPerIP:
			connsRejectedPerIP.Inc()
			l.warn("per-address connection cap reached; rejecting connections", "max_conns_per_ip", l.perIP, "client", ip)
			l.reject(c, fasthttp.StatusTooManyRequests, bodyTooManyPerIP)
		}
	}
}

const (
	limitOK = iota
	limitTotal
	limitPerIP
)

func (l *limitListener) acquire(ip string) int {
	if n := l.open.Add(1); l.max > 0 && n > int64(l.max) {
		l.open.Add(-1)
		return limitTotal
	}
	if l.perIP > 0 {
		l.mu.Lock()
		n := l.byIP[ip] + 1
		if n > l.perIP {
			l.mu.Unlock()
			l.open.Add(-1)
			return limitPerIP
		}
		l.byIP[ip] = n
		l.mu.Unlock()
	}
	return limitOK
}

func (l *limitListener) release(ip string) {
	if l.perIP > 0 {
		l.mu.Lock()
		if n := l.byIP[ip] - 1; n > 0 {
			l.byIP[ip] = n
		} else {
			delete(l.byIP, ip)
		}
		l.mu.Unlock()
	}
	l.open.Add(-1)
}

// warn logs at most once a minute: a flood must not flood the log too.
func (l *limitListener) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(time.Minute) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn(msg, args...)
}

// Open is the number of connections currently counted against the caps.
func (l *limitListener) Open() int { return int(l.open.Load()) }

// reject answers c with status in the background (bounded), so that a slow
// client cannot stall the accept loop.
func (l *limitListener) reject(c net.Conn, status int, body []byte) {
	select {
	case l.rejecters <- struct{}{}:
		go func() {
			defer func() { <-l.rejecters }()
			l.answer(c, status, body)
		}()
	default:
		_ = c.Close()
	}
}

// answer writes a complete JSON error response to a connection that will
// not be served, then half-closes it and drains what the client sent, so
// the client reads the answer instead of a connection reset.
func (l *limitListener) answer(c net.Conn, status int, body []byte) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(rejectTimeout))
	w := c
	var tc *tls.Conn
	if l.tlsConfig != nil {
		tc = tls.Server(c, l.tlsConfig)
		if err := tc.Handshake(); err != nil {
			return
		}
		w = tc
	}
	if _, err := w.Write(rejectResponse(status, body)); err != nil {
		return
	}
	if tc != nil {
		_ = tc.CloseWrite()
	} else if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(w, 64<<10))
}

func rejectResponse(status int, body []byte) []byte {
	b := make([]byte, 0, 256+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, fasthttp.StatusMessage(status)...)
	b = append(b, "\r\nContent-Type: "+translate.MimeError10+"\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

// hostOf is the client address without its port.
func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	s := a.String()
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	l      *limitListener
	ip     string
	closed atomic.Bool
}

func (c *limitConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.ip)
	}
	return c.Conn.Close()
}

// CloseWrite lets a TLS layer or fasthttp half-close the connection.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
