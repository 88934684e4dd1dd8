package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// tlsOutcome is what the metadata and scan steps need from the TLS step.
type tlsOutcome struct {
	trusted bool           // Harbor's Test connection would accept the certificate
	roots   *x509.CertPool // system roots plus the CA file, for the client
	stop    bool           // nothing further can work (no connection)
}

// loadCA reads a PEM bundle, as an operator would give Harbor's.
func loadCA(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return certs, nil
}

// checkTLS asks: would harbor-core's Test connection, which always verifies
// TLS (harbor-contract.md §8.6), accept the adapter's certificate with the
// system roots, or with Harbor's CA bundle (the CA file) added?
func checkTLS(ctx context.Context, o *Options, u *url.URL, p *printer) tlsOutcome {
	var caPool *x509.CertPool
	var caList []*x509.Certificate
	if o.CAFile != "" {
		var err error
		if caList, err = loadCA(o.CAFile); err != nil {
			p.add(&Step{Step: "config", Status: Fail, Message: "CA file: " + err.Error()})
			return tlsOutcome{stop: true}
		}
		caPool = x509.NewCertPool()
		for _, c := range caList {
			caPool.AddCert(c)
		}
	}
	if u.Scheme != "https" {
		p.add(&Step{Step: "tls", Status: Info,
			Message: "plain HTTP: no certificate to check",
			Hints:   []string{"keep plain HTTP inside the cluster (Harbor core and jobservice to the adapter's Service): the scanner credentials and the robot accounts in scan requests travel in clear text"}})
		return tlsOutcome{trusted: true, roots: clientRoots(o.systemRoots, caList)}
	}

	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: o.Timeout},
		// Fetch the chain whatever it is, then judge it below as Harbor would.
		Config: &tls.Config{InsecureSkipVerify: true, ServerName: serverName(host)}, //nolint:gosec // inspected, not trusted
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		p.add(&Step{Step: "tls", Status: Fail, Message: "cannot connect: " + err.Error(),
			Hints: connectHints(err)})
		return tlsOutcome{stop: true}
	}
	state := conn.(*tls.Conn).ConnectionState()
	_ = conn.Close()
	chain := state.PeerCertificates
	if len(chain) == 0 {
		p.add(&Step{Step: "tls", Status: Fail, Message: "the server sent no certificate"})
		return tlsOutcome{stop: true}
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	now := o.now()
	verify := func(roots *x509.CertPool) error {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now})
		return err
	}

	details := certDetails(leaf, host, now, state.Version)
	hostErr := leaf.VerifyHostname(host)
	sysErr := verify(o.systemRoots) // nil means the system's store
	var caErr error
	if caPool != nil {
		caErr = verify(caPool)
	}
	out := tlsOutcome{trusted: sysErr == nil || (caPool != nil && caErr == nil)}
	out.roots = clientRoots(o.systemRoots, caList)

	step := &Step{Step: "tls", Details: details}
	switch {
	case sysErr == nil:
		step.Status, step.Message = OK, "Harbor would trust the certificate (system roots)"
	case caPool != nil && caErr == nil:
		step.Status, step.Message = OK, "Harbor would trust the certificate once "+o.CAFile+" is in the trust bundle of harbor-core and harbor-jobservice"
		step.Details = append(step.Details, "not trusted by the system roots alone: "+sysErr.Error())
	default:
		why := sysErr
		if caPool != nil {
			why = caErr
		}
		step.Status, step.Message = Fail, "Harbor would not trust the certificate: "+why.Error()
		step.Hints = append(step.Hints,
			"Harbor's Test connection verifies TLS even when \"Skip certificate verification\" is ticked (goharbor/harbor#18804)",
			"add the CA that signed this certificate to the trust bundle of harbor-core and harbor-jobservice (Harbor Helm chart: caBundleSecretName), or register the adapter's in-cluster HTTP endpoint instead (http://<service>.<namespace>:<port>)")
		if o.CAFile == "" {
			step.Hints = append(step.Hints, "to test with Harbor's CA bundle, pass it as the CA file")
		}
	}
	if hostErr != nil {
		step.Hints = append(step.Hints, fmt.Sprintf("the certificate does not name %q: register the adapter by a name in its SANs, or reissue it with %s in subjectAltName", host, host))
	}
	switch left := leaf.NotAfter.Sub(now); {
	case left < 0:
		step.Hints = append(step.Hints, "the certificate has expired: renew it (the adapter reloads a renewed certificate without a restart)")
	case left < 30*24*time.Hour && step.Status == OK:
		step.Status = Warn
		step.Hints = append(step.Hints, fmt.Sprintf("the certificate expires in %d days: renew it before Harbor starts failing every call", int(left.Hours()/24)))
	}
	p.add(step)
	return out
}

// serverName is the SNI to send: none for an IP address, as Go's client.
func serverName(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	return host
}

// clientRoots is the store the Harbor-like client trusts: the system roots
// (or the test's stand-in) plus the CA file.
func clientRoots(system *x509.CertPool, ca []*x509.Certificate) *x509.CertPool {
	if len(ca) == 0 {
		return system
	}
	var pool *x509.CertPool
	if system != nil {
		pool = system.Clone()
	} else if sp, err := x509.SystemCertPool(); err == nil {
		pool = sp
	} else {
		pool = x509.NewCertPool()
	}
	for _, c := range ca {
		pool.AddCert(c)
	}
	return pool
}

func certDetails(c *x509.Certificate, host string, now time.Time, version uint16) []string {
	var sans []string
	sans = append(sans, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		sans = append(sans, ip.String())
	}
	match := "matches"
	if c.VerifyHostname(host) != nil {
		match = "does NOT match"
	}
	days := int(c.NotAfter.Sub(now).Hours() / 24)
	return []string{
		fmt.Sprintf("certificate: subject %q, issuer %q", c.Subject.String(), c.Issuer.String()),
		fmt.Sprintf("SANs: [%s]; host name %q %s", strings.Join(sans, ", "), host, match),
		fmt.Sprintf("valid until %s (%d days); %s", c.NotAfter.UTC().Format(time.RFC3339), days, tls.VersionName(version)),
	}
}

// connectHints explains a failure to connect at all.
func connectHints(err error) []string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return []string{"the name does not resolve here; Harbor core and jobservice must resolve it from their namespace (use <service>.<namespace>.svc for an in-cluster adapter)"}
	case strings.Contains(err.Error(), "connection refused"):
		return []string{"nothing listens there: check the adapter's port (SCANNER_API_ADDR), its Service and targetPort (neuvector/neuvector-helm#410)"}
	case isTimeout(err):
		return []string{"no answer: a firewall or NetworkPolicy may drop traffic between Harbor and the adapter"}
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return []string{"the adapter speaks plain HTTP on this port: register http:// instead, or enable TLS on the adapter (SCANNER_TLS_CERT_FILE / SCANNER_TLS_KEY_FILE)"}
	}
	return nil
}
