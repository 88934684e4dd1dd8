package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testCA is a CA generated for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by ca, for 127.0.0.1 when
// server, for client authentication otherwise.
func (ca *testCA) issue(t testing.TB, serial int64, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "harbor-scanner-neuvector"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// writeAtomic replaces path as cert-manager's writers do: write aside,
// rename over.
func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsServer starts an HTTPS server with a certificate of serial 1 and
// returns it with its certificate paths.
func tlsServer(t *testing.T, ca *testCA, mutate func(*ServerConfig)) (s *Server, certFile, keyFile string, logs *logBuffer) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "ssl-cert.pem"), filepath.Join(dir, "ssl-cert.key")
	c, k := ca.issue(t, 1, true)
	writeAtomic(t, certFile, c)
	writeAtomic(t, keyFile, k)
	logs = &logBuffer{}
	cfg := testConfig()
	cfg.TLSEnabled, cfg.CertFile, cfg.KeyFile = true, certFile, keyFile
	cfg.Logger = newTestLogger(t, logs, "info")
	if mutate != nil {
		mutate(&cfg)
	}
	s = newTestServer(t, cfg, &fakeBackend{})
	runServer(t, s)
	return s, certFile, keyFile, logs
}

// tlsGet does one request over a fresh TLS connection and returns the
// server certificate's serial and the status.
func tlsGet(addr string, cfg *tls.Config) (serial int64, status int, err error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	serial = c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	if _, err := io.WriteString(c, "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		return serial, 0, err
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		return serial, 0, err
	}
	return serial, resp.StatusCode(), nil
}

func TestTLSVersionsAndSuites(t *testing.T) {
	ca := newTestCA(t, "test CA")
	s, _, _, _ := tlsServer(t, ca, nil)

	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		_, status, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool(), MinVersion: v, MaxVersion: v})
		if err != nil || status != 200 {
			t.Errorf("%s: status %d err %v", tls.VersionName(v), status, err)
		}
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, _, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool(), MinVersion: v, MaxVersion: v})
		// "remote error": the server refused, not the client.
		if err == nil || !strings.Contains(err.Error(), "remote error") {
			t.Errorf("%s: err %v, want the server to refuse", tls.VersionName(v), err)
		}
	}
	// TLS 1.2 without forward secrecy or with CBC is refused.
	for _, suite := range []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA} {
		_, _, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil || !strings.Contains(err.Error(), "remote error") {
			t.Errorf("suite %s: err %v, want the server to refuse", tls.CipherSuiteName(suite), err)
		}
	}
	// Plain HTTP on the TLS port gets no answer that looks like success.
	resp, err := func() (*fasthttp.Response, error) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			return nil, err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n")
		r := &fasthttp.Response{}
		return r, r.Read(bufio.NewReader(c))
	}()
	if err == nil && resp.StatusCode() == 200 {
		t.Error("plain HTTP served on the TLS listener")
	}
}

