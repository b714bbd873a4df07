package integration

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// TestMaxConnMatchesHAProxy holds connections open on HTTP frontends with a
// frontend or global maxconn of 2 and checks, under caddy and HAProxy, that
// a further connection is not served while the limit is reached, and is
// served as soon as one of the held connections closes.
func TestMaxConnMatchesHAProxy(t *testing.T) {
	web := startOrigin(t, "app")
	tcpOrigin := tcptest.Start(t, "app", false)
	for _, tc := range []struct {
		name             string
		mode             string
		global, frontend int
		// held are the frontends (1 or 2) of the connections held open
		// before the probe on frontend 1.
		held []int
		// waits is whether the probe must wait.
		waits bool
	}{
		{"frontend maxconn reached", "http", 1000, 2, []int{1, 1}, true},
		{"frontend maxconn not reached", "http", 1000, 2, []int{1, 2}, false},
		{"global maxconn over two frontends", "http", 2, 0, []int{1, 2}, true},
		{"mode tcp frontend maxconn reached", "tcp", 1000, 2, []int{1, 1}, true},
		{"mode tcp frontend maxconn not reached", "tcp", 1000, 2, []int{1, 2}, false},
		{"mode tcp global maxconn", "tcp", 2, 0, []int{2, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, proxy := range []string{"haproxy", "caddy"} {
				t.Run(proxy, func(t *testing.T) {
					p1, p2 := freePort(t), freePort(t)
					origin := web.Addr()
					if tc.mode == "tcp" {
						origin = tcpOrigin.Addr()
					}
					data := map[string]any{"Mode": tc.mode, "Global": tc.global, "Port1": p1, "Port2": p2, "Origin": origin}
					if tc.frontend > 0 {
						data["Frontend"] = tc.frontend
					}
					cfg := writeConfig(t, "maxconn.cfg", data)
					addrs := []string{loopback(p1), loopback(p2)}
					if proxy == "haproxy" {
						// Waiting for one listener leaves no probe
						// connection lingering on the other.
						startHAProxy(t, cfg, addrs[1])
					} else {
						startCaddy(t, cfg)
					}
					checkMaxConn(t, tc.mode, addrs, tc.held, tc.waits)
				})
			}
		})
	}
}

// checkMaxConn opens the held connections, then sends a request on a new
// connection to the first address and checks whether it is answered at
// once; when it must wait, it checks that closing a held connection lets
// it through.
func checkMaxConn(t *testing.T, mode string, addrs []string, held []int, waits bool) {
	t.Helper()
	var conns []net.Conn
	for _, fe := range held {
		c, err := net.DialTimeout("tcp", addrs[fe-1], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A served request proves the proxy accepted the connection,
		// which then stays open (keep-alive).
		if got := request(c, mode, 5*time.Second); got != "app" {
			t.Fatalf("held connection to %s: %q", addrs[fe-1], got)
		}
		conns = append(conns, c)
	}
	probe, err := net.DialTimeout("tcp", addrs[0], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	// The kernel completes the handshake; only the proxy's accept
	// decides whether the request is read. Half a second without an
	// answer stands for "not served".
	got := request(probe, mode, 500*time.Millisecond)
	if !waits {
		if got != "app" {
			t.Fatalf("probe under the limit: %q, want it served", got)
		}
		return
	}
	if got != "timeout" {
		t.Fatalf("probe while the limit is reached: %q, want it to wait", got)
	}
	conns[0].Close()
	if got := readAnswer(probe, 5*time.Second); got != "app" {
		t.Fatalf("probe after a held connection closed: %q, want it served", got)
	}
}

// request sends a GET on c in mode http, nothing in mode tcp (the origin
// speaks first), and returns the answer, or "timeout".
func request(c net.Conn, mode string, wait time.Duration) string {
	if mode == "http" {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return fmt.Sprint("write: ", err)
		}
	}
	return readAnswer(c, wait)
}

// readAnswer reads one response from c and returns its body, "timeout"
// when none arrives within wait.
func readAnswer(c net.Conn, wait time.Duration) string {
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	if err != nil {
		return fmt.Sprint("read: ", err)
	}
	resp := strings.TrimSuffix(string(buf[:n]), "\n")
	if i := len(resp) - len("app"); i >= 0 && resp[i:] == "app" {
		return "app"
	}
	return resp
}
