package lbmodule

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
)

// selectionBalances are the algorithms the allocation tests and
// benchmarks go through.
var selectionBalances = []BackendConfig{
	{Balance: "roundrobin"},
	{Balance: "leastconn"},
	{Balance: "source"},
	{Balance: "uri", HashType: "consistent"},
	{Balance: "hdr", BalanceParam: "User-Agent"},
}

// exchangeRequest returns a request as the haproxy_frontend handler passes
// it on: Caddy's vars holding the request's exchange.
func exchangeRequest() (*http.Request, *exchange) {
	ex := &exchange{frontend: &Frontend{}}
	vars := map[string]any{exchangeVar: ex}
	r := httptest.NewRequest("GET", "/item/42", nil)
	r.Header.Set("User-Agent", "bench")
	return r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars)), ex
}

// Under a haproxy_frontend handler a pick and the end of its request
// allocate nothing, whatever the algorithm.
func TestSelectUnderFrontendAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, cfg := range selectionBalances {
		cfg.Servers = servers(5, 3, 1)
		p := newPolicy(t, cfg)
		pool := poolFor(cfg)
		r, ex := exchangeRequest()
		allocs := testing.AllocsPerRun(1000, func() {
			ex.attempt = attempt{}
			if p.Select(pool, r, nil) == nil {
				t.Fatal("no upstream")
			}
			ex.attempt.finish()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per request", cfg.Balance, allocs)
		}
		if cur := p.RuntimeBackend().Counters().Current.Load(); cur != 0 {
			t.Errorf("%s: %d requests still counted after their end", cfg.Balance, cur)
		}
	}
}

// Under a haproxy_frontend handler the request's slot is freed when the
// handler returns, also when reverse_proxy aborts a response whose server
// cut it short: with maxconn 1 and a short queue, every later request
// still gets the server.
func TestFrontendFreesSlotAtEnd(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cut" {
			// Promise more than is sent, then drop the connection.
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(origin.Close)
	bc := BackendConfig{Backend: "frontend-frees", QueueTimeout: caddy.Duration(time.Second), Servers: []ServerConfig{
		{Name: "A", Dial: strings.TrimPrefix(origin.URL, "http://"), MaxConn: 1},
	}}
	route := proxyRoute("", bc)
	route["handle"] = append([]any{map[string]any{"handler": "haproxy_frontend", "name": "frontend-frees"}}, route["handle"].([]any)...)
	listen := freePort(t)
	loadCaddy(t, listen, route)
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/"
			if i%3 == 0 {
				path = "/cut"
			}
			resp, err := client.Get("http://" + listen + path)
			if err != nil {
				return // the cut response may fail on the client's side
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if path == "/" && resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", path, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	be, _ := LookupBackend("frontend-frees")
	waitFor(t, func() bool { return be.Counters().Current.Load() == 0 })
	if code, body := get(t, client, "http://"+listen+"/"); code != http.StatusOK || body != "ok" {
		t.Fatalf("after the cut responses: %d %q", code, body)
	}
	c := be.Counters()
	if n := c.Sessions.Load(); n != 13 {
		t.Errorf("%d sessions on the server, want 13", n)
	}
	// The cut responses count, as server aborts.
	if n := c.Requests.Load(); n != 13 {
		t.Errorf("%d requests counted on the backend, want 13", n)
	}
	if n := c.ServerAborts.Load(); n != 4 {
		t.Errorf("%d server aborts counted on the backend, want 4", n)
	}
}

// BenchmarkSelectUnderFrontend measures a pick and the end of its request
// as they run under the haproxy_frontend handler.
func BenchmarkSelectUnderFrontend(b *testing.B) {
	for _, cfg := range selectionBalances {
		cfg.Servers = servers(5, 3, 1)
		b.Run(cfg.Balance, func(b *testing.B) {
			p := newPolicy(b, cfg)
			pool := poolFor(cfg)
			r, ex := exchangeRequest()
			b.ReportAllocs()
			for b.Loop() {
				ex.attempt = attempt{}
				if p.Select(pool, r, nil) == nil {
					b.Fatal("no upstream")
				}
				ex.attempt.finish()
			}
		})
	}
}

// headerSink is a ResponseWriter that keeps the header and drops the body,
// reusable across requests.
type headerSink struct{ h http.Header }

func (s *headerSink) Header() http.Header         { return s.h }
func (s *headerSink) Write(p []byte) (int, error) { return len(p), nil }
func (s *headerSink) WriteHeader(int)             {}

// BenchmarkCookieRequest measures a request through the haproxy_cookie
// handler and a pick under a haproxy_frontend handler, with cookie
// insertion (insert indirect nocache), for a new client and for one that
// comes back with its cookie.
func BenchmarkCookieRequest(b *testing.B) {
	cfg := BackendConfig{Servers: servers(1, 1), Cookie: &persist.Config{Name: "SERVERID", Mode: persist.ModeInsert, Indirect: true, NoCache: true}}
	for i := range cfg.Servers {
		cfg.Servers[i].Cookie = strings.ToLower(cfg.Servers[i].Name)
	}
	for _, cookie := range []string{"", "SERVERID=a"} {
		name := "new"
		if cookie != "" {
			name = "returning"
		}
		b.Run(name, func(b *testing.B) {
			p := newPolicy(b, cfg)
			pool := poolFor(cfg)
			r, ex := exchangeRequest()
			sent := []string{cookie}
			vars := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
			sink := &headerSink{h: http.Header{}}
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				if p.Select(pool, r, w) == nil {
					b.Fatal("no upstream")
				}
				w.WriteHeader(http.StatusOK)
				return nil
			})
			b.ReportAllocs()
			for b.Loop() {
				ex.attempt = attempt{}
				if cookie != "" {
					// indirect takes the cookie out of the request
					r.Header["Cookie"] = sent
				}
				if err := (CookieHandler{}).ServeHTTP(sink, r, next); err != nil {
					b.Fatal(err)
				}
				ex.attempt.finish()
				clear(sink.h)
				delete(vars, cookieVarKey)
			}
		})
	}
}

// BenchmarkFrontendRequest measures a request through the haproxy_frontend
// handler and a round robin pick, as reverse_proxy makes it, with the
// response written: the plugin's whole per-request cost on a plain
// configuration.
func BenchmarkFrontendRequest(b *testing.B) {
	cfg := BackendConfig{Servers: servers(1, 1)}
	p := newPolicy(b, cfg)
	pool := poolFor(cfg)
	h := &FrontendHandler{FrontendConfig: FrontendConfig{Name: "bench-frontend"}}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Cleanup() })
	vars := map[string]any{}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars))
	sink := &headerSink{h: http.Header{}}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if p.Select(pool, r, w) == nil {
			b.Fatal("no upstream")
		}
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte("hello"))
		return err
	})
	b.ReportAllocs()
	for b.Loop() {
		if err := h.ServeHTTP(sink, r, next); err != nil {
			b.Fatal(err)
		}
		clear(vars)
	}
}
