package lbmodule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// BenchmarkVsCaddy runs this plugin's selection policy and Caddy's built-in
// policy for the same job side by side, through the same Select call and the
// same per-request setup, at 3, 100 and 1,000 servers. bench/policies.sh
// prints the ratios.
func BenchmarkVsCaddy(b *testing.B) {
	type pair struct {
		name   string
		ours   BackendConfig
		caddys func(n int) reverseproxy.Selector
	}
	pairs := []pair{
		{"roundrobin", BackendConfig{}, func(n int) reverseproxy.Selector {
			return &reverseproxy.WeightedRoundRobinSelection{Weights: benchWeights(n)}
		}},
		{"leastconn", BackendConfig{Balance: "leastconn"}, func(int) reverseproxy.Selector {
			return reverseproxy.LeastConnSelection{}
		}},
		{"source", BackendConfig{Balance: "source"}, func(int) reverseproxy.Selector {
			return reverseproxy.IPHashSelection{}
		}},
		{"uri", BackendConfig{Balance: "uri", HashType: "consistent"}, func(int) reverseproxy.Selector {
			return reverseproxy.URIHashSelection{}
		}},
	}
	for _, p := range pairs {
		for _, n := range []int{3, 100, 1000} {
			cfg := p.ours
			cfg.Servers = benchServers(n)
			b.Run(fmt.Sprintf("%s/%d/haproxy", p.name, n), func(b *testing.B) {
				benchSelector(b, newPolicy(b, cfg), cfg)
			})
			b.Run(fmt.Sprintf("%s/%d/caddy", p.name, n), func(b *testing.B) {
				sel := p.caddys(n)
				if prov, ok := sel.(caddy.Provisioner); ok {
					ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
					defer cancel()
					if err := prov.Provision(ctx); err != nil {
						b.Fatal(err)
					}
				}
				benchSelector(b, sel, cfg)
			})
		}
	}
}

// benchServers returns n servers with weights 1..5 repeating, so weighted
// algorithms do real work.
func benchServers(n int) []ServerConfig {
	out := make([]ServerConfig, n)
	for i := range out {
		w := i%5 + 1
		out[i] = ServerConfig{Name: "s" + strconv.Itoa(i), Dial: "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1) + ":80", Weight: &w}
	}
	return out
}

func benchWeights(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i%5 + 1
	}
	return out
}

// benchSelector measures Select as reverse_proxy calls it: once per request,
// with Caddy's vars in the request context, ending the request afterwards.
// Requests vary in path and client address so hash policies spread them.
func benchSelector(b *testing.B, sel reverseproxy.Selector, cfg BackendConfig) {
	pool := make(reverseproxy.UpstreamPool, len(cfg.Servers))
	for i, s := range cfg.Servers {
		pool[i] = &reverseproxy.Upstream{Dial: s.Dial, Host: new(reverseproxy.Host)}
	}
	const variants = 64
	reqs := make([]*httptestRequest, variants)
	for i := range reqs {
		r := httptest.NewRequest("GET", "/item/"+strconv.Itoa(i*7919), nil)
		r.RemoteAddr = "192.0.2." + strconv.Itoa(i+1) + ":4000"
		reqs[i] = &httptestRequest{r: r}
	}
	vars := map[string]any{}
	base := context.WithValue(context.Background(), caddyhttp.VarsCtxKey, vars)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ctx, cancel := context.WithCancel(base)
		r := reqs[i%variants].r.WithContext(ctx)
		if sel.Select(pool, r, nil) == nil {
			b.Fatal("no upstream")
		}
		clear(vars)
		cancel()
		i++
	}
}

type httptestRequest struct{ r *http.Request }
