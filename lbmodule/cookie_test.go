package lbmodule

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule/persist"
)

// cookieBackend is a backend of servers A, B, C (cookies a, b, c) with a
// persistence cookie SRV.
func cookieBackend(name string, ck persist.Config) BackendConfig {
	cfg := BackendConfig{Backend: name, Cookie: &ck}
	for i, n := range []string{"A", "B", "C"} {
		cfg.Servers = append(cfg.Servers, ServerConfig{
			Name: n, Dial: fmt.Sprintf("127.0.0.1:%d", 9101+i), Cookie: strings.ToLower(n),
		})
	}
	return cfg
}

// cookiePolicy provisions a policy outside a running Caddy, with a fixed
// clock.
func cookiePolicy(t *testing.T, cfg BackendConfig) (*HTTPSelection, reverseproxy.UpstreamPool) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	p := &HTTPSelection{BackendConfig: cfg}
	if err := p.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Cleanup() })
	if p.cookie != nil {
		p.cookie.now = func() time.Time { return time.Unix(1_790_000_000, 0) }
	}
	pool := make(reverseproxy.UpstreamPool, len(cfg.Servers))
	for i, s := range cfg.Servers {
		pool[i] = &reverseproxy.Upstream{Dial: s.Dial}
	}
	return p, pool
}

// cookieExchangeRequest is one request through a CookieHandler and the
// policy: the handler's next step picks a server (as reverse_proxy calls
// Select, tries times) and answers with header, as an origin would.
type cookieExchangeRequest struct {
	method  string
	cookies []string
	tries   int
	header  http.Header // response header set by the "origin"
}

// cookieResult is what the client and the origin saw.
type cookieResult struct {
	server    string // the last server picked, "" for none
	forwarded []string
	response  http.Header
}

func runCookieExchange(t *testing.T, p *HTTPSelection, pool reverseproxy.UpstreamPool, hooked bool, in cookieExchangeRequest) cookieResult {
	t.Helper()
	r := httptest.NewRequest(cmp(in.method, "GET"), "/", nil)
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx, end := context.WithCancel(ctx)
	defer end()
	r = r.WithContext(ctx)
	if in.cookies != nil {
		r.Header["Cookie"] = slices.Clone(in.cookies)
	}
	rec := httptest.NewRecorder()
	var res cookieResult
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var up *reverseproxy.Upstream
		for i := 0; i < max(in.tries, 1); i++ {
			up = p.Select(pool, r, w)
		}
		if up == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return nil
		}
		res.server = p.RuntimeBackend().Servers()[slices.Index(pool, up)].Name
		res.forwarded = slices.Clone(r.Header["Cookie"])
		for k, v := range in.header {
			w.Header()[k] = append(w.Header()[k], v...)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok"))
		return nil
	})
	var err error
	if hooked {
		err = CookieHandler{}.ServeHTTP(rec, r, next)
	} else {
		err = next.ServeHTTP(rec, r)
	}
	if err != nil {
		t.Fatal(err)
	}
	res.response = rec.Result().Header
	return res
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestCookieSelectsServer(t *testing.T) {
	cfg := cookieBackend("ck-select", persist.Config{Name: "SRV", Mode: persist.ModeInsert, Indirect: true, NoCache: true})
	p, pool := cookiePolicy(t, cfg)
	b := p.RuntimeBackend()

	// First visit: load balanced, cookie inserted.
	got := runCookieExchange(t, p, pool, true, cookieExchangeRequest{})
	if got.server != "A" || !slices.Equal(got.response["Set-Cookie"], []string{"SRV=a; path=/"}) {
		t.Fatalf("first visit: server %s, Set-Cookie %q", got.server, got.response["Set-Cookie"])
	}

	// Revisits follow the cookie, which the server never sees, and get
	// no new cookie.
	for range 3 {
		got = runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: []string{"x=1; SRV=c; y=2"}})
		if got.server != "C" {
			t.Fatalf("cookie c went to %s", got.server)
		}
		if !slices.Equal(got.forwarded, []string{"x=1; y=2"}) {
			t.Errorf("forwarded Cookie %q", got.forwarded)
		}
		if sc := got.response["Set-Cookie"]; sc != nil {
			t.Errorf("a valid cookie got Set-Cookie %q", sc)
		}
	}
	// A persistent request is not a load-balancing pick.
	if c := b.Server("C").Counters(); c.Total.Load() != 0 || c.Sessions.Load() != 3 {
		t.Errorf("C: lbtot %d stot %d, want 0 and 3", c.Total.Load(), c.Sessions.Load())
	}

	// The server sets its own cookie: insert mode replaces it.
	got = runCookieExchange(t, p, pool, true, cookieExchangeRequest{
		header: http.Header{"Set-Cookie": {"SRV=app; path=/", "s=1"}, "Cache-Control": {"max-age=60"}},
	})
	if want := []string{"s=1", "SRV=" + strings.ToLower(got.server) + "; path=/"}; !slices.Equal(got.response["Set-Cookie"], want) {
		t.Errorf("Set-Cookie %q, want %q", got.response["Set-Cookie"], want)
	}
	if want := []string{"max-age=60", "private"}; !slices.Equal(got.response["Cache-Control"], want) {
		t.Errorf("nocache: Cache-Control %q, want %q", got.response["Cache-Control"], want)
	}

	pers, ok := LookupPersistence("ck-select")
	if !ok || pers.Name() != "SRV" || pers.ServerCookie("B") != "b" {
		t.Fatalf("LookupPersistence: %v %v", ok, pers)
	}
	c := pers.Counters()
	if c.Requests(persist.RequestValid) != 3 || c.Requests(persist.RequestNone) != 2 || c.Responses(persist.ResponseInserted) != 2 {
		t.Errorf("counters: valid %d none %d inserted %d", c.Requests(persist.RequestValid), c.Requests(persist.RequestNone), c.Responses(persist.ResponseInserted))
	}
}

