package haproxyadapter

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/clientcrl"
)

// clientCertOptions are the client certificate settings of a bind line or
// of a crt-list line.
type clientCertOptions struct {
	// verify is "none", "optional", "required" or "" (none).
	verify string
	// caFile holds the CAs that verify client certificates and are named
	// in the certificate request; caVerifyFile CAs that only verify.
	caFile, caVerifyFile string
	// crlFile holds certificate revocation lists, checked for every
	// certificate of the chain (tls.client_auth.verifier.crl).
	crlFile string
}

// clientAuthentication translates client certificate verification into
// Caddy's client_authentication: "verify required" requires a certificate
// that verifies (require_and_verify), "verify optional" verifies one when
// it is given (verify_if_given), "verify none" asks for none (nil). A
// certificate that fails verification ends the handshake in both, as
// HAProxy does without ca-ignore-err/crt-ignore-err.
func (t *translator) clientAuthentication(o clientCertOptions) (*caddytls.ClientAuthentication, error) {
	if o.verify == "" || o.verify == "none" {
		return nil, nil
	}
	if o.caFile == "" && o.caVerifyFile == "" {
		return nil, fmt.Errorf("verify %s needs a ca-file: HAProxy refuses it without one", o.verify)
	}
	var files []string
	for _, f := range []string{o.caFile, o.caVerifyFile} {
		if f == "" {
			continue
		}
		path := t.caPath(f)
		if isDir(path) {
			return nil, fmt.Errorf("ca-file %s is a directory: only PEM files are translated", f)
		}
		files = append(files, path)
	}
	if err := checkTrustAnchors(files); err != nil {
		return nil, err
	}
	mode := "require_and_verify"
	if o.verify == "optional" {
		mode = "verify_if_given"
	}
	ca := &caddytls.ClientAuthentication{
		CARaw: caddyconfig.JSONModuleObject(caddytls.FileCAPool{TrustedCACertPEMFiles: files}, "provider", "file", nil),
		Mode:  mode,
	}
	if o.crlFile != "" {
		path := t.caPath(o.crlFile)
		if isDir(path) {
			return nil, fmt.Errorf("crl-file %s is a directory: only PEM files are translated", o.crlFile)
		}
		data, err := readConfigFile(path)
		if err == nil {
			_, err = clientcrl.Parse(path, data)
		}
		if err != nil {
			return nil, fmt.Errorf("crl-file: %v", err)
		}
		ca.VerifiersRaw = []json.RawMessage{caddyconfig.JSONModuleObject(clientcrl.Verifier{CRLFiles: []string{path}}, "verifier", "crl", nil)}
	}
	return ca, nil
}

// checkTrustAnchors reads the CA files and refuses a certificate whose
// issuer is in none of them. OpenSSL (HAProxy) verifies a client chain up
// to a self-signed root of its store, while Go trusts any certificate of
// the pool as an anchor: the two agree when every chain in the files
// reaches its root.
func checkTrustAnchors(files []string) error {
	var certs []*x509.Certificate
	for _, f := range files {
		data, err := readConfigFile(f)
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		n := 0
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
			certs = append(certs, c)
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s holds no PEM certificate", f)
		}
	}
	for _, c := range certs {
		anchored := false
		for _, issuer := range certs {
			if bytes.Equal(c.RawIssuer, issuer.RawSubject) && c.CheckSignatureFrom(issuer) == nil {
				anchored = true
				break
			}
		}
		if !anchored {
			return fmt.Errorf("CA %q is not a root and its issuer %q is not in the CA files: HAProxy would refuse the chains it signs, Caddy would accept them; add the issuing CAs up to the root", c.Subject, c.Issuer)
		}
	}
	return nil
}
