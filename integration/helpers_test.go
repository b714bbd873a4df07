package integration

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// answersMatchHAProxy runs the same exchanges (run) against HAProxy, then
// against caddy, on one configuration, and reports every answer in which
// caddy differs, named by name(i). It returns HAProxy's answers, so that
// the test can check they exercise what it compares.
func answersMatchHAProxy(t *testing.T, cfg string, listeners []string, run func() []string, name func(i int) string) []string {
	t.Helper()
	haproxy := startHAProxy(t, cfg, listeners...)
	want := run()
	haproxy.stop()
	startCaddy(t, cfg)
	got := run()
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		if strings.Contains(got[i]+want[i], "\n") {
			t.Errorf("%s:\ncaddy:\n%s\nhaproxy:\n%s", name(i), got[i], want[i])
		} else {
			t.Errorf("%s: caddy %q, haproxy %q", name(i), got[i], want[i])
		}
	}
	return want
}

// authOutcome is the status, the challenge and the body of an answer to a
// request with credentials. The body of a 401 is left out: Caddy's
// authentication handler sends none; status and challenge must agree.
func authOutcome(resp *http.Response, body string) string {
	if resp.StatusCode == http.StatusUnauthorized {
		body = ""
	}
	return fmt.Sprintf("%d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
}

// httpConfig is an HTTP configuration with short timeouts whose frontend
// fe, bound to bind, sends every request to backend be. global and backend
// are the indented lines of those sections; an empty global leaves the
// section out.
func httpConfig(global, bind, backend string) string {
	var b strings.Builder
	if global != "" {
		b.WriteString("global\n" + global + "\n")
	}
	b.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n")
	fmt.Fprintf(&b, "frontend fe\n    bind %s\n    default_backend be\n\nbackend be\n%s", bind, backend)
	return b.String()
}

// serveConns runs handle on each connection ln accepts, in a goroutine of
// its own, and closes the connection after; ln is closed when the test
// ends.
func serveConns(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}
