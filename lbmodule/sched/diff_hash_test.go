package sched

import (
	"fmt"
	"math/rand"
	"net/netip"
	"net/textproto"
	"strings"
	"testing"
)

// keyedAlg hashes the test requests with the algorithm's Key, as the glue
// does with real requests.
type keyedAlg struct {
	Algorithm
	key *Key
}

func (a keyedAlg) requestFor(r hreq) Request {
	if a.key == nil {
		return Request{Avoid: NoServer}
	}
	in := keyInputFor(r)
	return a.key.Request(&in)
}

func keyInputFor(r hreq) KeyInput {
	in := KeyInput{Method: r.Method, URI: r.URI, Header: map[string][]string{}, Host: "test"}
	if in.Method == "" {
		in.Method = "GET"
	}
	if in.URI == "" {
		in.URI = "/"
	}
	for k, v := range r.Header {
		if k == "Host" {
			in.Host = v
			continue
		}
		ck := textproto.CanonicalMIMEHeaderKey(k)
		in.Header[ck] = append(in.Header[ck], v)
	}
	src := r.Source
	if src == "" {
		src = "127.0.0.1"
	}
	in.Remote = netip.AddrPortFrom(netip.MustParseAddr(src), 40000)
	in.Body = []byte(r.Body)
	return in
}

// balanceLines writes cfg as HAProxy configuration lines.
func balanceLines(cfg Config) []string {
	b := "balance " + cfg.Balance
	if cfg.Param != "" {
		b += "(" + cfg.Param + ")"
	}
	if len(cfg.Args) > 0 {
		b += " " + strings.Join(cfg.Args, " ")
	}
	lines := []string{b}
	if cfg.HashType != "" || cfg.HashFunction != "" {
		ht := "hash-type " + cfg.HashType
		if cfg.HashType == "" {
			ht = "hash-type map-based"
		}
		if cfg.HashFunction != "" {
			ht += " " + cfg.HashFunction
			if cfg.HashAvalanche != nil && *cfg.HashAvalanche {
				ht += " avalanche"
			}
		}
		lines = append(lines, ht)
	}
	if cfg.AllBackups {
		lines = append(lines, "option allbackups")
	}
	if cfg.HashBalanceFactor != 0 {
		lines = append(lines, fmt.Sprintf("hash-balance-factor %d", cfg.HashBalanceFactor))
	}
	return lines
}

// diffCase is one differential test of an algorithm built by New.
type diffCase struct {
	name  string
	cfg   Config
	opts  []string // server options; their count is the number of servers
	ids   []int
	dead  []bool
	steps script
	req   func(k int) hreq
}

