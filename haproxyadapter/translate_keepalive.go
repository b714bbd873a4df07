package haproxyadapter

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/haproxyadapter/config"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/tcpkeepalive"
)

// tcpKeepAlive returns the TCP keep-alive probes of one side of p, nil
// when they are off: side is "clitcpka" for a frontend's client
// connections, "srvtcpka" for a backend's server connections.
func tcpKeepAlive(p *config.Proxy, side string) *tcpkeepalive.Probes {
	if !keepAliveOn(p, side) {
		return nil
	}
	ka := p.ClientKeepAlive
	if side == "srvtcpka" {
		ka = p.ServerKeepAlive
	}
	// HAProxy hands whole seconds to the kernel, and leaves the system's
	// value for zero.
	seconds := func(d config.Duration) caddy.Duration {
		if !d.Set {
			return 0
		}
		return caddy.Duration(d.D.Truncate(time.Second))
	}
	return &tcpkeepalive.Probes{Idle: seconds(ka.Idle), Interval: seconds(ka.Interval), Count: ka.Count}
}

// keepAliveOn reports whether "option <side>" or "option tcpka" turns the
// probes on. Both set one flag in HAProxy, so the later line wins; a line
// of the section itself wins over one inherited from another file's
// defaults.
func keepAliveOn(p *config.Proxy, side string) bool {
	own, both := p.Options[side], p.Options["tcpka"]
	switch {
	case own == nil && both == nil:
		return false
	case own == nil:
		return both.Enabled
	case both == nil:
		return own.Enabled
	case own.Pos.File == both.Pos.File && both.Pos.Line > own.Pos.Line:
		return both.Enabled
	case own.Pos.File != both.Pos.File && both.Pos.File == p.Pos.File:
		return both.Enabled
	}
	return own.Enabled
}
