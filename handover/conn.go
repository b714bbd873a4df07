package handover

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxReplay bounds what a connection remembers before its first write. A
// request head longer than this is not handed over (Caddy's default
// header limit is 1 MiB, but real request heads are a few KiB).
const maxReplay = 64 << 10

// errHandedOver is what the old server's reads and writes get once its
// connection went to a newer config.
var errHandedOver = errors.New("connection handed over to a newer config")

// interruptRead is a read deadline in the past, which makes a blocked
// read return at once without closing the connection.
var interruptRead = time.Unix(1, 0)

// Conn is a connection accepted on a shared socket. Until its server first
// writes to it, and again from the moment its server waits for the next
// request on it (see Idle), it remembers what it has read, so that a
// server which closes it unanswered during a reload can hand it, and the
// request it read, to the newer config (see the package documentation).
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
	// exceed maxReplay; Idle turns it on again.
	recording bool
	closed    bool
	// handingOver is set by a Close that hands the connection over: the
	// reads in flight then return what they got to the replay.
	handingOver bool
	// reading counts the reads in flight on the connection while
	// recording; readDone is signalled when one ends.
	reading  int
	readDone sync.Cond
	// settled is set once nothing is replayed or recorded any more, so
	// that reads and writes then skip the lock.
	settled atomic.Bool
	// afterWrite tells what was read since the last write: nothing (0),
	// one byte b alone by a one-byte read (b+1), or more (readAfterWrite).
	afterWrite atomic.Int32
	// inRead counts all reads in flight, settled or not.
	inRead atomic.Int32
	// closePending is set by a Close that waits for Idle (see Close);
	// pendingTimer closes the connection if neither Idle nor another
	// use of it comes first.
	closePending bool
	pendingTimer *time.Timer
	// owned is set once a handler took the connection with TCPConn: it
	// is never handed over.
	owned bool
}

// idleReportWait is how long a Close that may have come just before the
// server reports the connection idle waits for that report.
const idleReportWait = 100 * time.Millisecond

// readAfterWrite is afterWrite once more than a lone byte was read.
const readAfterWrite = 257

func newConn(s *socket, nc net.Conn, replay []byte) *Conn {
	c := &Conn{Conn: nc, socket: s, replay: replay, recording: true}
	c.readDone.L = &c.mu
	return c
}

// Read returns replayed bytes first, then reads from the connection.
func (c *Conn) Read(p []byte) (int, error) {
	// Counted before settled is read: see Close.
	c.inRead.Add(1)
	defer c.inRead.Add(-1)
	if c.settled.Load() {
		n, err := c.Conn.Read(p)
		c.noteRead(p[:n], len(p))
		return n, err
	}
	c.mu.Lock()
	if err := c.checkOpenLocked(); err != nil {
		c.mu.Unlock()
		return 0, err
	}
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.remember(p[:n])
		if len(c.replay) == 0 && !c.recording {
			c.settled.Store(true)
		}
		c.mu.Unlock()
		c.afterWrite.Store(readAfterWrite)
		return n, nil
	}
	recording := c.recording
	if recording {
		c.reading++
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.noteRead(p[:n], len(p))
	if !recording {
		return n, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading--
	c.readDone.Broadcast()
	if c.handingOver {
		// Interrupted by Close: what arrived belongs to the newer
		// config, never to this server.
		c.read = append(c.read, p[:n]...)
		return 0, errHandedOver
	}
	c.remember(p[:n])
	return n, err
}

// noteRead updates afterWrite with b, read into a buffer of size bytes.
func (c *Conn) noteRead(b []byte, size int) {
	switch {
	case len(b) == 0:
	case size == 1 && c.afterWrite.Load() == 0:
		c.afterWrite.Store(int32(b[0]) + 1)
	default:
		c.afterWrite.Store(readAfterWrite)
	}
}

// keptRecording is the largest recording buffer a connection keeps, empty,
// for the next request it records: a keep-alive connection records every
// request head, and reusing the buffer spares an allocation and its
// collection per request.
const keptRecording = 1024

// emptiedRecording returns the recording buffer emptied, or nil when it
// is too large to keep. Called with mu held.
func (c *Conn) emptiedRecording() []byte {
	if cap(c.read) > keptRecording {
		return nil
	}
	return c.read[:0]
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
// connection is its own until it waits for the next request.
func (c *Conn) Write(p []byte) (int, error) {
	if !c.settled.Load() {
		c.mu.Lock()
		if err := c.checkOpenLocked(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
		c.recording, c.read = false, c.emptiedRecording()
		if len(c.replay) == 0 {
			c.settled.Store(true)
		}
		c.mu.Unlock()
	}
	// Reset before writing: a client that has the answer may send its
	// next request before Write returns.
	c.afterWrite.Store(0)
	return c.Conn.Write(p)
}

// Idle tells c that its server has answered a request completely and
// waits for the next one (net/http's StateIdle): c records again, so that
// if the server closes it before writing anything more (net/http closes
// idle keep-alive connections when it shuts down), a newer config gets it
// with whatever the client has sent of its next request.
//
// Bytes read since the last write may be the start of the next request
// already in the server's buffer. A lone byte read by a one-byte read is
// net/http watching for the client's next request once the current one's
// body is read: that byte starts the recording. Anything else (a request
// body drained after the answer) may or may not be consumed: c then does
// not record, and stays the old server's. A pipelining client's next
// request read together with the previous one cannot be seen at all: a
// server which closes such a connection in the moment between going idle
// and reading again loses that request, as it would without a handover.
//
// Call Idle while no read is in flight on c, as net/http's hook is.
func (c *Conn) Idle() {
	c.mu.Lock()
	after := c.afterWrite.Load()
	if c.closed && !c.closePending || len(c.replay) > 0 || after == readAfterWrite {
		c.mu.Unlock()
		return
	}
	c.recording, c.read = true, c.emptiedRecording()
	if after > 0 {
		c.read = append(c.read, byte(after-1))
	}
	c.settled.Store(false)
	if !c.closePending {
		c.mu.Unlock()
		return
	}
	// The server closed c in the moment between marking it idle and
	// telling c so: hand it over now.
	if !c.pendingTimer.Stop() {
		// Too late: the timer closes it.
		c.mu.Unlock()
		return
	}
	c.closePending = false
	c.handOverLocked()
}

// SetDeadline sets the connection's deadlines, unless c has been handed
// over: the old server must not undo the deadline that interrupts its read,
// nor set one on the newer config's connection.
func (c *Conn) SetDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetDeadline, t)
}

// SetReadDeadline is as SetDeadline, for reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(c.Conn.SetReadDeadline, t)
}

