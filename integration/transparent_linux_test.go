package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// probeTransparent reports whether this process may set IP_TRANSPARENT,
// as HAProxy and caddy must for usesrc.
func probeTransparent() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
}

// TestTransparentSourceMatchesHAProxy compares "usesrc clientip" and
// "usesrc <addr>" in mode tcp, and usesrc clientip in mode http with two
// keep-alive clients in turn: the server sees the clients' addresses, or
// the given one.
func TestTransparentSourceMatchesHAProxy(t *testing.T) {
	if err := probeTransparent(); err != nil {
		t.Skipf("IP_TRANSPARENT needs CAP_NET_ADMIN: %v", err)
	}
	origins := map[string]*peerRecorder{"ClientIP": startPeerRecorder(t), "Fixed": startPeerRecorder(t), "HTTP": startPeerRecorder(t)}
	data := map[string]any{}
	var listeners []string
	for name, o := range origins {
		port := freePort(t)
		data[name+"Port"], data[name+"Origin"] = port, o.Addr()
		listeners = append(listeners, loopback(port))
	}
	cfg := writeConfig(t, "source_transparent.cfg", data)
	run := func(proxy string) map[string][]string {
		seen := map[string][]string{}
		for name, o := range origins {
			o.take()
			addr := loopback(data[name+"Port"].(int))
			if name != "HTTP" {
				c := dialTCP(t, addr, "127.0.0.5")
				io.WriteString(c, "hello\n")
				if answer, err := bufio.NewReader(c).ReadString('\n'); err != nil || answer != "ok\n" {
					t.Fatalf("%s, %s: %q %v", proxy, name, answer, err)
				}
				c.Close()
			} else {
				// Two clients in turn, each on a keep-alive connection:
				// the second must not get the first's server connection.
				for _, from := range []string{"127.0.0.5", "127.0.0.6"} {
					c := dialTCP(t, addr, from)
					io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
					resp, err := http.ReadResponse(bufio.NewReader(c), nil)
					if err != nil {
						t.Fatalf("%s, %s from %s: %v", proxy, name, from, err)
					}
					resp.Body.Close()
				}
			}
			seen[name] = o.take()
		}
		return seen
	}
	h := startHAProxy(t, cfg, listeners...)
	theirs := run("haproxy")
	h.stop()
	c := startCaddy(t, cfg)
	c.waitListening(listeners...)
	ours := run("caddy")
	want := map[string][]string{"ClientIP": {"127.0.0.5"}, "Fixed": {"127.0.0.7"}, "HTTP": {"127.0.0.5", "127.0.0.6"}}
	for name := range origins {
		if fmt.Sprint(theirs[name]) != fmt.Sprint(want[name]) {
			t.Errorf("%s: HAProxy's connections came from %v, want %v", name, theirs[name], want[name])
		}
		if fmt.Sprint(ours[name]) != fmt.Sprint(theirs[name]) {
			t.Errorf("%s: caddy's connections came from %v, HAProxy's from %v", name, ours[name], theirs[name])
		}
	}
}
