package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReloadKeepsIdleKeepAliveConns replaces the config 24 times through
// POST /load text/haproxy while eight keep-alive clients send requests back
// to back on raw connections, never retrying (Go's http.Client would resend
// an idempotent request on a keep-alive connection closed under it). The
// old server closes its idle keep-alive connections when its config stops;
// a client sending its next request at that moment must still be answered,
// by the newer config: no request may fail.
func TestReloadKeepsIdleKeepAliveConns(t *testing.T) {
	c, port, v1, v2 := startReloadPair(t)

	load := startKeepAliveLoad(loopback(port), 8)
	const reloads = 24
	for i := range reloads {
		before := load.answered.Load()
		c.waitFor("requests under load", func() bool { return load.answered.Load() >= before+50 || load.failed.Load() > 0 })
		cfg := v1
		if i%2 == 0 {
			cfg = v2
		}
		if err := c.loadHAProxyConfig(cfg); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
	}
	load.stop()
	if n := load.failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed across %d reloads (%d connections); first: %v",
			n, load.sent.Load(), reloads, load.conns.Load(), load.firstErr.Load())
	}
	t.Logf("%d requests on %d keep-alive connections across %d reloads, none failed", load.sent.Load(), load.conns.Load(), reloads)
}

// keepAliveLoad is clients sending GETs back to back on raw keep-alive
// connections. A failed request counts, and its client opens a new
// connection; a response that closes the connection makes it open one too.
type keepAliveLoad struct {
	sent, answered, failed, conns atomic.Int64
	firstErr                      atomic.Value
	done                          chan struct{}
	clients                       sync.WaitGroup
}

func startKeepAliveLoad(addr string, n int) *keepAliveLoad {
	l := &keepAliveLoad{done: make(chan struct{})}
	for range n {
		l.clients.Add(1)
		go func() {
			defer l.clients.Done()
			for !l.stopped() {
				l.runConn(addr)
			}
		}()
	}
	return l
}

func (l *keepAliveLoad) stopped() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// runConn sends requests on one connection until it fails, the server
// closes it, or the load stops.
func (l *keepAliveLoad) runConn(addr string) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		l.fail(err)
		return
	}
	defer conn.Close()
	l.conns.Add(1)
	r := bufio.NewReader(conn)
	for !l.stopped() {
		l.sent.Add(1)
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
			l.fail(err)
			return
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			l.fail(err)
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			l.fail(fmt.Errorf("status %d, %v", resp.StatusCode, err))
			return
		}
		l.answered.Add(1)
		if resp.Close {
			return
		}
	}
}

func (l *keepAliveLoad) fail(err error) {
	l.failed.Add(1)
	l.firstErr.CompareAndSwap(nil, err.Error())
}

func (l *keepAliveLoad) stop() {
	close(l.done)
	l.clients.Wait()
}