func runDiff(t *testing.T, tc diffCase) {
	t.Helper()
	lines := balanceLines(tc.cfg)
	if tc.dead != nil {
		lines = append(lines, "retries 1", "option redispatch")
	}
	h := startHAProxy(t, haproxyBackend{Lines: lines, ServerOpts: tc.opts, IDs: tc.ids, Dead: tc.dead})
	want := runScript(t, h, nil, nil, tc.steps, tc.req)
	pool, servers := poolFromOpts(t, tc.opts, tc.ids)
	alg, err := New(tc.cfg, servers, pool)
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey(tc.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tc.dead != nil {
		copy(pool.dead, tc.dead)
	}
	got := runScript(t, nil, keyedAlg{alg, key}, pool, tc.steps, tc.req)
	compareSeq(t, tc.name, got, want)
}

// poolFromOpts reads "weight N", "backup" and "disabled" from server options.
func poolFromOpts(t *testing.T, opts []string, ids []int) (*testPool, []Server) {
	weights := make([]int, len(opts))
	servers := make([]Server, len(opts))
	for i, o := range opts {
		weights[i] = 1
		f := strings.Fields(o)
		for j := 0; j < len(f); j++ {
			switch f[j] {
			case "weight":
				fmt.Sscan(f[j+1], &weights[i])
				j++
			case "backup":
				servers[i].Backup = true
			case "maxconn":
				// read below, once the pool exists
				j++
			}
		}
		servers[i].ID = i + 1
		if ids != nil {
			servers[i].ID = ids[i]
		}
	}
	pool := newTestPool(weights...)
	for i, o := range opts {
		pool.down[i] = strings.Contains(o, "disabled")
		f := strings.Fields(o)
		for j := 0; j+1 < len(f); j++ {
			if f[j] == "maxconn" {
				fmt.Sscan(f[j+1], &pool.maxconn[i])
			}
		}
	}
	return pool, servers
}

func weights(ws ...int) []string { return serverOpts(ws, nil) }

// uriReq makes varied request URIs, deterministic in k.
func uriReq(k int) hreq {
	rng := rand.New(rand.NewSource(int64(k)))
	var b strings.Builder
	for d := rng.Intn(4) + 1; d > 0; d-- {
		fmt.Fprintf(&b, "/%x", rng.Intn(1<<uint(rng.Intn(20)+1)))
	}
	if rng.Intn(3) == 0 {
		b.WriteString("/")
	}
	if rng.Intn(2) == 0 {
		fmt.Fprintf(&b, "?q=%d&id=%d", rng.Intn(100), rng.Intn(1000))
	}
	return hreq{URI: b.String()}
}

func avalanche(b bool) *bool { return &b }

func TestHashAlgorithmsMatchHAProxy(t *testing.T) {
	needHAProxy(t)
	var cases []diffCase
	// uri with every option, map-based and consistent.
	for _, args := range [][]string{nil, {"depth", "2"}, {"len", "5"}, {"whole"}, {"path-only"}, {"depth", "1", "whole", "len", "9"}} {
		for _, ht := range []string{"", "consistent"} {
			cases = append(cases, diffCase{
				name: fmt.Sprintf("uri %v %s", args, ht), cfg: Config{Balance: "uri", Args: args, HashType: ht},
				opts: weights(1, 2, 3), steps: script{"pick 60"}, req: uriReq,
			})
		}
	}
	// Absolute-form request targets, as HTTP/2 requests appear to HAProxy.
	absReq := func(k int) hreq {
		r := uriReq(k)
		r.URI = fmt.Sprintf("http://h%d.example%s", k%3, r.URI)
		// HAProxy rejects a Host that differs from the authority.
		r.Header = map[string]string{"Host": fmt.Sprintf("h%d.example", k%3)}
		if k%4 == 0 {
			r.URI += "/x?y=/a/b"
		}
		return r
	}
	for _, args := range [][]string{nil, {"path-only"}, {"path-only", "whole", "depth", "2"}, {"depth", "3"}} {
		cases = append(cases, diffCase{
			name: fmt.Sprintf("absolute uri %v", args), cfg: Config{Balance: "uri", Args: args},
			opts: weights(1, 1, 1, 1, 1), steps: script{"pick 40"}, req: absReq,
		})
	}
	// Every function, with and without avalanche, both methods. HAProxy 2.6
	// has no "none" function; it is tested alone.
	for _, fn := range []string{"sdbm", "djb2", "wt6", "crc32"} {
		for _, ht := range []string{"map-based", "consistent"} {
			for _, av := range []bool{false, true} {
				req := func(k int) hreq { return hreq{URI: fmt.Sprintf("/?id=%d", k*7919-300)} }
				cfg := Config{Balance: "url_param", Args: []string{"id"}, HashType: ht, HashFunction: fn, HashAvalanche: avalanche(av)}
				cases = append(cases, diffCase{
					name: fmt.Sprintf("%s %s avalanche=%v", fn, ht, av), cfg: cfg,
					opts: weights(1, 1, 3, 2), steps: script{"pick 50"}, req: req,
				})
			}
		}
	}
	// url_param: missing parameters fall back to round robin, empty values
	// are hashed, POST bodies are searched.
	paramReq := func(k int) hreq {
		switch k % 7 {
		case 0:
			return hreq{URI: "/x"}
		case 1:
			return hreq{URI: "/x?id="}
		case 2:
			return hreq{URI: fmt.Sprintf("/x?a=1&id=%d&b=2", k)}
		case 3:
			return hreq{URI: fmt.Sprintf("/x?ida=3&Id=%d", k)}
		case 4:
			return hreq{Method: "POST", URI: "/form", Body: fmt.Sprintf("a=b&id=user%d&c=d", k)}
		case 5:
			return hreq{Method: "POST", URI: "/form", Body: fmt.Sprintf("id= %d", k)}
		}
		return hreq{Method: "POST", URI: "/form", Body: fmt.Sprintf("x=%d", k)}
	}
	for _, ht := range []string{"", "consistent"} {
		cases = append(cases, diffCase{
			name: "url_param " + ht, cfg: Config{Balance: "url_param", Args: []string{"id", "check_post"}, HashType: ht},
			opts: weights(1, 1, 1), steps: script{"pick 40", "maint 2", "pick 20", "ready 2", "pick 20"}, req: paramReq,
		})
	}
	// hdr(host) with use_domain_only, and a header that is often missing.
	hosts := []string{"haproxy.1wt.eu", "www.example.com:8080", "example.com", "localhost", "a.b.c.d.e", "shop.example.org", "x.io", "api.test.net"}
	hostReq := func(k int) hreq {
		return hreq{Header: map[string]string{"Host": fmt.Sprintf("n%d.%s", k%5, hosts[k%len(hosts)])}}
	}
	userReq := func(k int) hreq {
		switch k % 4 {
		case 0:
			return hreq{}
		case 1:
			return hreq{Header: map[string]string{"X-User": ""}}
		}
		return hreq{Header: map[string]string{"X-User": fmt.Sprintf(" user%d , other", k)}}
	}
	for _, ht := range []string{"", "consistent"} {
		cases = append(cases,
			diffCase{name: "hdr(host) domain " + ht, cfg: Config{Balance: "hdr", Param: "host", Args: []string{"use_domain_only"}, HashType: ht},
				opts: weights(1, 1, 1, 1), steps: script{"pick 40"}, req: hostReq},
			diffCase{name: "hdr(host) " + ht, cfg: Config{Balance: "hdr", Param: "Host", HashType: ht},
				opts: weights(1, 1, 1, 1), steps: script{"pick 40"}, req: hostReq},
			diffCase{name: "hdr(x-user) " + ht, cfg: Config{Balance: "hdr", Param: "x-user", HashType: ht},
				opts: weights(2, 1, 1), steps: script{"pick 40"}, req: userReq},
		)
	}
	// source, from distinct loopback addresses.
	srcReq := func(k int) hreq { return hreq{Source: fmt.Sprintf("127.0.%d.%d", k/200, k%200+1)} }
	for _, ht := range []string{"", "consistent"} {
		cases = append(cases, diffCase{name: "source " + ht, cfg: Config{Balance: "source", HashType: ht},
			opts: weights(1, 1, 1), steps: script{"pick 40", "maint 1", "pick 20", "ready 1", "weight 3 0", "pick 20", "weight 3 1", "pick 10"}, req: srcReq})
	}
	cases = append(cases, diffCase{name: "source djb2 ignored", cfg: Config{Balance: "source", HashFunction: "djb2"},
		opts: weights(1, 2, 1), steps: script{"pick 30"}, req: srcReq})
	// hash <expr>.
	exprReq := func(k int) hreq {
		r := uriReq(k)
		r.Source = fmt.Sprintf("127.0.0.%d", k%50+1)
		if k%5 != 0 {
			r.Header = map[string]string{"X-Key": fmt.Sprintf("k%d", k%13), "Cookie": fmt.Sprintf("a=1; sid=s%d; b=2", k%11)}
		}
		return r
	}
	for _, expr := range []string{"req.hdr(x-key)", "src", "path", "url", "url_param(id)", "req.cook(sid)"} {
		for _, ht := range []string{"", "consistent"} {
			cases = append(cases, diffCase{name: "hash " + expr + " " + ht, cfg: Config{Balance: "hash", Args: []string{expr}, HashType: ht},
				opts: weights(1, 3, 1), steps: script{"pick 40"}, req: exprReq})
		}
	}
	// Consistent hashing through state and weight changes.
	cases = append(cases, diffCase{name: "consistent changes", cfg: Config{Balance: "uri", HashType: "consistent"},
		opts: weights(1, 2, 3, 1), ids: []int{3, 1, 7, 12},
		steps: script{"pick 30", "maint 3", "pick 30", "weight 2 1", "pick 20", "ready 3", "weight 4 5", "pick 30", "weight 2 2", "pick 20"}, req: uriReq})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runDiff(t, tc)
		})
	}
}
