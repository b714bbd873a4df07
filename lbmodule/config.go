package lbmodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/checks"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
)

// BackendConfig is the JSON description of an HAProxy backend: its servers
// and how requests are spread over them. The HTTP selection policy and the
// layer-4 handler embed it, so both read and write the same backend model.
type BackendConfig struct {
	// Backend is the backend's name. It keys the runtime state (server
	// health, admin state, counters) that survives config reloads, and is
	// the name shown by the stats page and the admin API. Two handlers with
	// the same name share one backend.
	Backend string `json:"backend,omitempty"`
	// ProxyID is the proxy's id on the stats page (HAProxy's iid), which
	// also orders it there; 0 sorts after the numbered ones, by name.
	ProxyID int `json:"proxy_id,omitempty"`

	// Balance is the load-balancing algorithm: roundrobin (default),
	// static-rr, leastconn, first, source, uri, url_param, hdr, random,
	// rdp-cookie or hash.
	Balance string `json:"balance,omitempty"`
	// BalanceParam is the parenthesised argument of hdr(<name>),
	// random(<draws>) and rdp-cookie(<name>).
	BalanceParam string `json:"balance_param,omitempty"`
	// BalanceArgs are the algorithm's options as HAProxy writes them, e.g.
	// ["depth", "2", "whole"] for uri, ["id", "check_post"] for url_param,
	// ["use_domain_only"] for hdr, or the sample expression for hash.
	BalanceArgs []string `json:"balance_args,omitempty"`

	// HashType is "map-based" (default) or "consistent".
	HashType string `json:"hash_type,omitempty"`
	// HashFunction is sdbm, djb2, wt6, crc32 or none. Empty means HAProxy's
	// default (sdbm).
	HashFunction string `json:"hash_function,omitempty"`
	// HashAvalanche applies HAProxy's full_hash to the key hash. When
	// HashType is consistent and HashFunction is empty it defaults to true,
	// as in HAProxy.
	HashAvalanche *bool `json:"hash_avalanche,omitempty"`

	// AllBackups balances over every usable backup server when no active
	// server is usable; otherwise only the first usable backup serves.
	AllBackups bool `json:"allbackups,omitempty"`
	// Redispatch lets a retried request go to another server.
	Redispatch bool `json:"redispatch,omitempty"`
	// RedispatchInterval is the argument of "option redispatch <interval>":
	// a positive P redispatches every P-th retry, a negative -N the retries
	// that are multiples of Retries+1-N. Zero means HAProxy's default, -1:
	// the last retry. (A translated "option redispatch 0" sets Redispatch
	// false instead.)
	RedispatchInterval int `json:"redispatch_interval,omitempty"`
	// Retries is the backend's "retries" count, used only to find the last
	// retry for RedispatchInterval. The retries themselves are made by
	// reverse_proxy's load_balancing retries, which the translator sets to
	// the same number; nil means that number (HAProxy's default, 3, where
	// no reverse_proxy encloses the policy).
	Retries *int `json:"retries,omitempty"`
	// RetryTurnaround is how long a retry waits before it tries the same
	// server again after a failed connection; a retry that goes to another
	// server does not wait. HAProxy waits min(timeout connect, 1s), which
	// the translator sets. Zero retries at once.
	RetryTurnaround caddy.Duration `json:"retry_turnaround,omitempty"`

	// QueueTimeout is how long a request may wait for a free server slot
	// (HAProxy's "timeout queue"). Zero means the connect timeout's value,
	// set by the translator.
	QueueTimeout caddy.Duration `json:"queue_timeout,omitempty"`
	// FullConn is the backend's fullconn, for servers with minconn.
	FullConn int `json:"fullconn,omitempty"`

	// HealthChecks is what the checks of the servers with a "check"
	// setting send and expect, and their timeouts; nil means HAProxy's
	// default check, a TCP connection.
	HealthChecks *checks.Config `json:"health_checks,omitempty"`

	// Cookie is the persistence cookie (HAProxy's "cookie" line), nil
	// for none. A request whose cookie names a usable server goes to it
	// without load balancing. The response side (insert, rewrite, prefix,
	// nocache) needs the haproxy_cookie handler before the reverse_proxy.
	Cookie *persist.Config `json:"cookie,omitempty"`
	// Persist sends a request to the server its cookie names even when
	// that server is down ("option persist").
	Persist bool `json:"persist,omitempty"`

	// Servers in declaration order.
	Servers []ServerConfig `json:"servers,omitempty"`
}

// ServerConfig describes one server.
type ServerConfig struct {
	// Name is the server's name in the backend.
	Name string `json:"name"`
	// Dial is the network address, as in a reverse_proxy upstream. For an
	// HTTP backend the policy's servers and the reverse_proxy upstreams are
	// listed in the same order with the same addresses.
	Dial string `json:"dial"`
	// ID is the numeric id; 0 means its position from 1.
	ID int `json:"id,omitempty"`
	// Weight is 0..256; nil means 1.
	Weight *int `json:"weight,omitempty"`
	// Backup marks a backup server.
	Backup bool `json:"backup,omitempty"`
	// Disabled starts the server in maintenance.
	Disabled bool `json:"disabled,omitempty"`
	// Cookie is the persistence cookie value.
	Cookie string `json:"cookie,omitempty"`
	// MaxConn limits concurrent requests (HTTP) or connections (TCP); 0 is
	// unlimited. MaxQueue bounds the server's queue; 0 is unlimited.
	// MinConn makes the limit dynamic with the backend's FullConn.
	MaxConn  int `json:"maxconn,omitempty"`
	MaxQueue int `json:"maxqueue,omitempty"`
	MinConn  int `json:"minconn,omitempty"`
	// SlowStart is HAProxy's "slowstart": after the server comes back
	// (checks mark it UP again, or it leaves maintenance), its weight in
	// the dynamic algorithms and its dynamic maxconn ramp up over this
	// period, counted in whole seconds. Zero means no slow start.
	SlowStart caddy.Duration `json:"slowstart,omitempty"`
	// Check enables health checks of the server (HAProxy's "check") with
	// its interval, rise/fall and check address settings. Without it the
	// server is always considered up.
	Check *checks.ServerConfig `json:"check,omitempty"`
	// AgentCheck queries the server's agent (HAProxy's "agent-check"),
	// whose answers set the server's health, admin state, weight and
	// maxconn. Failing to reach the agent changes nothing.
	AgentCheck *checks.AgentConfig `json:"agent_check,omitempty"`
	// SendProxy makes the layer-4 handler begin each connection to the
	// server with a PROXY protocol header carrying the client's addresses:
	// "v1" (text, HAProxy's "send-proxy") or "v2" (binary,
	// "send-proxy-v2"). Empty sends none. The HTTP policy does not read
	// it: for HTTP, reverse_proxy's transport sends the header.
	SendProxy string `json:"send_proxy,omitempty"`
	// Source is the local address the layer-4 handler connects to the
	// server from (HAProxy's "source"), "ip" or "ip:port"; empty lets the
	// system pick. The HTTP policy does not read it: for HTTP,
	// reverse_proxy's transport has local_address. Health checks set
	// their own (check.source).
	Source string `json:"source,omitempty"`
	// UseSrc makes the layer-4 handler connect to the server from an
	// address that is not the host's own (HAProxy's "usesrc": transparent
	// proxying, which needs CAP_NET_ADMIN and routing that brings the
	// server's answers back to this host): "clientip" is the client's
	// address, "client" its address and port, or an "ip[:port]". Linux
	// only. Health checks still come from Source.
	UseSrc string `json:"usesrc,omitempty"`
}
