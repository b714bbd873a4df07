package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// passthroughOrigin is a TLS server standing in for a server behind TLS
// passthrough: after the handshake it writes its name and a newline.
type passthroughOrigin struct {
	name string
	ln   net.Listener
}

// startPassthroughOrigin starts a TLS origin serving the certificate in pemPath.
func startPassthroughOrigin(t *testing.T, name, pemPath string) *passthroughOrigin {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(pemPath, pemPath)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, name+"\n")
	})
	return &passthroughOrigin{name: name, ln: ln}
}

func (o *passthroughOrigin) Addr() string { return o.ln.Addr().String() }

// certPool trusts the certificate in pemPath.
func certPool(t *testing.T, pemPath string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatal("no certificate in " + pemPath)
	}
	return pool
}

// dialFrom connects to addr from the loopback address src.
func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return d.Dial("tcp", addr)
}

// firstLine reads the first line the connection receives, or says how the
// connection ended: "closed" when the proxy closed it without a line.
func firstLine(c net.Conn) string {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	var ne net.Error
	switch {
	case err == nil:
		return strings.TrimSuffix(line, "\n")
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "closed"
	}
}

// tcpAnswer connects from src, optionally sends data, and returns the first
// line it gets back.
func tcpAnswer(src, addr, send string) string {
	c, err := dialFrom(src, addr)
	if errors.Is(err, syscall.ECONNRESET) {
		// HAProxy may close a connection it rejects before connect()
		// returns, which then reports a reset; otherwise both proxies
		// close it (EOF). Both refuse the client.
		return "closed"
	}
	if err != nil {
		return "dial error"
	}
	defer c.Close()
	if send != "" {
		io.WriteString(c, send)
	}
	return firstLine(c)
}

// tlsAnswer makes a TLS connection with the server name sni and returns the
// first line the server sends, or "closed" when the handshake fails. With
// nil roots the server's certificate is not verified.
func tlsAnswer(addr, sni string, roots *x509.CertPool, alpn ...string) string {
	c, err := dialFrom("127.0.0.1", addr)
	if err != nil {
		return "dial error"
	}
	defer c.Close()
	tc := tls.Client(c, &tls.Config{ServerName: sni, RootCAs: roots, InsecureSkipVerify: roots == nil, NextProtos: alpn})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return "closed"
	}
	return firstLine(tc)
}

