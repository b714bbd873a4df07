package tcpkeepalive

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
)

// options reads the keep-alive socket options of c's socket.
func options(t *testing.T, c *net.TCPConn) (on bool, idle, intvl, cnt int) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var errs [4]error
	var ka int
	if err := raw.Control(func(fd uintptr) {
		ka, errs[0] = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		idle, errs[1] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		intvl, errs[2] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
		cnt, errs[3] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
	}); err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ka != 0, idle, intvl, cnt
}

// sysctl reads an integer from /proc/sys/net/ipv4.
func sysctl(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	if err != nil {
		t.Skip(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pair returns both ends of a loopback TCP connection, without keep-alive.
func pair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{KeepAlive: -1}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// netConnOf wraps a connection the way TLS and the maxconn listener do.
type netConnOf struct{ net.Conn }

func (w netConnOf) NetConn() net.Conn { return w.Conn }

// rawOf wraps a connection the way go-proxyproto does.
type rawOf struct{ net.Conn }

func (w rawOf) Raw() net.Conn { return w.Conn }

func TestApplySetsTheSocketOptions(t *testing.T) {
	sysIdle, sysIntvl, sysCnt := sysctl(t, "tcp_keepalive_time"), sysctl(t, "tcp_keepalive_intvl"), sysctl(t, "tcp_keepalive_probes")
	for _, tc := range []struct {
		name             string
		probes           Probes
		idle, intvl, cnt int
	}{
		{"all set", Probes{Idle: caddy.Duration(42 * time.Second), Interval: caddy.Duration(7 * time.Second), Count: 3}, 42, 7, 3},
		// As HAProxy without clitcpka-idle and the others: the system's.
		{"none set", Probes{}, sysIdle, sysIntvl, sysCnt},
		{"idle only, rounded up", Probes{Idle: caddy.Duration(1500 * time.Millisecond)}, 2, sysIntvl, sysCnt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := pair(t)
			// Wrapped as accepted connections are on their way to the
			// handlers.
			wrapped := &layer4.Connection{Conn: rawOf{netConnOf{s}}}
			if err := tc.probes.Apply(wrapped); err != nil {
				t.Fatal(err)
			}
			on, idle, intvl, cnt := options(t, s)
			if !on || idle != tc.idle || intvl != tc.intvl || cnt != tc.cnt {
				t.Fatalf("SO_KEEPALIVE %v, idle %d, intvl %d, cnt %d; want on, %d, %d, %d", on, idle, intvl, cnt, tc.idle, tc.intvl, tc.cnt)
			}
		})
	}
}

func TestConfigForDialers(t *testing.T) {
	p := Probes{Idle: caddy.Duration(30 * time.Second), Count: 4}
	d := net.Dialer{KeepAliveConfig: p.Config()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	on, idle, intvl, cnt := options(t, c.(*net.TCPConn))
	if want := sysctl(t, "tcp_keepalive_intvl"); !on || idle != 30 || intvl != want || cnt != 4 {
		t.Fatalf("SO_KEEPALIVE %v, idle %d, intvl %d, cnt %d; want on, 30, %d, 4", on, idle, intvl, cnt, want)
	}
}

// A UNIX socket, or TLS over one, has no TCP options: left alone.
func TestApplyLeavesOtherSocketsAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := Probes{Idle: caddy.Duration(time.Minute)}
	if err := p.Apply(tls.Client(c, &tls.Config{})); err != nil {
		t.Fatalf("Apply on a UNIX socket: %v", err)
	}
	if err := p.Apply(c); err != nil {
		t.Fatalf("Apply on a UNIX socket: %v", err)
	}
}
