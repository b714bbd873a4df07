package sched

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

func benchPool(n int) (*testPool, []Server) {
	w := make([]int, n)
	for i := range w {
		w[i] = 1 + i%4
	}
	return newTestPool(w...), testServers(n, 0)
}

func BenchmarkPick(b *testing.B) {
	for _, cfg := range []Config{
		{Balance: "roundrobin"},
		{Balance: "static-rr"},
		{Balance: "leastconn"},
		{Balance: "first"},
		{Balance: "random", RandomSeed: 1},
		{Balance: "uri"},
		{Balance: "uri", HashType: "consistent"},
		{Balance: "url_param", Args: []string{"id"}, HashType: "consistent"}, // missing key: ring walk
	} {
		for _, n := range []int{3, 100, 1000} {
			name := fmt.Sprintf("%s/%s/%d", cfg.Balance, cfg.HashType, n)
			b.Run(name, func(b *testing.B) {
				pool, servers := benchPool(n)
				alg, err := New(cfg, servers, pool)
				if err != nil {
					b.Fatal(err)
				}
				hashed := cfg.Balance == "uri"
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					req := Request{Avoid: NoServer}
					if hashed {
						req.Hash, req.HasHash = uint32(i)*2654435761, true
					}
					s := alg.Pick(req)
					// A request starts and ends, as the glue reports it.
					pool.load[s]++
					alg.LoadChanged(s)
					pool.load[s]--
					alg.LoadChanged(s)
				}
			})
		}
	}
}

func BenchmarkKeyHash(b *testing.B) {
	in := KeyInput{
		Method: "GET", URI: "/images/a/b/logo.png?id=1234&x=1", Host: "www.example.com",
		Header: map[string][]string{"X-User": {"user-1234"}},
		Remote: netip.MustParseAddrPort("10.1.2.3:5555"),
	}
	for _, cfg := range []Config{
		{Balance: "source"},
		{Balance: "uri", Args: []string{"depth", "2"}, HashType: "consistent"},
		{Balance: "url_param", Args: []string{"id"}},
		{Balance: "hdr", Param: "host", Args: []string{"use_domain_only"}},
		{Balance: "hash", Args: []string{"req.hdr(x-user)"}, HashFunction: "wt6"},
	} {
		key, err := NewKey(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(cfg.Balance, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				key.Request(&in)
			}
		})
	}
}

// TestConcurrentUse drives every algorithm from many goroutines through a
// mutex, as the glue does, while servers change state (run with -race).
func TestConcurrentUse(t *testing.T) {
	for _, cfg := range []Config{
		{Balance: "roundrobin"}, {Balance: "static-rr"}, {Balance: "leastconn"}, {Balance: "first"},
		{Balance: "random", RandomSeed: 3}, {Balance: "source"}, {Balance: "uri", HashType: "consistent"},
	} {
		pool, servers := benchPool(20)
		alg, err := New(cfg, servers, pool)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		counts := make([]int, len(servers))
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 500; i++ {
					mu.Lock()
					if i%50 == 0 {
						k := (g + i) % len(servers)
						pool.down[k] = !pool.down[k]
						alg.Update(k)
					}
					s := alg.Pick(Request{Hash: uint32(i * g), HasHash: true, Avoid: NoServer})
					if s != NoServer {
						counts[s]++
						pool.load[s]++
						alg.LoadChanged(s)
					}
					mu.Unlock()
					mu.Lock()
					if s != NoServer {
						pool.load[s]--
						alg.LoadChanged(s)
					}
					mu.Unlock()
				}
			}(g)
		}
		wg.Wait()
		total := 0
		for i, c := range counts {
			total += c
			if pool.load[i] != 0 {
				t.Errorf("%s: server %d load %d after all requests ended", cfg.Balance, i, pool.load[i])
			}
		}
		if total != 8*500 {
			t.Errorf("%s: %d picks served, want %d", cfg.Balance, total, 8*500)
		}
	}
}
