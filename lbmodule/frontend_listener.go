package lbmodule

import (
	"net"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/tcpkeepalive"
)

func init() {
	caddy.RegisterModule(new(FrontendListener))
}

// FrontendListener is a listener wrapper that counts a frontend's
// connections and the bytes they carry, as HAProxy counts a frontend's
// sessions (scur, smax, stot, rate) and bytes (bin, bout). Placed before
// the tls wrapper, it counts the bytes on the wire, TLS records included.
type FrontendListener struct {
	// Name is the frontend's name, as in the haproxy_frontend handler.
	Name string `json:"name"`
	// ClientKeepAlive, when set, sets the TCP keep-alive probes of the
	// connections accepted (HAProxy's "option clitcpka" with
	// clitcpka-idle, -intvl and -cnt) in place of the server's defaults.
	ClientKeepAlive *tcpkeepalive.Probes `json:"client_tcp_keepalive,omitempty"`

	frontend *Frontend
	// watched is the HTTP server whose idle connections this wrapper
	// watches for a reload, if any.
	watched *caddyhttp.Server
}

// CaddyModule returns the Caddy module information.
func (*FrontendListener) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.listeners.haproxy_frontend",
		New: func() caddy.Module { return new(FrontendListener) },
	}
}

// Provision joins the frontend's counters and, in an HTTP server, has the
// server's idle keep-alive connections handed to the newer config when a
// reload stops this one.
func (l *FrontendListener) Provision(ctx caddy.Context) error {
	l.watched = watchIdleConns(ctx)
	f, err := acquireFrontend(l.Name)
	l.frontend = f
	return err
}

// Cleanup releases the frontend.
func (l *FrontendListener) Cleanup() error {
	unwatchIdleConns(l.watched)
	if l.frontend != nil {
		releaseFrontend(l.frontend)
	}
	return nil
}

// WrapListener counts the connections ln accepts.
func (l *FrontendListener) WrapListener(ln net.Listener) net.Listener {
	return &countingListener{Listener: ln, counters: &l.frontend.counters, keepAlive: l.ClientKeepAlive}
}

type countingListener struct {
	net.Listener
	counters  *Counters
	keepAlive *tcpkeepalive.Probes
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if l.keepAlive != nil {
		// A connection whose socket refuses the options is served
		// anyway, as by HAProxy, which does not check them either.
		_ = l.keepAlive.Apply(c)
	}
	l.counters.take()
	l.counters.StartSession(time.Now())
	return &countingConn{Conn: c, counters: l.counters}, nil
}

// countingConn counts the bytes of one connection, and its end.
type countingConn struct {
	net.Conn
	counters *Counters
	closed   sync.Once
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.counters.BytesIn.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.counters.BytesOut.Add(int64(n))
	return n, err
}

// NetConn returns the counted connection, for code that needs what is
// under it.
func (c *countingConn) NetConn() net.Conn { return c.Conn }

func (c *countingConn) Close() error {
	c.closed.Do(func() { c.counters.Current.Add(-1) })
	return c.Conn.Close()
}

// Interface guards
var (
	_ caddy.Provisioner     = (*FrontendListener)(nil)
	_ caddy.CleanerUpper    = (*FrontendListener)(nil)
	_ caddy.ListenerWrapper = (*FrontendListener)(nil)
)
