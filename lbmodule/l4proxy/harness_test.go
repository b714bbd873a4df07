package l4proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"github.com/pires/go-proxyproto"
	"go.uber.org/zap"
)

// tcpOrigin is a TCP server standing in for one server line. On each
// connection it reads a PROXY header if told to, writes its name and a
// newline, then echoes until the client half-closes, and half-closes too.
type tcpOrigin struct {
	name      string
	ln        net.Listener
	readProxy bool

	mu      sync.Mutex
	headers []*proxyproto.Header
	// hold, when not nil, delays each connection's answer until closed.
	hold chan struct{}
}

func startTCPOrigin(t *testing.T, name string, readProxy bool) *tcpOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &tcpOrigin{name: name, ln: ln, readProxy: readProxy}
	t.Cleanup(func() { _ = ln.Close() })
	go o.serve()
	return o
}

func (o *tcpOrigin) addr() string { return o.ln.Addr().String() }

func (o *tcpOrigin) serve() {
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		go o.handle(c.(*net.TCPConn))
	}
}

func (o *tcpOrigin) handle(c *net.TCPConn) {
	defer c.Close()
	var r io.Reader = c
	if o.readProxy {
		br := bufio.NewReader(c)
		h, err := proxyproto.Read(br)
		if err != nil {
			return
		}
		o.mu.Lock()
		o.headers = append(o.headers, h)
		o.mu.Unlock()
		r = br
	}
	o.mu.Lock()
	hold := o.hold
	o.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if _, err := io.WriteString(c, o.name+"\n"); err != nil {
		return
	}
	_, _ = io.Copy(c, r)
	_ = c.CloseWrite()
}

// proxyHeaders returns the PROXY headers received so far.
func (o *tcpOrigin) proxyHeaders() []*proxyproto.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*proxyproto.Header(nil), o.headers...)
}

// frontend runs h behind a plain TCP listener the way the layer4 server
// does: each accepted connection, wrapped with early bytes (as the
// matchers would have read them), goes to h.Handle, then is closed.
type frontend struct {
	ln    net.Listener
	early []byte
}

func jsonUnmarshal(js string, h *Handler) error { return json.Unmarshal([]byte(js), h) }

func newContext() (caddy.Context, context.CancelFunc) {
	return caddy.NewContext(caddy.Context{Context: context.Background()})
}

func newHandler(t *testing.T, js string) *Handler {
	t.Helper()
	h := new(Handler)
	if err := jsonUnmarshal(js, h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := newContext()
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

func startFrontend(t *testing.T, h *Handler, early string) *frontend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &frontend{ln: ln, early: []byte(early)}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				cx := layer4.WrapConnection(c, append([]byte(nil), f.early...), zap.NewNop())
				_ = h.Handle(cx, nil)
			}()
		}
	}()
	return f
}

func (f *frontend) addr() string { return f.ln.Addr().String() }

// dial connects to the frontend.
func (f *frontend) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", f.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// serverName opens a connection and returns the name of the origin that
// answered, "" when the connection closed without an answer.
func (f *frontend) serverName(t *testing.T) string {
	t.Helper()
	c := f.dial(t)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

// backendJSON is the JSON of a backend with the given extra fields and
// servers.
func backendJSON(extra string, servers ...string) string {
	if extra != "" {
		extra += ","
	}
	return `{` + extra + `"servers":[` + strings.Join(servers, ",") + `]}`
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
