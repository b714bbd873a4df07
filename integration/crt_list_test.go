package integration

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// writeServerPEM issues a server certificate for names and writes it with
// its key in one PEM file, as HAProxy reads them.
func writeServerPEM(t *testing.T, dir, file, cn string, names ...string) string {
	t.Helper()
	c := certtest.Issue(t, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return writeTestFile(t, dir, file, keyPairPEM(t, c))
}

// TestCrtListMatchesHAProxy connects with many server names to a bind whose
// default certificate comes from crt and one whose default comes from a
// crt-list with strict-sni, and compares the certificate, the negotiated
// protocol and the answer between HAProxy and caddy.
func TestCrtListMatchesHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	dir := t.TempDir()
	root := certtest.Issue(t, nil, caTemplate("Test Root"))
	client := certtest.Issue(t, root, clientTemplate("alice"))
	list := strings.Join([]string{
		"# certificates by name",
		writeServerPEM(t, dir, "b.pem", "b.test", "b.test", "www.test") + " [alpn h2,http/1.1] b.test www.test",
		"",
		writeServerPEM(t, dir, "wild.pem", "wild", "*.wild.test"),
		writeServerPEM(t, dir, "d.pem", "d.test", "d.test", "x.wild.test") + " x.wild.test",
		writeServerPEM(t, dir, "e.pem", "e.test", "e.test") + " [verify required ca-file " + writePEM(t, dir, "root.pem", root.Cert) + "]",
	}, "\n") + "\n"
	listPath := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(listPath, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	port, strictPort, otherPort := freePort(t), freePort(t), freePort(t)
	cfg := writeConfig(t, "crt_list.cfg", map[string]any{
		"Port": port, "StrictPort": strictPort, "OtherPort": otherPort, "List": listPath, "Origin": o.Addr(),
		"Default": writeServerPEM(t, dir, "a.pem", "a.test", "a.test", "www.test"),
		"Other":   writeServerPEM(t, dir, "other.pem", "other.test", "other.test"),
	})
	type probe struct {
		port       int
		sni        string
		clientCert bool
	}
	var probes []probe
	for _, p := range []int{port, strictPort, otherPort} {
		for _, sni := range []string{"", "a.test", "www.test", "b.test", "B.TEST", "x.wild.test", "y.wild.test", "z.y.wild.test", "d.test", "e.test", "none.test"} {
			probes = append(probes, probe{p, sni, false})
		}
		probes = append(probes, probe{p, "e.test", true})
	}
	run := func() []string {
		out := make([]string, len(probes))
		for i, p := range probes {
			conf := &tls.Config{ServerName: p.sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
			if p.sni == "" {
				// Without ServerName Go would send the dialled host.
				conf.ServerName = ""
			}
			if p.clientCert {
				conf.Certificates = []tls.Certificate{{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}}
			}
			tr := &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true, DisableKeepAlives: true}
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			resp, err := c.Get("https://" + loopback(p.port) + "/")
			if err != nil {
				out[i] = "handshake or request failed"
				continue
			}
			resp.Body.Close()
			proto := resp.TLS.NegotiatedProtocol
			if proto == "" {
				// HAProxy answers no ALPN on a bind without alpn; Caddy
				// always offers some and picks http/1.1: the same HTTP.
				proto = "http/1.1"
			}
			out[i] = fmt.Sprintf("%d %s %s", resp.StatusCode, resp.TLS.PeerCertificates[0].Subject.CommonName, proto)
		}
		return out
	}
	want := answersMatchHAProxy(t, cfg, []string{loopback(port), loopback(strictPort), loopback(otherPort)}, run, func(i int) string { return fmt.Sprintf("%+v", probes[i]) })
	served := map[string]bool{}
	for _, w := range want {
		served[w] = true
	}
	// The names must have reached several certificates, both protocols
	// and failures.
	for _, w := range []string{"200 a.test http/1.1", "200 other.test http/1.1", "200 b.test h2", "200 wild http/1.1", "200 d.test http/1.1", "200 e.test http/1.1", "handshake or request failed"} {
		if !served[w] {
			t.Errorf("haproxy never answered %q: %q", w, want)
		}
	}
}
