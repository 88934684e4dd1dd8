package controller

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLSModes(t *testing.T) {
	f := newFakeController(t)
	cert := f.srv.Certificate()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	fromCA, err := TLSConfigFromCAFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	spkiPin, err := TLSConfigPinned(PinOf(cert))
	if err != nil {
		t.Fatal(err)
	}
	der := sha256.Sum256(cert.Raw)
	// Colon-separated upper-case, as openssl prints fingerprints.
	var colon []string
	for _, b := range der {
		colon = append(colon, strings.ToUpper(hex.EncodeToString([]byte{b})))
	}
	derPin, err := TLSConfigPinned("0000000000000000000000000000000000000000000000000000000000000000", strings.Join(colon, ":"))
	if err != nil {
		t.Fatal(err)
	}
	wrongPin, _ := TLSConfigPinned(strings.Repeat("ab", 32))

	for _, tc := range []struct {
		name string
		tls  *tls.Config
		ok   bool
	}{
		{"CA file", fromCA, true},
		{"SPKI pin", spkiPin, true},
		{"DER pin", derPin, true},
		{"insecure", TLSConfigInsecure(), true},
		{"wrong pin", wrongPin, false},
		{"system roots", nil, false},
	} {
		c, err := New(Config{URL: f.srv.URL, TLS: tc.tls, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Ping(ctxT(t, 5*time.Second))
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err %v, want ErrUnavailable", tc.name, err)
		}
		c.Close()
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, p := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		if _, err := TLSConfigFromCAFile(p); !errors.Is(err, ErrTLSConfig) {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, pins := range [][]string{nil, {"zz"}, {"abcd"}, {strings.Repeat("a", 63)}} {
		if _, err := TLSConfigPinned(pins...); !errors.Is(err, ErrTLSConfig) {
			t.Errorf("pins %q: %v", pins, err)
		}
	}
}