func TestCookieServerStates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   func(b *Backend) error
		persist bool
		server  string // "" = load balanced (to A)
		cookie  []string
	}{
		{"ready", func(b *Backend) error { return nil }, false, "B", nil},
		{"drain keeps persistence", func(b *Backend) error { return b.SetAdminState("B", AdminDrain) }, false, "B", nil},
		{"maint", func(b *Backend) error { return b.SetAdminState("B", AdminMaint) }, false, "", []string{"SRV=a; path=/"}},
		{"maint with option persist", func(b *Backend) error { return b.SetAdminState("B", AdminMaint) }, true, "B", nil},
		{"down", func(b *Backend) error { return b.SetOperational("B", false) }, false, "", []string{"SRV=a; path=/"}},
		{"down with option persist", func(b *Backend) error { return b.SetOperational("B", false) }, true, "B", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert})
			cfg.Persist = tc.persist
			p, pool := cookiePolicy(t, cfg)
			if err := tc.state(p.RuntimeBackend()); err != nil {
				t.Fatal(err)
			}
			got := runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: []string{"SRV=b"}})
			want := cmp(tc.server, "A")
			if got.server != want || !slices.Equal(got.response["Set-Cookie"], tc.cookie) {
				t.Errorf("went to %s with Set-Cookie %q, want %s and %q", got.server, got.response["Set-Cookie"], want, tc.cookie)
			}
		})
	}
}

