package lbmodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/porttest"
	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// origin is an httptest server that answers its name. Requests to …/slow
// on a blocking origin wait until release is closed.
type origin struct {
	name    string
	srv     *httptest.Server
	entered chan struct{}
	release chan struct{}
	blocks  bool
}

func newOrigin(t *testing.T, name string, blocks bool) *origin {
	o := &origin{name: name, blocks: blocks, entered: make(chan struct{}, 16), release: make(chan struct{})}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.blocks && strings.HasSuffix(r.URL.Path, "/slow") {
			o.entered <- struct{}{}
			<-o.release
		}
		_, _ = io.WriteString(w, o.name)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) dial() string { return strings.TrimPrefix(o.srv.URL, "http://") }

// freePort returns a free loopback address, never the same twice.
func freePort(t *testing.T) string { return porttest.Loopback(porttest.Free(t)) }

// proxyRoute is a reverse_proxy route over servers with the haproxy policy.
// extra fields go into the reverse_proxy handler, load_balancing merged.
func proxyRoute(path string, policy BackendConfig, extra ...map[string]any) map[string]any {
	var upstreams []map[string]any
	for _, s := range policy.Servers {
		upstreams = append(upstreams, map[string]any{"dial": s.Dial})
	}
	sel, _ := json.Marshal(policy)
	var selMap map[string]any
	_ = json.Unmarshal(sel, &selMap)
	selMap["policy"] = "haproxy"
	lb := map[string]any{"selection_policy": selMap}
	handler := map[string]any{
		"handler":        "reverse_proxy",
		"upstreams":      upstreams,
		"load_balancing": lb,
	}
	for _, e := range extra {
		for k, v := range e {
			if k == "load_balancing" {
				for lk, lv := range v.(map[string]any) {
					lb[lk] = lv
				}
				continue
			}
			handler[k] = v
		}
	}
	route := map[string]any{"handle": []any{handler}}
	if path != "" {
		route["match"] = []any{map[string]any{"path": []string{path}}}
	}
	return route
}

