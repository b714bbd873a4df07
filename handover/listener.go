// Package handover provides TCP listeners that survive Caddy config
// reloads, so that a reload never resets a connection the kernel has
// already accepted.
//
// Caddy binds a new SO_REUSEPORT socket for every config and closes the old
// one when the old config stops. Connections the kernel queued on the old
// socket but the old server had not yet accepted are reset at that moment:
// a reload under load loses a few connections. HAProxy avoids this by
// passing its listening sockets from the old process to the new one.
//
// The network types registered here ("haproxy-tcp", "haproxy-tcp4",
// "haproxy-tcp6") do the same inside one Caddy process: every config that
// listens on an address shares one socket, and each accepted connection goes
// to the listener of the newest config that is still open. When the
// newest config's listener closes (its config stopped, or failed to start),
// connections go to the next newest; the socket itself closes with the last
// listener. Accept is driven by the servers: while no server asks for a
// connection, connections wait in the kernel's backlog, as with a plain
// listener.
//
// One more race remains without help: Go's http.Server, once Shutdown has
// begun, closes a connection after reading its first request without
// answering it, and a connection the old server accepted just before the
// reload meets exactly that. So a connection remembers what it has read
// until it first writes, and if its server closes it without having
// written anything while a newer config listens on the socket, it is handed
// to that config with the bytes read so far replayed: the new server
// answers the request the old one dropped.
//
// Keep-alive connections meet the same fate: the old http.Server closes
// the ones waiting for their next request as it shuts down, and a client
// sending that request at that moment would see its connection reset. An
// HTTP server's ConnState hook calls Conn.Idle (find the Conn under the
// server's wrappers with Find) when a connection goes idle: it records
// again from there, and a close before the server writes anything more
// hands the connection over, the server's pending read interrupted and
// what it got replayed. Connections under TLS or speaking HTTP/2 are never
// handed over.
package handover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

// Networks maps the network types this package registers to the network
// of the socket they open.
var Networks = map[string]string{
	"haproxy-tcp":  "tcp",
	"haproxy-tcp4": "tcp4",
	"haproxy-tcp6": "tcp6",
}

func init() {
	for name := range Networks {
		caddy.RegisterNetwork(name, listen)
	}
}

// sockets holds the open shared sockets by network and address.
var (
	socketsMu sync.Mutex
	sockets   = map[string]*socket{}
)

// listen is the caddy.ListenerFunc of the registered networks.
func listen(ctx context.Context, network, host, portRange string, portOffset uint, cfg net.ListenConfig) (any, error) {
	port, err := offsetPort(portRange, portOffset)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %v", network, net.JoinHostPort(host, portRange), err)
	}
	address := net.JoinHostPort(host, port)
	key := network + "/" + address

	socketsMu.Lock()
	defer socketsMu.Unlock()
	s := sockets[key]
	if s == nil {
		lc := withoutDefaultKeepAlive(cfg)
		ln, err := lc.Listen(ctx, Networks[network], address)
		if err != nil {
			return nil, err
		}
		s = newSocket(key, ln)
		sockets[key] = s
	}
	return s.open(), nil
}

// withoutDefaultKeepAlive turns TCP keep-alive off for the connections of
// a listener whose config says nothing about it (caddy-l4's layer4
// servers), where Go would enable it: HAProxy sets no keep-alive on the
// connections it accepts, and setting it costs four system calls per
// connection. A config that sets it (Caddy's HTTP servers) keeps it.
func withoutDefaultKeepAlive(cfg net.ListenConfig) net.ListenConfig {
	if cfg.KeepAlive == 0 && cfg.KeepAliveConfig == (net.KeepAliveConfig{}) {
		cfg.KeepAlive = -1
	}
	return cfg
}

// offsetPort returns the port portOffset places after the start of
// portRange ("8080" or "8080-8090").
func offsetPort(portRange string, portOffset uint) (string, error) {
	start, _, _ := strings.Cut(portRange, "-")
	p, err := strconv.ParseUint(start, 10, 16)
	if err != nil {
		return "", fmt.Errorf("invalid port %q", start)
	}
	if p+uint64(portOffset) > 65535 {
		return "", fmt.Errorf("port %d+%d out of range", p, portOffset)
	}
	return strconv.FormatUint(p+uint64(portOffset), 10), nil
}

