package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultyOrigin misbehaves in one way on every connection.
type faultyOrigin struct {
	ln    net.Listener
	fault string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// Faults a faultyOrigin can have.
const (
	faultRefuse     = "refuses connections"            // nothing listens
	faultBlackhole  = "accepts and never answers"      // reads, holds
	faultResetHead  = "resets before answering"        // reads the request, RST
	faultResetBody  = "resets in the middle of a body" // headers, half the body, RST
	faultSlowAnswer = "answers after timeout server"   // 200 after 2s
)

func startFaultyOrigin(t *testing.T, fault string) *faultyOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &faultyOrigin{ln: ln, fault: fault}
	if fault == faultRefuse {
		ln.Close() // the port stays unused for the test's short life
		return o
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.mu.Lock()
			o.conns = append(o.conns, c)
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				o.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		o.mu.Lock()
		for _, c := range o.conns {
			c.Close()
		}
		o.mu.Unlock()
		o.wg.Wait()
	})
	return o
}

func (o *faultyOrigin) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	if _, err := c.Read(buf); err != nil {
		return
	}
	reset := func() {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
	switch o.fault {
	case faultBlackhole:
		io.Copy(io.Discard, c)
	case faultResetHead:
		reset()
	case faultResetBody:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n"+strings.Repeat("x", 50))
		time.Sleep(50 * time.Millisecond) // let the proxy forward the first half
		reset()
	case faultSlowAnswer:
		time.Sleep(2 * time.Second)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")
	}
}

func (o *faultyOrigin) Addr() string { return o.ln.Addr().String() }

// faultResults sends n requests one after another and describes each: the
// status and body, or "error" when the response was cut or never came.
func faultResults(url string, n int) []string {
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var out []string
	for range n {
		resp, err := client.Get(url)
		if err != nil {
			out = append(out, "error")
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			out = append(out, fmt.Sprintf("%d+cut", resp.StatusCode))
			continue
		}
		if resp.StatusCode != http.StatusOK {
			body = nil // the error pages' wording differs
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, body)))
	}
	return out
}

// TestServerFaultsMatchHAProxy runs a good and a faulty server under
// HAProxy and under Caddy with the same haproxy.cfg (retries 3, option
// redispatch, timeout server 1s) and compares what six clients in a row
// get: a refused connection is retried and redispatched to the good server,
// a server that never answers or answers late gives 504 after timeout
// server, a reset before the answer gives 502, a reset in the middle of a
// body cuts the response. Afterwards Caddy must hold no more goroutines and
// file descriptors than before.
func TestServerFaultsMatchHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not installed")
	}
	for _, fault := range []string{faultRefuse, faultBlackhole, faultResetHead, faultResetBody, faultSlowAnswer} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			good := startOrigin(t, "good")
			bad := startFaultyOrigin(t, fault)
			hPort, cPort := freePort(t), freePort(t)
			data := func(port int) map[string]any {
				return map[string]any{"Port": port, "Good": good.Addr(), "Bad": bad.Addr()}
			}
			startHAProxy(t, writeConfig(t, "server_faults.cfg", data(hPort)), loopback(hPort))
			c := startCaddy(t, writeConfig(t, "server_faults.cfg", data(cPort)))
			c.waitListening(loopback(cPort))

			// Warm up Caddy's own lazily started goroutines, then count.
			faultResults("http://"+loopback(cPort)+"/", 2)
			before := c.resources(t)

			want := faultResults("http://"+loopback(hPort)+"/", 6)
			got := faultResults("http://"+loopback(cPort)+"/", 6)
			if strings.Join(got, " | ") != strings.Join(want, " | ") {
				t.Errorf("clients got\ncaddy   %q\nhaproxy %q", got, want)
			}

			// Nothing leaks: once the faulty connections are over, Caddy is
			// back to what it held before (idle connections to the good
			// server may stay in the pool: allow a few).
			var after resources
			c.waitFor("goroutines and descriptors back to their level", func() bool {
				after = c.resources(t)
				return after.goroutines <= before.goroutines+4 && after.fds <= before.fds+4
			})
			t.Logf("goroutines %d → %d, fds %d → %d", before.goroutines, after.goroutines, before.fds, after.fds)
		})
	}
}

// resources is what a process holds.
type resources struct {
	goroutines, fds int
}

var goroutineTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)

// resources reads the process's goroutine count from the admin API's pprof
// endpoint and its open descriptors from /proc.
func (c *caddyProc) resources(t *testing.T) resources {
	t.Helper()
	var r resources
	body, err := c.adminGet("/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	m := goroutineTotal.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no goroutine total in the profile")
	}
	r.goroutines, _ = strconv.Atoi(m[1])
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(c.pid()) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	r.fds = len(fds)
	return r
}
