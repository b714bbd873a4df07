package handover

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxReplay bounds what a connection remembers before its first write. A
// request head longer than this is not handed over (Caddy's default
// header limit is 1 MiB, but real request heads are a few KiB).
const maxReplay = 64 << 10

// Conn is a connection accepted on a shared socket. Until its server first
// writes to it, it remembers what it has read, so that a server which
// closes it unanswered during a reload can hand it, and the request it
// read, to the newer config (see the package documentation).
type Conn struct {
	net.Conn
	socket *socket
	// listener is the listener the connection was delivered to.
	listener *Listener

	mu sync.Mutex
	// replay holds bytes read by a previous server, returned by Read
	// before anything new.
	replay []byte
	// read holds what this server has read, while recording.
	read []byte
	// recording is true until the first write or until read would
	// exceed maxReplay.
	recording bool
	closed    bool
	// settled is set once nothing is replayed or recorded any more, so
	// that reads and writes then skip the lock.
	settled atomic.Bool
}

func newConn(s *socket, nc net.Conn, replay []byte) *Conn {
	return &Conn{Conn: nc, socket: s, replay: replay, recording: true}
}

// Read returns replayed bytes first, then reads from the connection.
func (c *Conn) Read(p []byte) (int, error) {
	if c.settled.Load() {
		return c.Conn.Read(p)
	}
	c.mu.Lock()
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.remember(p[:n])
		if len(c.replay) == 0 && !c.recording {
			c.settled.Store(true)
		}
		c.mu.Unlock()
		return n, nil
	}
	recording := c.recording
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	if recording && n > 0 {
		c.mu.Lock()
		c.remember(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// remember records b while recording. Called with mu held.
func (c *Conn) remember(b []byte) {
	if !c.recording {
		return
	}
	if len(c.read)+len(b) > maxReplay {
		c.recording, c.read = false, nil
		return
	}
	c.read = append(c.read, b...)
}

// Write ends recording: once the server has answered something, the
// connection is its own.
func (c *Conn) Write(p []byte) (int, error) {
	if !c.settled.Load() {
		c.mu.Lock()
		c.recording, c.read = false, nil
		if len(c.replay) == 0 {
			c.settled.Store(true)
		}
		c.mu.Unlock()
	}
	return c.Conn.Write(p)
}

// Close closes the connection, unless its server never wrote to it and a
// newer config listens on the socket: then the connection goes to that
// config with what was read replayed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	handOver := c.recording && c.listener != nil && c.socket.newerThan(c.listener)
	replay := append(c.read, c.replay...)
	c.read, c.replay = nil, nil
	c.mu.Unlock()
	if !handOver {
		return c.Conn.Close()
	}
	// The old server may have set deadlines; the new one sets its own.
	c.Conn.SetDeadline(time.Time{})
	next := newConn(c.socket, c.Conn, replay)
	go func() {
		if !c.socket.deliver(accepted{conn: next}) {
			next.Conn.Close()
		}
	}()
	return nil
}

// NetConn returns the underlying connection, for handlers that need the
// *net.TCPConn (to splice, or to half-close).
func (c *Conn) NetConn() net.Conn { return c.Conn }

// TCPConn returns the *net.TCPConn under c, for handlers that copy bytes
// with splice, once c has nothing left to replay; it also ends recording,
// so the handler owns the connection from then on. ok is false when c
// still has replayed bytes to return or is not TCP: keep reading through c.
func TCPConn(c net.Conn) (tc *net.TCPConn, ok bool) {
	hc, isConn := c.(*Conn)
	if !isConn {
		tc, ok = c.(*net.TCPConn)
		return tc, ok
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.replay) > 0 {
		return nil, false
	}
	hc.recording, hc.read = false, nil
	hc.settled.Store(true)
	tc, ok = hc.Conn.(*net.TCPConn)
	return tc, ok
}
