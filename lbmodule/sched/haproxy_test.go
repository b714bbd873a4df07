package sched

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

// This file runs the real HAProxy as the reference for differential tests:
// tiny origins that answer with their name, a generated haproxy.cfg, a
// client that records which server answered, and the runtime API.

// origin is an HTTP server that answers with its name. A request with the
// query parameter "hold" is reported on arrived and blocks until one is
// sent on release, or all is closed.
type origin struct {
	name    string
	addr    string
	arrived chan string
	release chan struct{}
	all     chan struct{}
	srv     *http.Server
}

func startOrigin(t *testing.T, name string, arrived chan string, all chan struct{}) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{name: name, addr: ln.Addr().String(), arrived: arrived, release: make(chan struct{}), all: all}
	o.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Query().Has("hold") {
			o.arrived <- o.name
			select {
			case <-o.release:
			case <-o.all:
			}
		}
		w.Header().Set("X-Server", o.name)
		_, _ = io.WriteString(w, o.name)
	})}
	go func() { _ = o.srv.Serve(ln) }()
	t.Cleanup(func() { _ = o.srv.Close() })
	return o
}

// startRawOrigin is a TCP server that reads the client's first bytes and
// answers with its name, for backends in TCP mode.
func startRawOrigin(t *testing.T, name string) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 512)
				if _, err := c.Read(buf); err == nil {
					_, _ = io.WriteString(c, name)
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return &origin{name: name, addr: ln.Addr().String()}
}

// haproxyRun is a running HAProxy with one backend "be" of servers s1..sN.
type haproxyRun struct {
	t       *testing.T
	addr    string
	sock    string
	origins []*origin
	arrived chan string
	release chan struct{}
	once    sync.Once
	held    sync.WaitGroup
}

// unblock releases every held request, once, and waits for their answers.
func (h *haproxyRun) unblock() {
	h.once.Do(func() { close(h.release) })
	h.held.Wait()
}

// haproxyBackend describes the backend under test.
type haproxyBackend struct {
	// Lines are backend directives such as "balance uri depth 2".
	Lines []string
	// ServerOpts are extra options of each server line; their count is
	// the number of servers.
	ServerOpts []string
	// IDs, when set, are explicit server ids.
	IDs []int
	// Dead, when set, marks servers whose address refuses connections.
	Dead []bool
	// H2 makes the frontend speak cleartext HTTP/2 only.
	H2 bool
	// TCP runs the proxies in TCP mode, with raw origins.
	TCP bool
}

func needHAProxy(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found in PATH: differential test skipped")
	}
	return path
}

// startHAProxy starts origins and HAProxy in front of them.
func startHAProxy(t *testing.T, be haproxyBackend) *haproxyRun {
	t.Helper()
	bin := needHAProxy(t)
	dir := t.TempDir()
	h := &haproxyRun{
		t:       t,
		sock:    filepath.Join(dir, "admin.sock"),
		arrived: make(chan string, 1000),
		release: make(chan struct{}),
	}
	for i := range be.ServerOpts {
		name := fmt.Sprintf("s%d", i+1)
		if be.TCP {
			h.origins = append(h.origins, startRawOrigin(t, name))
		} else {
			h.origins = append(h.origins, startOrigin(t, name, h.arrived, h.release))
		}
	}
	for attempt := 1; ; attempt++ {
		port := porttest.Free(t)
		h.addr = porttest.Loopback(port)
		err := h.launch(bin, be, port)
		if err == nil {
			return h
		}
		// Another process may have taken the port we were given.
		if attempt == 3 || !haproxytest.CannotBind(err) {
			t.Fatal(err)
		}
	}
}

// deadAddr refuses connections: nothing listens on loopback port 1.
const deadAddr = "127.0.0.254:1"

// launch writes the configuration and starts HAProxy, waiting until it
// listens on port and its runtime API answers.
func (h *haproxyRun) launch(bin string, be haproxyBackend, port int) error {
	t := h.t
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global\n  stats socket %s mode 600 level admin\n  nbthread 1\n\n", h.sock)
	mode := "http"
	if be.TCP {
		mode = "tcp"
	}
	fmt.Fprintf(&cfg, "defaults\n  mode %s\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  timeout queue 30s\n\n", mode)
	proto := ""
	if be.H2 {
		proto = " proto h2"
	}
	fmt.Fprintf(&cfg, "frontend fe\n  bind %s%s\n  default_backend be\n\n", h.addr, proto)
	cfg.WriteString("backend be\n")
	for _, l := range be.Lines {
		fmt.Fprintf(&cfg, "  %s\n", l)
	}
	for i, o := range h.origins {
		id := ""
		if be.IDs != nil {
			id = fmt.Sprintf(" id %d", be.IDs[i])
		}
		addr := o.addr
		if be.Dead != nil && be.Dead[i] {
			addr = deadAddr
		}
		fmt.Fprintf(&cfg, "  server %s %s%s %s\n", o.name, addr, id, be.ServerOpts[i])
	}
	p := haproxytest.Start(t, haproxytest.Command(t, bin, cfg.String()))
	if err := p.WaitListening(port); err != nil {
		p.Stop()
		return fmt.Errorf("%w\nconfig:\n%s", err, cfg.String())
	}
	// The stats socket may come up after the frontend.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("unix", h.sock, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("haproxy's runtime API not answering: %v\n%s", err, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Registered after Start's, so it runs first: held requests end
	// before HAProxy.
	t.Cleanup(h.unblock)
	return nil
}

