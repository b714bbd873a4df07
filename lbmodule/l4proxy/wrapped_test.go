package l4proxy

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"github.com/pires/go-proxyproto"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// opaqueConn hides the *net.TCPConn, as a TLS layer or a listener
// wrapper would, but lets half-close reach it.
type opaqueConn struct{ net.Conn }

func (c opaqueConn) NetConn() net.Conn { return c.Conn }

func TestWrappedClientConnectionIsCopiedThroughLayer4(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := serveFrontend(t, h, ln, "early ", func(c net.Conn) net.Conn { return opaqueConn{c} })
	c := f.dial(t)
	_, _ = io.WriteString(c, "late")
	_ = c.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "A\nearly late" {
		t.Fatalf("client got %q, %v: the early bytes must go once, and the half-close through", got, err)
	}
}

// A connection accepted on a socket shared across reloads (the adapter's
// haproxy-tcp network) is unwrapped to its *net.TCPConn, so it splices.
func TestSharedSocketConnectionIsSpliced(t *testing.T) {
	addr := closedAddr(t)
	na, err := caddy.ParseNetworkAddress("haproxy-tcp/" + addr)
	if err != nil {
		t.Fatal(err)
	}
	lnAny, err := na.Listen(context.Background(), 0, net.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ln := lnAny.(net.Listener)
	defer ln.Close()
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, isTCP := c.(*net.TCPConn); isTCP {
		t.Fatal("the shared socket's connection is a bare *net.TCPConn: the test shows nothing")
	}
	server, _ := net.Pipe()
	tun := newTunnel(layer4.WrapConnection(c, nil, zap.NewNop()), server, 0, counterSet{})
	if _, ok := tun.clientIn.(*net.TCPConn); !ok {
		t.Fatalf("the tunnel reads the client through %T, not the socket", tun.clientIn)
	}
}

// When the server ends first, the client may still send: half-close
// reaches the socket under a PROXY-header reader (accept-proxy) too.
func TestServerEndsFirstUnderProxyHeaderReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	received := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "bye")
		_ = c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		received <- string(b)
	}()
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", ln.Addr().String(), ""))+`}`)
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := serveFrontend(t, h, front, "", func(c net.Conn) net.Conn { return proxyproto.NewConn(c) })
	c := f.dial(t)
	_, _ = io.WriteString(c, "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "bye" {
		t.Fatalf("client got %q, %v", got, err)
	}
	// The server's end reached the client; the client's side is open.
	_, _ = io.WriteString(c, "after")
	_ = c.CloseWrite()
	select {
	case got := <-received:
		if got != "after" {
			t.Fatalf("server received %q after its end, want %q", got, "after")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client's end")
	}
}
