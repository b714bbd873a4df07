package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// The layer4 "haproxy" handler from hand-written Caddy JSON, compared with
// HAProxy 2.6 in mode tcp running the same backend.

// tcpServerSpec is one server line of a TCP backend.
type tcpServerSpec struct {
	origin    *tcptest.Origin
	weight    int
	backup    bool
	maxconn   int
	check     bool
	sendProxy string // "", "v1" or "v2"
}

// tcpBackendSpec is a TCP backend, written both as haproxy.cfg and as the
// handler's JSON.
type tcpBackendSpec struct {
	// balance is the balance line's arguments, e.g. "hash src".
	balance  string
	hashType string
	servers  []tcpServerSpec
	// tcpCheck makes the checks "tcp-check send ping / expect string
	// ping" instead of a plain connect.
	tcpCheck     bool
	queueTimeout string
	// retries and redispatch, when set, are the backend's retry settings.
	retries    *int
	redispatch bool
	// statsSocket, when set, is where each proxy serves its runtime API
	// (with a suffix per proxy).
	statsSocket string
}

func (b tcpBackendSpec) haproxyConfig(port int) string {
	var s strings.Builder
	if b.statsSocket != "" {
		fmt.Fprintf(&s, "global\n  stats socket %s.haproxy level user\n", b.statsSocket)
	}
	fmt.Fprintf(&s, "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 10s\n  timeout server 10s\n")
	fmt.Fprintf(&s, "frontend fe\n  bind %s\n  default_backend be\n", loopback(port))
	fmt.Fprintf(&s, "backend be\n  balance %s\n", b.balance)
	if b.hashType != "" {
		fmt.Fprintf(&s, "  hash-type %s\n", b.hashType)
	}
	if b.queueTimeout != "" {
		fmt.Fprintf(&s, "  timeout queue %s\n", b.queueTimeout)
	}
	if b.retries != nil {
		fmt.Fprintf(&s, "  retries %d\n", *b.retries)
	}
	if b.redispatch {
		s.WriteString("  option redispatch\n")
	}
	if b.tcpCheck {
		s.WriteString("  option tcp-check\n  tcp-check send ping\\n\n  tcp-check expect string ping\n")
	}
	for _, sv := range b.servers {
		fmt.Fprintf(&s, "  server %s %s weight %d", sv.origin.Name, sv.origin.Addr(), sv.weight)
		if sv.backup {
			s.WriteString(" backup")
		}
		if sv.maxconn > 0 {
			fmt.Fprintf(&s, " maxconn %d", sv.maxconn)
		}
		if sv.check {
			s.WriteString(" check inter 100ms fall 1 rise 1")
		}
		switch sv.sendProxy {
		case "v1":
			s.WriteString(" send-proxy")
		case "v2":
			s.WriteString(" send-proxy-v2")
		}
		s.WriteString("\n")
	}
	return s.String()
}

func (b tcpBackendSpec) caddyConfig(port int) []byte {
	var servers []map[string]any
	for _, sv := range b.servers {
		m := map[string]any{"name": sv.origin.Name, "dial": sv.origin.Addr(), "weight": sv.weight,
			"backup": sv.backup, "maxconn": sv.maxconn, "send_proxy": sv.sendProxy}
		if sv.check {
			m["check"] = map[string]any{"inter": "100ms", "fall": 1, "rise": 1}
		}
		servers = append(servers, m)
	}
	balance := strings.Fields(b.balance)
	backend := map[string]any{"backend": "be", "balance": balance[0], "balance_args": balance[1:],
		"hash_type": b.hashType, "servers": servers}
	if b.queueTimeout != "" {
		backend["queue_timeout"] = b.queueTimeout
	}
	if b.retries != nil {
		// As the translator: HAProxy waits min(timeout connect, 1s)
		// before a retry on the same server.
		backend["retries"], backend["redispatch"], backend["retry_turnaround"] = *b.retries, b.redispatch, "1s"
	}
	if b.tcpCheck {
		backend["health_checks"] = map[string]any{"type": "tcp-check", "tcp_rules": []map[string]any{
			{"action": "send", "data": "ping\n"},
			{"action": "expect", "match": "string", "pattern": "ping"},
		}}
	}
	handler := map[string]any{"handler": "haproxy", "frontend": "fe", "backend": backend,
		"connect_timeout": "1s", "client_timeout": "10s", "server_timeout": "10s"}
	apps := map[string]any{"layer4": map[string]any{"servers": map[string]any{
		// The adapter listens on sockets shared across reloads.
		"fe": map[string]any{"listen": []string{"haproxy-tcp/" + loopback(port)}, "routes": []any{map[string]any{"handle": []any{handler}}}},
	}}}
	if b.statsSocket != "" {
		apps["haproxy_runtime"] = map[string]any{"listeners": []any{map[string]any{"address": "unix/" + b.statsSocket + ".caddy", "level": "user"}}}
	}
	cfg := map[string]any{"apps": apps}
	out, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	return out
}

