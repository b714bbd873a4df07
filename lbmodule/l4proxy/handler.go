// Package l4proxy is the layer4.handlers.haproxy module: it balances raw TCP
// connections over an HAProxy backend (HAProxy's "mode tcp"), with the same
// runtime backend model as the HTTP selection policy.
package l4proxy

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"go.uber.org/zap"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/sched"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/source"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/tcpkeepalive"
)

func init() {
	caddy.RegisterModule(new(Handler))
}

// Handler proxies a layer-4 connection to a server of an HAProxy backend.
// It picks the server with the backend's algorithm (counting the
// connection on it until the connection ends, so leastconn, first and
// maxconn see it), waits in the backend's queue when every server is at
// its maxconn, connects with retries and redispatch as HAProxy does, then
// copies bytes both ways (with splice, once a transfer fills a buffer,
// when both ends are plain TCP) until both directions are done or the
// connection is idle too long.
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
//	  "client_tcp_keepalive": {"idle": "30s", "interval": "5s", "count": 3},
//	  "server_tcp_keepalive": {},
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
	// uri, url_param and hdr need HTTP: they are replaced by roundrobin,
	// as HAProxy does in mode tcp (with a warning). source and hash src
	// hash the client's address; rdp-cookie looks for the cookie in the
	// bytes the route's matchers read; a hash of an HTTP sample finds no
	// key and falls back to round robin.
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

	// ClientKeepAlive, when set, turns on TCP keep-alive probes on the
	// client's connection (HAProxy's "option clitcpka" with clitcpka-idle,
	// -intvl and -cnt). Without it the client's connection gets none, as
	// in HAProxy.
	ClientKeepAlive *tcpkeepalive.Probes `json:"client_tcp_keepalive,omitempty"`
	// ServerKeepAlive, when set, turns on TCP keep-alive probes on the
	// connections to servers (HAProxy's "option srvtcpka" with
	// srvtcpka-idle, -intvl and -cnt). Without it they get none, as in
	// HAProxy.
	ServerKeepAlive *tcpkeepalive.Probes `json:"server_tcp_keepalive,omitempty"`

	// Frontend names the frontend whose counters (connections current,
	// max and total, bytes in and out) count this handler's connections,
	// shared with the other handlers of that name and shown by the
	// statistics as a frontend in mode tcp. Empty counts none.
	Frontend string `json:"frontend,omitempty"`

	backend *lbmodule.Backend
	// key hashes a connection for the hashing algorithms; nil for the
	// others.
	key *sched.Key
	// targets are the servers' dial addresses and PROXY header versions,
	// by server index.
	targets  []target
	frontend *lbmodule.Frontend
	logger   *zap.Logger
	// cleanedUp makes Cleanup release the backend and frontend once.
	cleanedUp bool
}

// target is where a server is dialed.
type target struct {
	network, address string
	// proxyVersion is the PROXY protocol version to send, 0 for none.
	proxyVersion byte
	// local is the address to connect from, nil for any.
	local *net.TCPAddr
	// transparent, when set, replaces local with an address that is not
	// the host's own.
	transparent *source.UseSrc
}

// CaddyModule returns the Caddy module information.
func (*Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "layer4.handlers.haproxy",
		New: func() caddy.Module { return new(Handler) },
	}
}

// httpOnlyBalance are the algorithms that need an HTTP request. HAProxy
// replaces them with roundrobin in a TCP backend.
var httpOnlyBalance = map[string]bool{"uri": true, "url_param": true, "hdr": true}

// Provision builds or joins the runtime backend and resolves the servers'
// addresses.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	cfg := h.backendConfig()
	if cfg.Balance != h.Backend.Balance {
		h.logger.Warn("layer 7 hash not possible in a TCP backend; falling back to round robin, as HAProxy",
			zap.String("backend", cfg.Backend), zap.String("balance", h.Backend.Balance))
	}
	key, err := lbmodule.KeyFor(cfg)
	if err != nil {
		return fmt.Errorf("backend %q: %v", cfg.Backend, err)
	}
	h.key = key
	h.targets = make([]target, len(cfg.Servers))
	for i, sc := range cfg.Servers {
		if h.targets[i], err = newTarget(sc); err != nil {
			return fmt.Errorf("backend %q: server %q: %v", cfg.Backend, sc.Name, err)
		}
	}
	if h.backend, err = lbmodule.OpenBackend(cfg, h.logger); err != nil {
		return err
	}
	if h.Frontend != "" {
		if h.frontend, err = lbmodule.OpenFrontend(h.frontendConfig()); err != nil {
			lbmodule.CloseBackend(h.backend)
			return err
		}
	}
	return nil
}

// frontendConfig describes the handler's frontend to the statistics.
func (h *Handler) frontendConfig() lbmodule.FrontendConfig {
	return lbmodule.FrontendConfig{Name: h.Frontend, Mode: "tcp"}
}

// backendConfig is Backend as the runtime backend gets it: HTTP-only
// algorithms replaced by roundrobin, and the queue timeout defaulting to
// the connect timeout, as in HAProxy.
func (h *Handler) backendConfig() lbmodule.BackendConfig {
	cfg := h.Backend
	if httpOnlyBalance[cfg.Balance] {
		cfg.Balance, cfg.BalanceParam, cfg.BalanceArgs = "roundrobin", "", nil
	}
	if cfg.QueueTimeout == 0 {
		cfg.QueueTimeout = h.ConnectTimeout
	}
	return cfg
}

