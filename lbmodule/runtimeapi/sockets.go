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
)

// The runtime API keeps its listening sockets itself across config loads:
// a socket the new config lists too goes on serving, with the newest
// config's level and timeout, and closes when no running config lists it.
// Reopening it through Caddy on every load would not do: Caddy hands a
// UNIX socket to the next config through a duplicate descriptor, and
// making that descriptor puts the socket briefly in blocking mode (Go's
// os.File.Fd). An accept loop caught in that moment sits in accept(2),
// and closing its listener then waits for a client that may never come:
// a config load hung on it.
var (
	socketsMu sync.Mutex
	sockets   = map[string]*socket{}
)

// socket is one listening socket and the apps that list it, oldest first.
type socket struct {
	key string
	ln  net.Listener
	// users is guarded by socketsMu; the last one's settings apply.
	users []*sessionSettings
}

// sessionSettings are what a config says of the sessions on one socket.
type sessionSettings struct {
	level   Level
	timeout time.Duration
}

// acquireSocket returns the open socket of l, or opens it, and adds
// settings as its newest user.
func acquireSocket(l *Listener, settings *sessionSettings) (*socket, error) {
	socketsMu.Lock()
	defer socketsMu.Unlock()
	if s := sockets[l.Address]; s != nil {
		if l.Mode != "" && l.addr.IsUnixNetwork() {
			// The mode may have changed with the config.
			mode, _ := strconv.ParseUint(l.Mode, 8, 32)
			path, _, _ := strings.Cut(l.addr.Host, "|")
			if err := os.Chmod(path, os.FileMode(mode)); err != nil {
				return nil, err
			}
		}
		s.users = append(s.users, settings)
		return s, nil
	}
	if l.addr.IsUnixNetwork() {
		removeStaleSocket(l.addr.Host)
	}
	v, err := l.addr.Listen(caddy.ActiveContext(), 0, net.ListenConfig{})
	if err != nil {
		return nil, err
	}
	ln, ok := v.(net.Listener)
	if !ok {
		if c, ok := v.(interface{ Close() error }); ok {
			_ = c.Close()
		}
		return nil, fmt.Errorf("not a stream listener")
	}
	s := &socket{key: l.Address, ln: ln, users: []*sessionSettings{settings}}
	sockets[l.Address] = s
	go s.accept()
	return s, nil
}

// release removes settings from the socket's users, and closes the socket
// when it was the last.
func (s *socket) release(settings *sessionSettings) {
	socketsMu.Lock()
	defer socketsMu.Unlock()
	for i, u := range s.users {
		if u == settings {
			s.users = append(s.users[:i], s.users[i+1:]...)
			break
		}
	}
	if len(s.users) == 0 && sockets[s.key] == s {
		delete(sockets, s.key)
		_ = s.ln.Close()
	}
}

// current returns the newest user's settings, nil once the socket is
// released by all.
func (s *socket) current() *sessionSettings {
	socketsMu.Lock()
	defer socketsMu.Unlock()
	if len(s.users) == 0 {
		return nil
	}
	return s.users[len(s.users)-1]
}

// accept serves the socket's connections until it is closed.
func (s *socket) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				continue
			}
			return
		}
		settings := s.current()
		if settings == nil {
			_ = conn.Close()
			continue
		}
		go serve(conn, settings.level, settings.timeout)
	}
}

// removeStaleSocket removes a socket file nobody listens on any more (a
// stopped HAProxy or Caddy leaves one), so that the path can be bound
// again, as HAProxy replaces its socket on start-up. A socket that answers
// is left alone: it may be another process's.
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