// writeFile writes data to a file of that name in a fresh directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tcpProxies are the same backend behind HAProxy and behind Caddy.
type tcpProxies struct {
	haproxy, caddy string
	caddyProc      *caddyProc
}

func startTCPProxies(t *testing.T, b tcpBackendSpec) tcpProxies {
	t.Helper()
	hp, cp := freePort(t), freePort(t)
	// waitListening checks the listening sockets rather than connect: a
	// probe connection would reach a server and move the algorithms.
	startHAProxy(t, writeFile(t, "haproxy.cfg", []byte(b.haproxyConfig(hp))), loopback(hp))
	c := startCaddyWith(t, "--config", writeFile(t, "caddy.json", b.caddyConfig(cp)))
	c.waitListening(loopback(cp))
	return tcpProxies{haproxy: loopback(hp), caddy: loopback(cp), caddyProc: c}
}

// each runs f for HAProxy's address, then for Caddy's.
func (p tcpProxies) each(f func(proxy, addr string)) {
	f("haproxy", p.haproxy)
	f("caddy", p.caddy)
}

// dialTCP connects to addr, from the loopback address from when set.
func dialTCP(t *testing.T, addr, from string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.TCPConn)
}

// answerOf reads the name line a server sends first; "" when the proxy
// closed the connection without one.
func answerOf(c net.Conn) string {
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

// connectionSequence opens n connections one after the other and returns
// which server answered each. With keep, the connections stay open until
// the test ends (leastconn then sees them all).
func connectionSequence(t *testing.T, addr string, n int, keep bool) []string {
	t.Helper()
	var names []string
	for range n {
		c := dialTCP(t, addr, "")
		names = append(names, answerOf(c))
		if !keep {
			_ = c.Close()
		}
	}
	return names
}

func tcpServers(origins []*tcptest.Origin, weights ...int) []tcpServerSpec {
	var s []tcpServerSpec
	for i, o := range origins {
		s = append(s, tcpServerSpec{origin: o, weight: weights[i]})
	}
	return s
}

func startTCPOrigins(t *testing.T, readProxy bool, names ...string) []*tcptest.Origin {
	var o []*tcptest.Origin
	for _, n := range names {
		o = append(o, tcptest.Start(t, n, readProxy))
	}
	return o
}

func TestTCPBalanceMatchesHAProxy(t *testing.T) {
	o := startTCPOrigins(t, false, "A", "B", "C")
	for _, tc := range []struct {
		balance string
		weights []int
		n       int
		keep    bool
	}{
		{"roundrobin", []int{5, 3, 1}, 27, false},
		{"static-rr", []int{5, 3, 1}, 18, false},
		// Open connections count for leastconn and first.
		{"leastconn", []int{1, 1, 1}, 9, true},
		{"leastconn", []int{3, 2, 1}, 12, true},
		{"first", []int{1, 1, 1}, 4, true},
		// HAProxy balances layer-7 algorithms round robin in mode tcp.
		{"uri", []int{2, 1, 1}, 8, false},
	} {
		t.Run(fmt.Sprintf("%s %v", tc.balance, tc.weights), func(t *testing.T) {
			b := tcpBackendSpec{balance: tc.balance, servers: tcpServers(o, tc.weights...)}
			if tc.balance == "first" {
				for i := range b.servers {
					b.servers[i].maxconn = 2
				}
			}
			p := startTCPProxies(t, b)
			want := connectionSequence(t, p.haproxy, tc.n, tc.keep)
			got := connectionSequence(t, p.caddy, tc.n, tc.keep)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("servers:\n got %v\nwant %v (HAProxy)", got, want)
			}
		})
	}
}