func TestCookieRetries(t *testing.T) {
	t.Run("a persistent retry stays while its server runs", func(t *testing.T) {
		cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert})
		cfg.Redispatch = true
		retries := 5
		cfg.Retries = &retries
		p, pool := cookiePolicy(t, cfg)
		// Retries 1..4 stay on B; the last (5, as "redispatch" means -1)
		// leaves it.
		got := runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: []string{"SRV=b"}, tries: 5})
		if got.server != "B" || got.response["Set-Cookie"] != nil {
			t.Errorf("after 4 retries: %s, Set-Cookie %q", got.server, got.response["Set-Cookie"])
		}
		got = runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: []string{"SRV=b"}, tries: 6})
		if got.server == "B" || len(got.response["Set-Cookie"]) != 1 {
			t.Errorf("the last retry stayed on %s; Set-Cookie %q", got.server, got.response["Set-Cookie"])
		}
	})
	for _, hooked := range []bool{true, false} {
		t.Run(fmt.Sprintf("one Set-Cookie after redispatches, handler %v", hooked), func(t *testing.T) {
			cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert})
			cfg.Redispatch = true
			p, pool := cookiePolicy(t, cfg)
			got := runCookieExchange(t, p, pool, hooked, cookieExchangeRequest{tries: 3})
			want := []string{"SRV=" + strings.ToLower(got.server) + "; path=/"}
			if !slices.Equal(got.response["Set-Cookie"], want) {
				t.Errorf("ended on %s with Set-Cookie %q, want %q", got.server, got.response["Set-Cookie"], want)
			}
		})
	}
}

func TestCookieFullServer(t *testing.T) {
	for _, redispatch := range []bool{false, true} {
		t.Run(fmt.Sprintf("redispatch %v", redispatch), func(t *testing.T) {
			cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert})
			cfg.Servers[1].MaxConn, cfg.Servers[1].MaxQueue = 1, 1
			cfg.Redispatch = redispatch
			p, pool := cookiePolicy(t, cfg)
			b := p.RuntimeBackend()

			// One request holds B's slot, another waits in its queue.
			holder := make(chan struct{})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer close(holder)
			hold := func() {
				defer wg.Done()
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Cookie", "SRV=b")
				ctx, end := context.WithCancel(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
				defer end()
				p.Select(pool, r.WithContext(ctx), httptest.NewRecorder())
				<-holder
			}
			wg.Add(2)
			go hold()
			waitUntil(t, func() bool { return b.Server("B").Served() == 1 })
			go hold()
			waitUntil(t, func() bool { return b.Server("B").Queued() == 1 })

			got := runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: []string{"SRV=b"}})
			if redispatch {
				if got.server == "" || got.server == "B" || len(got.response["Set-Cookie"]) != 1 {
					t.Errorf("went to %q with Set-Cookie %q, want another server and a new cookie", got.server, got.response["Set-Cookie"])
				}
			} else if got.server != "" {
				t.Errorf("a full queue sent the request to %s, want 503", got.server)
			}
		})
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCookieResponseModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ck     persist.Config
		cookie []string
		server string
		fwd    []string
		setIn  []string
		setOut []string
	}{
		{"prefix", persist.Config{Name: "APP", Mode: persist.ModePrefix}, []string{"APP=b~xyz"}, "B",
			[]string{"APP=xyz"}, []string{"APP=new; path=/"}, []string{"APP=b~new; path=/"}},
		{"rewrite", persist.Config{Name: "APP", Mode: persist.ModeRewrite}, nil, "A",
			nil, []string{"APP=anything; path=/"}, []string{"APP=a; path=/"}},
		{"preserve", persist.Config{Name: "SRV", Mode: persist.ModeInsert, Preserve: true}, nil, "A",
			nil, []string{"SRV=mine"}, []string{"SRV=mine"}},
		{"passive indirect", persist.Config{Name: "SRV", Indirect: true}, []string{"SRV=c"}, "C",
			[]string{"SRV=c"}, []string{"SRV=c2"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, pool := cookiePolicy(t, cookieBackend("", tc.ck))
			got := runCookieExchange(t, p, pool, true, cookieExchangeRequest{cookies: tc.cookie, header: http.Header{"Set-Cookie": tc.setIn}})
			if got.server != tc.server || !slices.Equal(got.forwarded, tc.fwd) || !slices.Equal(got.response["Set-Cookie"], tc.setOut) {
				t.Errorf("server %s forwarded %q Set-Cookie %q; want %s %q %q", got.server, got.forwarded, got.response["Set-Cookie"], tc.server, tc.fwd, tc.setOut)
			}
		})
	}
}