// socket is one listening socket shared by the listeners of several
// configs.
type socket struct {
	key string
	ln  net.Listener

	mu sync.Mutex
	// listeners are the open listeners, oldest first; the last one
	// receives new connections.
	listeners []*Listener
	// changed is closed and replaced whenever listeners changes, to wake
	// a delivery waiting for a listener that closed.
	changed chan struct{}
	// done is closed when the accept loop has ended.
	done chan struct{}
}

func newSocket(key string, ln net.Listener) *socket {
	s := &socket{key: key, ln: ln, changed: make(chan struct{}), done: make(chan struct{})}
	go s.acceptLoop()
	return s
}

// open adds a listener for a new config. Called with socketsMu held.
func (s *socket) open() *Listener {
	l := &Listener{socket: s, accepted: make(chan accepted), closed: make(chan struct{})}
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.notifyLocked()
	s.mu.Unlock()
	return l
}

func (s *socket) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// newest returns the listener that should receive the next connection
// (nil if none is open) and a channel closed when that may change.
func (s *socket) newest() (*Listener, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		return nil, s.changed
	}
	return s.listeners[len(s.listeners)-1], s.changed
}

// acceptLoop accepts connections and hands each one to the newest open
// listener, waiting until that listener's server calls Accept. At most one
// connection is held here; the others wait in the kernel's backlog, as
// they would for a plain listener whose server does not call Accept.
func (s *socket) acceptLoop() {
	defer close(s.done)
	for {
		nc, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		// Other errors (EMFILE…) go to a server, whose Accept loop
		// decides whether to back off and retry, as with a plain listener.
		a := accepted{err: err}
		if nc != nil {
			a.conn = newConn(s, nc, nil)
		}
		if !s.deliver(a) {
			if nc != nil {
				nc.Close()
			}
			return
		}
	}
}

// deliver gives a to the newest open listener, waiting for its Accept.
// If that listener closes first, the next newest gets it. It reports false
// when no listener is left.
func (s *socket) deliver(a accepted) bool {
	for {
		l, changed := s.newest()
		if l == nil {
			return false
		}
		if a.conn != nil {
			a.conn.listener = l
		}
		select {
		case l.accepted <- a:
			return true
		case <-l.closed:
		case <-changed:
		}
	}
}

// closeListener removes l; the socket closes with its last listener.
func (s *socket) closeListener(l *Listener) {
	socketsMu.Lock()
	s.mu.Lock()
	for i, x := range s.listeners {
		if x == l {
			s.listeners = append(s.listeners[:i], s.listeners[i+1:]...)
			break
		}
	}
	last := len(s.listeners) == 0
	s.notifyLocked()
	s.mu.Unlock()
	if last {
		delete(sockets, s.key)
	}
	socketsMu.Unlock()
	if last {
		s.ln.Close()
		<-s.done
	}
}

// newerThan reports whether a listener opened after l is still open.
func (s *socket) newerThan(l *Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.listeners)
	return n > 0 && s.listeners[n-1] != l
}

// accepted is the result of one Accept on the shared socket.
type accepted struct {
	conn *Conn
	err  error
}

// Listener is one config's view of a shared socket.
type Listener struct {
	socket *socket
	// accepted carries connections from the accept loop to Accept.
	accepted  chan accepted
	closeOnce sync.Once
	closed    chan struct{}
}

// Accept waits for the next connection for this listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case a := <-l.accepted:
		if a.err != nil {
			return nil, a.err
		}
		return a.conn, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops this listener. Connections it has not accepted stay with the
// socket for the other configs' listeners; the socket closes with the last
// listener.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.socket.closeListener(l)
	})
	return nil
}

// Addr returns the socket's address.
func (l *Listener) Addr() net.Addr { return l.socket.ln.Addr() }

// Interface guard.
var _ net.Listener = (*Listener)(nil)
