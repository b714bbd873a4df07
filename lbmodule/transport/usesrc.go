package transport

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// defaultDialTimeout is Caddy's transport's, for a dial_timeout of 0.
const defaultDialTimeout = 3 * time.Second

// transparentDial dials from the address src gives for the request's
// client: the connection is the client's own, so it is never pooled for
// another (see Provision).
func (t *Transport) transparentDial(src *source.UseSrc) func(context.Context, string, string) (net.Conn, error) {
	timeout := time.Duration(t.DialTimeout)
	if timeout == 0 {
		timeout = defaultDialTimeout
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		if local := src.LocalAddr(clientAddr(ctx)); local != nil {
			d.LocalAddr, d.Control = local, source.Control
		}
		return d.DialContext(ctx, network, address)
	}
}

// clientAddr is the address of the client whose request is being sent,
// from the request Caddy keeps in the context.
func clientAddr(ctx context.Context) net.Addr {
	req, ok := ctx.Value(caddyhttp.OriginalRequestCtxKey).(http.Request)
	if !ok {
		return nil
	}
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
