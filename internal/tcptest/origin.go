// Package tcptest provides a TCP origin server for the tests of the TCP
// handler: it says its name, records PROXY protocol headers and echoes.
package tcptest

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/pires/go-proxyproto"
)

// Origin is a TCP server standing in for one server line. On each
// connection it reads a PROXY header if told to, writes its name and a
// newline, then echoes until the client half-closes, and half-closes too.
type Origin struct {
	Name string

	ln        net.Listener
	readProxy bool

	mu      sync.Mutex
	headers []*proxyproto.Header
	conns   map[net.Conn]bool
	hold    chan struct{}
}

// Start starts an origin on a free loopback port; it stops when the test
// ends. With readProxy, each connection must begin with a PROXY header.
func Start(t testing.TB, name string, readProxy bool) *Origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &Origin{Name: name, ln: ln, readProxy: readProxy, conns: map[net.Conn]bool{}}
	t.Cleanup(o.Stop)
	go o.serve()
	return o
}

// Addr is the origin's host:port.
func (o *Origin) Addr() string { return o.ln.Addr().String() }

// Stop closes the listener and every open connection: the origin is gone,
// and connections to it are refused.
func (o *Origin) Stop() {
	_ = o.ln.Close()
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := range o.conns {
		_ = c.Close()
	}
}

// Hold makes the origin accept connections but not answer them until the
// returned function is called.
func (o *Origin) Hold() (release func()) {
	ch := make(chan struct{})
	o.mu.Lock()
	o.hold = ch
	o.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			o.hold = nil
			o.mu.Unlock()
			close(ch)
		})
	}
}

// ProxyHeaders returns the PROXY headers received so far.
func (o *Origin) ProxyHeaders() []*proxyproto.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*proxyproto.Header(nil), o.headers...)
}

func (o *Origin) serve() {
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.mu.Lock()
		o.conns[c] = true
		o.mu.Unlock()
		go o.handle(c.(*net.TCPConn))
	}
}

func (o *Origin) handle(c *net.TCPConn) {
	defer func() {
		o.mu.Lock()
		delete(o.conns, c)
		o.mu.Unlock()
		_ = c.Close()
	}()
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
	if _, err := io.WriteString(c, o.Name+"\n"); err != nil {
		return
	}
	_, _ = io.Copy(c, r)
	_ = c.CloseWrite()
}