func newTarget(sc lbmodule.ServerConfig) (target, error) {
	addr, err := caddy.ParseNetworkAddressWithDefaults(sc.Dial, "tcp", 0)
	if err != nil {
		return target{}, err
	}
	if addr.PortRangeSize() != 1 {
		return target{}, fmt.Errorf("dial %q: want one address, not a port range", sc.Dial)
	}
	t := target{network: addr.Network, address: addr.JoinHostPort(0)}
	if t.local, err = source.Addr(sc.Source); err != nil {
		return target{}, err
	}
	if t.transparent, err = source.ParseUseSrc(sc.UseSrc); err != nil {
		return target{}, err
	}
	switch sc.SendProxy {
	case "v1":
		t.proxyVersion = 1
	case "v2":
		t.proxyVersion = 2
	}
	return t, nil
}

// Validate checks the configuration.
func (h *Handler) Validate() error {
	for _, d := range []struct {
		name string
		v    caddy.Duration
	}{
		{"connect_timeout", h.ConnectTimeout}, {"client_timeout", h.ClientTimeout},
		{"server_timeout", h.ServerTimeout}, {"tunnel_timeout", h.TunnelTimeout},
	} {
		if d.v < 0 {
			return fmt.Errorf("negative %s", d.name)
		}
	}
	return nil
}

// Cleanup releases the runtime backend and frontend. The fields keep
// their values: caddy-l4 does not wait for the connections in progress
// when a config is unloaded, and those still release their server and
// count their bytes through them.
func (h *Handler) Cleanup() error {
	if h.cleanedUp {
		return nil
	}
	h.cleanedUp = true
	lbmodule.CloseBackend(h.backend)
	lbmodule.CloseFrontend(h.frontend, h.frontendConfig())
	return nil
}

// RuntimeBackend returns the runtime backend the handler balances over.
func (h *Handler) RuntimeBackend() *lbmodule.Backend { return h.backend }

// Handle proxies cx to a server of the backend. It is terminal: next is
// not called. A connection that finds no server, or whose connection
// attempts all fail, is closed without a byte, as HAProxy does.
func (h *Handler) Handle(cx *layer4.Connection, _ layer4.Handler) error {
	if h.frontend != nil {
		fc := h.frontend.Counters()
		fc.Open()
		defer fc.Close()
	}
	if h.ClientKeepAlive != nil {
		if err := h.ClientKeepAlive.Apply(cx.Conn); err != nil {
			h.debug("cannot set TCP keep-alive", cx, err)
		}
	}
	s, err := h.backend.Acquire(cx.Context, h.request(cx), nil)
	if err != nil {
		h.debug("no server", cx, err)
		return nil
	}
	upstream, s, err := h.connect(cx, s)
	if err != nil {
		if s != nil {
			h.backend.Release(s)
		}
		h.debug("cannot connect", cx, err)
		return nil
	}
	defer h.backend.Release(s)
	// The matchers' bytes went out with the connection.
	early := int64(len(cx.MatchingBytes()))
	t := newTunnel(cx, upstream, h.idleTimeout(), h.countersFor(s))
	t.count(early, true)
	t.run()
	return nil
}

// request is the connection's pick input: the client's address and the
// bytes the matchers read, for source, hash and rdp-cookie.
func (h *Handler) request(cx *layer4.Connection) sched.Request {
	if h.key == nil {
		return sched.Request{Avoid: sched.NoServer}
	}
	in := sched.KeyInput{Payload: cx.MatchingBytes()}
	if ap, err := netip.ParseAddrPort(cx.RemoteAddr().String()); err == nil {
		in.Remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return h.key.Request(&in)
}

// idleTimeout is how long the established tunnel may stay without data:
// the tunnel timeout, or else the shorter of the client and server
// timeouts, either of which would end an idle connection in HAProxy. 0
// is no limit.
func (h *Handler) idleTimeout() time.Duration {
	if h.TunnelTimeout > 0 {
		return time.Duration(h.TunnelTimeout)
	}
	c, s := time.Duration(h.ClientTimeout), time.Duration(h.ServerTimeout)
	switch {
	case c == 0:
		return s
	case s == 0:
		return c
	}
	return min(c, s)
}

// countersFor lists the counters a connection to s adds its bytes to.
func (h *Handler) countersFor(s *lbmodule.Server) counterSet {
	cs := counterSet{s.Counters(), h.backend.Counters()}
	if h.frontend != nil {
		cs[2] = h.frontend.Counters()
	}
	return cs
}

func (h *Handler) debug(msg string, cx *layer4.Connection, err error) {
	if c := h.logger.Check(zap.DebugLevel, msg); c != nil {
		c.Write(zap.String("backend", h.backend.Name()), zap.String("remote", cx.RemoteAddr().String()), zap.Error(err))
	}
}

// Interface guards
var (
	_ caddy.Provisioner  = (*Handler)(nil)
	_ caddy.Validator    = (*Handler)(nil)
	_ caddy.CleanerUpper = (*Handler)(nil)
	_ layer4.NextHandler = (*Handler)(nil)
)
