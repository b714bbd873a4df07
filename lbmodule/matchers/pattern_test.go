package matchers

import (
	"net/netip"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestMatchWord(t *testing.T) {
	for _, tc := range []struct {
		s, word, delims string
		icase           bool
		want            bool
	}{
		{"/images/png/logo/32x32.png", "images/png", "/?", false, true},
		{"/images/png/logo/32x32.png", "32x32.png", "/?", false, true},
		{"/images/png/logo/32x32.png", "png", "/?", false, true},
		{"/images/png/logo/32x32.png", "logo/3", "/?", false, false},
		{"/imagesx/a", "images", "/?", false, false},
		{"www.example.com:80", "example", "/?.:", false, true},
		{"www.example.com:80", "80", "/?.:", false, true},
		{"dc-eu.example.com", "eu", "/?.:", false, false},
		{"WWW.EXAMPLE.COM", "example", "/?.:", true, true},
		{"WWW.EXAMPLE.COM", "example", "/?.:", false, false},
		{"a", "ab", "/", false, false},
	} {
		if got := matchWord(tc.s, tc.word, tc.delims, tc.icase); got != tc.want {
			t.Errorf("matchWord(%q, %q) = %v, want %v", tc.s, tc.word, got, tc.want)
		}
	}
}

func TestIntPatterns(t *testing.T) {
	for _, tc := range []struct {
		values []string
		yes    []int64
		no     []int64
	}{
		{[]string{"5"}, []int64{5}, []int64{4, 6}},
		{[]string{"1:3"}, []int64{1, 2, 3}, []int64{0, 4}},
		{[]string{":3"}, []int64{-9, 3}, []int64{4}},
		{[]string{"3:"}, []int64{3, 99}, []int64{2}},
		{[]string{"gt", "1"}, []int64{2}, []int64{1}},
		{[]string{"ge", "1"}, []int64{1}, []int64{0}},
		{[]string{"lt", "1"}, []int64{0}, []int64{1}},
		{[]string{"le", "1"}, []int64{1}, []int64{2}},
		{[]string{"eq", "1", "4"}, []int64{1, 4}, []int64{2}},
		{[]string{"lt", "1", "9"}, []int64{0, 8}, []int64{9}},
	} {
		p, err := compilePatterns(MatchInt, false, tc.values)
		if err != nil {
			t.Fatalf("%v: %v", tc.values, err)
		}
		for _, v := range tc.yes {
			if !p.matchInt(v) {
				t.Errorf("%v does not match %d", tc.values, v)
			}
		}
		for _, v := range tc.no {
			if p.matchInt(v) {
				t.Errorf("%v matches %d", tc.values, v)
			}
		}
	}
	for _, bad := range [][]string{{"x"}, {":"}, {"gt", "a"}, {"1:b"}} {
		if _, err := compilePatterns(MatchInt, false, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestParseIPPattern(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3", "10.1.2.3/32"},
		{"10.1.2.3/255.255.0.0", "10.1.0.0/16"},
		// inet_aton forms, as HAProxy reads them.
		{"127.1", "127.0.0.1/32"},
		{"127.0.1", "127.0.0.1/32"},
		{"10/8", "0.0.0.0/8"},
		{"::1", "::1/128"},
		{"2001:db8::/32", "2001:db8::/32"},
	} {
		got, err := ParseIPPattern(tc.in)
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseIPPattern(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"example.com", "010.0.0.1", "0x7f.1", "10.0.0.0/33", "1.2.3.4/255.0.255.0", "256.1.1.1", "fe80::1%eth0"} {
		if _, err := ParseIPPattern(bad); err == nil {
			t.Errorf("ParseIPPattern(%q): no error", bad)
		}
	}
}

func TestMatchIP(t *testing.T) {
	p, err := compilePatterns(MatchIP, false, []string{"10.0.0.0/8", "::ffff:192.168.0.0/112", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"11.0.0.1", false},
		{"192.168.3.4", true},
		{"192.169.0.1", false},
		{"2001:db8::5", true},
		{"2001:db9::5", false},
		{"::10.1.2.3", false},
	} {
		if got := p.matchIP(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestStringMethods(t *testing.T) {
	for _, tc := range []struct {
		method string
		icase  bool
		values []string
		sample string
		want   bool
	}{
		{MatchStr, false, []string{"abc"}, "abc", true},
		{MatchStr, false, []string{"abc"}, "ABC", false},
		{MatchStr, true, []string{"abc"}, "ABC", true},
		{MatchBeg, false, []string{"/api"}, "/api/x", true},
		{MatchBeg, false, []string{"/api"}, "/API/x", false},
		{MatchBeg, true, []string{"/api"}, "/API/x", true},
		{MatchEnd, false, []string{".json"}, "/x.json", true},
		{MatchEnd, false, []string{".json"}, "json", false},
		{MatchSub, true, []string{"BETA"}, "alphabeta", true},
		{MatchReg, false, []string{`\.png$`}, "/a.png", true},
		{MatchReg, false, []string{`\.png$`}, "/a.PNG", false},
		{MatchReg, true, []string{`\.png$`}, "/a.PNG", true},
		{MatchLen, false, []string{"3"}, "abc", true},
		{MatchLen, false, []string{"3"}, "abcd", false},
		{MatchDir, false, []string{"/static/"}, "/a/static/b", true},
		{MatchDom, false, []string{"example.org"}, "www.example.org:80", true},
		{MatchFound, false, nil, "", true},
	} {
		p, err := compilePatterns(tc.method, tc.icase, tc.values)
		if err != nil {
			t.Fatalf("%s %v: %v", tc.method, tc.values, err)
		}
		if got := p.matchString(tc.sample); got != tc.want {
			t.Errorf("%s -i=%v %v on %q: %v, want %v", tc.method, tc.icase, tc.values, tc.sample, got, tc.want)
		}
	}
	if _, err := compilePatterns(MatchReg, false, []string{`(?<=a)b`}); err == nil {
		t.Error("a regular expression Go cannot compile was accepted")
	}
}

// caddyContext is the context Provision gets; the matcher does not use it.
func caddyContext() caddy.Context { return caddy.Context{} }

// TestHeaderIP checks how hdr_ip reads addresses (the forms were checked
// against HAProxy 2.6).
func TestHeaderIP(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"10.1.2.3", "10.1.2.3"},
		{"10.1.2.3:80", "10.1.2.3"},
		{"0010.1.2.3", "10.1.2.3"},
		{"::1", "::1"},
		{"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
		{"10.1.2.3x", ""},
		{"10.1.2", ""},
		{"10.1.2.3:abc", ""},
		{"10.1.2.3:", ""},
		{"10.1.2.300", ""},
		{"[::1]", ""},
		{"::1%lo", ""},
	} {
		a, ok := headerIP(tc.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("headerIP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