func TestCookieDynamic(t *testing.T) {
	cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert, Dynamic: true, DynamicKey: "mysecret"})
	cfg.Servers[0].Dial = "127.0.0.1:39001"
	cfg.Servers[0].Cookie = ""
	cfg.Servers[1].Dial = "localhost:80" // not an address: no value
	cfg.Servers[1].Cookie = ""
	p, _ := cookiePolicy(t, cfg)
	// HAProxy 2.6 gives 127.0.0.1:39001 this value for key "mysecret".
	if got := p.cookie.cookies; !slices.Equal(got, []string{"6c24a714886aba2d", "", "c"}) {
		t.Errorf("cookies %q", got)
	}
}

func TestCookieConfigErrors(t *testing.T) {
	cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeRewrite, Indirect: true})
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	p := &HTTPSelection{BackendConfig: cfg}
	err := p.Provision(ctx)
	defer p.Cleanup()
	if err == nil || !strings.Contains(err.Error(), "rewrite and indirect") {
		t.Errorf("Provision: %v", err)
	}
}

func TestCookieHandlerWithoutPolicy(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	err := CookieHandler{}.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Set-Cookie", "SRV=x")
		_, err := w.Write([]byte("hi"))
		return err
	}))
	if err != nil || rec.Code != 200 || rec.Body.String() != "hi" || rec.Header().Get("Set-Cookie") != "SRV=x" {
		t.Errorf("err %v code %d body %q header %v", err, rec.Code, rec.Body.String(), rec.Header())
	}
}

// TestCookieWriterAppliesOnce checks that the response side runs on the
// first final header only, however the response is written.
func TestCookieWriterAppliesOnce(t *testing.T) {
	cfg := cookieBackend("", persist.Config{Name: "SRV", Mode: persist.ModeInsert})
	p, pool := cookiePolicy(t, cfg)
	for _, tc := range []struct {
		name  string
		write func(w http.ResponseWriter)
		code  int
	}{
		{"implicit 200 by Write", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		{"implicit 200 by ReadFrom", func(w http.ResponseWriter) {
			_, _ = w.(interface {
				ReadFrom(io.Reader) (int64, error)
			}).ReadFrom(strings.NewReader("x"))
		}, http.StatusOK},
		{"flush first", func(w http.ResponseWriter) {
			_ = http.NewResponseController(w).Flush()
			_, _ = w.Write([]byte("x"))
		}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			ctx, end := context.WithCancel(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
			defer end()
			r = r.WithContext(ctx)
			rec := httptest.NewRecorder()
			err := CookieHandler{}.ServeHTTP(rec, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				p.Select(pool, r, w)
				tc.write(w)
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.code || len(rec.Result().Header["Set-Cookie"]) != 1 {
				t.Errorf("code %d, Set-Cookie %q", rec.Code, rec.Result().Header["Set-Cookie"])
			}
		})
	}

	t.Run("interim then final", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		ctx, end := context.WithCancel(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
		defer end()
		r = r.WithContext(ctx)
		w := &headerLog{header: http.Header{}}
		_ = CookieHandler{}.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			p.Select(pool, r, w)
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusAccepted)
			return nil
		}))
		// The interim header carries no cookie; the first final one gets
		// it, and nothing is added later.
		if len(w.log) != 3 || w.log[0] != "103 []" || !strings.HasPrefix(w.log[1], "201 [SRV=") ||
			strings.Count(w.log[1], "SRV=") != 1 || w.log[2] != "202"+w.log[1][3:] {
			t.Errorf("headers written: %q", w.log)
		}
	})
}

// headerLog is a ResponseWriter that logs each WriteHeader with the
// Set-Cookie values at that moment.
type headerLog struct {
	header http.Header
	log    []string
}

func (h *headerLog) Header() http.Header         { return h.header }
func (h *headerLog) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerLog) WriteHeader(code int) {
	h.log = append(h.log, fmt.Sprintf("%d %v", code, h.header["Set-Cookie"]))
}
