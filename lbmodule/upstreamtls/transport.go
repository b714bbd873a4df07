// Package upstreamtls verifies server certificates as HAProxy does: the
// chain always, the name only when one is known. It provides the Caddy
// module http.reverse_proxy.transport.haproxy, Caddy's HTTP transport with
// that verification, and the function the health checks use.
package upstreamtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func init() {
	caddy.RegisterModule(Transport{})
}

// Transport is Caddy's HTTP transport whose TLS verifies the server's
// certificate as HAProxy's "verify required" does. HAProxy checks the name
// in the certificate against the SNI it sent, or, when it sent none,
// against "verifyhost"; with neither it checks only that the certificate
// chains to a trusted CA. Caddy's own transport always checks a name (the
// upstream's address when no server_name is set), which an upstream
// dialled by IP address rarely carries.
//
// With a server_name, or insecure_skip_verify, or without TLS, it is
// Caddy's transport unchanged.
type Transport struct {
	reverseproxy.HTTPTransport

	// VerifyHost is the name the server certificate must carry when no
	// server_name is set; empty checks the certificate chain only.
	VerifyHost string `json:"verify_host,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Transport) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.transport.haproxy",
		New: func() caddy.Module { return new(Transport) },
	}
}

// Provision builds Caddy's transport, then replaces its name check.
func (t *Transport) Provision(ctx caddy.Context) error {
	if err := t.HTTPTransport.Provision(ctx); err != nil {
		return err
	}
	if t.TLS == nil || t.TLS.InsecureSkipVerify || t.TLS.ServerName != "" {
		if t.VerifyHost != "" {
			return errors.New("verify_host applies only to TLS without server_name and insecure_skip_verify")
		}
		return nil
	}
	conf := t.Transport.TLSClientConfig
	// The verification below replaces Go's, which would also check the
	// address the request was sent to.
	conf.VerifyConnection = VerifyConnection(conf.RootCAs, t.VerifyHost)
	conf.InsecureSkipVerify = true
	return nil
}

// VerifyConnection returns a tls.Config.VerifyConnection that verifies the
// server's certificate chain against roots (the system's when nil) and,
// when name is not empty, that the certificate is valid for name. It is
// for a tls.Config with InsecureSkipVerify set, to replace Go's checks.
func VerifyConnection(roots *x509.CertPool, name string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return fmt.Errorf("tls: verifying the server certificate: %w", err)
		}
		return nil
	}
}

// Interface guards
var (
	_ caddy.Provisioner  = (*Transport)(nil)
	_ caddy.CleanerUpper = (*Transport)(nil)
)
