package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingOrigin answers 200 "ok" and records every request it receives
// (method, path and body), so a test can see what a proxy let through.
type recordingOrigin struct {
	ln  net.Listener
	mu  sync.Mutex
	got []string
}

func startRecordingOrigin(t *testing.T) *recordingOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &recordingOrigin{ln: ln}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		entry := fmt.Sprintf("%s %s body=%q", r.Method, r.URL.Path, body)
		if err != nil {
			entry += " (body error)"
		}
		o.mu.Lock()
		o.got = append(o.got, entry)
		o.mu.Unlock()
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return o
}

// take returns and forgets what the origin has received for paths that
// start with prefix.
func (o *recordingOrigin) take(prefix string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var got, rest []string
	for _, e := range o.got {
		if _, path, _ := strings.Cut(e, " "); strings.HasPrefix(path, prefix) {
			got = append(got, e)
		} else {
			rest = append(rest, e)
		}
	}
	o.got = rest
	return got
}

// rawExchange sends raw bytes on a new connection, half-closes nothing,
// and returns the status codes of every response read until the proxy
// closes the connection or wait passes.
func rawExchange(t *testing.T, addr string, data []byte, wait time.Duration) []int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write(data); err != nil {
		return nil
	}
	var codes []int
	r := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return codes
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
}

// rawOutcome is what a client and the origin saw of one raw request.
type rawOutcome struct {
	// refused: the proxy answered an error itself or closed the
	// connection without forwarding anything.
	refused bool
	origin  []string
	codes   []int
}

func (o rawOutcome) String() string {
	return fmt.Sprintf("refused=%v codes=%v origin=%q", o.refused, o.codes, o.origin)
}

// TestHostileRequestsMatchHAProxy sends malformed, oversized and smuggling
// requests to HAProxy and to Caddy running the same haproxy.cfg. A request
// HAProxy refuses must be refused by Caddy too, and a request both forward
// must reach the origin the same way. The status codes of refusals may differ (Go's server answers 431 or 501
// where HAProxy answers 400).
func TestHostileRequestsMatchHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not installed")
	}
	origin := startRecordingOrigin(t)
	hPort, cPort := freePort(t), freePort(t)
	hCfg := writeConfig(t, "hostile_client.cfg", map[string]any{"Port": hPort, "Origin": origin.ln.Addr().String()})
	cCfg := writeConfig(t, "hostile_client.cfg", map[string]any{"Port": cPort, "Origin": origin.ln.Addr().String()})
	startHAProxy(t, hCfg, loopback(hPort))
	c := startCaddy(t, cCfg)
	c.waitListening(loopback(cPort))

	// HAProxy 2.6 accepts a request head of at most 15292 bytes with the
	// default tune.bufsize and tune.maxrewrite.
	head := func(n int) []byte {
		start := "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
		return []byte(start + strings.Repeat("a", n-len(start)-4) + "\r\n\r\n")
	}
	cases := []struct {
		name string
		req  []byte
	}{
		{name: "plain request", req: []byte("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")},
		{name: "head at the limit", req: head(15292)},
		{name: "head one byte past the limit", req: head(15292 + 1)},
		{name: "head far past the limit", req: head(15292 + 4096)},
		{name: "Content-Length and Transfer-Encoding", req: []byte("POST /clte HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")},
		{name: "two different Content-Lengths", req: []byte("POST /dupcl HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde")},
		{name: "two equal Content-Lengths", req: []byte("POST /samecl HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd")},
		{name: "unknown Transfer-Encoding", req: []byte("POST /te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nConnection: close\r\n\r\n0\r\n\r\n")},
		{name: "space before the colon", req: []byte("POST /space HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\nConnection: close\r\n\r\nabcde")},
		{name: "two Host headers", req: []byte("GET /hosts HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")},
		{name: "invalid method", req: []byte("G(ET /method HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")},
		// HAProxy reads a bare LF as the end of a header line.
		{name: "bare LF in a header value", req: []byte("GET /lf HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\nConnection: close\r\n\r\n")},
		{name: "Transfer-Encoding after a bare LF", req: []byte("POST /lfte HTTP/1.1\r\nHost: x\r\nX-A: a\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")},
		{name: "NUL in a header value", req: []byte("GET /nul HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n")},
		{name: "negative Content-Length", req: []byte("POST /negcl HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, rest, _ := strings.Cut(string(tc.req), " ")
			path, _, _ := strings.Cut(rest, " ")
			var got [2]rawOutcome
			for i, addr := range []string{loopback(hPort), loopback(cPort)} {
				codes := rawExchange(t, addr, tc.req, 5*time.Second)
				seen := origin.take(path)
				got[i] = rawOutcome{refused: len(seen) == 0, origin: seen, codes: codes}
			}
			h, cd := got[0], got[1]
			switch {
			case h.refused && !cd.refused:
				t.Errorf("HAProxy refuses the request, Caddy forwards it:\nhaproxy %v\ncaddy   %v", h, cd)
			case fmt.Sprint(h.origin) != fmt.Sprint(cd.origin):
				t.Errorf("the origin received different requests:\nhaproxy %v\ncaddy   %v", h, cd)
			}
		})
	}
}

// TestSlowHeadersBoundedLikeHAProxy sends a request head one byte at a
// time, slower than timeout http-request allows: both HAProxy and Caddy
// must close the connection once the timeout (1s) has passed, and neither
// may forward anything.
func TestSlowHeadersBoundedLikeHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not installed")
	}
	origin := startRecordingOrigin(t)
	hPort, cPort := freePort(t), freePort(t)
	startHAProxy(t, writeConfig(t, "hostile_client.cfg", map[string]any{"Port": hPort, "Origin": origin.ln.Addr().String()}), loopback(hPort))
	c := startCaddy(t, writeConfig(t, "hostile_client.cfg", map[string]any{"Port": cPort, "Origin": origin.ln.Addr().String()}))
	c.waitListening(loopback(cPort))

	for name, addr := range map[string]string{"haproxy": loopback(hPort), "caddy": loopback(cPort)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			req := []byte("GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100) + "\r\n\r\n")
			closed := make(chan time.Duration, 1)
			go func() {
				io.Copy(io.Discard, conn)
				closed <- time.Since(start)
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case d := <-closed:
					if d < 900*time.Millisecond || d > 3*time.Second {
						t.Errorf("closed after %v, want about 1s (timeout http-request)", d)
					}
					return
				case <-tick.C:
				}
				if i >= len(req) || time.Since(start) > 10*time.Second {
					t.Fatalf("a slow client kept its connection for %v despite timeout http-request 1s", time.Since(start))
				}
				conn.Write(req[i : i+1])
			}
		})
	}
	t.Cleanup(func() {
		if seen := origin.take("/"); len(seen) != 0 {
			t.Errorf("a slow, incomplete request reached the origin: %q", seen)
		}
	})
}
