package sim

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestTLSVersionAndNoHTTP2(t *testing.T) {
	h := start(t, Config{})
	addr := strings.TrimPrefix(h.url, "https://")
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: h.s.CertPool(), NextProtos: []string{"h2", "http/1.1"}, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	cs := conn.ConnectionState()
	conn.Close()
	if cs.Version != tls.VersionTLS13 || cs.NegotiatedProtocol == "h2" {
		t.Fatalf("version %x protocol %q", cs.Version, cs.NegotiatedProtocol)
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: h.s.CertPool(), MaxVersion: tls.VersionTLS12}); err == nil {
		c.Close()
		t.Fatal("TLS 1.2 accepted")
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{}); err == nil {
		c.Close()
		t.Fatal("self-signed certificate verified against system roots")
	}
}
