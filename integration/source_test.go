package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// peerRecorder is a TCP server that records the address every connection
// comes from, and answers an HTTP request or a line of text.
type peerRecorder struct {
	ln    net.Listener
	mu    sync.Mutex
	peers map[string]int
}

func startPeerRecorder(t *testing.T) *peerRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &peerRecorder{ln: ln, peers: map[string]int{}}
	serveConns(t, ln, func(c net.Conn) {
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		r.mu.Lock()
		r.peers[host]++
		r.mu.Unlock()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		if start, err := br.Peek(4); err != nil {
			return // a health check's connection
		} else if string(start) != "GET " {
			if _, err := br.ReadString('\n'); err == nil {
				io.WriteString(c, "ok\n")
			}
			return
		}
		// HTTP, kept alive, so that a proxy may reuse the connection.
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			req.Body.Close()
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return r
}

func (r *peerRecorder) Addr() string { return r.ln.Addr().String() }

// connections counts the connections since the last take.
func (r *peerRecorder) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.peers {
		n += c
	}
	return n
}

// take returns the addresses seen since the last call, and forgets them.
func (r *peerRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for p := range r.peers {
		out = append(out, p)
	}
	clear(r.peers)
	slices.Sort(out)
	return out
}

// sourcesMatchHAProxy starts a recording server for each name of want,
// writes cfgName with <name>Port and <name>Origin for each, and runs it in
// HAProxy, then in caddy; send makes the traffic to one proxy address.
// The addresses each server saw connections come from must be want's with
// HAProxy, and the same with caddy.
func sourcesMatchHAProxy(t *testing.T, cfgName string, want map[string][]string, send func(proxy, name, addr string, o *peerRecorder)) {
	t.Helper()
	origins := map[string]*peerRecorder{}
	data := map[string]any{}
	var listeners []string
	for name := range want {
		origins[name] = startPeerRecorder(t)
		port := freePort(t)
		data[name+"Port"], data[name+"Origin"] = port, origins[name].Addr()
		listeners = append(listeners, loopback(port))
	}
	cfg := writeConfig(t, cfgName, data)
	run := func(proxy string) map[string][]string {
		seen := map[string][]string{}
		for name, o := range origins {
			o.take()
			send(proxy, name, loopback(data[name+"Port"].(int)), o)
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
	for name := range origins {
		if fmt.Sprint(theirs[name]) != fmt.Sprint(want[name]) {
			t.Errorf("%s: HAProxy's connections came from %v, want %v", name, theirs[name], want[name])
		}
		if fmt.Sprint(ours[name]) != fmt.Sprint(theirs[name]) {
			t.Errorf("%s: caddy's connections came from %v, HAProxy's from %v", name, ours[name], theirs[name])
		}
	}
}

// exchangeLine sends a line through a mode tcp proxy, from the local
// address from ("" for any), and checks the recording server's answer.
func exchangeLine(t *testing.T, proxy, addr, from string) {
	t.Helper()
	c := dialTCP(t, addr, from)
	defer c.Close()
	io.WriteString(c, "hello\n")
	if answer, err := bufio.NewReader(c).ReadString('\n'); err != nil || answer != "ok\n" {
		t.Fatalf("%s, %s: %q %v", proxy, addr, answer, err)
	}
}

// TestSourceMatchesHAProxy sends traffic through proxies with "source" on
// the backend and on a server, in both modes, and compares the addresses
// the servers see connections, health checks included, come from.
func TestSourceMatchesHAProxy(t *testing.T) {
	want := map[string][]string{"TCP": {"127.0.0.9"}, "HTTP": {"127.0.0.9"}, "Server": {"127.0.0.10"}}
	sourcesMatchHAProxy(t, "source.cfg", want, func(proxy, name, addr string, o *peerRecorder) {
		// Checks have come once the server got two connections.
		waitForChecks := time.Now().Add(5 * time.Second)
		for o.connections() < 2 && time.Now().Before(waitForChecks) {
			time.Sleep(20 * time.Millisecond)
		}
		if name != "HTTP" {
			exchangeLine(t, proxy, addr, "")
		} else if status, body := get(t, "http://"+addr+"/"); status != http.StatusOK || body != "ok" {
			t.Fatalf("%s, %s: %d %q", proxy, name, status, body)
		}
	})
}
