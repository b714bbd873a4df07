// Package l4proxy is the layer4.handlers.haproxy module: it balances raw TCP
// connections over an HAProxy backend (HAProxy's "mode tcp"), with the same
// runtime backend model as the HTTP selection policy.
package l4proxy

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// Handler proxies a layer-4 connection to a server of an HAProxy backend.
// It picks the server with the backend's algorithm (counting the
// connection on it until the connection ends, so leastconn, first and
// maxconn see it), waits in the backend's queue when every server is at
// its maxconn, connects with retries and redispatch as HAProxy does, then
// copies bytes both ways (with splice when both ends are plain TCP) until
// both directions are done or the connection is idle too long.
//
// JSON:
//
//	{
//	  "handler": "haproxy",
//	  "backend": { ...lbmodule.BackendConfig... },
//	  "connect_timeout": "5s",
//	  "client_timeout": "30s",
//	  "server_timeout": "30s",
//	  "tunnel_timeout": "1h",
//	  "frontend": "fe_tcp"
//	}
//
// A zero or absent timeout means no limit, as a missing timeout in
// HAProxy.
type Handler struct {
	// Backend is the backend to balance over: the same fields as the HTTP
	// selection policy's (name, balance, hash_type, servers with name,
	// dial, weight, backup, maxconn, maxqueue, check, send_proxy …,
	// health_checks, retries, redispatch, redispatch_interval,
	// retry_turnaround, queue_timeout). Handlers and policies naming the
	// same backend share its servers, state and counters.
	//
	// Algorithms that read HTTP (uri, url_param, hdr, rdp-cookie, and hash
	// of an HTTP sample) find no key in a TCP connection and so balance
	// round robin, as HAProxy does in mode tcp.
	Backend lbmodule.BackendConfig `json:"backend"`

	// ConnectTimeout bounds each attempt to connect to a server
	// (HAProxy's "timeout connect"). An attempt that fails or times out is
	// retried up to Backend.Retries times.
	ConnectTimeout caddy.Duration `json:"connect_timeout,omitempty"`
	// ClientTimeout closes the connection when the client side has been
	// inactive this long (HAProxy's "timeout client").
	ClientTimeout caddy.Duration `json:"client_timeout,omitempty"`
	// ServerTimeout closes the connection when the server side has been
	// inactive this long (HAProxy's "timeout server").
	ServerTimeout caddy.Duration `json:"server_timeout,omitempty"`
	// TunnelTimeout, when set, replaces ClientTimeout and ServerTimeout
	// once the server connection is established: the connection closes
	// after this long without data in either direction (HAProxy's
	// "timeout tunnel").
	TunnelTimeout caddy.Duration `json:"tunnel_timeout,omitempty"`

	// Frontend names the frontend whose counters (connections current,
	// max and total, bytes in and out) count this handler's connections.
	// Empty counts none.
	Frontend string `json:"frontend,omitempty"`
}
