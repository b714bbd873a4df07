package l4proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// relayBufferSize is the size of the buffer a direction copies through
// before it switches to splice. A read that fills it is taken for a bulk
// transfer; the short exchanges that make most connections fit in it (as
// HAProxy, whose "option splice-auto" splices only once a buffer fills up).
const relayBufferSize = 16 << 10

// relayBuffers holds the buffers of relaySmall. A direction takes one only
// once data is there to read, so idle connections hold none.
var relayBuffers = sync.Pool{New: func() any {
	b := make([]byte, relayBufferSize)
	return &b
}}

// relaySmall copies src to dst with read and write through a pooled
// buffer, which costs less than splice for the few bytes most connections
// carry (splice goes through a pipe: two calls, each heavier than a read
// or a write). It returns true when a read filled the buffer: the caller
// copies the rest with splice. It returns false when the direction is
// over: at the end of src it has half-closed dst; on an error it has
// aborted the tunnel.
func (t *tunnel) relaySmall(dst net.Conn, src *net.TCPConn, r *socketReader, fromClient bool) (bulk bool) {
	if err := r.init(src); err != nil {
		t.abort()
		return false
	}
	for {
		n, err := r.read()
		if n > 0 {
			_, werr := dst.Write((*r.buf)[:n])
			r.release()
			t.moved(int64(n), fromClient)
			if werr != nil {
				t.abort()
				return false
			}
			if n == relayBufferSize {
				return true
			}
			continue
		}
		r.release()
		switch {
		case err == io.EOF:
			closeWrite(dst)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// A deadline an earlier handler left: the tunnel's idleness
			// is the watchdog's to judge.
			_ = src.SetReadDeadline(time.Time{})
			continue
		default:
			// A reset, or the tunnel closed by abort (idle timeout).
			t.abort()
		}
		return false
	}
}

// socketReader reads a socket into buffers of relayBuffers, taking one
// only once data is there.
type socketReader struct {
	rc syscall.RawConn
	// readFd is the method value of readOnce, made once: a closure per
	// read would allocate.
	readFd func(fd uintptr) bool
	// buf holds what the last read returned, until release.
	buf *[]byte
	n   int
	err error
}

// init prepares r to read c.
func (r *socketReader) init(c *net.TCPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	r.rc = rc
	r.readFd = r.readOnce
	return nil
}

// read waits until the socket has data or its end, then reads it into
// r.buf. n is 0 at the end of the stream, with io.EOF.
func (r *socketReader) read() (n int, err error) {
	r.n, r.err = 0, nil
	if err := r.rc.Read(r.readFd); err != nil {
		return 0, err
	}
	switch {
	case r.err != nil:
		return 0, r.err
	case r.n <= 0:
		return 0, io.EOF
	}
	return r.n, nil
}

// readOnce is called by the poller with the socket; it returns false to
// wait for the socket to become readable, holding no buffer meanwhile.
func (r *socketReader) readOnce(fd uintptr) bool {
	b := relayBuffers.Get().(*[]byte)
	for {
		r.n, r.err = syscall.Read(int(fd), *b)
		if r.err != syscall.EINTR {
			break
		}
	}
	if r.err == syscall.EAGAIN {
		relayBuffers.Put(b)
		return false
	}
	r.buf = b
	return true
}

// release gives the buffer of the last read back.
func (r *socketReader) release() {
	if r.buf != nil {
		relayBuffers.Put(r.buf)
		r.buf = nil
	}
}
