// Package runtimeapi serves HAProxy's runtime API, the text protocol of
// "stats socket", over the plugin's backend model: show servers state,
// show stat, show info, set server state/weight/health, enable and disable
// checks, with HAProxy's access levels and its interactive prompt mode.
package runtimeapi

import (
	"fmt"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the haproxy_runtime app: HAProxy's runtime API on UNIX or TCP
// sockets, as "stats socket" lines open it. Its commands act on the
// backends of the registry, so they see and change the same servers as
// the load balancer, across config reloads.
type App struct {
	// Listeners are the sockets to serve.
	Listeners []Listener `json:"listeners,omitempty"`
	// MaxConn is the process's connection limit "show info" reports as
	// Maxconn (HAProxy's global maxconn); 0 reports the open-file limit.
	MaxConn int `json:"maxconn,omitempty"`
	// Timeout is how long a session may stay idle ("stats timeout");
	// 0 means HAProxy's default, 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	logger *zap.Logger
	// held are the sockets this app serves, with its settings for each.
	held []heldSocket
}

// heldSocket is a socket an app serves, and the app's settings for it.
type heldSocket struct {
	socket   *socket
	settings *sessionSettings
}

// Listener is one "stats socket".
type Listener struct {
	// Address is a Caddy network address: "unix//run/haproxy.sock" or
	// "tcp/127.0.0.1:9999".
	Address string `json:"address"`
	// Mode is the octal permission of a UNIX socket file, as "mode 600";
	// empty keeps Caddy's default.
	Mode string `json:"mode,omitempty"`
	// Level is the access level of the sessions: user, operator or admin.
	// Empty means operator, HAProxy's default.
	Level string `json:"level,omitempty"`

	level Level
	addr  caddy.NetworkAddress
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "haproxy_runtime",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision checks the listeners.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	infoMaxConn.Store(int64(a.MaxConn))
	for i := range a.Listeners {
		l := &a.Listeners[i]
		l.level = LevelOperator
		if l.Level != "" {
			lv, err := ParseLevel(l.Level)
			if err != nil {
				return fmt.Errorf("listener %q: %v", l.Address, err)
			}
			l.level = lv
		}
		addr := l.Address
		if l.Mode != "" {
			if _, err := strconv.ParseUint(l.Mode, 8, 32); err != nil {
				return fmt.Errorf("listener %q: mode %q is not an octal permission", l.Address, l.Mode)
			}
			addr += "|0" + l.Mode
		}
		na, err := caddy.ParseNetworkAddress(addr)
		if err != nil {
			return fmt.Errorf("listener %q: %v", l.Address, err)
		}
		if l.Mode != "" && !na.IsUnixNetwork() {
			return fmt.Errorf("listener %q: mode applies to UNIX sockets only", l.Address)
		}
		if na.PortRangeSize() > 1 {
			return fmt.Errorf("listener %q: one address, not a port range", l.Address)
		}
		l.addr = na
	}
	return nil
}

// Start opens the sockets, or takes over those a running config has
// open, and serves them.
func (a *App) Start() error {
	for _, l := range a.Listeners {
		settings := &sessionSettings{level: l.level, timeout: a.timeout()}
		s, err := acquireSocket(&l, settings)
		if err != nil {
			_ = a.Stop()
			return fmt.Errorf("runtime API %s: %v", l.Address, err)
		}
		a.held = append(a.held, heldSocket{s, settings})
		a.logger.Info("runtime API listening", zap.String("address", l.Address), zap.Stringer("level", l.level))
	}
	return nil
}

func (a *App) timeout() time.Duration {
	if a.Timeout > 0 {
		return time.Duration(a.Timeout)
	}
	return defaultTimeout
}

// Stop gives up the sockets: one that no newer config serves closes.
// Sessions in progress end on their own.
func (a *App) Stop() error {
	for _, h := range a.held {
		h.socket.release(h.settings)
	}
	a.held = nil
	return nil
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
)
