// Package clientcrl provides tls.client_auth.verifier.crl, which refuses
// client certificates revoked by certificate revocation lists, as HAProxy's
// "crl-file" does.
package clientcrl

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddytls"
)

func init() {
	caddy.RegisterModule(Verifier{})
}

// Verifier checks every certificate of a client's verified chain, the root
// included, against the revocation list its issuer signed, as OpenSSL does
// for HAProxy's crl-file (CRL_CHECK and CRL_CHECK_ALL): a certificate
// whose issuer has no list in the files, a list out of its validity period,
// or a revoked certificate ends the handshake.
type Verifier struct {
	// CRLFiles are PEM files of certificate revocation lists ("X509 CRL"
	// blocks), several per file allowed.
	CRLFiles []string `json:"crl_files,omitempty"`

	crls []*x509.RevocationList
	now  func() time.Time
}

// CaddyModule returns the Caddy module information.
func (Verifier) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "tls.client_auth.verifier.crl",
		New: func() caddy.Module { return new(Verifier) },
	}
}

// Provision reads the revocation lists.
func (v *Verifier) Provision(caddy.Context) error {
	if len(v.CRLFiles) == 0 {
		return errors.New("crl_files is empty")
	}
	for _, f := range v.CRLFiles {
		crls, err := ReadFile(f)
		if err != nil {
			return err
		}
		v.crls = append(v.crls, crls...)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return nil
}

// ReadFile reads the revocation lists of a PEM file ("X509 CRL" blocks).
func ReadFile(path string) ([]*x509.RevocationList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads the revocation lists of PEM data read from path.
func Parse(path string, data []byte) ([]*x509.RevocationList, error) {
	var crls []*x509.RevocationList
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		crls = append(crls, crl)
	}
	if len(crls) == 0 {
		return nil, fmt.Errorf("%s holds no PEM revocation list", path)
	}
	return crls, nil
}

// VerifyClientCertificate checks the first verified chain. It runs only
// when the client sent a certificate.
func (v *Verifier) VerifyClientCertificate(_ [][]byte, verifiedChains [][]*x509.Certificate) error {
	if len(verifiedChains) == 0 {
		return errors.New("client certificate: no verified chain to check for revocation")
	}
	chain := verifiedChains[0]
	for i, cert := range chain {
		// The root is its own issuer.
		issuer := cert
		if i+1 < len(chain) {
			issuer = chain[i+1]
		}
		if err := v.check(cert, issuer); err != nil {
			return fmt.Errorf("client certificate %q (depth %d): %w", cert.Subject, i, err)
		}
	}
	return nil
}

// check looks cert up in the revocation list issuer signed.
func (v *Verifier) check(cert, issuer *x509.Certificate) error {
	now := v.now()
	for _, crl := range v.crls {
		if string(crl.RawIssuer) != string(issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		if now.Before(crl.ThisUpdate) {
			return errors.New("its revocation list is not yet valid")
		}
		if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
			return errors.New("its revocation list has expired")
		}
		for _, entry := range crl.RevokedCertificateEntries {
			if entry.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return errors.New("revoked")
			}
		}
		return nil
	}
	return errors.New("no revocation list from its issuer")
}

// Interface guards
var (
	_ caddy.Provisioner                  = (*Verifier)(nil)
	_ caddytls.ClientCertificateVerifier = (*Verifier)(nil)
)