func TestTCPSourceHashMatchesHAProxy(t *testing.T) {
	o := startTCPOrigins(t, false, "A", "B", "C", "D")
	for _, tc := range []struct{ balance, hashType string }{
		{"source", ""},
		{"source", "consistent"},
		{"hash src", ""},
		{"hash src", "consistent"},
	} {
		t.Run(tc.balance+" "+tc.hashType, func(t *testing.T) {
			p := startTCPProxies(t, tcpBackendSpec{balance: tc.balance, hashType: tc.hashType, servers: tcpServers(o, 1, 1, 2, 1)})
			spread := map[string]bool{}
			for i := 1; i <= 24; i++ {
				from := fmt.Sprintf("127.0.%d.%d", i%3, 10+i)
				want := answerOf(dialTCP(t, p.haproxy, from))
				got := answerOf(dialTCP(t, p.caddy, from))
				if got != want || want == "" {
					t.Errorf("client %s: got %q, want %q (HAProxy)", from, got, want)
				}
				spread[want] = true
			}
			if len(spread) < 3 {
				t.Errorf("24 clients hashed to %v only: the test shows little", spread)
			}
		})
	}
}

func TestTCPFailoverToBackup(t *testing.T) {
	for _, tcpCheck := range []bool{false, true} {
		t.Run(fmt.Sprintf("tcp-check=%v", tcpCheck), func(t *testing.T) {
			o := startTCPOrigins(t, false, "A", "B", "BK")
			servers := tcpServers(o, 1, 1, 1)
			for i := range servers {
				servers[i].check = true
			}
			servers[2].backup = true
			p := startTCPProxies(t, tcpBackendSpec{balance: "roundrobin", servers: servers, tcpCheck: tcpCheck})
			p.each(func(proxy, addr string) {
				waitForAnswer(t, proxy, addr, func(s string) bool { return s == "A" || s == "B" })
			})
			o[0].Stop()
			o[1].Stop()
			p.each(func(proxy, addr string) {
				waitForAnswer(t, proxy, addr, func(s string) bool { return s == "BK" })
				if got := connectionSequence(t, addr, 3, false); strings.Join(got, " ") != "BK BK BK" {
					t.Errorf("%s: with the primaries down: %v", proxy, got)
				}
			})
		})
	}
}

// waitForAnswer opens connections until one is answered as ok wants.
func waitForAnswer(t *testing.T, proxy, addr string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if last = answerOf(dialTCP(t, addr, "")); ok(last) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: still answered by %q", proxy, last)
}

func TestTCPMaxConnQueue(t *testing.T) {
	o := startTCPOrigins(t, false, "A")
	servers := tcpServers(o, 1)
	servers[0].maxconn = 1
	p := startTCPProxies(t, tcpBackendSpec{balance: "roundrobin", servers: servers, queueTimeout: "400ms"})
	p.each(func(proxy, addr string) {
		first := dialTCP(t, addr, "")
		if answerOf(first) != "A" {
			t.Fatalf("%s: first connection unanswered", proxy)
		}
		// The second waits for the first's slot.
		second := dialTCP(t, addr, "")
		time.Sleep(100 * time.Millisecond)
		_ = first.Close()
		if got := answerOf(second); got != "A" {
			t.Errorf("%s: queued connection got %q", proxy, got)
		}
		// A third, while the second holds the slot, waits out the queue
		// timeout and is closed unanswered.
		start := time.Now()
		if got := answerOf(dialTCP(t, addr, "")); got != "" {
			t.Errorf("%s: connection beyond maxconn answered by %q", proxy, got)
		}
		if d := time.Since(start); d < 400*time.Millisecond || d > 2*time.Second {
			t.Errorf("%s: unanswered connection closed after %v, want the 400ms queue timeout", proxy, d)
		}
		_ = second.Close()
	})
}

func TestTCPSendProxy(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			o := startTCPOrigins(t, true, "A")
			servers := tcpServers(o, 1)
			servers[0].sendProxy = version
			p := startTCPProxies(t, tcpBackendSpec{balance: "roundrobin", servers: servers})
			p.each(func(proxy, addr string) {
				c := dialTCP(t, addr, "127.0.0.7")
				_, _ = io.WriteString(c, "hi")
				_ = c.CloseWrite()
				got, _ := io.ReadAll(c)
				if string(got) != "A\nhi" {
					t.Errorf("%s: client got %q", proxy, got)
				}
				// The listener probes got headers too: find this client's.
				var h *proxyproto.Header
				for _, x := range o[0].ProxyHeaders() {
					if src, _, ok := x.TCPAddrs(); ok && src.String() == c.LocalAddr().String() {
						h = x
					}
				}
				if h == nil {
					t.Fatalf("%s: no PROXY header with the client's address %v", proxy, c.LocalAddr())
				}
				_, dst, _ := h.TCPAddrs()
				if dst.String() != addr || int(h.Version) != int(version[1]-'0') {
					t.Errorf("%s: PROXY v%d to %v, want %s to %s", proxy, h.Version, dst, version, addr)
				}
			})
		})
	}
}

