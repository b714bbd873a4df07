// Package runtimeapi serves HAProxy's runtime API, the text protocol of
// "stats socket", over the plugin's backend model: show servers state,
// show stat, show info, set server state/weight/health, enable and disable
// checks, with HAProxy's access levels and its interactive prompt mode.
package runtimeapi

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

	logger    *zap.Logger
	listeners []net.Listener
	wg        *sync.WaitGroup
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
	a.wg = new(sync.WaitGroup)
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

// Start opens the sockets and serves them.
func (a *App) Start() error {
	for _, l := range a.Listeners {
		if l.addr.IsUnixNetwork() {
			removeStaleSocket(l.addr.Host)
		}
		v, err := l.addr.Listen(caddy.ActiveContext(), 0, net.ListenConfig{})
		if err != nil {
			_ = a.Stop()
			return fmt.Errorf("runtime API %s: %v", l.Address, err)
		}
		ln, ok := v.(net.Listener)
		if !ok {
			_ = a.Stop()
			return fmt.Errorf("runtime API %s: not a stream listener", l.Address)
		}
		a.listeners = append(a.listeners, ln)
		a.wg.Add(1)
		go a.accept(ln, l.level)
		a.logger.Info("runtime API listening", zap.String("address", l.Address), zap.Stringer("level", l.level))
	}
	return nil
}

func (a *App) accept(ln net.Listener, level Level) {
	defer a.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		go serve(conn, level, a.timeout())
	}
}

func (a *App) timeout() time.Duration {
	if a.Timeout > 0 {
		return time.Duration(a.Timeout)
	}
	return defaultTimeout
}

// removeStaleSocket removes a socket file nobody listens on any more (a
// stopped HAProxy or Caddy leaves one), so that the path can be bound
// again, as HAProxy replaces its socket on start-up. A socket that answers
// is left alone: it may be this process's own, kept across a reload.
func removeStaleSocket(host string) {
	path, _, _ := strings.Cut(host, "|")
	if path == "" || strings.HasPrefix(path, "@") {
		return
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		_ = conn.Close()
		return
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		_ = os.Remove(path)
	}
}

// Stop closes the sockets; sessions in progress end on their own.
func (a *App) Stop() error {
	for _, ln := range a.listeners {
		_ = ln.Close()
	}
	a.wg.Wait()
	a.listeners = nil
	return nil
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
)
