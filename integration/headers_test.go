package integration

import (
	"maps"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// forwardingHeaders are the request headers a proxy may add about the
// client.
var forwardingHeaders = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip", "Forwarded", "Via"}

// TestForwardFor checks that X-Forwarded-For reaches the server with
// "option forwardfor" and that, as with HAProxy, no forwarding header is
// added without it.
func TestForwardFor(t *testing.T) {
	for _, tc := range []struct {
		name       string
		forwardFor bool
		want       map[string]string
	}{
		{"with option forwardfor", true, map[string]string{"X-Forwarded-For": "127.0.0.1"}},
		{"without option forwardfor", false, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startOrigin(t, "echo")
			port := freePort(t)
			startCaddy(t, writeConfig(t, "forwardfor.cfg", map[string]any{"Port": port, "Origin": o.Addr(), "ForwardFor": tc.forwardFor}))
			if status, _ := get(t, "http://"+loopback(port)+"/"); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			got := forwarded(o.lastHeader())
			if !maps.Equal(got, tc.want) {
				t.Errorf("the server received forwarding headers %v, want %v", got, tc.want)
			}
		})
	}
}

// TestForwardForMatchesHAProxy sends the same request through HAProxy and
// caddy and compares the forwarding headers the server receives.
func TestForwardForMatchesHAProxy(t *testing.T) {
	for _, forwardFor := range []bool{true, false} {
		name := "without option forwardfor"
		if forwardFor {
			name = "with option forwardfor"
		}
		t.Run(name, func(t *testing.T) {
			o := startOrigin(t, "echo")
			port := freePort(t)
			cfg := writeConfig(t, "forwardfor.cfg", map[string]any{"Port": port, "Origin": o.Addr(), "ForwardFor": forwardFor})
			url := "http://" + loopback(port) + "/"

			haproxy := startHAProxy(t, cfg, loopback(port))
			get(t, url)
			want := forwarded(o.lastHeader())
			haproxy.stop()

			startCaddy(t, cfg)
			get(t, url)
			if got := forwarded(o.lastHeader()); !maps.Equal(got, want) {
				t.Errorf("forwarding headers: caddy %v, haproxy %v", got, want)
			}
		})
	}
}

// forwarded picks the forwarding headers out of a request header, each
// header's values joined.
func forwarded(h http.Header) map[string]string {
	m := map[string]string{}
	for _, name := range forwardingHeaders {
		if v := h.Values(name); len(v) > 0 {
			sort.Strings(v)
			m[name] = strings.Join(v, ", ")
		}
	}
	return m
}

// TestResponseHeadersPassThrough checks that, as with HAProxy, the server's
// Server header reaches the client and no Via header is added.
func TestResponseHeadersPassThrough(t *testing.T) {
	o := startOrigin(t, "echo")
	port := freePort(t)
	cfg := writeConfig(t, "forwardfor.cfg", map[string]any{"Port": port, "Origin": o.Addr()})
	url := "http://" + loopback(port) + "/"
	check := func(t *testing.T, proxy string) {
		t.Helper()
		resp, _ := getResponse(t, url)
		if got, want := resp.Header.Get("Server"), "origin/echo"; got != want {
			t.Errorf("%s: Server header %q, want the server's %q", proxy, got, want)
		}
		if via := resp.Header.Values("Via"); len(via) > 0 {
			t.Errorf("%s: added Via %q", proxy, via)
		}
	}

	t.Run("haproxy", func(t *testing.T) {
		haproxy := startHAProxy(t, cfg, loopback(port))
		check(t, "haproxy")
		haproxy.stop()
	})
	t.Run("caddy", func(t *testing.T) {
		startCaddy(t, cfg)
		check(t, "caddy")
	})
}

// TestUnreachableServerMatchesHAProxy compares the answer when the only
// server refuses connections: HAProxy retries, then answers 503.
func TestUnreachableServerMatchesHAProxy(t *testing.T) {
	closed := loopback(freePort(t))
	port := freePort(t)
	cfg := writeConfig(t, "forwardfor.cfg", map[string]any{"Port": port, "Origin": closed})
	url := "http://" + loopback(port) + "/"

	want := http.StatusServiceUnavailable
	t.Run("haproxy", func(t *testing.T) {
		haproxy := startHAProxy(t, cfg, loopback(port))
		if status, body := get(t, url); status != want {
			t.Errorf("haproxy: status %d (%s), want %d", status, body, want)
		}
		haproxy.stop()
	})
	t.Run("caddy", func(t *testing.T) {
		startCaddy(t, cfg)
		if status, body := get(t, url); status != want {
			t.Errorf("caddy: status %d (%s), want %d as haproxy", status, body, want)
		}
	})
}
