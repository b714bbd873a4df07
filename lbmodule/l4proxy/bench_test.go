package l4proxy

import (
	"io"
	"net"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// BenchmarkConnection is the cost of one short proxied connection, the
// kind whose rate bench/tcp.sh measures: connect, a byte each way, close.
// Run with -benchmem: the allocations count the client and the origin
// too, so compare them between versions rather than read them alone.
func BenchmarkConnection(b *testing.B) {
	o := tcptest.Start(b, "s1", false)
	h := newHandler(b, `{"frontend":"fe_bench","connect_timeout":"5s","client_timeout":"30s","server_timeout":"30s",
		"backend":`+backendJSON(`"backend":"be_bench"`, srv("s1", o.Addr(), ""))+`}`)
	f := startFrontend(b, h, "")
	want := "s1\nx"
	got := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", f.addr())
		if err != nil {
			b.Fatal(err)
		}
		tc := c.(*net.TCPConn)
		if _, err := tc.Write([]byte("x")); err != nil {
			b.Fatal(err)
		}
		_ = tc.CloseWrite()
		n, err := io.ReadFull(tc, got[:len(want)])
		if err != nil || string(got[:n]) != want {
			b.Fatalf("read %q, %v; want %q", got[:n], err, want)
		}
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}
}
