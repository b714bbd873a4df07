package handover

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// markIdle is the ConnState hook a server uses to have its idle
// keep-alive connections handed over.
func markIdle(c net.Conn, state http.ConnState) {
	if hc := Find(c); state == http.StateIdle && hc != nil {
		hc.Idle()
	}
}

// keepAliveClient sends GETs on one raw connection, never retrying, and
// dials a new one only when the server said it closes.
type keepAliveClient struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
}

// get sends one GET and returns the body of its answer.
func (k *keepAliveClient) get() (string, error) {
	if k.conn == nil {
		c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		k.conn, k.r = c, bufio.NewReader(c)
	}
	k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	resp, err := k.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err != nil {
		k.close()
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.Close {
		k.close()
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return string(body), err
}

// send writes raw and reads the answer.
func (k *keepAliveClient) send(raw string) (*http.Response, error) {
	if _, err := io.WriteString(k.conn, raw); err != nil {
		return nil, err
	}
	return http.ReadResponse(k.r, nil)
}

func (k *keepAliveClient) close() {
	if k.conn != nil {
		k.conn.Close()
		k.conn = nil
	}
}

// startTagServer serves tag as the body of every answer on a new listener
// of the shared socket at addr, watching idle connections.
func startTagServer(t *testing.T, addr, tag string) *http.Server {
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tag) }),
		ConnState: markIdle,
	}
	go srv.Serve(listenShared(t, addr))
	return srv
}

// TestIdleConnGoesToNewerConfig closes an idle keep-alive connection the
// way net/http's Shutdown does while a newer config listens: the client's
// next request on it is answered by the newer config.
func TestIdleConnGoesToNewerConfig(t *testing.T) {
	addr := freeAddr(t)
	idle := make(chan net.Conn, 1)
	old := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "old") }),
		ConnState: func(c net.Conn, state http.ConnState) {
			markIdle(c, state)
			if state == http.StateIdle {
				idle <- c
			}
		},
	}
	go old.Serve(listenShared(t, addr))
	client := &keepAliveClient{addr: addr}
	defer client.close()
	if got, err := client.get(); err != nil || got != "old" {
		t.Fatalf("first request: %q, %v", got, err)
	}
	<-idle

	newer := startTagServer(t, addr, "new")
	defer newer.Close()
	if err := old.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, err := client.get(); err != nil || got != "new" {
		t.Fatalf("request on the idle connection after the old server closed it: %q, %v", got, err)
	}
}

// TestHTTPShutdownKeepsKeepAliveConns reloads net/http servers on a shared
// socket 100 times while keep-alive clients send requests back to back
// without retrying: the idle connections each old server closes go to the
// new one, and no request fails.
func TestHTTPShutdownKeepsKeepAliveConns(t *testing.T) {
	addr := freeAddr(t)
	cur := startTagServer(t, addr, "0")
	load := startLoad(func() func() error {
		client := &keepAliveClient{addr: addr}
		return func() error {
			_, err := client.get()
			return err
		}
	})
	reloadUnderLoad(t, load, cur, func(tag string) *http.Server { return startTagServer(t, addr, tag) })
}

// lateConn is a real connection whose reads return what they got only
// once a past read deadline interrupts them: the bytes of the client's
// next request arrive just as the old server's read is interrupted.
type lateConn struct {
	net.Conn
	interrupted chan struct{}
}

