package sched

import (
	"fmt"
	"math/rand"
	"testing"
)

// Differential tests where load matters (held requests, maxconn) and of the
// backup servers, for every algorithm.

func TestLoadAwareMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	cases := []diffCase{
		{name: "leastconn 1:1:1", cfg: Config{Balance: "leastconn"}, opts: weights(1, 1, 1),
			steps: script{"pick 7", "hold 5", "pick 4", "release 1", "pick 3", "hold 3", "release 2", "pick 4", "maint 3", "pick 3", "ready 3", "pick 3"}},
		{name: "leastconn 3:1:2", cfg: Config{Balance: "leastconn"}, opts: weights(3, 1, 2),
			steps: script{"hold 8", "pick 5", "release 1", "release 1", "pick 4", "hold 3", "weight 2 4", "pick 3", "hold 2", "pick 3"}},
		{name: "leastconn maxconn", cfg: Config{Balance: "leastconn"}, opts: []string{"weight 10 maxconn 2", "weight 1", "weight 1"},
			steps: script{"hold 4", "pick 3", "release 1", "pick 2", "hold 1", "pick 2"}},
		{name: "first", cfg: Config{Balance: "first"}, opts: []string{"maxconn 2", "maxconn 2", "maxconn 2"}, ids: []int{5, 2, 9},
			steps: script{"pick 3", "hold 3", "pick 2", "hold 1", "pick 2", "release 2", "pick 2", "maint 2", "pick 2"}},
		{name: "first no maxconn", cfg: Config{Balance: "first"}, opts: weights(1, 1), ids: []int{5, 2},
			steps: script{"pick 4", "hold 2", "pick 2"}},
		{name: "roundrobin full", cfg: Config{Balance: "roundrobin"}, opts: []string{"weight 3 maxconn 1", "weight 2", "weight 1"},
			steps: script{"hold 1", "pick 7", "release 1", "pick 6"}},
		{name: "static-rr full", cfg: Config{Balance: "static-rr"}, opts: []string{"maxconn 1", "weight 2", "weight 1"},
			steps: script{"pick 4", "hold 1", "pick 7", "release 1", "pick 6"}},
		{name: "consistent walk full", cfg: Config{Balance: "url_param", Args: []string{"id"}, HashType: "consistent"},
			opts:  []string{"maxconn 1", "weight 1", "weight 1"},
			steps: script{"pick 6", "hold 1", "pick 9", "release 1", "pick 6"}},
		{name: "hash-balance-factor", cfg: Config{Balance: "uri", HashType: "consistent", HashBalanceFactor: 125},
			opts:  weights(1, 2, 1),
			steps: script{"hold 7", "pick 6", "release 2", "pick 4", "hold 2", "pick 4"},
			req:   func(k int) hreq { return hreq{URI: fmt.Sprintf("/same/%d", k%2)} }},
	}
	for _, tc := range cases {
		if tc.req == nil {
			tc.req = plainRequest
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runDiff(t, tc)
		})
	}
}

// TestRedispatchMatchesHAProxy checks the avoided server: a request that
// picks a server refusing connections is retried on another one.
func TestRedispatchMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	dead := []bool{false, true, false, false}
	opts := weights(2, 3, 1, 1)
	for _, cfg := range []Config{
		{Balance: "roundrobin"},
		{Balance: "static-rr"},
		{Balance: "leastconn"},
		{Balance: "first"},
		{Balance: "uri"},
		{Balance: "uri", HashType: "consistent"},
		{Balance: "url_param", Args: []string{"id"}},
		{Balance: "url_param", Args: []string{"id"}, HashType: "consistent"},
	} {
		tc := diffCase{name: cfg.Balance + " " + cfg.HashType, cfg: cfg, opts: opts, dead: dead, ids: []int{3, 1, 2, 4},
			steps: script{"pick 30", "maint 1", "pick 10"}, req: uriReq}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runDiff(t, tc)
		})
	}
}

func TestBackupsMatchHAProxy(t *testing.T) {
	needHAProxy(t)
	algos := []Config{
		{Balance: "roundrobin"},
		{Balance: "static-rr"},
		{Balance: "leastconn"},
		{Balance: "first"},
		{Balance: "uri"},
		{Balance: "uri", HashType: "consistent"},
		{Balance: "source"},
		{Balance: "url_param", Args: []string{"id"}},
		{Balance: "url_param", Args: []string{"id"}, HashType: "consistent"},
	}
	layouts := []struct {
		name string
		opts []string
	}{
		{"2 5", []string{"weight 1", "weight 2", "backup weight 2", "backup weight 5", "backup weight 1"}},
		{"2 2", []string{"weight 1", "weight 1 disabled", "backup weight 2", "backup weight 2", "backup weight 3"}},
		{"6 3", []string{"weight 1", "weight 3", "backup weight 6", "backup weight 3", "backup weight 3"}},
	}
	steps := script{"pick 6", "maint 1", "maint 2", "pick 12", "maint 3", "pick 10", "ready 3", "pick 6",
		"maint 4", "pick 5", "ready 2", "pick 4", "maint 2", "ready 4", "pick 8", "ready 1", "pick 6"}
	mixed := func(k int) hreq {
		r := uriReq(k)
		r.Source = fmt.Sprintf("127.0.0.%d", k%40+1)
		return r
	}
	for _, cfg := range algos {
		for _, l := range layouts {
			for _, all := range []bool{false, true} {
				cfg := cfg
				cfg.AllBackups = all
				tc := diffCase{name: fmt.Sprintf("%s %s %s all=%v", cfg.Balance, cfg.HashType, l.name, all),
					cfg: cfg, opts: l.opts, steps: steps, req: mixed}
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runDiff(t, tc)
				})
			}
		}
	}
}

// TestRandomLeastConnMatchesHAProxy plays random holds, releases, picks and
// weight changes; releases target servers that hold requests in the model.
func TestRandomLeastConnMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	for seed := int64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewSource(seed))
		w := make([]int, 3+rng.Intn(4))
		for i := range w {
			w[i] = 1 + rng.Intn(5)
		}
		cfg := Config{Balance: "leastconn"}
		pool, servers := poolFromOpts(t, weights(w...), nil)
		alg, _ := New(cfg, servers, pool)
		var steps script
		held := 0
		for k := 0; k < 40; k++ {
			var step string
			switch r := rng.Intn(10); {
			case r < 3 && held < 30:
				step = fmt.Sprintf("hold %d", 1+rng.Intn(3))
			case r < 6:
				var busy []int
				for i, l := range pool.load {
					if l > 0 {
						busy = append(busy, i)
					}
				}
				if len(busy) == 0 {
					continue
				}
				step = fmt.Sprintf("release %d", busy[rng.Intn(len(busy))]+1)
			case r < 8:
				step = fmt.Sprintf("pick %d", 1+rng.Intn(4))
			default:
				step = fmt.Sprintf("weight %d %d", 1+rng.Intn(len(w)), 1+rng.Intn(8))
			}
			runScript(t, nil, keyedAlg{alg, nil}, pool, script{step}, plainRequest)
			held = 0
			for _, l := range pool.load {
				held += l
			}
			steps = append(steps, step)
		}
		tc := diffCase{name: fmt.Sprintf("seed %d", seed), cfg: cfg, opts: weights(w...), steps: steps, req: plainRequest}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runDiff(t, tc)
		})
	}
}
