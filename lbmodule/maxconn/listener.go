// Package maxconn is the caddy.listeners.haproxy_maxconn module: a listener
// wrapper that stops accepting connections while a connection limit is
// reached, as HAProxy does for a frontend's or the process's maxconn. The
// connections beyond the limit wait in the kernel's listen backlog (but
// one per listener, which waits in Accept), not in Caddy's servers, and are
// served as soon as a connection closes.
package maxconn

import (
	"fmt"
	"net"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(ListenerWrapper{})
}

// ListenerWrapper hands a connection to the server only while every one of
// its limits has a free slot; otherwise Accept waits until a connection
// counted by the limits closes, and accepts nothing else meanwhile. Listeners naming the same limit share its slots: a
// frontend's limit is shared by all its listening addresses, the global one
// by every frontend.
//
// JSON:
//
//	{
//	  "wrapper": "haproxy_maxconn",
//	  "limits": [{"name": "frontend/www", "max": 100}, {"name": "global", "max": 2000}]
//	}
//
// It must come first in a server's listener_wrappers, so that it counts
// connections as the kernel hands them over, before TLS or the PROXY
// protocol are read.
type ListenerWrapper struct {
	// Limits are the limits every connection of the listener counts
	// against.
	Limits []Limit `json:"limits,omitempty"`

	limits []*limit
}

// Limit is a named connection limit.
type Limit struct {
	// Name identifies the limit; listeners that name the same limit share
	// its slots, also across config reloads (connections accepted under
	// the previous config count until they close).
	Name string `json:"name"`
	// Max is the number of connections accepted at once (at least 1).
	Max int `json:"max"`
}

// CaddyModule returns the Caddy module information.
func (ListenerWrapper) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.listeners.haproxy_maxconn",
		New: func() caddy.Module { return new(ListenerWrapper) },
	}
}

// limits holds one *limit per name.
var limits = caddy.NewUsagePool()

// mu guards the counters of every limit: a connection takes a slot in all
// its limits at once or waits, so that a listener blocked on one limit does
// not hold a slot of another. cond is signalled when a slot frees or a
// listener closes.
var (
	mu   sync.Mutex
	cond = sync.NewCond(&mu)
)

// limit counts the open connections of one name.
type limit struct {
	name string
	max  int
	open int
}

func (l *limit) Destruct() error { return nil }

// Provision finds or creates the shared limits.
func (w *ListenerWrapper) Provision(ctx caddy.Context) error {
	var err error
	w.limits, err = loadLimits(w.Limits)
	return err
}

// Cleanup releases the shared limits.
func (w *ListenerWrapper) Cleanup() error {
	unloadLimits(w.limits)
	return nil
}

// loadLimits finds or creates the shared limits of a config and sets their
// maximum.
func loadLimits(configs []Limit) ([]*limit, error) {
	var out []*limit
	for _, lc := range configs {
		if lc.Name == "" || lc.Max < 1 {
			unloadLimits(out)
			return nil, fmt.Errorf("limit %q: need a name and a max of at least 1", lc.Name)
		}
		v, _, err := limits.LoadOrNew(lc.Name, func() (caddy.Destructor, error) {
			return &limit{name: lc.Name}, nil
		})
		if err != nil {
			unloadLimits(out)
			return nil, err
		}
		l := v.(*limit)
		mu.Lock()
		l.max = lc.Max
		mu.Unlock()
		// A raised limit may let a waiting connection in.
		cond.Broadcast()
		out = append(out, l)
	}
	return out, nil
}

func unloadLimits(ls []*limit) {
	for _, l := range ls {
		_, _ = limits.Delete(l.name)
	}
}

// WrapListener returns a listener whose Accept respects the limits.
func (w *ListenerWrapper) WrapListener(ln net.Listener) net.Listener {
	if len(w.limits) == 0 {
		return ln
	}
	return &listener{Listener: ln, limits: w.limits}
}

// listener waits for free slots before it accepts from the kernel.
type listener struct {
	net.Listener
	limits []*limit
	closed bool // guarded by mu
}

// Accept accepts the next connection and returns it once every limit has
// a free slot; the slot is given back when the connection closes. While it
// waits, the listener accepts nothing more: further connections stay in the
// kernel's backlog. (Waiting for the slot first would be closer still, but
// a listener would then hold a slot of a shared limit while no client is
// there, and starve another listener that has one.)
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := l.acquire(); err != nil {
		c.Close()
		return nil, err
	}
	return &conn{Conn: c, limits: l.limits}, nil
}

func (l *listener) acquire() error {
	if !acquire(l.limits, func() bool { return l.closed }) {
		return net.ErrClosed
	}
	return nil
}

// acquire waits until every limit has a free slot and takes one in each;
// it gives up, returning false, when stopped (called with mu held) reports
// true after a wake-up.
func acquire(ls []*limit, stopped func() bool) bool {
	mu.Lock()
	defer mu.Unlock()
	for !stopped() && !free(ls) {
		cond.Wait()
	}
	if stopped() {
		return false
	}
	for _, l := range ls {
		l.open++
	}
	return true
}

// Close closes the listener and wakes an Accept that waits for a slot.
func (l *listener) Close() error {
	mu.Lock()
	l.closed = true
	mu.Unlock()
	cond.Broadcast()
	return l.Listener.Close()
}

func free(ls []*limit) bool {
	for _, l := range ls {
		if l.open >= l.max {
			return false
		}
	}
	return true
}

func release(ls []*limit) {
	mu.Lock()
	for _, l := range ls {
		l.open--
	}
	mu.Unlock()
	cond.Broadcast()
}

// conn gives its slots back once, on the first Close.
type conn struct {
	net.Conn
	limits []*limit
	once   sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { release(c.limits) })
	return err
}

// NetConn returns the accepted connection, for code that needs the
// *net.TCPConn (splice, keep-alive settings).
func (c *conn) NetConn() net.Conn { return c.Conn }

// Interface guards
var (
	_ caddy.Provisioner     = (*ListenerWrapper)(nil)
	_ caddy.CleanerUpper    = (*ListenerWrapper)(nil)
	_ caddy.ListenerWrapper = (*ListenerWrapper)(nil)
)
