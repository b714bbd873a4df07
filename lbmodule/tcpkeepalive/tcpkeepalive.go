// Package tcpkeepalive turns on TCP keep-alive probes with HAProxy's
// settings, for the connections of frontends and backends in both modes.
package tcpkeepalive

import (
	"net"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/internal/netconn"
)

// Probes turns on TCP keep-alive probes on a connection, as
// HAProxy's "option clitcpka" (client side) and "option srvtcpka" (server
// side) do, with the values of clitcpka-idle, -intvl and -cnt (srvtcpka-…
// for servers). A zero field keeps the system's value
// (net.ipv4.tcp_keepalive_time, tcp_keepalive_intvl, tcp_keepalive_probes),
// as HAProxy does when the keyword is absent.
type Probes struct {
	// Idle is how long a connection stays idle before the first probe
	// (TCP_KEEPIDLE, whole seconds, rounded up).
	Idle caddy.Duration `json:"idle,omitempty"`
	// Interval is the time between two probes (TCP_KEEPINTVL, whole
	// seconds, rounded up).
	Interval caddy.Duration `json:"interval,omitempty"`
	// Count is how many unanswered probes close the connection
	// (TCP_KEEPCNT).
	Count int `json:"count,omitempty"`
}

// Config is k as Go's keep-alive settings, for a net.Dialer.
func (k *Probes) Config() net.KeepAliveConfig {
	// Go leaves a negative value to the system.
	c := net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}
	if k.Idle > 0 {
		c.Idle = time.Duration(k.Idle)
	}
	if k.Interval > 0 {
		c.Interval = time.Duration(k.Interval)
	}
	if k.Count > 0 {
		c.Count = k.Count
	}
	return c
}

// Apply turns the probes on for the TCP socket under c's wrappers (a
// shared socket, TLS, PROXY protocol, the maxconn and layer4
// connections). A connection that is not TCP (a UNIX socket) is left
// alone, as HAProxy sets the options on TCP sockets only.
func (k *Probes) Apply(c net.Conn) error {
	for ; c != nil; c = netconn.Unwrap(c) {
		if tc, ok := c.(interface {
			SetKeepAliveConfig(net.KeepAliveConfig) error
		}); ok {
			return tc.SetKeepAliveConfig(k.Config())
		}
	}
	return nil
}
