package sched

import (
	"net/netip"
	"strings"
	"testing"
)

func TestURIKey(t *testing.T) {
	tests := []struct {
		uri  string
		o    URIOptions
		want string
	}{
		{"/a/b/c", URIOptions{Depth: 2}, "/a/b"},
		{"/a/b/c", URIOptions{Depth: 1}, "/a"},
		{"/a/b/c", URIOptions{}, "/a/b/c"},
		{"/abcdefgh", URIOptions{Len: 5}, "/abcd"},
		{"/a?b=1", URIOptions{}, "/a"},
		{"/a?b=1", URIOptions{Whole: true}, "/a?b=1"},
		{"/a?b=/c/d", URIOptions{Whole: true, Depth: 1}, "/a?b="},
		{"https://h.example/x/y?z", URIOptions{PathOnly: true}, "/x/y"},
		{"https://h.example/x/y?z", URIOptions{}, "https://h.example/x/y"},
		{"https://h.example/x/y?z", URIOptions{Depth: 1}, "https:/"},
		{"https://h.example", URIOptions{PathOnly: true}, ""},
		{"*", URIOptions{PathOnly: true}, ""},
	}
	for _, tt := range tests {
		if got := URIKey(tt.uri, tt.o); got != tt.want {
			t.Errorf("URIKey(%q, %+v) = %q, want %q", tt.uri, tt.o, got, tt.want)
		}
		if got := string(URIKey([]byte(tt.uri), tt.o)); got != tt.want {
			t.Errorf("URIKey([]byte %q, %+v) = %q, want %q", tt.uri, tt.o, got, tt.want)
		}
	}
}

