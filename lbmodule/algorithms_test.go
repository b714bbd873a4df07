package lbmodule

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The hash-based algorithms hash the same bytes whatever the request part
// they come from, so a value sent as a query parameter, a POST body
// parameter or a header lands on the same server.
func TestSelectHashKeys(t *testing.T) {
	paramCfg := BackendConfig{Balance: "url_param", BalanceArgs: []string{"id"}, Servers: servers(1, 1, 1, 1, 1)}
	hdrCfg := BackendConfig{Balance: "hdr", BalanceParam: "X-Id", Servers: servers(1, 1, 1, 1, 1)}
	param := newPolicy(t, paramCfg)
	hdr := newPolicy(t, hdrCfg)
	pool := poolFor(paramCfg)

	pick := func(p *HTTPSelection, r *http.Request) string {
		t.Helper()
		up := p.Select(pool, r, nil)
		if up == nil {
			t.Fatal("no upstream")
		}
		return up.Dial
	}
	used := map[string]bool{}
	for _, v := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"} {
		query := pick(param, mustRequest(t, "GET", "/x?a=1&id="+v, ""))
		post := mustRequest(t, "POST", "/x", "a=1&id="+v)
		body := pick(param, post)
		header := mustRequest(t, "GET", "/other", "")
		header.Header.Set("X-Id", v)
		byHeader := pick(hdr, header)
		if query != body || query != byHeader {
			t.Errorf("%s: query → %s, body → %s, header → %s", v, query, body, byHeader)
		}
		if again := pick(param, mustRequest(t, "GET", "/y?id="+v, "")); again != query {
			t.Errorf("%s: not stable: %s then %s", v, query, again)
		}
		// The peeked body still reaches the upstream whole.
		if got, _ := io.ReadAll(post.Body); string(got) != "a=1&id="+v {
			t.Errorf("%s: body after Select is %q", v, got)
		}
		used[query] = true
	}
	if len(used) < 2 {
		t.Errorf("8 keys all went to %v", used)
	}
}

func mustRequest(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, "http://example.com"+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = target
	r.RemoteAddr = "192.0.2.1:1234"
	base, end := newRequest()
	t.Cleanup(end)
	return r.WithContext(base.Context())
}

func TestLeastConnFollowsInFlight(t *testing.T) {
	b := mustBackend(t, BackendConfig{Balance: "leastconn", Servers: servers(1, 1, 1)})
	held := map[string]*Server{}
	for range 3 {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err != nil {
			t.Fatal(err)
		}
		if held[s.Name] != nil {
			t.Fatalf("%s picked twice while others are idle", s.Name)
		}
		held[s.Name] = s
	}
	b.Release(held["B"])
	s, _ := b.Acquire(context.Background(), noAvoid, nil)
	if s.Name != "B" {
		t.Fatalf("picked %s, want B, the only server with nothing in flight", s.Name)
	}
}

func TestFirstFillsByID(t *testing.T) {
	cfg := BackendConfig{Balance: "first", Servers: servers(1, 1, 1)}
	for i := range cfg.Servers {
		cfg.Servers[i].MaxConn = 2
	}
	cfg.Servers[0].ID = 7 // A is last by id
	b := mustBackend(t, cfg)
	var got strings.Builder
	for range 6 {
		s, err := b.Acquire(context.Background(), noAvoid, nil)
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString(s.Name)
	}
	if got.String() != "BBCCAA" {
		t.Fatalf("got %s, want BBCCAA", got.String())
	}
}

func TestStaticWeights(t *testing.T) {
	b := mustBackend(t, BackendConfig{Balance: "static-rr", Servers: servers(2, 1)})
	if err := b.SetWeight("A", 5); err == nil || !strings.Contains(err.Error(), "static") {
		t.Fatalf("static-rr accepted weight 5: %v", err)
	}
	for _, w := range []int{0, 2} {
		if err := b.SetWeight("A", w); err != nil {
			t.Fatalf("weight %d: %v", w, err)
		}
	}
	dyn := mustBackend(t, BackendConfig{Servers: servers(2, 1)})
	if err := dyn.SetWeight("A", 5); err != nil {
		t.Fatal(err)
	}
}

// The pick path allocates nothing for the algorithms that need no key.
func TestAcquireReleaseAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, balance := range []string{"roundrobin", "static-rr", "leastconn", "first", "source"} {
		cfg := BackendConfig{Balance: balance, Servers: servers(5, 3, 1)}
		for i := range cfg.Servers {
			cfg.Servers[i].MaxConn = 100
		}
		b := mustBackend(t, cfg)
		ctx := context.Background()
		req := noAvoid
		req.Hash, req.HasHash = 12345, true
		allocs := testing.AllocsPerRun(1000, func() {
			s, err := b.Acquire(ctx, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			b.Release(s)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per pick", balance, allocs)
		}
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// A body longer than the peek reaches the upstream whole, and a close
// before the upstream read it (a failed dial) leaves it readable.
func TestPeekLongBody(t *testing.T) {
	body := "id=42&pad=" + strings.Repeat("x", 20000)
	r := mustRequest(t, "POST", "/", "")
	cc := &closeCounter{Reader: strings.NewReader(body)}
	r.Body, r.ContentLength = cc, -1
	got := peekBody(r)
	if len(got) != maxBodyPeek || string(got[:5]) != "id=42" {
		t.Fatalf("peeked %d bytes starting %q", len(got), got[:5])
	}
	if err := r.Body.Close(); err != nil || cc.closed != 0 {
		t.Fatalf("close before reading reached the body (%d closes, %v)", cc.closed, err)
	}
	all, err := io.ReadAll(r.Body)
	if err != nil || string(all) != body {
		t.Fatalf("read back %d bytes (%v), want %d", len(all), err, len(body))
	}
	_ = r.Body.Close()
	if cc.closed != 1 {
		t.Fatalf("close after reading: %d closes, want 1", cc.closed)
	}
}
