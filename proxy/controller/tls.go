package controller

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrTLSConfig is a controller TLS setting that cannot be used.
var ErrTLSConfig = errors.New("controller: bad TLS configuration")

// errPinMismatch is returned by the pinned verifier during the handshake.
var errPinMismatch = errors.New("controller: the controller's certificate matches no configured pin")

// TLSConfigFromCAFile verifies the controller's certificate against the PEM
// CA bundle at path (not the system roots: the controller's REST
// certificate is usually issued by a private CA).
func TLSConfigFromCAFile(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: reading CA file: %w", ErrTLSConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrTLSConfig, path)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// TLSConfigPinned accepts the controller only when its leaf certificate's
// SHA-256, of the SubjectPublicKeyInfo or of the whole DER certificate,
// equals one of pins (hex, colons and case ignored). Pinning the SPKI
// survives re-issuing the certificate with the same key; chain and name are
// not checked, since a self-signed certificate has neither to offer.
func TLSConfigPinned(pins ...string) (*tls.Config, error) {
	if len(pins) == 0 {
		return nil, fmt.Errorf("%w: no pin given", ErrTLSConfig)
	}
	want := make([][]byte, 0, len(pins))
	for _, p := range pins {
		p = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(p), ":", ""))
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%w: a pin must be the 64 hex digits of a SHA-256", ErrTLSConfig)
		}
		want = append(want, b)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is done by VerifyConnection against the pins alone.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errPinMismatch
			}
			leaf := cs.PeerCertificates[0]
			spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
			der := sha256.Sum256(leaf.Raw)
			for _, w := range want {
				if bytes.Equal(w, spki[:]) || bytes.Equal(w, der[:]) {
					return nil
				}
			}
			return errPinMismatch
		},
	}, nil
}

// TLSConfigInsecure skips verification of the controller's certificate. Only
// for the sidecar's loopback connection to a controller whose self-signed
// certificate is regenerated at every start (CONTROLLER_TLS_INSECURE=true).
func TLSConfigInsecure() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec
}

// PinOf returns the SPKI pin of cert (what TLSConfigPinned takes), for operators and
// tests that need to compute one.
func PinOf(cert *x509.Certificate) string {
	s := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}