func TestURLParamKey(t *testing.T) {
	tests := []struct {
		uri, name string
		want      string
		ok        bool
	}{
		{"/x?id=42", "id", "42", true},
		{"/x?a=1&id=42&b=2", "id", "42", true},
		{"/x?id=", "id", "", true},
		{"/x?ID=1", "id", "", false},
		{"/x?ida=1&xid=2", "id", "", false},
		{"/x", "id", "", false},
		{"/x?id", "id", "", false},
		{"/x?a=b?id=3", "id", "", false},
	}
	for _, tt := range tests {
		got, ok := URLParamKey(tt.uri, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("URLParamKey(%q, %q) = %q, %v; want %q, %v", tt.uri, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestURLParamBodyKey(t *testing.T) {
	tests := []struct {
		body string
		want string
		ok   bool
	}{
		{"a=1&id=user7&c=d", "user7", true},
		{"id=x y", "x y", true}, // only the first byte is checked
		{"id= 5", "", true},     // a space first ends the value
		{"id==5", "", false},    // a non-token first byte: not a form
		{"x=1", "", false},
	}
	for _, tt := range tests {
		got, ok := URLParamBodyKey([]byte(tt.body), "id")
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("URLParamBodyKey(%q) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDomainKey(t *testing.T) {
	for in, want := range map[string]string{
		"haproxy.1wt.eu":       "1wt",
		"www.example.com:8080": "example",
		"example.com":          "example",
		"localhost":            "localhost",
		".com":                 ".com",
		"a.b":                  "a",
	} {
		if got := DomainKey(in); got != want {
			t.Errorf("DomainKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderKey(t *testing.T) {
	for _, tt := range []struct {
		lines []string
		want  string
		ok    bool
	}{
		{[]string{" a , b", "c"}, "a", true},
		{[]string{""}, "", false},
		{[]string{" ,x"}, "", false},
		{nil, "", false},
	} {
		got, ok := HeaderKey(tt.lines)
		if got != tt.want || ok != tt.ok {
			t.Errorf("HeaderKey(%q) = %q, %v; want %q, %v", tt.lines, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSourceHash(t *testing.T) {
	if got := SourceHash(netip.MustParseAddr("10.0.0.1"), false); got != 167772161 {
		t.Errorf("10.0.0.1 = %d, want 167772161", got)
	}
	if got := SourceHash(netip.MustParseAddr("::ffff:10.0.0.1"), true); got != 715288146 {
		t.Errorf("mapped 10.0.0.1 with avalanche = %d, want 715288146", got)
	}
	// 2001:db8::1 words: 0x20010db8 ^ 0 ^ 0 ^ 1
	if got := SourceHash(netip.MustParseAddr("2001:db8::1"), false); got != 0x20010db9 {
		t.Errorf("2001:db8::1 = %#x, want 0x20010db9", got)
	}
}

func TestRDPCookieKey(t *testing.T) {
	hdr := "\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00"
	for _, tt := range []struct {
		payload, name, want string
		ok                  bool
	}{
		{hdr + "Cookie: mstshash=alice\r\n", "mstshash", "alice", true},
		{hdr + "cookie:  MSTSHASH=bob\r\n", "mstshash", "bob", true},
		{hdr + "Cookie: msts=carol\r\n", "", "carol", true},
		{hdr + "Cookie: other=dave\r\n", "mstshash", "", false},
		{hdr + "Cookie: mstshash=eve", "mstshash", "", false},
		{"short", "mstshash", "", false},
	} {
		got, ok := RDPCookieKey(tt.payload, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RDPCookieKey(%q, %q) = %q, %v; want %q, %v", tt.payload, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCookieValue(t *testing.T) {
	lines := []string{"a=1; sid=first", "sid=last; b=2"}
	if v, ok := cookieValue(lines, "sid"); v != "last" || !ok {
		t.Errorf("got %q, %v; want the last occurrence", v, ok)
	}
	if _, ok := cookieValue(lines, "none"); ok {
		t.Error("found a missing cookie")
	}
}

// TestConsistentVectors checks the mappings observed on HAProxy 2.6 with
// three servers of weight 1.
func TestConsistentVectors(t *testing.T) {
	servers := testServers(3, 0)
	uri, _ := NewKey(Config{Balance: "uri", HashType: "consistent"})
	c := NewConsistentHash(servers, newTestPool(1, 1, 1), false)
	for path, want := range map[string]int{"/index.html": 2, "/a": 1, "/b": 1, "/images/logo.png": 0} {
		in := KeyInput{URI: path}
		if got := c.Pick(uri.Request(&in)); got != want {
			t.Errorf("%s: got s%d, want s%d", path, got+1, want+1)
		}
	}
	for _, tt := range []struct {
		ht   string
		want []int
	}{{"consistent", []int{1, 0, 2, 0}}, {"", []int{2, 0, 1, 2}}} {
		key, _ := NewKey(Config{Balance: "source", HashType: tt.ht})
		alg, _ := New(Config{Balance: "source", HashType: tt.ht}, servers, newTestPool(1, 1, 1))
		for i, want := range tt.want {
			in := KeyInput{Remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)}), 1)}
			if got := alg.Pick(key.Request(&in)); got != want {
				t.Errorf("%s source 127.0.0.%d: got s%d, want s%d", tt.ht, i+1, got+1, want+1)
			}
		}
	}
}

func TestKeyHashAllocations(t *testing.T) {
	in := KeyInput{
		Method: "GET", URI: "/a/b/c?id=42&x=1", Scheme: "https", Host: "www.example.com",
		Header: map[string][]string{"X-User": {"u1"}, "Cookie": {"sid=abc"}},
		Remote: netip.MustParseAddrPort("10.1.2.3:5555"),
	}
	for _, cfg := range []Config{
		{Balance: "uri", Args: []string{"depth", "2"}},
		{Balance: "url_param", Args: []string{"id"}},
		{Balance: "hdr", Param: "host", Args: []string{"use_domain_only"}},
		{Balance: "hdr", Param: "x-user"},
		{Balance: "source", HashType: "consistent"},
		{Balance: "hash", Args: []string{"req.cook(sid)"}},
		{Balance: "hash", Args: []string{"src"}},
		{Balance: "hash", Args: []string{"url"}},
	} {
		key, err := NewKey(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := key.Hash(&in); !ok {
			t.Errorf("%+v: key not found", cfg)
		}
		if n := testing.AllocsPerRun(100, func() { key.Hash(&in) }); n != 0 {
			t.Errorf("%+v: %v allocations per hash", cfg, n)
		}
	}
	// Keys found in byte slices: a POST body and an RDP payload.
	body := KeyInput{Method: "POST", URI: "/form", Body: []byte("a=1&user=bob")}
	payload := KeyInput{Payload: []byte("\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n")}
	for _, c := range []struct {
		cfg Config
		in  *KeyInput
	}{
		{Config{Balance: "url_param", Args: []string{"user"}}, &body},
		{Config{Balance: "rdp-cookie"}, &payload},
	} {
		key, _ := NewKey(c.cfg)
		if _, ok := key.Hash(c.in); !ok {
			t.Errorf("%+v: key not found", c.cfg)
		}
		if n := testing.AllocsPerRun(100, func() { key.Hash(c.in) }); n != 0 {
			t.Errorf("%+v: %v allocations per hash", c.cfg, n)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string
	}{
		{Config{Balance: "roundrobbin"}, `unknown balance algorithm "roundrobbin"`},
		{Config{Balance: "uri", Args: []string{"deph", "2"}}, `balance uri: unknown option "deph"`},
		{Config{Balance: "uri", Args: []string{"len"}}, `balance uri: "len" expects a positive integer`},
		{Config{Balance: "url_param"}, "requires a URL parameter name"},
		{Config{Balance: "hdr"}, "requires a header name"},
		{Config{Balance: "random", Param: "x"}, "draws must be a positive integer"},
		{Config{Balance: "uri", HashType: "consistant"}, `hash-type: unknown method "consistant"`},
		{Config{Balance: "uri", HashFunction: "md5"}, `hash-type: unknown function "md5"`},
		{Config{Balance: "hash", Args: []string{"req.body"}}, `sample fetch "req.body" is not supported`},
		{Config{Balance: "leastconn", Args: []string{"x"}}, `unexpected argument "x"`},
	} {
		_, err := New(tt.cfg, testServers(2, 0), newTestPool(1, 1))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestDynamic(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want bool
	}{
		{Config{}, true},
		{Config{Balance: "static-rr"}, false},
		{Config{Balance: "leastconn"}, true},
		{Config{Balance: "uri"}, false},
		{Config{Balance: "uri", HashType: "consistent"}, true},
		{Config{Balance: "random"}, true},
	} {
		if got := tt.cfg.Dynamic(); got != tt.want {
			t.Errorf("%+v: Dynamic() = %v", tt.cfg, got)
		}
	}
}