func loadCaddy(t *testing.T, listen string, routes ...map[string]any) {
	t.Helper()
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"lb": map[string]any{
			"listen":          []string{listen},
			"routes":          routes,
			"automatic_https": map[string]any{"disable": true},
		}}}},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Load(raw, true); err != nil {
		t.Fatalf("loading config: %v", err)
	}
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCaddyEndToEnd(t *testing.T) {
	a, b, c := newOrigin(t, "A", false), newOrigin(t, "B", true), newOrigin(t, "C", false)
	q := newOrigin(t, "Q", true)
	web := BackendConfig{Backend: "e2e-web", Servers: []ServerConfig{
		{Name: "A", Dial: a.dial(), Weight: weight(5)},
		{Name: "B", Dial: b.dial(), Weight: weight(3)},
		{Name: "C", Dial: c.dial(), Weight: weight(1)},
	}}
	queued := BackendConfig{Backend: "e2e-queue", QueueTimeout: caddy.Duration(10 * time.Second), Servers: []ServerConfig{
		{Name: "Q", Dial: q.dial(), MaxConn: 1},
	}}
	listen := freePort(t)
	loadCaddy(t, listen, proxyRoute("/q/*", queued), proxyRoute("", web))
	t.Cleanup(func() { _ = caddy.Stop() })
	base := "http://" + listen
	client := &http.Client{Timeout: 10 * time.Second}

	t.Run("weighted round robin 5:3:1", func(t *testing.T) {
		var seq strings.Builder
		for range 9 {
			code, body := get(t, client, base+"/")
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			seq.WriteString(body)
		}
		if got := seq.String(); got != "AABACBAAB" {
			t.Fatalf("sequence %s, want AABACBAAB", got)
		}
	})

	be, ok := LookupBackend("e2e-web")
	if !ok {
		t.Fatal("backend e2e-web not registered")
	}

	t.Run("maint stops new traffic while the in-flight request completes", func(t *testing.T) {
		// Send /slow requests until one is held by B.
		inflight := make(chan string, 1)
		for i := 0; ; i++ {
			if i == 9 {
				t.Fatal("no request reached B")
			}
			done := make(chan string, 1)
			go func() {
				resp, err := client.Get(base + "/slow")
				if err != nil {
					t.Error(err)
					done <- ""
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				done <- string(body)
			}()
			select {
			case <-b.entered:
				go func() { inflight <- <-done }()
			case <-done:
				continue
			}
			break
		}
		srvB := be.Server("B")
		if srvB.Served() != 1 {
			t.Fatalf("B serves %d, want 1", srvB.Served())
		}
		if err := be.SetAdminState("B", AdminMaint); err != nil {
			t.Fatal(err)
		}
		totalB := srvB.Counters().Total.Load()
		var seq strings.Builder
		for range 12 {
			_, body := get(t, client, base+"/")
			seq.WriteString(body)
		}
		if strings.Contains(seq.String(), "B") {
			t.Fatalf("B in maintenance got traffic: %s", seq.String())
		}
		if got := srvB.Counters().Total.Load(); got != totalB {
			t.Fatalf("B lbtot moved from %d to %d in maintenance", totalB, got)
		}
		close(b.release)
		if body := <-inflight; body != "B" {
			t.Fatalf("in-flight request on B answered %q", body)
		}
		waitFor(t, func() bool { return srvB.Served() == 0 })
	})

	t.Run("maxconn queues and hands over when the slot frees", func(t *testing.T) {
		qb, _ := LookupBackend("e2e-queue")
		results := make(chan string, 2)
		fetch := func() {
			resp, err := client.Get(base + "/q/slow")
			if err != nil {
				results <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- fmt.Sprint(resp.StatusCode, " ", string(body))
		}
		go fetch()
		select {
		case <-q.entered:
		case r := <-results:
			t.Fatalf("first request answered %q without reaching Q", r)
		}
		go fetch()
		waitFor(t, func() bool { return qb.Counters().QueueCurrent.Load() == 1 })
		if n := qb.Server("Q").Served(); n != 1 {
			t.Fatalf("Q serves %d with maxconn 1", n)
		}
		select {
		case <-q.entered:
			t.Fatal("second request reached Q past maxconn")
		default:
		}
		close(q.release)
		for range 2 {
			if got := <-results; got != "200 Q" {
				t.Fatalf("got %q, want 200 Q", got)
			}
		}
		waitFor(t, func() bool { return qb.Server("Q").Served() == 0 })
		if got := qb.Server("Q").Counters().Max.Load(); got != 1 {
			t.Fatalf("Q max %d, want 1", got)
		}
	})

	t.Run("reload keeps runtime state", func(t *testing.T) {
		d := newOrigin(t, "D", false)
		next := web
		next.Servers = append(append([]ServerConfig(nil), web.Servers...), ServerConfig{Name: "D", Dial: d.dial()})
		totalA := be.Server("A").Counters().Total.Load()
		loadCaddy(t, listen, proxyRoute("", next))
		cur, ok := LookupBackend("e2e-web")
		if !ok || cur == be {
			t.Fatal("reload did not build a new backend")
		}
		if _, ok := LookupBackend("e2e-queue"); ok {
			t.Error("backend dropped by the reload is still registered")
		}
		if st := cur.Server("B").AdminState(); st != AdminMaint {
			t.Fatalf("B is %v after reload, want MAINT", st)
		}
		if got := cur.Server("A").Counters().Total.Load(); got != totalA {
			t.Fatalf("A lbtot %d after reload, want %d", got, totalA)
		}
		seen := map[string]int{}
		for range 20 {
			_, body := get(t, client, base+"/")
			seen[body]++
		}
		if seen["B"] != 0 || seen["D"] == 0 || seen["A"] == 0 {
			t.Fatalf("after reload got %v; want no B and some D", seen)
		}
		if err := cur.SetAdminState("B", AdminReady); err != nil {
			t.Fatal(err)
		}
		seen = map[string]int{}
		for range 20 {
			_, body := get(t, client, base+"/")
			seen[body]++
		}
		if seen["B"] == 0 {
			t.Fatalf("B ready again but got no traffic: %v", seen)
		}
	})
}

// Caddy's passive health checks and HAProxy's retry rules together: a
// server that refuses connections costs one retry, which redispatch moves
// to another server, and Caddy then counts it unavailable so the policy
// skips it. Without redispatch the retry stays on the same server.
func TestCaddyRetriesAndPassiveHealth(t *testing.T) {
	a, b := newOrigin(t, "A", false), newOrigin(t, "B", false)
	// Ports nothing listens on any more. Caddy keeps passive health per
	// address, so each backend gets its own.
	dead1, dead2 := freePort(t), freePort(t)
	mk := func(name string, redispatch bool, dead string) BackendConfig {
		return BackendConfig{Backend: name, Redispatch: redispatch, Servers: []ServerConfig{
			{Name: "A", Dial: a.dial()}, {Name: "B", Dial: b.dial()}, {Name: "X", Dial: dead},
		}}
	}
	extra := map[string]any{
		"load_balancing": map[string]any{"retries": 1},
		"health_checks": map[string]any{"passive": map[string]any{
			"fail_duration": "1m", "max_fails": 1,
		}},
	}
	listen := freePort(t)
	loadCaddy(t, listen,
		proxyRoute("/stay/*", mk("e2e-stay", false, dead2), extra),
		proxyRoute("", mk("e2e-redispatch", true, dead1), extra))
	t.Cleanup(func() { _ = caddy.Stop() })
	base := "http://" + listen
	client := &http.Client{Timeout: 10 * time.Second}

	var seq strings.Builder
	for range 9 {
		code, body := get(t, client, base+"/")
		if code != 200 {
			t.Fatalf("status %d (%s) after %s", code, body, seq.String())
		}
		seq.WriteString(body)
	}
	// The third pick was X: its retry went on to the next server, A;
	// from then on the rotation passes over X.
	if got := seq.String(); got != "ABABABABA" {
		t.Errorf("sequence %s, want ABABABABA", got)
	}
	rb, _ := LookupBackend("e2e-redispatch")
	if got := rb.Server("X").Counters().Total.Load(); got != 1 {
		t.Errorf("X picked %d times, want 1", got)
	}
	waitFor(t, func() bool { return rb.Server("X").Served() == 0 && rb.Server("A").Served() == 0 })

	sb, _ := LookupBackend("e2e-stay")
	var codes []int
	for range 3 {
		code, _ := get(t, client, base+"/stay/x")
		codes = append(codes, code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 502 {
		t.Errorf("statuses %v, want [200 200 502]: the retry of X stays on X", codes)
	}
	if got := sb.Server("X").Counters().Total.Load(); got != 1 {
		t.Errorf("X picked %d times, want 1", got)
	}
	if got := sb.Server("A").Counters().Total.Load() + sb.Server("B").Counters().Total.Load(); got != 2 {
		t.Errorf("A and B picked %d times, want 2", got)
	}
}

// Under concurrent load through Caddy, no origin ever serves more
// requests at once than its maxconn, and every request is answered: the
// excess waits in the queue.
func TestCaddyMaxConnUnderLoad(t *testing.T) {
	const maxconn, clients, perClient = 2, 24, 10
	type counting struct {
		mu       sync.Mutex
		cur, max int
		srv      *httptest.Server
	}
	var origins []*counting
	bc := BackendConfig{Backend: "e2e-load", Balance: "leastconn", QueueTimeout: caddy.Duration(20 * time.Second)}
	for i, name := range []string{"A", "B", "C"} {
		c := &counting{}
		c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			c.cur++
			c.max = max(c.max, c.cur)
			c.mu.Unlock()
			time.Sleep(time.Millisecond) // hold the slot so requests overlap
			c.mu.Lock()
			c.cur--
			c.mu.Unlock()
			_, _ = io.WriteString(w, name)
		}))
		t.Cleanup(c.srv.Close)
		origins = append(origins, c)
		bc.Servers = append(bc.Servers, ServerConfig{Name: name, Dial: strings.TrimPrefix(c.srv.URL, "http://"), MaxConn: maxconn, Weight: weight(i + 1)})
	}
	listen := freePort(t)
	loadCaddy(t, listen, proxyRoute("", bc))
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perClient {
				resp, err := client.Get("http://" + listen + "/")
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	be, _ := LookupBackend("e2e-load")
	var sessions int64
	for i, c := range origins {
		s := be.Servers()[i]
		if c.max > maxconn || s.Counters().Max.Load() > maxconn {
			t.Errorf("%s: origin saw %d at once, counted max %d; maxconn %d", s.Name, c.max, s.Counters().Max.Load(), maxconn)
		}
		sessions += s.Counters().Sessions.Load()
	}
	if sessions != clients*perClient {
		t.Errorf("%d sessions, want %d", sessions, clients*perClient)
	}
	if be.Counters().QueueMax.Load() == 0 {
		t.Error("no request queued: the test did not load the servers")
	}
	waitFor(t, func() bool { return be.Counters().Current.Load() == 0 })
}