func (c *lateConn) SetReadDeadline(t time.Time) error {
	if t.Before(time.Now()) && !t.IsZero() {
		close(c.interrupted)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *lateConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	<-c.interrupted
	return n, err
}

// TestIdleCloseReplaysWhatTheInterruptedReadGot checks that the bytes an
// idle connection's interrupted read returns go to the newer config, after
// those read since the connection went idle, and never to the old server.
func TestIdleCloseReplaysWhatTheInterruptedReadGot(t *testing.T) {
	addr, c, client := acceptedConn(t)
	late := &lateConn{Conn: c.Conn, interrupted: make(chan struct{})}
	c.Conn = late

	// The first exchange: the answer ends recording, going idle starts
	// it again.
	close(late.interrupted)
	io.WriteString(client, "GET /1 HTTP/1.1\r\n\r\n")
	if _, err := io.ReadFull(c, make([]byte, len("GET /1 HTTP/1.1\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	c.Idle()
	io.WriteString(client, "GET /2 ")
	part := make([]byte, len("GET /2 "))
	if _, err := io.ReadFull(c, part); err != nil {
		t.Fatal(err)
	}

	// The old server waits in a read; the client's next bytes arrive as
	// its config stops.
	late.interrupted = make(chan struct{})
	io.WriteString(client, "HTTP/1.1\r\n")
	oldRead := make(chan error, 1)
	go func() {
		n, err := c.Read(make([]byte, 64))
		if n != 0 {
			err = fmt.Errorf("old server read %d bytes after the close", n)
		}
		oldRead <- err
	}()
	newer := listenShared(t, addr)
	defer newer.Close()
	for !c.waitingInRead() {
		runtime.Gosched()
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-oldRead; !errors.Is(err, errHandedOver) {
		t.Fatalf("old server's read: %v; want the handover error", err)
	}

	io.WriteString(client, "\r\n")
	c2 := acceptOne(t, newer)
	want := "GET /2 HTTP/1.1\r\n\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c2, got); err != nil || string(got) != want {
		t.Fatalf("newer config read %q, %v; want %q", got, err, want)
	}
	// The old server's deadlines no longer reach the connection.
	if err := c.SetReadDeadline(time.Now()); !errors.Is(err, errHandedOver) {
		t.Fatalf("old server set a deadline after the handover: %v", err)
	}
	io.WriteString(c2, "HTTP/1.1 204 No Content\r\n\r\n")
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	answers := bufio.NewReader(client)
	for i := range 2 {
		if resp, err := http.ReadResponse(answers, nil); err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("answer %d: %v", i+1, err)
		}
	}
}

// waitingInRead reports whether a read is in flight on c while recording.
func (c *Conn) waitingInRead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reading > 0
}

// TestIdleConnStaysAfterAnAnswerBegins checks that a connection whose
// server began an answer after going idle is closed for real: the client
// sees the cut answer end, not a newer config.
func TestIdleConnStaysAfterAnAnswerBegins(t *testing.T) {
	addr, c, client := acceptedConn(t)
	io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	c.Idle()
	const cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
	io.WriteString(c, cut)

	newer := listenShared(t, addr)
	defer newer.Close()
	c.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "HTTP/1.1 204 No Content\r\n\r\n"+cut {
		t.Fatalf("client read %q, %v; want the cut answer then EOF", got, err)
	}
}

// TestTLSConnIsNotHandedOver runs TLS over a shared-socket connection: Find
// does not reach through TLS, so the connection is never marked idle, and
// its close is a close even with a newer config listening.
func TestTLSConnIsNotHandedOver(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()

	addr := freeAddr(t)
	old := listenShared(t, addr)
	defer old.Close()
	raw := dialClient(t, addr)
	client := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	server := tls.Server(acceptOne(t, old), &tls.Config{Certificates: []tls.Certificate{cert}})
	handshake := make(chan error, 1)
	go func() { handshake <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-handshake; err != nil {
		t.Fatal(err)
	}
	wrapped := struct{ net.Conn }{server}
	for _, c := range []net.Conn{server, &countedConn{server}, wrapped} {
		if hc := Find(c); hc != nil {
			t.Fatalf("Find(%T) reached through TLS", c)
		}
	}
	if Find(&countedConn{server.NetConn()}) == nil {
		t.Fatal("Find did not unwrap a connection exposing NetConn")
	}

	markIdle(server, http.StateIdle)
	newer := listenShared(t, addr)
	defer newer.Close()
	server.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("client read %d, %v; want EOF", n, err)
	}
}

// countedConn is a wrapper exposing NetConn, as listener wrappers do.
type countedConn struct{ net.Conn }

func (c *countedConn) NetConn() net.Conn { return c.Conn }

// TestIdleRecordsOnlyWhatItCanReplay checks what going idle keeps of the
// bytes a server read after its answer: a lone byte from a one-byte read
// (net/http watching for the next request) starts the replay; more (a
// request body drained after the answer) may sit in the server's buffer,
// so the connection is then closed, not handed over.
func TestIdleRecordsOnlyWhatItCanReplay(t *testing.T) {
	const answer = "HTTP/1.1 204 No Content\r\n\r\n"
	for _, tc := range []struct {
		name string
		// readAfterAnswer is what the server reads after answering,
		// into a buffer of bufSize bytes.
		readAfterAnswer string
		bufSize         int
		// then is what the client sends once the server closed.
		then string
		// handedOver is what the newer config reads; "" if it gets no
		// connection.
		handedOver string
	}{
		{name: "nothing read", then: "GET /2 HTTP/1.1\r\n\r\n", handedOver: "GET /2 HTTP/1.1\r\n\r\n"},
		{name: "one-byte read", readAfterAnswer: "G", bufSize: 1, then: "ET /2 HTTP/1.1\r\n\r\n", handedOver: "GET /2 HTTP/1.1\r\n\r\n"},
		{name: "body drained", readAfterAnswer: "rest of the body", bufSize: 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, c, client := acceptedConn(t)
			io.WriteString(c, answer)
			if tc.readAfterAnswer != "" {
				io.WriteString(client, tc.readAfterAnswer)
				buf := make([]byte, tc.bufSize)
				if _, err := io.ReadAtLeast(c, buf, len(tc.readAfterAnswer)); err != nil {
					t.Fatal(err)
				}
			}
			c.Idle()
			newer := listenShared(t, addr)
			defer newer.Close()
			c.Close()
			io.WriteString(client, tc.then)

			if tc.handedOver == "" {
				client.SetReadDeadline(time.Now().Add(5 * time.Second))
				if got, err := io.ReadAll(client); err != nil || string(got) != answer {
					t.Fatalf("client read %q, %v; want the answer then EOF", got, err)
				}
				return
			}
			c2 := acceptOne(t, newer)
			got := make([]byte, len(tc.handedOver))
			if _, err := io.ReadFull(c2, got); err != nil || string(got) != tc.handedOver {
				t.Fatalf("newer config read %q, %v; want %q", got, err, tc.handedOver)
			}
		})
	}
}

// TestCloseJustBeforeIdle closes a connection right after its answer, as
// Shutdown does when net/http has marked it idle but not yet called its
// hook: the Idle that follows hands it over; without Idle, the server's
// next use of it, or else the wait running out, closes it.
func TestCloseJustBeforeIdle(t *testing.T) {
	const answer = "HTTP/1.1 204 No Content\r\n\r\n"
	for _, tc := range []struct {
		name string
		// after is what the server does once c is closed.
		after      func(c *Conn)
		handedOver bool
	}{
		{name: "idle follows", after: (*Conn).Idle, handedOver: true},
		{name: "read follows", after: func(c *Conn) {
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("read after the close: %v", err)
			}
		}},
		{name: "nothing follows", after: func(*Conn) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, c, client := acceptedConn(t)
			io.WriteString(c, answer)
			newer := listenShared(t, addr)
			defer newer.Close()
			c.Close()
			tc.after(c)

			const next = "GET /2 HTTP/1.1\r\n\r\n"
			if !tc.handedOver {
				client.SetReadDeadline(time.Now().Add(5 * time.Second))
				if got, err := io.ReadAll(client); err != nil || string(got) != answer {
					t.Fatalf("client read %q, %v; want the answer then EOF", got, err)
				}
				return
			}
			io.WriteString(client, next)
			got := make([]byte, len(next))
			if _, err := io.ReadFull(acceptOne(t, newer), got); err != nil || string(got) != next {
				t.Fatalf("newer config read %q, %v", got, err)
			}
		})
	}
}

// acceptedConn listens on a shared socket at a free address and returns
// the address, the server's end of a connection accepted there and the
// client's end; the listener closes when the test ends.
func acceptedConn(t *testing.T) (addr string, c *Conn, client net.Conn) {
	t.Helper()
	addr = freeAddr(t)
	old := listenShared(t, addr)
	t.Cleanup(func() { old.Close() })
	client = dialClient(t, addr)
	return addr, acceptOne(t, old).(*Conn), client
}
