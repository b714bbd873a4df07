package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/tcptest"
)

// serverLine is one server of a reloadServersConfig backend.
type serverLine struct {
	name, addr string
	weight     int
}

// reloadServersConfig is a mode http listen section and a mode tcp one in
// one file, with a runtime API socket; each version of the config lists
// other servers with other weights.
func reloadServersConfig(sock string, httpPort, tcpPort int, web, tcp []serverLine) string {
	servers := func(lines []serverLine) string {
		var b strings.Builder
		for _, s := range lines {
			fmt.Fprintf(&b, "    server %s %s weight %d\n", s.name, s.addr, s.weight)
		}
		return b.String()
	}
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin

defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s

listen web
    mode http
    bind %s
    balance roundrobin
%s
listen tcp
    mode tcp
    bind %s
    balance roundrobin
%s`, sock, loopback(httpPort), servers(web), loopback(tcpPort), servers(tcp))
}

// tcpSession is a long-lived connection through the mode tcp section: it
// reads the origin's name, then echoes lines.
type tcpSession struct {
	conn   net.Conn
	r      *bufio.Reader
	origin string
}

func openTCPSession(addr string) (*tcpSession, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s := &tcpSession{conn: c, r: bufio.NewReader(c)}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	name, err := s.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, err
	}
	s.origin = strings.TrimSuffix(name, "\n")
	return s, nil
}

// echo sends a line and checks that it comes back.
func (s *tcpSession) echo(line string) error {
	_ = s.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(s.conn, "%s\n", line); err != nil {
		return err
	}
	got, err := s.r.ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return fmt.Errorf("echoed %q, want %q", got, line)
	}
	return nil
}

// TestReloadUnderLoadWithServerChanges replaces a config of an HTTP and a
// TCP section twelve times, through POST /load and `caddy reload` in
// turn, adding, removing and reweighting servers, while HTTP clients
// (keep-alive and not), a loop of new TCP connections and long-lived TCP
// connections run. No request or connection fails; the long-lived
// connections keep working through their first server even once it is
// gone from the config; the drain set through the runtime API socket and
// the maint set through the admin API stay, and the counters of the
// servers that remain keep counting from where they were.
func TestReloadUnderLoadWithServerChanges(t *testing.T) {
	web := startOrigins(t, "w1", "w2", "w3", "wd")
	tcp := make([]*tcptest.Origin, 4)
	for i, name := range []string{"t1", "t2", "t3", "tm"} {
		tcp[i] = tcptest.Start(t, name, false)
	}
	httpPort, tcpPort := freePort(t), freePort(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	// w1/t1 stay in every version, wd/tm too (drained, in maintenance);
	// the others come, go and change weight.
	versions := [][2][]serverLine{
		{
			{{"w1", web[0].Addr(), 1}, {"w2", web[1].Addr(), 1}, {"wd", web[3].Addr(), 1}},
			{{"t1", tcp[0].Addr(), 1}, {"t2", tcp[1].Addr(), 1}, {"tm", tcp[3].Addr(), 1}},
		},
		{
			{{"w1", web[0].Addr(), 3}, {"w2", web[1].Addr(), 1}, {"w3", web[2].Addr(), 2}, {"wd", web[3].Addr(), 1}},
			{{"t1", tcp[0].Addr(), 2}, {"t3", tcp[2].Addr(), 1}, {"tm", tcp[3].Addr(), 1}},
		},
		{
			{{"w1", web[0].Addr(), 1}, {"w3", web[2].Addr(), 5}, {"wd", web[3].Addr(), 2}},
			{{"t1", tcp[0].Addr(), 1}, {"t2", tcp[1].Addr(), 3}, {"t3", tcp[2].Addr(), 1}, {"tm", tcp[3].Addr(), 1}},
		},
	}
	paths := make([]string, len(versions))
	for i, v := range versions {
		paths[i] = filepath.Join(dir, fmt.Sprintf("v%d.cfg", i+1))
		if err := os.WriteFile(paths[i], []byte(reloadServersConfig(sock, httpPort, tcpPort, v[0], v[1])), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := startCaddy(t, paths[0])
	c.waitListening(loopback(httpPort), loopback(tcpPort))
	c.waitFor("the runtime API socket", func() bool { _, err := os.Stat(sock); return err == nil })

	if out := socatCommand(t, sock, "set server web/wd state drain\n"); strings.TrimSpace(out) != "" {
		t.Fatalf("set server web/wd state drain: %q", out)
	}
	if err := c.adminSend(http.MethodPost, "/haproxy/backends/tcp/tm", map[string]any{"state": "maint"}, nil); err != nil {
		t.Fatal(err)
	}

	// Long-lived connections, opened on the first config: two of them
	// land on t2, which the second config removes.
	var sessions []*tcpSession
	for range 4 {
		s, err := openTCPSession(loopback(tcpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer s.conn.Close()
		sessions = append(sessions, s)
	}

	load := startHTTPLoad("http://"+loopback(httpPort)+"/", 6)
	var tcpSent, tcpFailed atomic.Int64
	var tcpErr atomic.Value
	stopTCP := make(chan struct{})
	var tcpLoop sync.WaitGroup
	for range 2 {
		tcpLoop.Add(1)
		go func() {
			defer tcpLoop.Done()
			for i := 0; ; i++ {
				select {
				case <-stopTCP:
					return
				default:
				}
				tcpSent.Add(1)
				s, err := openTCPSession(loopback(tcpPort))
				if err == nil {
					err = s.echo(fmt.Sprintf("ping %d", i))
					s.conn.Close()
				}
				if err != nil {
					tcpFailed.Add(1)
					tcpErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}

	w1Before := serverSessions(t, c, "web", "w1")
	const reloads = 12
	for i := range reloads {
		load.waitRequests(c.process, 30)
		before := tcpSent.Load()
		c.waitFor("TCP connections under load", func() bool { return tcpSent.Load() >= before+5 })
		next := paths[(i+1)%len(paths)]
		if i%2 == 0 {
			cfg, err := os.ReadFile(next)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.loadHAProxyConfig(cfg); err != nil {
				t.Fatalf("reload %d through POST /load: %v", i+1, err)
			}
		} else {
			_, stderr, code := runCaddyCommand(t, dir, "reload", "--adapter", "haproxy", "--config", next, "--address", c.admin)
			if code != 0 {
				t.Fatalf("reload %d through caddy reload: exit %d: %s", i+1, code, stderr)
			}
		}
		for j, s := range sessions {
			if err := s.echo(fmt.Sprintf("reload %d", i+1)); err != nil {
				t.Fatalf("long-lived connection %d (to %s) after reload %d: %v", j, s.origin, i+1, err)
			}
		}
		if w1 := serverSessions(t, c, "web", "w1"); w1 < w1Before {
			t.Fatalf("w1's session count went from %d to %d across reload %d", w1Before, w1, i+1)
		} else {
			w1Before = w1
		}
	}
	load.waitRequests(c.process, 50)
	sent, failed, firstErr := load.stop()
	close(stopTCP)
	tcpLoop.Wait()

	if failed != 0 {
		t.Errorf("%d of %d HTTP requests failed across %d reloads; first: %v", failed, sent, reloads, firstErr)
	}
	if n := tcpFailed.Load(); n != 0 {
		t.Errorf("%d of %d TCP connections failed across %d reloads; first: %v", n, tcpSent.Load(), reloads, tcpErr.Load())
	}
	origins := map[string]int{}
	for _, s := range sessions {
		origins[s.origin]++
		if err := s.echo("last"); err != nil {
			t.Errorf("long-lived connection to %s at the end: %v", s.origin, err)
		}
	}
	if origins["t2"] == 0 {
		t.Errorf("no long-lived connection went to t2 (%v): the removed server was not exercised", origins)
	}
	// Counted across every config, w1's sessions are the requests its
	// origin received.
	if got, want := serverSessions(t, c, "web", "w1"), web[0].hits.Load(); got != want {
		t.Errorf("w1 counted %d sessions across the reloads; its origin received %d requests", got, want)
	}
	if n := web[3].hits.Load(); n != 0 {
		t.Errorf("the drained server wd received %d requests", n)
	}
	if n := serverSessions(t, c, "tcp", "tm"); n != 0 {
		t.Errorf("the server in maintenance tm had %d sessions", n)
	}
	if got := serverState(t, c, "web", "wd"); got != "DRAIN" {
		t.Errorf("wd is %q after the reloads; it was set to drain", got)
	}
	if got := serverState(t, c, "tcp", "tm"); got != "MAINT" {
		t.Errorf("tm is %q after the reloads; it was set to maint", got)
	}
	t.Logf("%d HTTP requests and %d TCP connections across %d reloads, none failed; long-lived connections by origin: %v",
		sent, tcpSent.Load(), reloads, origins)
}

// serverSessions is a server's session count from the admin API.
func serverSessions(t *testing.T, c *caddyProc, backend, server string) int64 {
	t.Helper()
	var s adminServer
	if err := c.adminSend(http.MethodGet, "/haproxy/backends/"+backend+"/"+server, nil, &s); err != nil {
		t.Fatal(err)
	}
	return s.Sessions
}

// serverState is a server's administrative state from the admin API.
func serverState(t *testing.T, c *caddyProc, backend, server string) string {
	t.Helper()
	var s adminServer
	if err := c.adminSend(http.MethodGet, "/haproxy/backends/"+backend+"/"+server, nil, &s); err != nil {
		t.Fatal(err)
	}
	return s.AdminState
}

// TestReloadWithRequestInFlight reloads while a request waits for its
// server's answer: the reload completes at once, new requests go to the
// new config's server, and the request in flight is answered by the old
// one once it answers.
func TestReloadWithRequestInFlight(t *testing.T) {
	o := startOrigins(t, "old", "new1", "new2")
	port := freePort(t)
	url := "http://" + loopback(port) + "/"
	c := startCaddy(t, writeConfig(t, "reload_v1.cfg", map[string]any{"Port": port, "Old": o[0].Addr()}))
	v2, err := os.ReadFile(writeConfig(t, "reload_v2.cfg", map[string]any{"Port": port, "New1": o[1].Addr(), "New2": o[2].Addr()}))
	if err != nil {
		t.Fatal(err)
	}
	release := o[0].hold()
	defer release()
	inFlight := make(chan string, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			inFlight <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		inFlight <- fmt.Sprintf("%d %s %v", resp.StatusCode, body, err)
	}()
	<-o[0].entered

	start := time.Now()
	if err := c.loadHAProxyConfig(v2); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the reload took %v with a request in flight", took)
	}
	if status, body := get(t, url); status != http.StatusOK || !strings.HasPrefix(body, "new") {
		t.Errorf("after the reload: %d %q", status, body)
	}
	release()
	if got := <-inFlight; got != "200 old <nil>" {
		t.Errorf("the request in flight across the reload: %s; want 200 old", got)
	}
}
