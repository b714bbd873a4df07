package l4proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mholt/caddy-l4/layer4"

	"github.com/caddy-haproxy/caddy-haproxy/handover"
	"github.com/caddy-haproxy/caddy-haproxy/internal/netconn"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// maxWake bounds how long one copy call runs before it returns to count
// its bytes, so that the counters stay current on long transfers, and how
// often the idle clock is looked at: an idle connection is closed at most
// two wakes after its timeout.
const maxWake = time.Second

// tunnel copies bytes both ways between a client and a server connection
// until both directions are done, one side fails, or no byte moved in
// either direction for the idle timeout.
//
// A direction that reads a TCP socket copies through a pooled buffer
// while reads come in short (relaySmall); once a read fills the buffer,
// the rest is (*net.TCPConn).ReadFrom of the other socket, which Linux
// runs as splice(2) through a pipe: bulk bytes never enter user space.
type tunnel struct {
	// clientIn reads the client: its socket, or the layer4 connection when
	// an earlier handler wrapped the socket (TLS). clientOut writes to it.
	clientIn  io.Reader
	clientOut net.Conn
	server    net.Conn
	idle      time.Duration
	wake      time.Duration
	counters  counterSet

	// lastActive is when bytes were last seen moving, in nanoseconds
	// since start.
	start      time.Time
	lastActive atomic.Int64
	closeOnce  sync.Once

	// watchdog checks the idle clock every wake; progress is the kernel's
	// byte count of both sockets at its last check.
	watchdog *time.Timer
	progress uint64
	ended    atomic.Bool

	// toClient waits for the direction from the server to the client,
	// which has its own goroutine.
	toClient sync.WaitGroup

	// fromClient and fromServer read the sockets while the directions
	// copy through buffers (relaySmall).
	fromClient, fromServer socketReader
}

// counterSet are the counters a tunnel adds its bytes to: its server's,
// its backend's and its frontend's (nil when none). An array, so that a
// connection allocates no list.
type counterSet [3]*lbmodule.Counters

// newTunnel prepares the tunnel between cx and server. The bytes the
// matchers read from cx were sent already (writePreamble); the rest is
// read from the socket directly when nothing wraps it.
func newTunnel(cx *layer4.Connection, server net.Conn, idle time.Duration, counters counterSet) *tunnel {
	t := &tunnel{server: server, idle: idle, counters: counters, start: time.Now()}
	// A socket shared across reloads gives up its *net.TCPConn once it
	// has nothing left to replay.
	if raw, ok := handover.TCPConn(cx.Conn); ok {
		t.clientIn, t.clientOut = raw, raw
	} else {
		// Reads through cx return its buffered bytes first; they were
		// sent already, so skip them.
		_, _ = io.CopyN(io.Discard, cx, int64(len(cx.MatchingBytes())))
		t.clientIn, t.clientOut = cx, cx.Conn
	}
	t.wake = maxWake
	if idle > 0 {
		t.wake = min(maxWake, max(idle/8, time.Millisecond))
	}
	return t
}

// run copies until the tunnel ends, then closes the server connection.
// The client connection is closed by the layer4 server when Handle
// returns.
func (t *tunnel) run() {
	if t.idle > 0 {
		t.watchdog = time.AfterFunc(time.Hour, t.checkIdle)
		t.watchdog.Reset(t.wake)
		defer t.watchdog.Stop()
	}
	defer t.ended.Store(true)
	t.toClient.Add(1)
	go t.serverToClient()
	t.pump(t.server, t.clientIn, t.clientOut, true)
	t.toClient.Wait()
	_ = t.server.Close()
}

// serverToClient is the direction from the server to the client.
func (t *tunnel) serverToClient() {
	defer t.toClient.Done()
	t.pump(t.clientOut, t.server, t.server, false)
}

// pump copies src to dst; readDeadline is the connection src reads from.
// At the end of src it half-closes dst, so the peer sees the end while the
// other direction goes on. fromClient tells which byte counter to feed.
//
// A socket is first copied through a buffer (relaySmall), and spliced
// only once a read fills the buffer.
func (t *tunnel) pump(dst net.Conn, src io.Reader, readDeadline net.Conn, fromClient bool) {
	if tc, ok := src.(*net.TCPConn); ok {
		r := &t.fromServer
		if fromClient {
			r = &t.fromClient
		}
		if !t.relaySmall(dst, tc, r, fromClient) {
			return
		}
	}
	for {
		_ = readDeadline.SetReadDeadline(time.Now().Add(t.wake))
		n, err := copyOnce(dst, src)
		if n > 0 {
			t.moved(n, fromClient)
		}
		switch {
		case err == nil:
			closeWrite(dst)
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			// A wake: go on; the watchdog decides about idleness.
		default:
			// A reset or a write error ends both directions, as HAProxy
			// aborts the stream.
			t.abort()
			return
		}
	}
}

// copyOnce copies src to dst until src ends (nil error) or an error,
// through dst's ReadFrom, which splices between TCP sockets.
func copyOnce(dst net.Conn, src io.Reader) (int64, error) {
	if rf, ok := dst.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(dst, src)
}

// checkIdle runs every wake while the tunnel lasts. Bytes moving on either
// socket, as the kernel counts them, are activity even while a copy call
// is blocked on a slow peer; the copy calls' own returns count for
// connections the kernel does not describe (TLS, wrapped sockets).
func (t *tunnel) checkIdle() {
	if t.ended.Load() {
		return
	}
	var sum uint64
	known := false
	for _, c := range []net.Conn{t.clientOut, t.server} {
		if b, ok := kernelProgress(c); ok {
			sum, known = sum+b, true
		}
	}
	if known && sum != t.progress {
		t.progress = sum
		t.lastActive.Store(int64(time.Since(t.start)))
	}
	if time.Since(t.start)-time.Duration(t.lastActive.Load()) >= t.idle {
		t.abort()
		return
	}
	t.watchdog.Reset(t.wake)
}

// moved records that n bytes were copied just now.
func (t *tunnel) moved(n int64, fromClient bool) {
	t.lastActive.Store(int64(time.Since(t.start)))
	t.count(n, fromClient)
}

func (t *tunnel) count(n int64, fromClient bool) {
	for _, c := range t.counters {
		if c == nil {
			continue
		}
		if fromClient {
			c.BytesIn.Add(n)
		} else {
			c.BytesOut.Add(n)
		}
	}
}

// abort closes both connections, which ends the other direction's copy.
func (t *tunnel) abort() {
	t.closeOnce.Do(func() {
		_ = t.server.Close()
		_ = t.clientOut.Close()
	})
}

// closeWrite half-closes c, or else the connection it wraps, or else
// closes c. Wrappers that cannot half-close themselves only add to what
// is read (a socket shared across reloads, a PROXY header reader, a
// layer4 connection), so half-closing what they wrap is right; TLS can
// half-close itself and is never unwrapped.
func closeWrite(c net.Conn) {
	for {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return
		}
		inner := netconn.Unwrap(c)
		if inner == nil {
			_ = c.Close()
			return
		}
		c = inner
	}
}
