package l4proxy

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// A connection that starts with a few bytes and then carries a bulk
// transfer both ways arrives intact and is counted exactly: the short
// start is copied through a buffer, the rest spliced.
func TestShortStartThenBulkBothWays(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")
	c := f.dial(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	sent := append([]byte("hello "), bytes.Repeat([]byte("0123456789abcdef"), 1<<16)...)
	go func() {
		// Small writes first, then the bulk in one go.
		for _, part := range [][]byte{sent[:3], sent[3:6], sent[6:]} {
			if _, err := c.Write(part); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		_ = c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("A\n"), sent...); !bytes.Equal(got, want) {
		t.Fatalf("client got %d bytes, want the name then the echo of %d bytes", len(got), len(sent))
	}
	b := h.RuntimeBackend()
	waitFor(t, "the connection released", func() bool { return b.Counters().Current.Load() == 0 })
	s := b.Server("a").Counters()
	if s.BytesIn.Load() != int64(len(sent)) || s.BytesOut.Load() != int64(len(got)) {
		t.Fatalf("server bytes in/out = %d/%d, want %d/%d", s.BytesIn.Load(), s.BytesOut.Load(), len(sent), len(got))
	}
}

// relaySmall copies what it reads until a read fills its buffer, then
// leaves the rest to splice.
func TestRelaySmallHandsBulkToSplice(t *testing.T) {
	for _, tc := range []struct {
		name     string
		input    int
		wantBulk bool
		wantCopy int
	}{
		{"short then end", 100, false, 100},
		{"bulk", 4 * relayBufferSize, true, relayBufferSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, peer := tcpPair(t)
			dst, sink := tcpPair(t)
			go func() {
				_, _ = peer.Write(make([]byte, tc.input))
				_ = peer.CloseWrite()
			}()
			// Let the whole input arrive, so that the first read can fill
			// the buffer.
			waitFor(t, "the input queued", func() bool { b, _ := kernelProgress(src); return b >= uint64(tc.input) })
			tun := &tunnel{server: dst, clientOut: src, start: time.Now()}
			bulk := tun.relaySmall(dst, src, &tun.fromClient, true)
			if bulk != tc.wantBulk {
				t.Fatalf("bulk = %v, want %v", bulk, tc.wantBulk)
			}
			if !bulk {
				// The end of the input half-closed dst.
				_ = sink.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, err := io.Copy(io.Discard, sink)
				if err != nil || n != int64(tc.wantCopy) {
					t.Fatalf("dst got %d bytes then %v, want %d then its end", n, err, tc.wantCopy)
				}
				return
			}
			_ = sink.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(sink, make([]byte, tc.wantCopy)); err != nil {
				t.Fatalf("dst did not get the first %d bytes: %v", tc.wantCopy, err)
			}
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (a, b *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// A read deadline that an earlier handler left on the client socket, long
// past, does not end the connection: idleness is the tunnel's to judge.
func TestStaleClientDeadlineIsCleared(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := serveFrontend(t, h, ln, "", func(c net.Conn) net.Conn {
		_ = c.SetReadDeadline(time.Now().Add(-time.Second))
		return c
	})
	c := f.dial(t)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "A\nping" {
		t.Fatalf("client got %q, %v; want the name then the echo", got, err)
	}
}
