package lbmodule

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-haproxy/caddy-haproxy/internal/haproxytest"
	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
)

// blockingOrigin answers its name after a release, and reports arrivals.
type blockingOrigin struct {
	name    string
	addr    string
	arrived chan string
	release chan struct{}
}

func newBlockingOrigin(t *testing.T, name string, arrived chan string) *blockingOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &blockingOrigin{name: name, addr: ln.Addr().String(), arrived: arrived, release: make(chan struct{}, 8)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.arrived <- o.name + r.URL.Path
		<-o.release
		_, _ = io.WriteString(w, o.name)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		close(o.release)
		_ = srv.Close()
	})
	return o
}

// runQueueScenario sends r1..r4 through base, with r3 and r4 queued in
// that order, then frees B's slot and A's, and returns the transcript.
func runQueueScenario(t *testing.T, base string, a, b *blockingOrigin, arrived chan string, queued func() int) []string {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second}
	done := make(chan string, 4)
	send := func(p string) {
		go func() {
			resp, err := client.Get(base + "/" + p)
			if err != nil {
				done <- p + " " + err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			done <- fmt.Sprint(p, " ", resp.StatusCode, " ", strings.TrimSpace(string(body)))
		}()
	}
	next := func(ch chan string) string {
		select {
		case s := <-ch:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("timed out")
			return ""
		}
	}
	var log []string
	send("r1")
	log = append(log, next(arrived))
	send("r2")
	log = append(log, next(arrived))
	send("r3")
	waitFor(t, func() bool { return queued() == 1 })
	send("r4")
	waitFor(t, func() bool { return queued() == 2 })
	b.release <- struct{}{}
	log = append(log, next(done), next(arrived))
	a.release <- struct{}{}
	log = append(log, next(done), next(arrived))
	a.release <- struct{}{}
	b.release <- struct{}{}
	last := []string{next(done), next(done)}
	if last[0] > last[1] {
		last[0], last[1] = last[1], last[0]
	}
	return append(log, last...)
}

// haproxyQueued sums the queue columns of backend be in "show stat".
func haproxyQueued(t *testing.T, sock string) int {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return -1
	}
	defer c.Close()
	_, _ = io.WriteString(c, "show stat\n")
	r := csv.NewReader(bufio.NewReader(c))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return -1
	}
	total := 0
	for _, row := range rows {
		if len(row) > 2 && row[0] == "be" {
			n, _ := strconv.Atoi(row[2])
			total += n
		}
	}
	return total
}

// The maxconn queue hands freed slots over as HAProxy does: the oldest
// backend-queued request goes to the server that freed a slot, and a hash
// pick waits for its own server.
func TestQueueMatchesHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found; install HAProxy to compare queue behaviour")
	}
	for _, balance := range []string{"roundrobin", "uri"} {
		t.Run(balance, func(t *testing.T) {
			// HAProxy.
			arrived := make(chan string, 8)
			a, b := newBlockingOrigin(t, "A", arrived), newBlockingOrigin(t, "B", arrived)
			dir := t.TempDir()
			sock := filepath.Join(dir, "sock")
			port := porttest.Free(t)
			listen := porttest.Loopback(port)
			cfg := fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
backend be
    balance %s
    server A %s maxconn 1
    server B %s maxconn 1
frontend fe
    bind %s
    default_backend be
`, sock, balance, a.addr, b.addr, listen)
			startHAProxy(t, bin, cfg, sock, port)
			want := runQueueScenario(t, "http://"+listen, a, b, arrived,
				func() int { return haproxyQueued(t, sock) })

			// Caddy with the policy.
			arrived = make(chan string, 8)
			a, b = newBlockingOrigin(t, "A", arrived), newBlockingOrigin(t, "B", arrived)
			name := "queue-diff-" + balance
			bc := BackendConfig{Backend: name, Balance: balance, QueueTimeout: caddy.Duration(30 * time.Second), Servers: []ServerConfig{
				{Name: "A", Dial: a.addr, MaxConn: 1}, {Name: "B", Dial: b.addr, MaxConn: 1},
			}}
			listen = freePort(t)
			loadCaddy(t, listen, proxyRoute("", bc))
			t.Cleanup(func() { _ = caddy.Stop() })
			be, _ := LookupBackend(name)
			got := runQueueScenario(t, "http://"+listen, a, b, arrived, func() int {
				n := int(be.Counters().QueueCurrent.Load())
				for _, s := range be.Servers() {
					n += s.Queued()
				}
				return n
			})
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("transcript differs\n got: %q\nwant: %q", got, want)
			}
			t.Logf("transcript: %q", got)
		})
	}
}

// startHAProxy runs haproxy with cfg (which must use sock as its stats
// socket and listen on port) until the test ends.
func startHAProxy(t *testing.T, bin, cfg, sock string, port int) {
	t.Helper()
	haproxytest.Start(t, haproxytest.Command(t, bin, cfg)).MustListen(t, port)
	waitFor(t, func() bool { return haproxyQueued(t, sock) == 0 })
}

// Retries leave a refusing server the way HAProxy's do: with redispatch
// the retry moves on at once (several actives, round robin), without it
// the retry stays and fails.
func TestRetriesMatchHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not found; install HAProxy to compare retries")
	}
	a, b := newOrigin(t, "A", false), newOrigin(t, "B", false)
	dead := freePort(t)
	for _, redispatch := range []bool{true, false} {
		t.Run(fmt.Sprint("redispatch=", redispatch), func(t *testing.T) {
			transcript := func(base string) string {
				client := &http.Client{Timeout: 10 * time.Second}
				var sb strings.Builder
				for range 7 {
					code, body := get(t, client, base+"/")
					if code != 200 {
						body = strconv.Itoa(code)
					}
					sb.WriteString(body + " ")
				}
				return sb.String()
			}
			sock := filepath.Join(t.TempDir(), "sock")
			port := porttest.Free(t)
			listen := porttest.Loopback(port)
			opt := ""
			if redispatch {
				opt = "option redispatch"
			}
			startHAProxy(t, bin, fmt.Sprintf(`global
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
backend be
    retries 1
    %s
    server A %s
    server B %s
    server X %s
frontend fe
    bind %s
    default_backend be
`, sock, opt, a.dial(), b.dial(), dead, listen), sock, port)
			want := transcript("http://" + listen)

			bc := BackendConfig{Backend: fmt.Sprint("retry-diff-", redispatch), Redispatch: redispatch, Retries: new(1), Servers: []ServerConfig{
				{Name: "A", Dial: a.dial()}, {Name: "B", Dial: b.dial()}, {Name: "X", Dial: dead},
			}}
			listen = freePort(t)
			loadCaddy(t, listen, proxyRoute("", bc, map[string]any{"load_balancing": map[string]any{"retries": 1}}))
			t.Cleanup(func() { _ = caddy.Stop() })
			got := transcript("http://" + listen)
			// HAProxy answers 503 when its retries are spent, Caddy 502.
			got = strings.ReplaceAll(got, "502", "503")
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
			t.Logf("transcript: %q", got)
		})
	}
}
