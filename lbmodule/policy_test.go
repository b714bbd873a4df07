package lbmodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// newPolicy provisions a selection policy outside a running Caddy.
func newPolicy(t testing.TB, cfg BackendConfig) *HTTPSelection {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	p := &HTTPSelection{BackendConfig: cfg}
	if err := p.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Cleanup() })
	return p
}

// poolFor lists the servers' addresses as the translator does.
func poolFor(cfg BackendConfig) reverseproxy.UpstreamPool {
	pool := make(reverseproxy.UpstreamPool, len(cfg.Servers))
	for i, s := range cfg.Servers {
		pool[i] = &reverseproxy.Upstream{Dial: s.Dial}
	}
	return pool
}

// newRequest returns a request with Caddy's vars, and a function that ends
// it as the HTTP server does when the handler returns.
func newRequest() (*http.Request, context.CancelFunc) {
	r := httptest.NewRequest("GET", "/", nil)
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx, cancel := context.WithCancel(ctx)
	return r.WithContext(ctx), cancel
}

func TestSelectCountsUntilRequestEnds(t *testing.T) {
	cfg := BackendConfig{Servers: servers(1, 1)}
	p := newPolicy(t, cfg)
	pool := poolFor(cfg)
	r, end := newRequest()
	up := p.Select(pool, r, nil)
	if up != pool[0] {
		t.Fatalf("selected %v, want %s", up, pool[0].Dial)
	}
	a := p.RuntimeBackend().Server("A")
	if a.Served() != 1 {
		t.Fatalf("A serves %d during the request, want 1", a.Served())
	}
	end()
	waitFor(t, func() bool { return a.Served() == 0 })
	if up := p.Select(pool, r, nil); up != nil {
		t.Fatalf("Select after the request ended returned %s", up.Dial)
	}
}

