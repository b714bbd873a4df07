package l4proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/mholt/caddy-l4/layer4"
	"go.uber.org/zap"
)

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

func newHandler(t testing.TB, js string) *Handler {
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

func startFrontend(t testing.TB, h *Handler, early string) *frontend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveFrontend(t, h, ln, early, nil)
}

// serveFrontend serves h on ln; wrap, when not nil, wraps each accepted
// connection as an earlier listener wrapper or handler would.
func serveFrontend(t testing.TB, h *Handler, ln net.Listener, early string, wrap func(net.Conn) net.Conn) *frontend {
	t.Helper()
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
				if wrap != nil {
					c = wrap(c)
				}
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
