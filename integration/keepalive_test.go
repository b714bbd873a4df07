package integration

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// TestTCPKeepAliveMatchesHAProxy opens a connection through each proxy of
// a config with option clitcpka, srvtcpka and tcpka (and one without) and
// reads the kernel's timers of the proxy's two sockets: HAProxy and caddy
// must arm the keep-alive timer with the configured idle time on the same
// sides, and none where the options are off.
func TestTCPKeepAliveMatchesHAProxy(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp to read socket timers from")
	}
	tcpOrigin, noneOrigin := tcptest.Start(t, "ka", false), tcptest.Start(t, "none", false)
	httpOrigin := startOrigin(t, "http")
	ports := map[string]int{"TCPPort": freePort(t), "NonePort": freePort(t), "HTTPPort": freePort(t)}
	cfg := writeConfig(t, "tcp_keepalive.cfg", map[string]any{
		"TCPPort": ports["TCPPort"], "NonePort": ports["NonePort"], "HTTPPort": ports["HTTPPort"],
		"TCPOrigin": tcpOrigin.Addr(), "NoneOrigin": noneOrigin.Addr(), "HTTPOrigin": httpOrigin.Addr(),
	})
	listeners := []string{loopback(ports["TCPPort"]), loopback(ports["NonePort"]), loopback(ports["HTTPPort"])}
	cases := []struct {
		name           string
		port           int
		origin         string
		http           bool
		client, server int // the idle time in seconds, 0 for no keep-alive
	}{
		{"mode tcp, clitcpka and srvtcpka", ports["TCPPort"], tcpOrigin.Addr(), false, 41, 60},
		{"mode tcp, no option", ports["NonePort"], noneOrigin.Addr(), false, 0, 0},
		{"mode http, tcpka", ports["HTTPPort"], httpOrigin.Addr(), true, 47, 53},
	}
	check := func(proxy string) {
		for _, tc := range cases {
			c, err := net.DialTimeout("tcp", loopback(tc.port), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if tc.http {
				fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("%s, %s: %v", proxy, tc.name, err)
				}
				resp.Body.Close()
			} else if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				t.Fatalf("%s, %s: no greeting from the origin: %v", proxy, tc.name, err)
			}
			clientPort := c.LocalAddr().(*net.TCPAddr).Port
			_, originPortText, _ := net.SplitHostPort(tc.origin)
			originPort, _ := strconv.Atoi(originPortText)
			// The proxy's side of each connection: the socket that
			// accepted ours, and the one that connected to the origin.
			client := keepAliveTimer(t, func(s procSocket) bool { return s.local == tc.port && s.remote == clientPort })
			server := keepAliveTimer(t, func(s procSocket) bool { return s.remote == originPort })
			for _, side := range []struct {
				name      string
				got, want int
			}{{"client", client, tc.client}, {"server", server, tc.server}} {
				// The timer counts down from the idle time.
				if side.want == 0 && side.got != 0 || side.want != 0 && (side.got > side.want || side.got < side.want-5) {
					t.Errorf("%s, %s: the %s side's keep-alive timer is at %ds, want %s", proxy, tc.name, side.name, side.got, describeIdle(side.want))
				}
			}
			c.Close()
		}
	}

	h := startHAProxy(t, cfg, listeners...)
	check("haproxy")
	h.stop()
	c := startCaddy(t, cfg)
	c.waitListening(listeners...)
	check("caddy")
}

func describeIdle(s int) string {
	if s == 0 {
		return "none"
	}
	return fmt.Sprintf("%ds or a few seconds less", s)
}

// procSocket is one line of /proc/net/tcp.
type procSocket struct {
	local, remote int
	// timer is the kind of timer armed: 0 none, 1 retransmission, 2
	// keep-alive (or another socket timer), 4 zero window probe.
	timer int
	// left is the time until the timer fires.
	left time.Duration
}

// keepAliveTimer waits for the only established socket that match
// selects and returns how many seconds are left on its keep-alive timer,
// 0 when it has none. A retransmission timer (data not yet acknowledged)
// hides the keep-alive timer: it waits for it to go.
func keepAliveTimer(t *testing.T, match func(procSocket) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []procSocket
		for _, s := range procSockets(t) {
			if match(s) {
				found = append(found, s)
			}
		}
		if len(found) == 1 && found[0].timer != 1 {
			if found[0].timer == 0 {
				return 0
			}
			return int((found[0].left + time.Second - 1) / time.Second)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single settled socket: %+v", found)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procSockets reads the established TCP sockets of the machine.
func procSockets(t *testing.T) []procSocket {
	t.Helper()
	var out []procSocket
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// Established sockets only (state 01).
			if len(f) < 10 || f[3] != "01" {
				continue
			}
			port := func(addr string) int {
				_, hex, _ := strings.Cut(addr, ":")
				n, _ := strconv.ParseInt(hex, 16, 32)
				return int(n)
			}
			tr, when, _ := strings.Cut(f[5], ":")
			kind, _ := strconv.ParseInt(tr, 16, 32)
			ticks, _ := strconv.ParseInt(when, 16, 64)
			// The kernel reports the time left in USER_HZ (100) ticks.
			out = append(out, procSocket{local: port(f[1]), remote: port(f[2]), timer: int(kind), left: time.Duration(ticks) * 10 * time.Millisecond})
		}
	}
	return out
}
