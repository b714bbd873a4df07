package sched

import (
	"fmt"
	"math/rand"
	"testing"
)

// script is a list of steps applied to both HAProxy and the model:
// "pick N", "maint K", "ready K", "weight K W", "hold N" (requests that
// stay open), "release K" (one held request on K ends); K counts servers
// from 1.
type script []string

// runScript plays the steps against HAProxy (when h is not nil) or the model,
// and returns the chosen server names, "-" for none.
func runScript(t *testing.T, h *haproxyRun, a Algorithm, pool *testPool, steps script, req func(k int) hreq) []string {
	t.Helper()
	var out []string
	k := 0
	for _, step := range steps {
		var op string
		var x, y int
		fmt.Sscan(step, &op, &x, &y)
		switch op {
		case "pick", "hold":
			for n := 0; n < x; n++ {
				r := req(k)
				k++
				if h != nil {
					var name string
					if op == "hold" {
						name = h.hold(r)
					} else {
						name = h.do(r)
					}
					if name == "" {
						name = "-"
					}
					out = append(out, name)
					continue
				}
				mr := modelRequest(t, a, r)
				i := a.Pick(mr)
				if i != NoServer && pool.dead[i] {
					// The connection fails and the request is
					// redispatched, avoiding the dead server.
					pool.load[i]++
					a.LoadChanged(i)
					pool.load[i]--
					a.LoadChanged(i)
					mr.Avoid = i
					if i = a.Pick(mr); i != NoServer && pool.dead[i] {
						i = NoServer
					}
				}
				if i == NoServer {
					out = append(out, "-")
					continue
				}
				out = append(out, fmt.Sprintf("s%d", i+1))
				// The request starts, and ends unless held, as the
				// glue reports it.
				pool.load[i]++
				a.LoadChanged(i)
				if op == "pick" {
					pool.load[i]--
					a.LoadChanged(i)
				}
			}
		case "release":
			if h != nil {
				h.releaseOne(x - 1)
			} else {
				pool.load[x-1]--
				a.LoadChanged(x - 1)
			}
		case "maint", "ready":
			if h != nil {
				h.mustCLI(fmt.Sprintf("set server be/s%d state %s", x, op))
			} else {
				pool.down[x-1] = op == "maint"
				a.Update(x - 1)
			}
		case "weight":
			if h != nil {
				h.mustCLI(fmt.Sprintf("set weight be/s%d %d", x, y))
			} else {
				pool.weight[x-1] = y
				a.Update(x - 1)
			}
		default:
			t.Fatalf("bad step %q", step)
		}
	}
	return out
}

// modelRequest turns a request sent to HAProxy into the model's request,
// through the key extractor of the algorithm when it hashes.
func modelRequest(t *testing.T, a Algorithm, r hreq) Request {
	if k, ok := a.(keyed); ok {
		return k.requestFor(r)
	}
	return Request{Avoid: NoServer}
}

// keyed is implemented by test wrappers that hash requests.
type keyed interface {
	requestFor(r hreq) Request
}

// compareSeq reports the first difference between two pick sequences.
func compareSeq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d picks, HAProxy made %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			lo := max(0, i-5)
			hi := min(len(got), i+10)
			t.Fatalf("%s: pick %d: got %s, HAProxy chose %s\nmodel:   %v\nhaproxy: %v", what, i, got[i], want[i], got[lo:hi], want[lo:hi])
		}
	}
}

func serverOpts(weights []int, extra func(i int) string) []string {
	opts := make([]string, len(weights))
	for i, w := range weights {
		opts[i] = fmt.Sprintf("weight %d", w)
		if extra != nil {
			opts[i] += " " + extra(i)
		}
	}
	return opts
}

func plainRequest(int) hreq { return hreq{} }

func TestRoundRobinMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	rng := rand.New(rand.NewSource(7))
	w17 := make([]int, 17)
	for i := range w17 {
		w17[i] = rng.Intn(257)
	}
	tests := []struct {
		name    string
		weights []int
		steps   script
	}{
		{"1:1:1", []int{1, 1, 1}, script{"pick 30"}},
		{"5:3:1", []int{5, 3, 1}, script{"pick 40"}},
		{"2:1:4:1:1", []int{2, 1, 4, 1, 1}, script{"pick 40"}},
		{"zero weight", []int{2, 0, 3}, script{"pick 20", "weight 2 1", "pick 20"}},
		{"256", []int{256, 1, 3}, script{"pick 300"}},
		{"17 random", w17, script{"pick 600"}},
		{"down and back", []int{3, 2, 1}, script{"pick 7", "maint 1", "pick 9", "ready 1", "pick 30", "maint 3", "pick 5", "ready 3", "pick 20"}},
		{"all down", []int{1, 1}, script{"pick 3", "maint 1", "maint 2", "pick 2", "ready 2", "pick 3", "ready 1", "pick 8"}},
		{"weight changes", []int{4, 4, 1}, script{"pick 5", "weight 1 1", "pick 11", "weight 3 10", "pick 25", "weight 2 0", "pick 12", "weight 2 7", "pick 30"}},
		{"weight storm", []int{10, 20, 30, 40}, script{"pick 13", "weight 4 1", "pick 3", "weight 1 50", "pick 17", "maint 2", "weight 3 2", "pick 9", "ready 2", "weight 4 40", "pick 60"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startHAProxy(t, haproxyBackend{Lines: []string{"balance roundrobin"}, ServerOpts: serverOpts(tt.weights, nil)})
			want := runScript(t, h, nil, nil, tt.steps, plainRequest)
			pool := newTestPool(tt.weights...)
			rr := NewRoundRobin(testServers(len(tt.weights), 0), pool, false)
			got := runScript(t, nil, rr, pool, tt.steps, plainRequest)
			compareSeq(t, tt.name, got, want)
		})
	}
}

func TestStaticRRMatchesHAProxy(t *testing.T) {
	needHAProxy(t)
	tests := []struct {
		name    string
		weights []int
		steps   script
	}{
		{"5:3:1", []int{5, 3, 1}, script{"pick 30"}},
		{"gcd", []int{2, 4, 6, 0}, script{"pick 20"}},
		{"down and back", []int{3, 2, 1}, script{"pick 4", "maint 2", "pick 7", "ready 2", "pick 13", "maint 1", "maint 3", "pick 3", "ready 1", "pick 9"}},
		{"zero weight", []int{2, 3, 1}, script{"pick 4", "weight 2 0", "pick 7", "weight 2 3", "pick 13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startHAProxy(t, haproxyBackend{Lines: []string{"balance static-rr"}, ServerOpts: serverOpts(tt.weights, nil)})
			want := runScript(t, h, nil, nil, tt.steps, plainRequest)
			pool := newTestPool(tt.weights...)
			m := NewStaticRR(testServers(len(tt.weights), 0), pool, false)
			got := runScript(t, nil, m, pool, tt.steps, plainRequest)
			compareSeq(t, tt.name, got, want)
		})
	}
}

// randomScript mixes picks with state and weight changes of n servers,
// keeping at least one server up; static algorithms only get 0 or the
// initial weight back.
func randomScript(rng *rand.Rand, initial []int, steps int, static bool) script {
	n := len(initial)
	down := make([]bool, n)
	var s script
	for k := 0; k < steps; k++ {
		s = append(s, fmt.Sprintf("pick %d", 1+rng.Intn(12)))
		i := rng.Intn(n)
		switch rng.Intn(3) {
		case 0:
			up := 0
			for _, d := range down {
				if !d {
					up++
				}
			}
			if !down[i] && up > 1 {
				down[i] = true
				s = append(s, fmt.Sprintf("maint %d", i+1))
			} else if down[i] {
				down[i] = false
				s = append(s, fmt.Sprintf("ready %d", i+1))
			}
		default:
			w := rng.Intn(40)
			if static {
				w = initial[i] * rng.Intn(2)
			}
			s = append(s, fmt.Sprintf("weight %d %d", i+1, w))
		}
	}
	return append(s, "pick 40")
}

func TestRandomScriptsMatchHAProxy(t *testing.T) {
	needHAProxy(t)
	for seed := int64(1); seed <= 4; seed++ {
		for _, cfg := range []Config{
			{Balance: "roundrobin"},
			{Balance: "static-rr"},
			{Balance: "uri", HashType: "consistent"},
			{Balance: "url_param", Args: []string{"id"}},
		} {
			rng := rand.New(rand.NewSource(seed))
			w := make([]int, 3+rng.Intn(6))
			for i := range w {
				w[i] = 1 + rng.Intn(20)
			}
			static := cfg.Balance != "roundrobin" && cfg.HashType != "consistent"
			tc := diffCase{name: fmt.Sprintf("%s %s seed %d", cfg.Balance, cfg.HashType, seed), cfg: cfg,
				opts: weights(w...), steps: randomScript(rng, w, 25, static), req: uriReq}
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				runDiff(t, tc)
			})
		}
	}
}
