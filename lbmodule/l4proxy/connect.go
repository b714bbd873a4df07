package l4proxy

import (
	"context"
	"net"
	"time"

	"github.com/mholt/caddy-l4/layer4"
	"github.com/pires/go-proxyproto"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
)

// connect opens the connection to s, whose slot the caller holds, and
// sends what must precede the client's bytes: the PROXY header if the
// server wants one, then the bytes the matchers already read. A failed
// attempt is retried up to the backend's retries, on the same server after
// the retry turn-around or, with redispatch, on the server the load
// balancer picks instead (the slot moves with it). It returns the server
// whose slot the caller now holds, nil when it holds none.
func (h *Handler) connect(cx *layer4.Connection, s *lbmodule.Server) (net.Conn, *lbmodule.Server, error) {
	b := h.backend
	for retry := 1; ; retry++ {
		conn, err := h.dial(cx, s)
		if err == nil {
			return conn, s, nil
		}
		if retry > b.Retries() {
			b.CountConnectError(s)
			return nil, s, err
		}
		prev := s
		redispatch := b.RedispatchNow(retry, prev)
		if redispatch {
			req := h.request(cx)
			req.Avoid = prev.Index()
			b.Release(prev)
			if s, err = b.Acquire(cx.Context, req, nil); err != nil {
				return nil, nil, err
			}
		}
		b.CountRetry(prev, s, redispatch)
		if s == prev && !b.RetryTurnaround(cx.Context) {
			return nil, s, context.Cause(cx.Context)
		}
	}
}

// dial makes one connection attempt to s within the connect timeout.
func (h *Handler) dial(cx *layer4.Connection, s *lbmodule.Server) (net.Conn, error) {
	t := h.targets[s.Index()]
	// No TCP keep-alive toward servers unless asked for: HAProxy sets
	// none without "option srvtcpka", and it costs syscalls on every
	// connection.
	d := net.Dialer{Timeout: time.Duration(h.ConnectTimeout), KeepAlive: -1}
	if h.ServerKeepAlive != nil {
		d.KeepAliveConfig = h.ServerKeepAlive.Config()
	}
	if t.local != nil {
		d.LocalAddr = t.local
	}
	if t.transparent != nil {
		if local := t.transparent.LocalAddr(cx.RemoteAddr()); local != nil {
			d.LocalAddr, d.Control = local, source.Control
		}
	}
	conn, err := d.DialContext(cx.Context, t.network, t.address)
	if err != nil {
		return nil, err
	}
	if err := writePreamble(conn, t.proxyVersion, cx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// writePreamble writes the PROXY header (version 0: none) and the bytes
// the matchers read from cx, in one write.
func writePreamble(conn net.Conn, version byte, cx *layer4.Connection) error {
	early := cx.MatchingBytes()
	var out []byte
	if version != 0 {
		hdr, err := proxyproto.HeaderProxyFromAddrs(version, cx.RemoteAddr(), cx.LocalAddr()).Format()
		if err != nil {
			return err
		}
		out = append(hdr, early...)
	} else {
		out = early
	}
	if len(out) == 0 {
		return nil
	}
	_, err := conn.Write(out)
	return err
}