func TestTLSRotation(t *testing.T) {
	ca := newTestCA(t, "test CA")
	s, certFile, keyFile, logs := tlsServer(t, ca, func(c *ServerConfig) { c.TLSReloadInterval = 20 * time.Millisecond })
	client := &tls.Config{RootCAs: ca.pool()}
	waitSerial := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, status, err := tlsGet(s.Addr(), client)
			if err == nil && got == want && status == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("serial %d (status %d, err %v), want %d; logs: %s", got, status, err, want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSerial(1)

	// Rotation: both files replaced.
	c, k := ca.issue(t, 2, true)
	writeAtomic(t, keyFile, k)
	writeAtomic(t, certFile, c)
	waitSerial(2)
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("reload not logged: %s", logs.String())
	}

	// A broken pair keeps the previous certificate and logs an error.
	failedBefore := tlsReloadsFailed.Get()
	writeAtomic(t, certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	// Wait on the counter, not the log: the rotation above may already have
	// logged a failure (key written before the certificate).
	deadline := time.Now().Add(5 * time.Second)
	for tlsReloadsFailed.Get() <= failedBefore {
		if time.Now().After(deadline) {
			t.Fatalf("broken pair not counted: %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "TLS certificate reload failed") {
		t.Error("failed reload not logged")
	}
	for range 3 {
		got, status, err := tlsGet(s.Addr(), client)
		if err != nil || got != 2 || status != 200 {
			t.Fatalf("after a broken rotation: serial %d status %d err %v", got, status, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	// A key that does not match the certificate is refused too.
	failedBefore = tlsReloadsFailed.Get()
	c3, _ := ca.issue(t, 3, true)
	writeAtomic(t, certFile, c3)
	deadline = time.Now().Add(5 * time.Second)
	for tlsReloadsFailed.Get() == failedBefore {
		if time.Now().After(deadline) {
			t.Fatalf("mismatched pair not reported: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, _, err := tlsGet(s.Addr(), client); err != nil || got != 2 {
		t.Fatalf("mismatched pair: serial %d err %v", got, err)
	}
	// Fixing the key completes the rotation.
	c4, k4 := ca.issue(t, 4, true)
	writeAtomic(t, keyFile, k4)
	writeAtomic(t, certFile, c4)
	waitSerial(4)
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("key material in the logs")
	}
}

// TestTLSRotationSecretVolume follows a Kubernetes secret volume: the
// files are symlinks through ..data, which the kubelet swaps atomically.
func TestTLSRotationSecretVolume(t *testing.T) {
	ca := newTestCA(t, "test CA")
	dir := t.TempDir()
	writeVersion := func(name string, serial int64) {
		t.Helper()
		vdir := filepath.Join(dir, name)
		if err := os.Mkdir(vdir, 0o700); err != nil {
			t.Fatal(err)
		}
		c, k := ca.issue(t, serial, true)
		if err := os.WriteFile(filepath.Join(vdir, "tls.crt"), c, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vdir, "tls.key"), k, 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2026_12_04_01", 10)
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig()
	cfg.TLSEnabled, cfg.CertFile, cfg.KeyFile = true, filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	cfg.TLSReloadInterval = 20 * time.Millisecond
	s := newTestServer(t, cfg, &fakeBackend{})
	runServer(t, s)
	client := &tls.Config{RootCAs: ca.pool()}
	if got, _, err := tlsGet(s.Addr(), client); err != nil || got != 10 {
		t.Fatalf("initial serial %d err %v", got, err)
	}
	writeVersion("..2026_12_04_02", 11)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _, err := tlsGet(s.Addr(), client)
		if err == nil && got == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("secret volume swap not picked up: serial %d err %v", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMTLS(t *testing.T) {
	ca := newTestCA(t, "server CA")
	clientCA := newTestCA(t, "Harbor client CA")
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	writeAtomic(t, caFile, clientCA.pem)
	s, _, _, logs := tlsServer(t, ca, func(c *ServerConfig) { c.ClientCAFile = caFile })

	cPEM, kPEM := clientCA.issue(t, 7, false)
	good, err := tls.X509KeyPair(cPEM, kPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, status, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{good}}); err != nil || status != 200 {
		t.Fatalf("client cert signed by the CA: status %d err %v", status, err)
	}
	if _, status, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool()}); err == nil {
		t.Fatalf("no client cert accepted: status %d", status)
	}
	// The operator sees why in the log.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "didn't provide a certificate") {
		if time.Now().After(deadline) {
			t.Fatalf("missing client certificate not logged: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	other := newTestCA(t, "other CA")
	oPEM, oKey := other.issue(t, 8, false)
	bad, _ := tls.X509KeyPair(oPEM, oKey)
	if _, status, err := tlsGet(s.Addr(), &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{bad}}); err == nil {
		t.Fatalf("client cert of another CA accepted: status %d", status)
	}
	// The ops listener needs no client certificate.
	if code, _, err := get("http://" + s.OpsAddr() + "/healthz"); err != nil || code != 200 {
		t.Errorf("ops listener behind mTLS: %d %v", code, err)
	}
}

func TestTLSMaxConnsRejectionIsJSON(t *testing.T) {
	ca := newTestCA(t, "test CA")
	s, _, _, _ := tlsServer(t, ca, func(c *ServerConfig) { c.MaxConns = 1 })
	held, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: ca.pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The held connection is accepted once its handshake completed.
	deadline := time.Now().Add(5 * time.Second)
	for s.limiter.Open() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("held connection not counted")
		}
		time.Sleep(time.Millisecond)
	}
	c, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: ca.pool()})
	if err != nil {
		t.Fatalf("rejected connection should still complete a handshake: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /api/v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n")
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 503 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	assertJSONError(t, string(resp.Header.ContentType()), resp.Body(), "too many connections")
}

func TestNewServerTLSErrors(t *testing.T) {
	ca := newTestCA(t, "test CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	c, k := ca.issue(t, 1, true)
	writeAtomic(t, certFile, c)
	writeAtomic(t, keyFile, k)
	notPEM := filepath.Join(dir, "not.pem")
	writeAtomic(t, notPEM, []byte("hello"))

	cases := []struct {
		name                string
		cert, key, clientCA string
		want                string
	}{
		{"missing cert", filepath.Join(dir, "nope.pem"), keyFile, "", "nope.pem"},
		{"missing key", certFile, filepath.Join(dir, "nokey.pem"), "", "nokey.pem"},
		{"key is not a key", certFile, notPEM, "", "not.pem"},
		{"bad client CA", certFile, keyFile, notPEM, "not.pem"},
		{"missing client CA", certFile, keyFile, filepath.Join(dir, "noca.pem"), "noca.pem"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.TLSEnabled, cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile = true, tc.cert, tc.key, tc.clientCA
			_, err := NewServer(cfg, &fakeBackend{})
			if !errors.Is(err, ErrTLSConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrTLSConfig naming %s", err, tc.want)
			}
		})
	}
}
