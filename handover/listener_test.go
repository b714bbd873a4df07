package handover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// listenShared opens a listener of the registered network through Caddy's
// own address handling, as a server would.
func listenShared(t *testing.T, addr string) *Listener {
	t.Helper()
	return listenSharedWith(t, addr, net.ListenConfig{})
}

// listenSharedWith is listenShared with the server's listen config.
func listenSharedWith(t *testing.T, addr string, cfg net.ListenConfig) *Listener {
	t.Helper()
	na, err := caddy.ParseNetworkAddress("haproxy-tcp/" + addr)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := na.Listen(context.Background(), 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := ln.(*Listener)
	if !ok {
		t.Fatalf("listener is %T, want *Listener", ln)
	}
	return l
}

// serveEcho answers each line on each accepted connection with tag+line,
// until l is closed; connections it accepted are served to the end.
func serveEcho(l net.Listener, tag string, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if _, err := io.WriteString(c, tag+line); err != nil {
					return
				}
			}
		}()
	}
}

// ask sends one line on a new connection and returns the answer.
func ask(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dialClient connects to addr; the connection is closed when the test ends.
func dialClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptOne accepts one connection on l.
func acceptOne(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewestListenerGetsConnections(t *testing.T) {
	var wg sync.WaitGroup
	l1 := listenShared(t, freeAddr(t))
	addr := l1.Addr().String()
	wg.Add(1)
	go serveEcho(l1, "one:", &wg)
	if got, err := ask(addr); err != nil || got != "one:ping\n" {
		t.Fatalf("first config: %q, %v", got, err)
	}

	// A second config on the same address shares the socket and takes
	// the new connections.
	l2 := listenShared(t, addr)
	if l2.socket != l1.socket {
		t.Fatal("second listener did not share the socket")
	}
	wg.Add(1)
	go serveEcho(l2, "two:", &wg)
	if got, err := ask(addr); err != nil || got != "two:ping\n" {
		t.Fatalf("second config: %q, %v", got, err)
	}

	// If the new config goes away (failed start), the old one serves again.
	l2.Close()
	if got, err := ask(addr); err != nil || got != "one:ping\n" {
		t.Fatalf("after closing the second config: %q, %v", got, err)
	}

	// The socket closes with its last listener.
	l1.Close()
	wg.Wait()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("socket still accepts after the last listener closed")
	}
	if len(sockets) != 0 {
		t.Fatalf("%d sockets left open", len(sockets))
	}
	if _, err := l1.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}

// clientLoad is eight clients sending without pause until stopped, counting
// the exchanges they start and those that fail.
type clientLoad struct {
	sent, failed atomic.Int64
	// firstErr is the first failure's text.
	firstErr atomic.Value
	stop     chan struct{}
	clients  sync.WaitGroup
}

// startLoad starts the clients; newClient makes each client's exchange.
func startLoad(newClient func() (exchange func() error)) *clientLoad {
	l := &clientLoad{stop: make(chan struct{})}
	for range 8 {
		l.clients.Add(1)
		go func() {
			defer l.clients.Done()
			exchange := newClient()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.sent.Add(1)
				if err := exchange(); err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	return l
}

// waitSent waits until n more exchanges have started, or one failed.
func (l *clientLoad) waitSent(n int64) {
	for before := l.sent.Load(); l.sent.Load() < before+n && l.failed.Load() == 0; {
		runtime.Gosched()
	}
}

// stopAndWait stops the clients and waits for their last exchanges.
func (l *clientLoad) stopAndWait() {
	close(l.stop)
	l.clients.Wait()
}

// TestReloadsLoseNoConnection replaces the listening "config" 200 times
// while clients open connections without pause; every connection must be
// answered. With a fresh SO_REUSEPORT socket per config, connections
// queued on the closing socket would be reset.
func TestReloadsLoseNoConnection(t *testing.T) {
	var servers sync.WaitGroup
	cur := listenShared(t, freeAddr(t))
	addr := cur.Addr().String()
	servers.Add(1)
	go serveEcho(cur, "0:", &servers)

	load := startLoad(func() func() error {
		return func() error {
			if got, err := ask(addr); err != nil || len(got) < 5 {
				return fmt.Errorf("%q %v", got, err)
			}
			return nil
		}
	})
	for i := 1; i <= 200; i++ {
		// Let a few connections through each config.
		load.waitSent(4)
		next := listenShared(t, addr)
		servers.Add(1)
		go serveEcho(next, fmt.Sprintf("%d:", i), &servers)
		cur.Close()
		cur = next
	}
	load.stopAndWait()
	cur.Close()
	servers.Wait()
	if load.failed.Load() != 0 {
		t.Fatalf("%d of %d connections failed across 200 reloads; first: %v", load.failed.Load(), load.sent.Load(), load.firstErr.Load())
	}
	t.Logf("%d connections, 200 reloads, none failed", load.sent.Load())
}

func TestOffsetPort(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset uint
		want   string
		err    bool
	}{
		{"8080", 0, "8080", false},
		{"8080-8090", 3, "8083", false},
		{"65535", 1, "", true},
		{"http", 0, "", true},
	} {
		got, err := offsetPort(tc.in, tc.offset)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("offsetPort(%q, %d) = %q, %v", tc.in, tc.offset, got, err)
		}
	}
}

// TestHTTPShutdownLosesNoRequest reloads plain net/http servers on a
// shared socket: the old server is shut down right after the new one
// starts, while clients open a connection per request. Go's server drops a
// connection whose first request it reads after Shutdown has begun; the
// handover gives such a connection, with its request, to the new server.
func TestHTTPShutdownLosesNoRequest(t *testing.T) {
	addr := freeAddr(t)
	start := func(tag string) *http.Server {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, tag)
		})}
		go srv.Serve(listenShared(t, addr))
		return srv
	}
	cur := start("0")
	load := startLoad(func() func() error {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		return func() error {
			resp, err := client.Get("http://" + addr + "/")
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return err
		}
	})
	reloadUnderLoad(t, load, cur, start)
}