func TestTCPHalfClose(t *testing.T) {
	o := startTCPOrigins(t, false, "A")
	p := startTCPProxies(t, tcpBackendSpec{balance: "roundrobin", servers: tcpServers(o, 1)})
	p.each(func(proxy, addr string) {
		c := dialTCP(t, addr, "")
		payload := bytes.Repeat([]byte("0123456789"), 100_000)
		go func() {
			_, _ = c.Write(payload)
			_ = c.CloseWrite()
		}()
		// The origin echoes everything after the client stopped sending,
		// then ends its side.
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, append([]byte("A\n"), payload...)) {
			t.Errorf("%s: after the client's half-close got %d bytes (%v), want the name and the %d-byte echo", proxy, len(got), err, len(payload))
		}
	})
}

func TestTCPConnectionSurvivesReload(t *testing.T) {
	o := startTCPOrigins(t, false, "A", "B")
	b := tcpBackendSpec{balance: "roundrobin", servers: tcpServers(o, 1, 1)}
	port := freePort(t)
	c := startCaddyWith(t, "--config", writeFile(t, "caddy.json", b.caddyConfig(port)))
	addr := loopback(port)
	c.waitListening(loopback(port))

	conn := dialTCP(t, addr, "")
	r := bufio.NewReader(conn)
	if name, _ := r.ReadString('\n'); name == "" {
		t.Fatal("no answer")
	}
	b.servers[1].weight = 3
	if err := loadJSON(c, b.caddyConfig(port)); err != nil {
		t.Fatal(err)
	}
	// The connection opened before the reload still carries data.
	if _, err := io.WriteString(conn, "after reload\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); line != "after reload\n" {
		t.Fatalf("old connection after the reload: %q, %v", line, err)
	}
	// New connections follow the new weights (1:3).
	count := map[string]int{}
	for _, name := range connectionSequence(t, addr, 8, false) {
		count[name]++
	}
	if count["A"] != 2 || count["B"] != 6 {
		t.Errorf("new connections after the reload: %v, want A 2 and B 6", count)
	}
}

// TestTCPRetryCountersMatchHAProxy compares the counters of connections
// that meet a dead server (connection errors, retries, redispatches,
// sessions, bytes) in "show stat" of both proxies.
func TestTCPRetryCountersMatchHAProxy(t *testing.T) {
	two := 2
	for _, tc := range []struct {
		name       string
		redispatch bool
		live       bool
		conns      int
	}{
		{"retries on a dead server", false, false, 1},
		{"redispatch to a live one", true, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"dead"}
			if tc.live {
				names = append(names, "live")
			}
			o := startTCPOrigins(t, false, names...)
			o[0].Stop()
			sock := filepath.Join(t.TempDir(), "stats")
			p := startTCPProxies(t, tcpBackendSpec{balance: "roundrobin", servers: tcpServers(o, 1, 1)[:len(o)],
				retries: &two, redispatch: tc.redispatch, statsSocket: sock})
			p.each(func(proxy, addr string) {
				for range tc.conns {
					answerOf(dialTCP(t, addr, ""))
				}
			})
			want := tcpRetryStats(t, sock+".haproxy")
			got := tcpRetryStats(t, sock+".caddy")
			if got != want {
				t.Errorf("show stat (name scur stot bin bout econ wretr wredis):\n got %s\nwant %s (HAProxy)", got, want)
			}
		})
	}
}

// tcpRetryStats returns the name, scur, stot, bin, bout, econ, wretr and
// wredis of the rows of frontend "fe" and backend "be" in the runtime
// API's show stat at sock, once no connection is in progress.
func tcpRetryStats(t *testing.T, sock string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rows []string
		busy := false
		conn, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			t.Fatalf("runtime API %s: %v", sock, err)
		}
		_, _ = io.WriteString(conn, "show stat\n")
		out, _ := io.ReadAll(conn)
		conn.Close()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, ",")
			if len(f) < 17 || (f[0] != "be" && f[0] != "fe") {
				continue
			}
			busy = busy || f[4] != "0"
			rows = append(rows, strings.Join([]string{f[0] + "/" + f[1], f[4], f[7], f[8], f[9], f[13], f[15], f[16]}, " "))
		}
		if !busy && len(rows) > 0 || time.Now().After(deadline) {
			// The proxies order their rows by proxy id, which the
			// hand-written JSON does not give.
			sort.Strings(rows)
			return strings.Join(rows, " | ")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadJSON POSTs a Caddy JSON config to the admin API's /load.
func loadJSON(c *caddyProc, cfg []byte) error {
	return c.load("application/json", cfg)
}