// hreq is one request sent through HAProxy.
type hreq struct {
	Method string // GET when empty
	URI    string // request target, "/" when empty
	Header map[string]string
	Body   string
	Source string // client source IP, 127.0.0.1 when empty
}

// do sends a raw HTTP/1.1 request on a new connection and returns the
// answering server's name ("" for a 503).
func (h *haproxyRun) do(r hreq) string {
	h.t.Helper()
	c := h.dial(r.Source)
	defer c.Close()
	h.write(c, r)
	return h.read(c)
}

func (h *haproxyRun) dial(source string) net.Conn {
	h.t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	c, err := d.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *haproxyRun) write(c net.Conn, r hreq) {
	h.t.Helper()
	method, uri := r.Method, r.URI
	if method == "" {
		method = "GET"
	}
	if uri == "" {
		uri = "/"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, uri)
	if _, ok := r.Header["Host"]; !ok {
		b.WriteString("Host: test\r\n")
	}
	for k, v := range r.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(r.Body), r.Body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *haproxyRun) read(c net.Conn) string {
	h.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(body)
}

// hold sends a request that the origin keeps open, and returns the server
// that got it once it arrived.
func (h *haproxyRun) hold(r hreq) string {
	h.t.Helper()
	if strings.Contains(r.URI, "?") {
		r.URI += "&hold"
	} else if r.URI == "" {
		r.URI = "/?hold"
	} else {
		r.URI += "?hold"
	}
	c := h.dial(r.Source)
	h.write(c, r)
	h.held.Add(1)
	go func() {
		defer h.held.Done()
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.Copy(io.Discard, c)
	}()
	select {
	case name := <-h.arrived:
		return name
	case <-time.After(10 * time.Second):
		h.t.Fatal("held request never reached a server")
	}
	return ""
}

// releaseOne finishes one held request on server k (from 0) and waits
// until HAProxy counts one request less on it.
func (h *haproxyRun) releaseOne(k int) {
	h.t.Helper()
	before := h.current(k)
	select {
	case h.origins[k].release <- struct{}{}:
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no held request on s%d", k+1)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.current(k) != before-1 {
		if time.Now().After(deadline) {
			h.t.Fatalf("s%d still has %d requests", k+1, h.current(k))
		}
		time.Sleep(time.Millisecond)
	}
}

// current returns the requests HAProxy is serving on server k (from 0).
func (h *haproxyRun) current(k int) int {
	h.t.Helper()
	out := h.cli("show stat")
	name := fmt.Sprintf("be,s%d,", k+1)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, name) {
			f := strings.Split(line, ",")
			var n int
			fmt.Sscan(f[4], &n) // scur
			return n
		}
	}
	h.t.Fatalf("no stats line for s%d", k+1)
	return 0
}

// raw sends payload on a new connection and returns what comes back.
func (h *haproxyRun) raw(payload string) string {
	h.t.Helper()
	c := h.dial("")
	defer c.Close()
	if _, err := io.WriteString(c, payload); err != nil {
		h.t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(c)
	return string(out)
}

// cli runs a runtime API command and returns its answer.
func (h *haproxyRun) cli(cmd string) string {
	h.t.Helper()
	c, err := net.Dial("unix", h.sock)
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		h.t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(c)
	return strings.TrimSpace(string(out))
}

// mustCLI runs a command that must answer nothing (success).
func (h *haproxyRun) mustCLI(cmd string) {
	h.t.Helper()
	if out := h.cli(cmd); out != "" {
		h.t.Fatalf("%s: %s", cmd, out)
	}
}

// serverIndex turns "sN" into N-1, or NoServer for "".
func serverIndex(name string) int {
	var n int
	if _, err := fmt.Sscanf(name, "s%d", &n); err != nil {
		return NoServer
	}
	return n - 1
}