func (c *Conn) setDeadline(set func(time.Time) error, t time.Time) error {
	if c.settled.Load() {
		return set(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkOpenLocked(); err != nil {
		return err
	}
	return set(t)
}

// checkOpenLocked returns the error of a use of c by its server once c was
// handed over or closed; a use while a Close waits for Idle means no Idle
// is coming: the connection is closed at once. Called with mu held.
func (c *Conn) checkOpenLocked() error {
	if c.handingOver {
		return errHandedOver
	}
	if c.closePending {
		c.closePending = false
		c.pendingTimer.Stop()
		c.Conn.Close()
		return net.ErrClosed
	}
	return nil
}

// Close closes the connection, unless its server has written nothing
// since it started recording and a newer config listens on the socket:
// then the connection goes to that config with what was read replayed. A
// read in flight (an idle keep-alive connection's server waits in one) is
// interrupted with a past deadline, the connection staying open, and what
// it read goes to the replay.
//
// Never handed over: connections under TLS (their records cannot be
// replayed to a new TLS server), HTTP/2 ones (Find does not reach them),
// and a connection whose server had begun an answer: that Close happens
// with recording off.
//
// net/http marks a connection idle, where Shutdown may close it, just
// before it calls its ConnState hook (and so Idle). A Close of a
// connection that is not recording, right after a write (no read in
// flight, nothing read since but net/http's lone byte) while a newer
// config listens, may be that: it waits for Idle to hand the connection
// over. Any other use of the connection by its server, or idleReportWait,
// closes it instead.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.listener == nil || !c.socket.newerThan(c.listener) {
		c.mu.Unlock()
		return c.Conn.Close()
	}
	if !c.recording {
		// Reads and uses of c take the locked path from here; a read
		// counted after this sees it.
		c.settled.Store(false)
		if c.owned || c.inRead.Load() > 0 || c.afterWrite.Load() == readAfterWrite || len(c.replay) > 0 {
			c.mu.Unlock()
			return c.Conn.Close()
		}
		c.closePending = true
		c.pendingTimer = time.AfterFunc(idleReportWait, c.closePendingNow)
		c.mu.Unlock()
		return nil
	}
	c.handOverLocked()
	return nil
}

// closePendingNow closes c if a Close still waits for Idle.
func (c *Conn) closePendingNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closePending {
		c.closePending = false
		c.Conn.Close()
	}
}

// handOverLocked interrupts the reads in flight on c and delivers c to the
// newest config with what was read replayed. Called with mu held and c
// recording; it unlocks mu.
func (c *Conn) handOverLocked() {
	c.handingOver = true
	if c.reading > 0 {
		c.Conn.SetReadDeadline(interruptRead)
		for c.reading > 0 {
			c.readDone.Wait()
		}
	}
	replay := append(c.read, c.replay...)
	c.read, c.replay = nil, nil
	c.mu.Unlock()
	// The old server may have set deadlines; the new one sets its own.
	c.Conn.SetDeadline(time.Time{})
	next := newConn(c.socket, c.Conn, replay)
	go func() {
		if !c.socket.deliver(accepted{conn: next}) {
			next.Conn.Close()
		}
	}()
}

// NetConn returns the underlying connection, for handlers that need the
// *net.TCPConn (to splice, or to half-close).
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Find returns the *Conn under nc, unwrapping connections that expose
// NetConn, or nil: when nc is not from a shared socket, or a wrapper
// hides it, or TLS runs over it (a TLS connection cannot be handed over).
func Find(nc net.Conn) *Conn {
	for nc != nil {
		switch c := nc.(type) {
		case *Conn:
			return c
		case *tls.Conn:
			return nil
		case interface{ NetConn() net.Conn }:
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

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
	hc.recording, hc.read, hc.owned = false, nil, true
	hc.settled.Store(true)
	tc, ok = hc.Conn.(*net.TCPConn)
	return tc, ok
}