func TestSelectRetries(t *testing.T) {
	tests := []struct {
		name       string
		redispatch bool
		sameServer bool
	}{
		{"without redispatch the retry stays", false, true},
		{"with redispatch and several actives the retry moves", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := BackendConfig{Redispatch: tc.redispatch, Servers: servers(1, 1, 1)}
			p := newPolicy(t, cfg)
			pool := poolFor(cfg)
			r, end := newRequest()
			defer end()
			first := p.Select(pool, r, nil)
			second := p.Select(pool, r, nil)
			if first == nil || second == nil {
				t.Fatal("no upstream")
			}
			if (first == second) != tc.sameServer {
				t.Fatalf("first try %s, retry %s", first.Dial, second.Dial)
			}
			var served int
			for _, s := range p.RuntimeBackend().Servers() {
				served += s.Served()
			}
			if served != 1 {
				t.Fatalf("%d slots held after the retry, want 1", served)
			}
			// A retry on its server is a wretr, one that moves a wredis,
			// counted on the backend and the server it left.
			c, left := p.RuntimeBackend().Counters(), p.RuntimeBackend().Servers()[0].Counters()
			want := [2]int64{0, 1}
			if tc.sameServer {
				want = [2]int64{1, 0}
			}
			for _, got := range [][2]int64{{c.Retries.Load(), c.Redispatches.Load()}, {left.Retries.Load(), left.Redispatches.Load()}} {
				if got != want {
					t.Fatalf("wretr/wredis = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestRedispatchRule(t *testing.T) {
	three := weight(3)
	five := weight(5)
	tests := []struct {
		name       string
		cfg        BackendConfig
		down       bool
		retry      int
		redispatch bool
	}{
		{"off", BackendConfig{Servers: servers(1, 1)}, true, 1, false},
		{"server down", BackendConfig{Redispatch: true, Servers: servers(1)}, true, 1, true},
		{"several actives, not hash", BackendConfig{Redispatch: true, Servers: servers(1, 1)}, false, 1, true},
		{"one active, first retry", BackendConfig{Redispatch: true, Servers: servers(1)}, false, 1, false},
		{"one active, last retry", BackendConfig{Redispatch: true, Servers: servers(1)}, false, 3, true},
		{"one active, last of 5", BackendConfig{Redispatch: true, Retries: five, Servers: servers(1)}, false, 3, false},
		{"interval 2", BackendConfig{Redispatch: true, RedispatchInterval: 2, Retries: three, Servers: servers(1)}, false, 2, true},
		{"interval 2, odd retry", BackendConfig{Redispatch: true, RedispatchInterval: 2, Servers: servers(1)}, false, 1, false},
		{"interval -2 of 3 retries", BackendConfig{Redispatch: true, RedispatchInterval: -2, Retries: three, Servers: servers(1)}, false, 2, true},
		{"hash-based keeps its server", BackendConfig{Redispatch: true, Balance: "source", Servers: servers(1, 1)}, false, 1, false},
		{"hash-based, last retry", BackendConfig{Redispatch: true, Balance: "uri", Servers: servers(1, 1)}, false, 3, true},
		{"random moves at once", BackendConfig{Redispatch: true, Balance: "random", Servers: servers(1, 1)}, false, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(t, tc.cfg)
			b := p.RuntimeBackend()
			prev := b.Servers()[0]
			if tc.down {
				_ = b.SetOperational(prev.Name, false)
			}
			if got := b.RedispatchNow(tc.retry, prev); got != tc.redispatch {
				t.Fatalf("redispatch = %v, want %v", got, tc.redispatch)
			}
		})
	}
}

func TestSelectMatchesPoolByDial(t *testing.T) {
	cfg := BackendConfig{Servers: servers(1, 1)}
	p := newPolicy(t, cfg)
	pool := poolFor(cfg)
	swapped := reverseproxy.UpstreamPool{pool[1], pool[0]}
	r, end := newRequest()
	defer end()
	if up := p.Select(swapped, r, nil); up != pool[0] {
		t.Fatalf("selected %v, want A's upstream %s", up, pool[0].Dial)
	}
	short := reverseproxy.UpstreamPool{pool[1]}
	r2, end2 := newRequest()
	defer end2()
	// The next pick is B, which is the only upstream listed.
	if up := p.Select(short, r2, nil); up != pool[1] {
		t.Fatalf("selected %v, want B's upstream", up)
	}
	r3, end3 := newRequest()
	defer end3()
	// A has no upstream in this pool: it counts as unavailable.
	if up := p.Select(short, r3, nil); up != pool[1] {
		t.Fatalf("selected %v, want B's upstream", up)
	}
}

func BenchmarkSelect(b *testing.B) {
	for _, cfg := range []BackendConfig{
		{Servers: servers(5, 3, 1)},
		{Balance: "leastconn", Servers: servers(5, 3, 1)},
		{Balance: "uri", Servers: servers(5, 3, 1)},
		{Balance: "hdr", BalanceParam: "User-Agent", Servers: servers(5, 3, 1)},
		{Balance: "source", HashType: "consistent", Servers: servers(5, 3, 1)},
	} {
		name := cfg.Balance
		if name == "" {
			name = "roundrobin"
		}
		b.Run(name, func(b *testing.B) { benchmarkSelect(b, cfg) })
	}
}

func benchmarkSelect(b *testing.B, cfg BackendConfig) {
	p := newPolicy(b, cfg)
	pool := poolFor(cfg)
	vars := map[string]any{}
	base := context.WithValue(context.Background(), caddyhttp.VarsCtxKey, vars)
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(base)
		rr := r.WithContext(ctx)
		if p.Select(pool, rr, nil) == nil {
			b.Fatal("no upstream")
		}
		clear(vars)
		cancel()
	}
}

// BenchmarkSelectBaseline is BenchmarkSelect's loop without Select, to
// subtract its allocations.
func BenchmarkSelectBaseline(b *testing.B) {
	vars := map[string]any{}
	base := context.WithValue(context.Background(), caddyhttp.VarsCtxKey, vars)
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(base)
		rr := r.WithContext(ctx)
		if rr == nil {
			b.Fatal("no request")
		}
		clear(vars)
		cancel()
	}
}

// After the backend had no server for a request, Caddy's further retries
// of it answer at once instead of queueing again.
func TestSelectFailsFastAfterQueueTimeout(t *testing.T) {
	cfg := BackendConfig{QueueTimeout: caddy.Duration(10 * time.Millisecond), Servers: servers(1)}
	cfg.Servers[0].MaxConn = 1
	p := newPolicy(t, cfg)
	pool := poolFor(cfg)
	r1, end1 := newRequest()
	defer end1()
	if p.Select(pool, r1, nil) == nil {
		t.Fatal("first request got no upstream")
	}
	r2, end2 := newRequest()
	defer end2()
	if up := p.Select(pool, r2, nil); up != nil {
		t.Fatalf("second request got %s past maxconn", up.Dial)
	}
	qmax := p.RuntimeBackend().Counters().QueueMax.Load()
	if up := p.Select(pool, r2, nil); up != nil {
		t.Fatalf("retry got %s", up.Dial)
	}
	if got := p.RuntimeBackend().Counters().QueueMax.Load(); got != qmax || qmax != 1 {
		t.Fatalf("queue max %d then %d: the retry queued again", qmax, got)
	}
}

// The last retry redispatches; with a single server it lands on the same
// one, which HAProxy's lbtot does not count twice.
func TestSelectLastRetryRedispatch(t *testing.T) {
	cfg := BackendConfig{Redispatch: true, Servers: servers(1)}
	p := newPolicy(t, cfg)
	pool := poolFor(cfg)
	r, end := newRequest()
	defer end()
	for try := range 4 {
		if up := p.Select(pool, r, nil); up != pool[0] {
			t.Fatalf("try %d: got %v", try, up)
		}
	}
	a := p.RuntimeBackend().Server("A")
	if got := a.Counters().Total.Load(); got != 1 {
		t.Errorf("lbtot %d, want 1", got)
	}
	// Every attempt is a session of the server, the request one of the
	// backend, as HAProxy 2.6's show stat counts them (stot).
	if got := a.Counters().Sessions.Load(); got != 4 {
		t.Errorf("server sessions %d, want 4", got)
	}
	if got := p.RuntimeBackend().Counters().Sessions.Load(); got != 1 {
		t.Errorf("backend sessions %d, want 1", got)
	}
	if a.Served() != 1 {
		t.Errorf("serves %d, want 1", a.Served())
	}
}

// A backend without servers answers 503, as in HAProxy.
func TestSelectNoServers(t *testing.T) {
	p := newPolicy(t, BackendConfig{Backend: "empty"})
	r, end := newRequest()
	defer end()
	if up := p.Select(nil, r, nil); up != nil {
		t.Fatalf("got %s", up.Dial)
	}
}

// A retry on the same server waits the turn-around delay (HAProxy's
// min(timeout connect, 1s)); a retry that moves to another server does not.
func TestSelectRetryTurnaround(t *testing.T) {
	const delay = 60 * time.Millisecond
	cfg := BackendConfig{RetryTurnaround: caddy.Duration(delay), Servers: servers(1)}
	p := newPolicy(t, cfg)
	pool := poolFor(cfg)
	r, end := newRequest()
	defer end()
	if up := p.Select(pool, r, nil); up != pool[0] {
		t.Fatalf("first pick %v", up)
	}
	start := time.Now()
	if up := p.Select(pool, r, nil); up != pool[0] {
		t.Fatalf("retry picked %v, want the same server", up)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("retry on the same server after %v, want at least %v", d, delay)
	}

	cfg = BackendConfig{RetryTurnaround: caddy.Duration(time.Hour), Redispatch: true, Servers: servers(1, 1)}
	p = newPolicy(t, cfg)
	pool = poolFor(cfg)
	r2, end2 := newRequest()
	defer end2()
	first := p.Select(pool, r2, nil)
	done := make(chan *reverseproxy.Upstream)
	go func() { done <- p.Select(pool, r2, nil) }()
	select {
	case up := <-done:
		if up == first || up == nil {
			t.Errorf("redispatched retry picked %v after %v", up, first)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a retry that moves to another server waited")
	}
}
