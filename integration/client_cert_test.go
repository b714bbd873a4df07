package integration

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func clientTemplate(name string, usage ...x509.ExtKeyUsage) *x509.Certificate {
	if usage == nil {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return &x509.Certificate{Subject: pkix.Name{CommonName: name}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage}
}

// chainCertificate is a client certificate that sends its chain: the leaf
// (whose key it holds) first.
func chainCertificate(chain []*certtest.Cert) tls.Certificate {
	cert := tls.Certificate{PrivateKey: chain[0].Key, Leaf: chain[0].Cert}
	for _, link := range chain {
		cert.Certificate = append(cert.Certificate, link.Cert.Raw)
	}
	return cert
}

// writePEM writes certificates to a PEM file of the test's directory.
func writePEM(t *testing.T, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeTestFile(t, dir, name, data)
}

// writeTestFile writes data to a file of dir that only its owner may read,
// and returns its path.
func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyPairPEM is a certificate followed by its key, as HAProxy reads them
// from one file.
func keyPairPEM(t *testing.T, c *certtest.Cert) []byte {
	t.Helper()
	keyDER, err := x509.MarshalECPrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	return append(data, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
}

// TestClientCertificatesMatchHAProxy connects to binds with verify
// required, optional and none (and one whose root is in ca-verify-file)
// without a client certificate, with good ones (signed by the root, or by
// an intermediate sent along) and with bad ones (unknown CA, expired, not
// for client authentication), and compares what HAProxy and caddy answer,
// including the ssl_c_used and ssl_c_verify ACLs.
func TestClientCertificatesMatchHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	dir := t.TempDir()
	root := certtest.Issue(t, nil, caTemplate("Test Root"))
	inter := certtest.Issue(t, root, caTemplate("Test Intermediate"))
	rogue := certtest.Issue(t, nil, caTemplate("Rogue Root"))
	clients := []struct {
		name  string
		chain []*certtest.Cert
	}{
		{"no certificate", nil},
		{"signed by the root", []*certtest.Cert{certtest.Issue(t, root, clientTemplate("alice"))}},
		{"signed by the intermediate, chain sent", []*certtest.Cert{certtest.Issue(t, inter, clientTemplate("bob")), inter}},
		{"signed by the intermediate, chain not sent", []*certtest.Cert{certtest.Issue(t, inter, clientTemplate("bob"))}},
		{"unknown CA", []*certtest.Cert{certtest.Issue(t, rogue, clientTemplate("mallory"))}},
		{"self-signed", []*certtest.Cert{certtest.Issue(t, nil, clientTemplate("eve"))}},
		{"expired", []*certtest.Cert{certtest.Issue(t, root, &x509.Certificate{
			Subject: pkix.Name{CommonName: "old"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		})}},
		{"server authentication only", []*certtest.Cert{certtest.Issue(t, root, clientTemplate("srv", x509.ExtKeyUsageServerAuth))}},
	}
	ports := map[string]int{"Required": freePort(t), "Optional": freePort(t), "None": freePort(t), "Split": freePort(t)}
	cfg := writeConfig(t, "client_cert.cfg", map[string]any{
		"Required": ports["Required"], "Optional": ports["Optional"], "None": ports["None"], "Split": ports["Split"],
		"Cert": selfSignedPEM(t, "site.example"), "CA": writePEM(t, dir, "root.pem", root.Cert),
		"Intermediate": writePEM(t, dir, "intermediate.pem", inter.Cert), "Origin": o.Addr(),
	})
	binds := []string{"Required", "Optional", "None", "Split"}
	paths := []string{"/", "/cert", "/verified"}
	run := func() map[string]string {
		out := map[string]string{}
		for _, c := range clients {
			conf := &tls.Config{InsecureSkipVerify: true}
			if c.chain != nil {
				cert := chainCertificate(c.chain)
				// The certificate is sent whatever CAs the server names,
				// as curl --cert does: ca-verify-file CAs are named by
				// Caddy only, and a Go client would otherwise keep a
				// certificate of theirs from HAProxy.
				conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}}
			for _, b := range binds {
				for _, p := range paths {
					key := fmt.Sprintf("%s to %s %s", c.name, b, p)
					resp, err := client.Get("https://" + loopback(ports[b]) + p)
					if err != nil {
						out[key] = "connection refused by the server"
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						body = nil
					}
					out[key] = fmt.Sprintf("%d %s", resp.StatusCode, body)
				}
			}
		}
		return out
	}
	var listeners []string
	for _, b := range binds {
		listeners = append(listeners, loopback(ports[b]))
	}
	haproxy := startHAProxy(t, cfg, listeners...)
	want := run()
	haproxy.stop()
	startCaddy(t, cfg)
	got := run()
	outcomes := map[string]bool{}
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s: caddy %q, haproxy %q", key, got[key], w)
		}
		outcomes[w] = true
	}
	// The comparison must have seen refusals, denials and successes.
	for _, o := range []string{"connection refused by the server", "403 ", "200 app"} {
		if !outcomes[o] {
			t.Errorf("haproxy never answered %q: %v", o, want)
		}
	}
}
