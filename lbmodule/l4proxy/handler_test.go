package l4proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

func srv(name, addr, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"name":%q,"dial":%q%s}`, name, addr, extra)
}

// closedAddr is an address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestBalanceSequences(t *testing.T) {
	a, b, c := tcptest.Start(t, "A", false), tcptest.Start(t, "B", false), tcptest.Start(t, "C", false)
	tests := []struct {
		balance string
		weights [3]int
		n       int
		want    map[string]int
	}{
		{"roundrobin", [3]int{5, 3, 1}, 18, map[string]int{"A": 10, "B": 6, "C": 2}},
		{"static-rr", [3]int{2, 1, 1}, 8, map[string]int{"A": 4, "B": 2, "C": 2}},
		// Layer-7 algorithms balance round robin in TCP.
		{"uri", [3]int{1, 1, 1}, 9, map[string]int{"A": 3, "B": 3, "C": 3}},
		{"hdr", [3]int{1, 1, 1}, 6, map[string]int{"A": 2, "B": 2, "C": 2}},
		// Every connection comes from 127.0.0.1: one server gets them all.
		{"source", [3]int{1, 1, 1}, 6, nil},
		// first fills the first server (no maxconn: all of them).
		{"first", [3]int{1, 1, 1}, 4, map[string]int{"A": 4}},
	}
	for _, tc := range tests {
		t.Run(tc.balance, func(t *testing.T) {
			h := newHandler(t, `{"backend":`+backendJSON(`"balance":"`+tc.balance+`"`,
				srv("a", a.Addr(), fmt.Sprintf(`"weight":%d`, tc.weights[0])),
				srv("b", b.Addr(), fmt.Sprintf(`"weight":%d`, tc.weights[1])),
				srv("c", c.Addr(), fmt.Sprintf(`"weight":%d`, tc.weights[2])))+`}`)
			f := startFrontend(t, h, "")
			got := map[string]int{}
			for range tc.n {
				got[f.serverName(t)]++
			}
			if tc.want == nil {
				if len(got) != 1 || got[""] != 0 {
					t.Fatalf("source spread one client over %v", got)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("connections per server = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLeastConnCountsOpenConnections(t *testing.T) {
	a, b := tcptest.Start(t, "A", false), tcptest.Start(t, "B", false)
	h := newHandler(t, `{"backend":`+backendJSON(`"balance":"leastconn"`, srv("a", a.Addr(), ""), srv("b", b.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")
	// Two open connections on A (leastconn alternates from an empty
	// backend: A, B), then B's closes: the next ones go to B until even.
	first := f.dial(t)
	readName(t, first)
	second := f.dial(t)
	if name := readName(t, second); name != "B" {
		t.Fatalf("second connection on %s, want B", name)
	}
	if name := f.serverName(t); name != "A" && name != "B" {
		t.Fatalf("third connection: %q", name)
	}
	_ = second.Close()
	waitFor(t, "B released", func() bool { return h.RuntimeBackend().Server("b").Served() == 0 })
	for i := range 3 {
		c := f.dial(t)
		if name := readName(t, c); name != "B" && i == 0 {
			t.Fatalf("with A busy, got %s, want B", name)
		}
		defer c.Close()
	}
	if a, b := h.RuntimeBackend().Server("a").Served(), h.RuntimeBackend().Server("b").Served(); a != 2 || b != 2 {
		t.Fatalf("served A=%d B=%d, want 2 and 2", a, b)
	}
}

func readName(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var name []byte
	one := make([]byte, 1)
	for {
		if _, err := c.Read(one); err != nil {
			t.Fatalf("reading the server name: %v", err)
		}
		if one[0] == '\n' {
			return string(name)
		}
		name = append(name, one[0])
	}
}

func TestEarlyBytesThenHalfClose(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	f := startFrontend(t, h, "early ")
	c := f.dial(t)
	if _, err := io.WriteString(c, "late"); err != nil {
		t.Fatal(err)
	}
	// The client is done sending; the origin must still answer, and
	// only then end its side.
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "A\nearly late" {
		t.Fatalf("client got %q, want the name then the echo of early and late bytes", got)
	}
	b := h.RuntimeBackend()
	waitFor(t, "the connection released", func() bool { return b.Counters().Current.Load() == 0 })
	s := b.Server("a").Counters()
	if s.BytesIn.Load() != int64(len("early late")) || s.BytesOut.Load() != int64(len(got)) {
		t.Fatalf("server bytes in/out = %d/%d, want %d/%d", s.BytesIn.Load(), s.BytesOut.Load(), len("early late"), len(got))
	}
	if b.Counters().BytesOut.Load() != int64(len(got)) {
		t.Fatalf("backend bytes out = %d", b.Counters().BytesOut.Load())
	}
}

func TestFrontendCounters(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"frontend":"fe_unit","backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")
	// The counters outlive handlers (and test runs): count the change.
	fe, ok := lbmodule.LookupFrontend("fe_unit")
	if !ok || fe.Config().Mode != "tcp" {
		t.Fatalf("frontend fe_unit: %v, %+v", ok, fe)
	}
	fc := fe.Counters()
	sessions, out := fc.Sessions.Load(), fc.BytesOut.Load()
	for range 3 {
		f.serverName(t)
	}
	waitFor(t, "connections closed", func() bool { return fc.Current.Load() == 0 })
	if fc.Sessions.Load()-sessions != 3 || fc.BytesOut.Load()-out != 3*int64(len("A\n")) {
		t.Fatalf("frontend sessions +%d bytes out +%d", fc.Sessions.Load()-sessions, fc.BytesOut.Load()-out)
	}
}

func TestRetriesAndRedispatch(t *testing.T) {
	good := tcptest.Start(t, "B", false)
	dead := closedAddr(t)
	tests := []struct {
		name                        string
		extra                       string
		wantServer                  string
		econ, wretr, wredis, dialed int64
	}{
		// Counted as HAProxy 2.6 counts them (show stat): without
		// redispatch the connection retries the dead server twice, then
		// gives up, one connection error.
		{"no redispatch", `"retries":2`, "", 1, 2, 0, 0},
		// With it and two servers up, the first retry moves at once; the
		// connection succeeds, so no connection error.
		{"redispatch", `"retries":2,"redispatch":true`, "B", 0, 0, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, `{"connect_timeout":"1s","backend":`+backendJSON(tc.extra,
				srv("a", dead, ""), srv("b", good.Addr(), ""))+`}`)
			f := startFrontend(t, h, "")
			if got := f.serverName(t); got != tc.wantServer {
				t.Fatalf("answered by %q, want %q", got, tc.wantServer)
			}
			b := h.RuntimeBackend()
			a := b.Server("a").Counters()
			if a.ConnectErrors.Load() != tc.econ || a.Retries.Load() != tc.wretr || a.Redispatches.Load() != tc.wredis {
				t.Fatalf("server a econ/wretr/wredis = %d/%d/%d, want %d/%d/%d", a.ConnectErrors.Load(), a.Retries.Load(), a.Redispatches.Load(), tc.econ, tc.wretr, tc.wredis)
			}
			bc := b.Counters()
			if bc.ConnectErrors.Load() != tc.econ || bc.Retries.Load() != tc.wretr || bc.Redispatches.Load() != tc.wredis {
				t.Fatalf("backend econ/wretr/wredis = %d/%d/%d", bc.ConnectErrors.Load(), bc.Retries.Load(), bc.Redispatches.Load())
			}
			waitFor(t, "slots released", func() bool { return bc.Current.Load() == 0 })
			if got := b.Server("b").Counters().Sessions.Load(); got != tc.dialed {
				t.Fatalf("server b sessions = %d, want %d", got, tc.dialed)
			}
		})
	}
}

func TestSendProxy(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			o := tcptest.Start(t, "A", true)
			h := newHandler(t, `{"backend":`+backendJSON("", srv("a", o.Addr(), `"send_proxy":"`+version+`"`))+`}`)
			f := startFrontend(t, h, "hello")
			c := f.dial(t)
			_ = c.CloseWrite()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, _ := io.ReadAll(c)
			if string(got) != "A\nhello" {
				t.Fatalf("client got %q", got)
			}
			hdrs := o.ProxyHeaders()
			if len(hdrs) != 1 {
				t.Fatalf("origin got %d PROXY headers", len(hdrs))
			}
			src, dst, ok := hdrs[0].TCPAddrs()
			if !ok || src.String() != c.LocalAddr().String() || dst.String() != f.addr() {
				t.Fatalf("PROXY header says %v -> %v, want %v -> %v", src, dst, c.LocalAddr(), f.addr())
			}
			if want := map[string]byte{"v1": 1, "v2": 2}[version]; hdrs[0].Version != want {
				t.Fatalf("PROXY version %d, want %d", hdrs[0].Version, want)
			}
		})
	}
}

func TestMaxConnQueue(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	h := newHandler(t, `{"backend":`+backendJSON(`"queue_timeout":"300ms"`, srv("a", o.Addr(), `"maxconn":1`))+`}`)
	f := startFrontend(t, h, "")
	b := h.RuntimeBackend()
	first := f.dial(t)
	readName(t, first)
	// The second waits in the queue and gets the slot when the first
	// closes.
	second := f.dial(t)
	waitFor(t, "the second queued", func() bool { return b.Counters().QueueCurrent.Load() == 1 })
	_ = first.Close()
	if name := readName(t, second); name != "A" {
		t.Fatalf("queued connection served by %q", name)
	}
	// A third waits past the queue timeout and is closed unanswered.
	start := time.Now()
	if name := f.serverName(t); name != "" {
		t.Fatalf("connection beyond maxconn answered by %q after %v", name, time.Since(start))
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the queue timeout", d)
	}
	if q := b.Counters().QueueMax.Load(); q != 1 {
		t.Fatalf("qmax = %d", q)
	}
}

func TestBackupServer(t *testing.T) {
	a, bk := tcptest.Start(t, "A", false), tcptest.Start(t, "BK", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", a.Addr(), ""), srv("bk", bk.Addr(), `"backup":true`))+`}`)
	f := startFrontend(t, h, "")
	if name := f.serverName(t); name != "A" {
		t.Fatalf("with A up: %q", name)
	}
	if err := h.RuntimeBackend().SetAdminState("a", lbmodule.AdminMaint); err != nil {
		t.Fatal(err)
	}
	if name := f.serverName(t); name != "BK" {
		t.Fatalf("with A in maintenance: %q, want the backup", name)
	}
}

func TestIdleTimeout(t *testing.T) {
	o := tcptest.Start(t, "A", false)
	const idle = 300 * time.Millisecond
	h := newHandler(t, `{"client_timeout":"10s","tunnel_timeout":"300ms","backend":`+backendJSON("", srv("a", o.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")

	// A connection with traffic every 100ms outlives the timeout.
	busy := f.dial(t)
	r := bufio.NewReader(busy)
	_ = busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		if _, err := io.WriteString(busy, "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadByte(); err != nil {
			t.Fatalf("busy connection closed: %v", err)
		}
		time.Sleep(idle / 3)
	}

	// An idle one is closed after the timeout, and not much later.
	start := time.Now()
	quiet := f.dial(t)
	_ = quiet.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(quiet)
	d := time.Since(start)
	if string(got) != "A\n" || d < idle || d > 2*idle {
		t.Fatalf("idle connection got %q and closed after %v, want after %v", got, d, idle)
	}
}

func TestRejectsBadConfig(t *testing.T) {
	for _, js := range []string{
		`{"backend":{"servers":[{"name":"a","dial":"127.0.0.1:1","send_proxy":"v3"}]}}`,
		`{"backend":{"servers":[{"name":"a","dial":"127.0.0.1:1-3"}]}}`,
	} {
		h := new(Handler)
		if err := jsonUnmarshal(js, h); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := newContext()
		err := h.Provision(ctx)
		cancel()
		if err == nil {
			_ = h.Cleanup()
			t.Errorf("%s: provisioned", js)
		} else if !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("%s: error %q does not name the server", js, err)
		}
	}
}

// With a dead server first in round robin, HAProxy 2.6 (show stat) tries
// it first on every connection and redispatches each to the live one: the
// redispatched pick does not advance the round robin past the dead server.
func TestRedispatchKeepsRoundRobinOrder(t *testing.T) {
	live := tcptest.Start(t, "L", false)
	h := newHandler(t, `{"connect_timeout":"1s","backend":`+backendJSON(`"retries":2,"redispatch":true`,
		srv("dead", closedAddr(t), ""), srv("live", live.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")
	for range 4 {
		if got := f.serverName(t); got != "L" {
			t.Fatalf("answered by %q", got)
		}
	}
	b := h.RuntimeBackend()
	if got := b.Server("dead").Counters().Redispatches.Load(); got != 4 {
		t.Fatalf("dead server wredis = %d, want 4 as HAProxy", got)
	}
	if got := b.Server("dead").Counters().Sessions.Load(); got != 4 {
		t.Fatalf("dead server stot = %d, want 4 as HAProxy", got)
	}
	if got := b.Counters().ConnectErrors.Load(); got != 0 {
		t.Fatalf("backend econ = %d, want 0", got)
	}
}

// A drained server takes no new connection, and the ones it has go on.
func TestDrainKeepsOpenConnections(t *testing.T) {
	a, b := tcptest.Start(t, "A", false), tcptest.Start(t, "B", false)
	h := newHandler(t, `{"backend":`+backendJSON("", srv("a", a.Addr(), ""), srv("b", b.Addr(), ""))+`}`)
	f := startFrontend(t, h, "")
	open := f.dial(t)
	r := bufio.NewReader(open)
	_ = open.SetDeadline(time.Now().Add(5 * time.Second))
	if name, _ := r.ReadString('\n'); name != "A\n" {
		t.Fatalf("first connection on %q", name)
	}
	if err := h.RuntimeBackend().SetAdminState("a", lbmodule.AdminDrain); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if name := f.serverName(t); name != "B" {
			t.Fatalf("with A draining, a new connection went to %q", name)
		}
	}
	if _, err := io.WriteString(open, "still\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); line != "still\n" {
		t.Fatalf("the drained server's connection: %q, %v", line, err)
	}
}

// Without a tunnel timeout the shorter of the client and server timeouts
// ends an idle connection.
func TestIdleTimeoutIsShorterOfClientAndServer(t *testing.T) {
	tests := []struct {
		client, server string
		want           time.Duration
	}{
		{"200ms", "5s", 200 * time.Millisecond},
		{"5s", "200ms", 200 * time.Millisecond},
		{"", "200ms", 200 * time.Millisecond},
	}
	o := tcptest.Start(t, "A", false)
	for _, tc := range tests {
		t.Run(tc.client+"/"+tc.server, func(t *testing.T) {
			js := `{"backend":` + backendJSON("", srv("a", o.Addr(), ""))
			if tc.client != "" {
				js += `,"client_timeout":"` + tc.client + `"`
			}
			js += `,"server_timeout":"` + tc.server + `"}`
			f := startFrontend(t, newHandler(t, js), "")
			start := time.Now()
			c := f.dial(t)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.ReadAll(c)
			if d := time.Since(start); d < tc.want || d > 2*tc.want {
				t.Fatalf("idle connection closed after %v, want %v", d, tc.want)
			}
		})
	}
}

// blackhole returns an address whose listen backlog is full: connections
// to it neither succeed nor fail until they time out.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// One connection fills a backlog of 0; the next ones hang.
	filler, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = filler.Close() })
	return addr
}

func TestConnectTimeout(t *testing.T) {
	hole := blackhole(t)
	if c, err := net.DialTimeout("tcp", hole, 100*time.Millisecond); err == nil {
		_ = c.Close()
		t.Skip("this system completes connections beyond a full backlog")
	}
	h := newHandler(t, `{"connect_timeout":"200ms","backend":`+backendJSON(`"retries":1`, srv("a", hole, ""))+`}`)
	f := startFrontend(t, h, "")
	start := time.Now()
	if name := f.serverName(t); name != "" {
		t.Fatalf("answered by %q", name)
	}
	// Two attempts of 200ms each, then the connection is closed.
	if d := time.Since(start); d < 400*time.Millisecond || d > 2*time.Second {
		t.Fatalf("closed after %v, want about 400ms", d)
	}
	c := h.RuntimeBackend().Server("a").Counters()
	if c.ConnectErrors.Load() != 1 || c.Retries.Load() != 1 {
		t.Fatalf("econ %d wretr %d, want 1 and 1", c.ConnectErrors.Load(), c.Retries.Load())
	}
}

// rdp-cookie hashes the cookie of the RDP connection request among the
// bytes the matchers read: one user always lands on the same server.
func TestRDPCookieFromMatchedBytes(t *testing.T) {
	var servers []string
	for i := range 4 {
		o := tcptest.Start(t, fmt.Sprintf("S%d", i), false)
		servers = append(servers, srv(fmt.Sprintf("s%d", i), o.Addr(), ""))
	}
	h := newHandler(t, `{"backend":`+backendJSON(`"balance":"rdp-cookie","balance_param":"mstshash"`, servers...)+`}`)
	seen := map[string]bool{}
	for i := range 8 {
		request := "\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00" + fmt.Sprintf("Cookie: mstshash=user%d\r\n", i)
		f := startFrontend(t, h, request)
		first := f.serverName(t)
		for range 3 {
			if again := f.serverName(t); again != first {
				t.Fatalf("user%d went to %s, then %s", i, first, again)
			}
		}
		seen[first] = true
	}
	if len(seen) < 2 {
		t.Fatalf("8 users all on %v: the cookie is not hashed", seen)
	}
}

// A slow reader keeps the connection alive: its reads make progress,
// though one copy call stays blocked writing to it for longer than the
// idle timeout.
func TestSlowReaderIsNotIdle(t *testing.T) {
	const size = 8 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write(make([]byte, size))
	}()
	h := newHandler(t, `{"tunnel_timeout":"250ms","backend":`+backendJSON("", srv("a", ln.Addr().String(), ""))+`}`)
	f := startFrontend(t, h, "")
	c := f.dial(t)
	_ = c.SetReadBuffer(64 << 10)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	// About 3 MB/s: a copy call writing a 1 MB pipe to this reader is
	// blocked longer than the idle timeout, but some bytes move every
	// 10ms.
	buf := make([]byte, 32<<10)
	var got int
	for got < size {
		n, err := io.ReadFull(c, buf[:min(len(buf), size-got)])
		got += n
		if err != nil {
			t.Fatalf("closed after %d of %d bytes: %v", got, size, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A config unloaded while a connection is still connecting to its server
// (caddy-l4 does not wait for connections in progress): the connection
// ends as it would have, releasing its server, without a crash.
func TestConnectionOutlivesCleanup(t *testing.T) {
	hole := blackhole(t)
	if c, err := net.DialTimeout("tcp", hole, 100*time.Millisecond); err == nil {
		_ = c.Close()
		t.Skip("this system completes connections beyond a full backlog")
	}
	h := newHandler(t, `{"connect_timeout":"300ms","backend":`+backendJSON(`"retries":0`, srv("a", hole, ""))+`}`)
	f := startFrontend(t, h, "")
	b := h.RuntimeBackend()
	c := f.dial(t)
	defer c.Close()
	waitFor(t, "the connection on a", func() bool { return b.Server("a").Served() == 1 })
	if err := h.Cleanup(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a connection whose server never answered", n)
	}
	waitFor(t, "a released", func() bool { return b.Server("a").Served() == 0 })
}