// TestTCPModeMatchesHAProxy runs one file with mode tcp proxies and an HTTP
// frontend under caddy and under HAProxy, and compares what clients get:
// the roundrobin order over weighted servers, TLS passthrough routed by
// the ClientHello's server name and ALPN, connections rejected by source
// (also the source a PROXY header carries, and on the HTTP frontend), the
// port the client connected to, and TLS terminated on a bind.
func TestTCPModeMatchesHAProxy(t *testing.T) {
	s1, s2, s3 := tcptest.Start(t, "s1", false), tcptest.Start(t, "s2", false), tcptest.Start(t, "s3", false)
	pemA, pemB := selfSignedPEM(t, "a.test"), selfSignedPEM(t, "x.b.test", "y.b.test")
	tlsA, tlsB := startPassthroughOrigin(t, "tls-a", pemA), startPassthroughOrigin(t, "tls-b", pemB)
	rootsA, rootsB := certPool(t, pemA), certPool(t, pemB)
	web := startOrigin(t, "web")

	pemTerm := selfSignedPEM(t, "term.test")
	rootsTerm := certPool(t, pemTerm)

	type ports struct{ rr, sni, guard, http, term, proxied, portA, portB string }
	start := func(run func(cfg string, p ports)) {
		rr, sni, guard, web80, term, proxied := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
		portA, portB := freePort(t), freePort(t)
		cfg := writeConfig(t, "tcp_mode.cfg", map[string]any{
			"RRPort": rr, "SNIPort": sni, "GuardPort": guard, "HTTPPort": web80,
			"TermPort": term, "TermCert": pemTerm, "ProxyPort": proxied, "PortA": portA, "PortB": portB,
			"S1": s1.Addr(), "S2": s2.Addr(), "S3": s3.Addr(),
			"TLSA": tlsA.Addr(), "TLSB": tlsB.Addr(), "Web": web.Addr(),
		})
		run(cfg, ports{loopback(rr), loopback(sni), loopback(guard), loopback(web80), loopback(term), loopback(proxied), loopback(portA), loopback(portB)})
	}
	observe := func(p ports) []string {
		var out []string
		var rr []string
		for range 12 {
			rr = append(rr, tcpAnswer("127.0.0.1", p.rr, ""))
		}
		out = append(out, "roundrobin: "+strings.Join(rr, " "))
		out = append(out,
			"sni a.test: "+tlsAnswer(p.sni, "a.test", rootsA),
			"sni A.TEST: "+tlsAnswer(p.sni, "A.TEST", rootsA),
			"sni x.b.test: "+tlsAnswer(p.sni, "x.b.test", rootsB),
			"sni y.b.test: "+tlsAnswer(p.sni, "y.b.test", rootsB),
			// No use_backend matches: the default backend answers.
			"sni other.test: "+tlsAnswer(p.sni, "other.test", nil),
			"sni other.test, alpn h2 acme-tls/1: "+tlsAnswer(p.sni, "other.test", nil, "h2", "acme-tls/1"),
			"sni other.test, alpn h2: "+tlsAnswer(p.sni, "other.test", nil, "h2"),
			"plain text on the sni frontend: "+tcpAnswer("127.0.0.1", p.sni, "hello\n"),
		)
		for _, src := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"} {
			out = append(out, "guarded from "+src+": "+tcpAnswer(src, p.guard, ""))
		}
		out = append(out,
			"tls terminated: "+tlsAnswer(p.term, "term.test", rootsTerm),
			"proxied from 192.0.2.1: "+tcpAnswer("127.0.0.1", p.proxied, "PROXY TCP4 192.0.2.1 127.0.0.1 40000 80\r\n"),
			"proxied from 192.0.2.2: "+tcpAnswer("127.0.0.1", p.proxied, "PROXY TCP4 192.0.2.2 127.0.0.1 40000 80\r\n"),
			"proxied from 192.0.2.3: "+tcpAnswer("127.0.0.1", p.proxied, "PROXY TCP4 192.0.2.3 127.0.0.1 40000 80\r\n"),
			"proxied without a PROXY header: "+tcpAnswer("127.0.0.1", p.proxied, "hello\n"),
		)
		out = append(out,
			"first port: "+tcpAnswer("127.0.0.1", p.portA, ""),
			"second port: "+tcpAnswer("127.0.0.1", p.portB, ""),
		)
		for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
			out = append(out, "http frontend from "+src+": "+strings.TrimSpace(tcpAnswer(src, p.http, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")))
		}
		status, body := get(t, "http://"+p.http+"/")
		out = append(out, fmt.Sprintf("http frontend: %d %s", status, body))
		return out
	}

	var want, got []string
	start(func(cfg string, p ports) {
		// HAProxy binds every listener before it serves any; waiting
		// for one leaves the others without a probe connection, which
		// would shift the roundrobin sequence.
		h := startHAProxy(t, cfg, p.http)
		want = observe(p)
		h.stop()
	})
	start(func(cfg string, p ports) {
		startCaddy(t, cfg)
		got = observe(p)
	})
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("caddy:   %s\nhaproxy: %s", got[i], want[i])
		}
	}
	// The comparison means something only if the proxies did the work.
	for _, w := range []string{"sni a.test: tls-a", "sni x.b.test: tls-b", "sni y.b.test: closed", "sni other.test: tls-a", "sni other.test, alpn h2 acme-tls/1: tls-b", "plain text on the sni frontend: closed",
		"guarded from 127.0.0.1: s1", "guarded from 127.0.0.2: closed", "guarded from 127.0.0.3: s1", "guarded from 127.0.0.4: closed", "http frontend: 200 web",
		"tls terminated: s1", "proxied from 192.0.2.1: closed", "proxied from 192.0.2.2: s1", "proxied from 192.0.2.3: closed", "proxied without a PROXY header: closed",
		"first port: s1", "second port: s2", "http frontend from 127.0.0.1: HTTP/1.1 200 OK", "http frontend from 127.0.0.2: closed"} {
		if !slices.Contains(got, w) {
			t.Errorf("caddy did not answer %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if rr := strings.Fields(strings.TrimPrefix(got[0], "roundrobin: ")); countOf(rr, "s1") != 6 || countOf(rr, "s2") != 4 || countOf(rr, "s3") != 2 {
		t.Errorf("roundrobin over weights 3:2:1 gave %v", rr)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
