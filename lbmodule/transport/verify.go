package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

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
