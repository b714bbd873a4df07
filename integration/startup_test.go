package integration

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGlobalAndDefaultsOnly starts a config whose frontends and backends are
// commented out: caddy runs, listens on nothing but its admin API, and warns.
func TestGlobalAndDefaultsOnly(t *testing.T) {
	cfg := writeConfig(t, "global_defaults_only.cfg", nil)
	c := startCaddy(t, cfg)

	body, err := c.adminGet("/config/")
	if err != nil {
		t.Fatal(err)
	}
	var running struct {
		Apps struct {
			HTTP struct {
				Servers map[string]any `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(body), &running); err != nil {
		t.Fatalf("reading the running config from the admin API: %v: %s", err, body)
	}
	if len(running.Apps.HTTP.Servers) != 0 {
		t.Errorf("caddy runs HTTP servers for a config without frontends: %s", body)
	}
	assertListening(t, c, nil)

	// HAProxy refuses to start without a listener; caddy starts, and says
	// that it serves nothing.
	warned := false
	for _, w := range adapterWarnings(c.log.String()) {
		if strings.HasSuffix(w.File, "global_defaults_only.cfg") && strings.Contains(w.Msg, "frontend") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning with file and line saying that there is no frontend:\n%s", c.log.String())
	}
}

// TestNoAutomaticHTTPS checks that plain-HTTP binds do not switch on
// Caddy's automatic HTTPS: no listener besides the binds and the admin API
// (no :443, no :80, no HTTP/3) and no certificate activity in the log.
func TestNoAutomaticHTTPS(t *testing.T) {
	a := startOrigin(t, "a")
	p1, p2 := freePort(t), freePort(t)
	c := startCaddy(t, writeConfig(t, "plain_http.cfg", map[string]any{"Port1": p1, "Port2": p2, "A": a.Addr()}))
	c.waitListening(loopback(p1), loopback(p2))

	assertListening(t, c, []int{p1, p2})
	for _, p := range []int{p1, p2} {
		if status, body := get(t, "http://"+loopback(p)+"/"); status != 200 || body != "a" {
			t.Errorf("port %d: status %d body %q", p, status, body)
		}
	}
	assertNoCertificateActivity(t, c)
}

// TestTLSBindMatchesHAProxy checks that a "bind … ssl crt" frontend serves
// the certificate it names, negotiates the protocol HAProxy negotiates
// (HTTP/1.1 unless the bind's "alpn" offers h2) and, like HAProxy, opens no
// listener besides its binds: no :80 redirect server, no HTTP/3 socket, no
// Alt-Svc.
func TestTLSBindMatchesHAProxy(t *testing.T) {
	for _, tc := range []struct {
		alpn, proto string
	}{
		{"", "HTTP/1.1"},
		{"h2,http/1.1", "HTTP/2.0"},
		{"http/1.1", "HTTP/1.1"},
	} {
		t.Run("alpn="+tc.alpn, func(t *testing.T) {
			a := startOrigin(t, "a")
			port, tlsPort := freePort(t), freePort(t)
			cfg := writeConfig(t, "tls_bind.cfg", map[string]any{
				"Port": port, "TLSPort": tlsPort, "Cert": selfSignedPEM(t, "site.test"), "ALPN": tc.alpn, "A": a.Addr(),
			})
			// probe says what a client offering h2 and http/1.1 sees.
			probe := func(t *testing.T) string {
				t.Helper()
				client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
					DisableKeepAlives: true,
					ForceAttemptHTTP2: true,
					TLSClientConfig:   &tls.Config{ServerName: "site.test", InsecureSkipVerify: true},
				}}
				resp, err := client.Get("https://" + loopback(tlsPort) + "/")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				cn := ""
				if certs := resp.TLS.PeerCertificates; len(certs) > 0 {
					cn = certs[0].Subject.CommonName
				}
				return fmt.Sprintf("%d %q %s certificate=%s alt-svc=%q", resp.StatusCode, body, resp.Proto, cn, resp.Header.Get("Alt-Svc"))
			}

			want := fmt.Sprintf(`200 "a" %s certificate=site.test alt-svc=""`, tc.proto)
			t.Run("haproxy", func(t *testing.T) {
				haproxy := startHAProxy(t, cfg, loopback(port), loopback(tlsPort))
				if got := probe(t); got != want {
					t.Errorf("haproxy: %s, want %s", got, want)
				}
				haproxy.stop()
			})
			t.Run("caddy", func(t *testing.T) {
				c := startCaddy(t, cfg)
				c.waitListening(loopback(port), loopback(tlsPort))
				if got := probe(t); got != want {
					t.Errorf("caddy: %s, want %s (as haproxy)", got, want)
				}
				assertListening(t, c, []int{port, tlsPort})
				assertNoCertificateActivity(t, c)
			})
		})
	}
}

// assertNoCertificateActivity fails on any sign in caddy's log that it
// tried to obtain a certificate or set up automatic HTTPS redirects.
func assertNoCertificateActivity(t *testing.T, c *caddyProc) {
	t.Helper()
	for _, e := range logEntries(c.log.String()) {
		logger, msg := strings.ToLower(e.Logger), strings.ToLower(e.Msg)
		if strings.HasPrefix(logger, "tls.obtain") || strings.HasPrefix(logger, "tls.issuance") ||
			strings.Contains(msg, "obtain") || strings.Contains(msg, "acme") ||
			strings.Contains(msg, "enabling automatic tls") || strings.Contains(msg, "http->https") {
			t.Errorf("certificate activity in the log: %s: %s", e.Logger, e.Msg)
		}
	}
}

// assertListening checks that the caddy process listens on its admin port
// and exactly the given TCP ports, and has no UDP socket (HTTP/3).
func assertListening(t *testing.T, c *caddyProc, ports []int) {
	t.Helper()
	_, adminPort, _ := strings.Cut(c.admin, ":")
	want := []string{"tcp/" + adminPort}
	for _, p := range ports {
		want = append(want, "tcp/"+strconv.Itoa(p))
	}
	var got []string
	for s := range listeningSockets(t, c.pid()) {
		got = append(got, s)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("caddy listens on %v, want %v", got, want)
	}
}

// TestHangingCaddyShowsItsGoroutines checks the harness's last resort for
// a caddy that hangs: its goroutines' stacks end up in its output.
func TestHangingCaddyShowsItsGoroutines(t *testing.T) {
	c := startCaddy(t, writeConfig(t, "global_defaults_only.cfg", nil))
	c.dumpAndKill()
	if out := c.log.String(); !strings.Contains(out, "goroutine ") || !strings.Contains(out, "SIGABRT") {
		t.Fatalf("no goroutine dump in caddy's output:\n%s", out)
	}
}
