package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrTLSConfig is returned by NewServer when the certificate, key or client
// CA cannot be loaded at start.
var ErrTLSConfig = errors.New("proxy: invalid TLS configuration")

// DefaultTLSReloadInterval is how often the certificate files are checked
// for a change (cert-manager rotation, a Kubernetes secret update).
const DefaultTLSReloadInterval = 5 * time.Second

// tlsCipherSuites are the TLS 1.2 suites offered: forward-secret ECDHE with
// AEAD ciphers only. TLS 1.3 suites are all AEAD and not configurable.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// newTLSConfig is the API listener's TLS configuration: TLS 1.2 minimum,
// the current certificate of certs, and client certificates required and
// verified against clientCAs when it is not nil (mTLS).
func newTLSConfig(certs *certReloader, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tlsCipherSuites,
		GetCertificate: certs.GetCertificate,
		// fasthttp speaks HTTP/1.1 only.
		NextProtos: []string{"http/1.1"},
	}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

// loadClientCAs reads a PEM bundle of CA certificates.
func loadClientCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: client CA file: %v", ErrTLSConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: client CA file %s: no PEM certificate found", ErrTLSConfig, file)
	}
	return pool, nil
}

// certReloader serves the certificate and key read from two files and
// reloads them when either changes on disk. The check is a stat of both
// files (following symlinks, so a Kubernetes secret volume's ..data swap
// is seen), throttled to once per interval, done both on handshakes and by
// a background loop. A pair that fails to load keeps the previous one.
type certReloader struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger

	cert      atomic.Pointer[tls.Certificate]
	lastCheck atomic.Int64 // unix nanoseconds

	mu      sync.Mutex // serialises checks; handshakes never wait on it
	seen    [2]os.FileInfo
	lastErr string
}

// newCertReloader loads the pair once; a failure here stops the start.
func newCertReloader(certFile, keyFile string, interval time.Duration, log *slog.Logger) (*certReloader, error) {
	if interval <= 0 {
		interval = DefaultTLSReloadInterval
	}
	r := &certReloader{certFile: certFile, keyFile: keyFile, interval: interval, log: log}
	stamps, err := r.stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTLSConfig, err)
	}
	cert, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTLSConfig, err)
	}
	r.seen = stamps
	r.cert.Store(cert)
	r.lastCheck.Store(time.Now().UnixNano())
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair, after a
// throttled check for a change on disk.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.check(time.Now(), false)
	return r.cert.Load(), nil
}

// Current is the pair served now.
func (r *certReloader) Current() *tls.Certificate { return r.cert.Load() }

// watch checks for a change every interval until ctx ends, so that a
// rotation is logged (and a broken one reported) even without traffic.
func (r *certReloader) watch(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.check(now, true)
		}
	}
}

// check reloads the pair if the files changed since the last load attempt.
// Unless force, it does nothing when checked less than interval ago.
func (r *certReloader) check(now time.Time, force bool) {
	if !force && now.UnixNano()-r.lastCheck.Load() < int64(r.interval) {
		return
	}
	if !r.mu.TryLock() {
		return // another goroutine is checking; serve the current pair
	}
	defer r.mu.Unlock()
	r.lastCheck.Store(now.UnixNano())

	stamps, err := r.stat()
	if err != nil {
		r.fail(err)
		return
	}
	if sameStamp(stamps[0], r.seen[0]) && sameStamp(stamps[1], r.seen[1]) {
		return
	}
	// Remember the stamps taken before reading: a write racing the read
	// changes them again and triggers another attempt.
	r.seen = stamps
	cert, err := r.load()
	if err != nil {
		r.fail(err)
		return
	}
	r.cert.Store(cert)
	r.lastErr = ""
	tlsReloadsOK.Inc()
	attrs := []any{"cert_file", r.certFile}
	if cert.Leaf != nil {
		attrs = append(attrs, "serial", cert.Leaf.SerialNumber.String(), "not_after", cert.Leaf.NotAfter)
	}
	r.log.Info("TLS certificate reloaded", attrs...)
}

// fail counts a failed check and logs it once per distinct error, so a
// broken pair left on disk does not flood the log.
func (r *certReloader) fail(err error) {
	msg := err.Error()
	if msg == r.lastErr {
		return
	}
	r.lastErr = msg
	tlsReloadsFailed.Inc()
	r.log.Error("TLS certificate reload failed; serving the previous certificate",
		"cert_file", r.certFile, "key_file", r.keyFile, "error", msg)
}

func (r *certReloader) stat() ([2]os.FileInfo, error) {
	var st [2]os.FileInfo
	var err error
	if st[0], err = os.Stat(r.certFile); err != nil {
		return st, err
	}
	if st[1], err = os.Stat(r.keyFile); err != nil {
		return st, err
	}
	return st, nil
}

// load reads and parses the pair. Parse errors of crypto/tls name what is
// wrong, never the key material.
func (r *certReloader) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate %s / key %s: %w", r.certFile, r.keyFile, err)
	}
	return &cert, nil
}

// sameStamp reports whether b is the same file, unchanged, as a.
func sameStamp(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
