package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// newCert issues a certificate from tmpl, signed by parent (self-signed
// when nil).
func newCert(t *testing.T, parent *tls.Certificate, tmpl *x509.Certificate) *tls.Certificate {
	t.Helper()
	var signer *certtest.Cert
	if parent != nil {
		signer = &certtest.Cert{Cert: parent.Leaf, Key: parent.PrivateKey.(*ecdsa.PrivateKey)}
	}
	return certtest.Issue(t, signer, tmpl).TLS()
}

func newCA(t *testing.T, name string) *tls.Certificate {
	return newCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
}

// TestTransportVerifiesAsHAProxy sends requests through the transport to a
// TLS server known by its IP address whose certificate names only
// backend.test: the chain is checked always, the name only when one is
// given, as HAProxy does without sni.
func TestTransportVerifiesAsHAProxy(t *testing.T) {
	root, rogue := newCA(t, "root"), newCA(t, "rogue")
	leaf := newCert(t, root, &x509.Certificate{
		Subject: pkix.Name{CommonName: "backend.test"}, DNSNames: []string{"backend.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	writeCA := func(name string, c *tls.Certificate) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rootFile, rogueFile := writeCA("root.pem", root), writeCA("rogue.pem", rogue)
	for _, tc := range []struct {
		name       string
		caFile     string
		verifyHost string
		serverName string
		ok         bool
	}{
		{"chain only", rootFile, "", "", true},
		{"verifyhost named in the certificate", rootFile, "backend.test", "", true},
		{"verifyhost not named", rootFile, "other.test", "", false},
		{"unknown CA", rogueFile, "", "", false},
		{"server_name: Caddy's own verification", rootFile, "", "backend.test", true},
		{"server_name not named", rootFile, "", "other.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{
				HTTPTransport: reverseproxy.HTTPTransport{TLS: &reverseproxy.TLSConfig{RootCAPEMFiles: []string{tc.caFile}, ServerName: tc.serverName}},
				VerifyHost:    tc.verifyHost,
			}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := tr.Provision(ctx); err != nil {
				t.Fatal(err)
			}
			defer tr.Cleanup()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := tr.Transport.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("error = %v, want success %v", err, tc.ok)
			}
		})
	}
}

// TestTransportRefusesVerifyHostWithoutVerification checks that
// verify_host is not silently dropped.
func TestTransportRefusesVerifyHostWithoutVerification(t *testing.T) {
	tr := &Transport{
		HTTPTransport: reverseproxy.HTTPTransport{TLS: &reverseproxy.TLSConfig{InsecureSkipVerify: true}},
		VerifyHost:    "backend.test",
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := tr.Provision(ctx); err == nil {
		t.Error("Provision accepted verify_host with insecure_skip_verify")
	}
}
