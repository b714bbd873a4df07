package integration

import (
	"bufio"
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
	want := map[string][]string{"ClientIP": {"127.0.0.5"}, "Fixed": {"127.0.0.7"}, "HTTP": {"127.0.0.5", "127.0.0.6"}}
	sourcesMatchHAProxy(t, "source_transparent.cfg", want, func(proxy, name, addr string, _ *peerRecorder) {
		if name != "HTTP" {
			exchangeLine(t, proxy, addr, "127.0.0.5")
			return
		}
		// Two clients in turn, each on a keep-alive connection: the
		// second must not get the first's server connection.
		for _, from := range []string{"127.0.0.5", "127.0.0.6"} {
			c := dialTCP(t, addr, from)
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("%s, %s from %s: %v", proxy, name, from, err)
			}
			resp.Body.Close()
		}
	})
}
