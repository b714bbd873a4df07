package integration

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// tlsOrigin is a TLS server that counts the handshakes it is offered.
type tlsOrigin struct {
	*httptest.Server
	hellos atomic.Int64
}

// startTLSOrigin starts an origin serving a certificate for "backend.test"
// (no IP address) signed by ca.
func startTLSOrigin(t *testing.T, name string, ca *certtest.Cert) *tlsOrigin {
	t.Helper()
	leaf := certtest.Issue(t, ca, &x509.Certificate{
		Subject: pkix.Name{CommonName: "backend.test"}, DNSNames: []string{"backend.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	// The refused handshakes are the test's point, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	o := &tlsOrigin{Server: srv}
	conf := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw, ca.Cert.Raw}, PrivateKey: leaf.Key}}}
	conf.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		o.hellos.Add(1)
		return nil, nil
	}
	srv.TLS = conf
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return o
}

// TestServerTLSMatchesHAProxy sends requests through HAProxy and caddy to
// TLS servers with each form of server verification (verify none, the
// chain only, verifyhost, sni, sni over verifyhost, sni from the Host
// header, an unknown CA) and to health-checked TLS servers, and compares
// the answers.
func TestServerTLSMatchesHAProxy(t *testing.T) {
	dir := t.TempDir()
	root := certtest.Issue(t, nil, caTemplate("Test Root"))
	good := startTLSOrigin(t, "good", root)
	rogue := startTLSOrigin(t, "rogue", certtest.Issue(t, nil, caTemplate("Rogue Root")))
	// Each health-checked backend has a server of its own, so that the
	// test can tell when its checks have run.
	checked := []*tlsOrigin{startTLSOrigin(t, "good", root), startTLSOrigin(t, "good", root), startTLSOrigin(t, "good", root)}
	port := freePort(t)
	cfg := writeConfig(t, "server_tls.cfg", map[string]any{
		"Port": port, "CA": writePEM(t, dir, "root.pem", root.Cert),
		"Good": good.Listener.Addr().String(), "Rogue": rogue.Listener.Addr().String(),
		"CheckedChain": checked[0].Listener.Addr().String(), "CheckedWrong": checked[1].Listener.Addr().String(),
		"CheckedSNI": checked[2].Listener.Addr().String(),
	})
	addr := loopback(port)
	type probe struct{ path, host string }
	probes := []probe{
		{"/none", ""}, {"/chain", ""}, {"/verifyhost", ""}, {"/wrong-verifyhost", ""}, {"/sni", ""},
		{"/over", ""}, {"/host", "backend.test"}, {"/host", "other.test"}, {"/rogue", ""},
		{"/checked-chain", ""}, {"/checked-wrong", ""}, {"/checked-sni", ""},
	}
	send := func(p probe) string {
		r := rawRequest{method: "GET", target: p.path}
		if p.host != "" {
			r.headers = []string{"Host: " + p.host}
		}
		resp, body := r.send(t, addr)
		if resp.StatusCode != http.StatusOK {
			body = ""
		}
		return fmt.Sprintf("%d %s", resp.StatusCode, body)
	}
	run := func(proxy *process) []string {
		// Every checked server has been offered a second handshake: its
		// first check (fall 1, rise 1) has set its state.
		for _, o := range checked {
			o.hellos.Store(0)
		}
		proxy.waitFor("two health checks of every checked server", func() bool {
			for _, o := range checked {
				if o.hellos.Load() < 2 {
					return false
				}
			}
			return true
		})
		out := make([]string, len(probes))
		for i, p := range probes {
			out[i] = send(p)
		}
		return out
	}
	haproxy := startHAProxy(t, cfg, addr)
	want := run(haproxy)
	haproxy.stop()
	caddy := startCaddy(t, cfg)
	got := run(caddy.process)
	outcomes := map[string]bool{}
	for i, p := range probes {
		if got[i] != want[i] {
			t.Errorf("%+v: caddy %q, haproxy %q", p, got[i], want[i])
		}
		outcomes[want[i]] = true
	}
	if !outcomes["200 good"] || !outcomes["503 "] {
		t.Errorf("haproxy did not both reach and refuse servers: %q", want)
	}
}