// reloadUnderLoad replaces the server cur 100 times, each time once load
// has sent 10 more requests: the next one is started with start, then the
// previous one shut down. No request may fail.
func reloadUnderLoad(t *testing.T, load *clientLoad, cur *http.Server, start func(tag string) *http.Server) {
	t.Helper()
	for i := 1; i <= 100; i++ {
		load.waitSent(10)
		next := start(fmt.Sprint(i))
		cur.Shutdown(context.Background())
		cur = next
	}
	load.stopAndWait()
	cur.Shutdown(context.Background())
	if load.failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed across 100 reloads; first: %v", load.failed.Load(), load.sent.Load(), load.firstErr.Load())
	}
	t.Logf("%d requests, 100 reloads, none failed", load.sent.Load())
}

// TestConnReplaysUntilFirstWrite checks the replay bookkeeping: bytes read
// before the first write are handed over, a write ends recording, and a
// connection closed with no newer listener is really closed.
func TestConnReplaysUntilFirstWrite(t *testing.T) {
	addr := freeAddr(t)
	old := listenShared(t, addr)
	defer old.Close()
	client := dialClient(t, addr)
	io.WriteString(client, "GET / HTTP/1.1\r\n")
	c := acceptOne(t, old)
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(c, buf, len("GET / HTTP/1.1\r\n"))
	if err != nil {
		t.Fatal(err)
	}

	// Closed unanswered while a newer config listens: handed over, and
	// the newer config reads the same bytes again, then what follows.
	newer := listenShared(t, addr)
	defer newer.Close()
	c.Close()
	io.WriteString(client, "Host: x\r\n\r\n")
	c2 := acceptOne(t, newer)
	want := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c2, got); err != nil || string(got) != want {
		t.Fatalf("newer config read %q, %v; want %q", got, err, want)
	}
	if string(buf[:n]) != want[:n] {
		t.Fatalf("old config read %q", buf[:n])
	}

	// Once written to, a close is a close even with a newer listener.
	newest := listenShared(t, addr)
	defer newest.Close()
	io.WriteString(c2, "HTTP/1.1 204 No Content\r\n\r\n")
	c2.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, err := io.ReadAll(client)
	if err != nil || string(answer) != "HTTP/1.1 204 No Content\r\n\r\n" {
		t.Fatalf("client read %q, %v; want the answer then EOF", answer, err)
	}
}

func TestTCPConnUnwrapsOnceSettled(t *testing.T) {
	addr := freeAddr(t)
	l := listenShared(t, addr)
	defer l.Close()
	client := dialClient(t, addr)
	c := acceptOne(t, l)
	hc := c.(*Conn)
	hc.replay = []byte("pending")
	if _, ok := TCPConn(c); ok {
		t.Fatal("unwrapped a connection with bytes left to replay")
	}
	hc.replay = nil
	tc, ok := TCPConn(c)
	if !ok || tc == nil {
		t.Fatal("did not unwrap a settled connection")
	}
	// Unwrapped, the connection is the handler's: closing it with a newer
	// listener open closes it for real.
	newer := listenShared(t, addr)
	defer newer.Close()
	c.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("client read %d, %v; want EOF", n, err)
	}
}
