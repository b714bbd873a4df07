package matchers

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddy-haproxy/caddy-haproxy/lbmodule"
)

// request builds a server-side request as Go's HTTP server would, with a
// raw request target.
func request(method, target string, header ...string) *http.Request {
	r := httptest.NewRequest(method, "http://test.local/", nil)
	r.RequestURI = target
	r.RemoteAddr = "192.0.2.7:40000"
	for i := 0; i+1 < len(header); i += 2 {
		if http.CanonicalHeaderKey(header[i]) == "Host" {
			r.Host = header[i+1]
			continue
		}
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func mustMatcher(t *testing.T, tests ...Test) *MatchACL {
	t.Helper()
	m := &MatchACL{Terms: []Term{{Any: tests}}}
	if err := m.Provision(caddyContext()); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFetches checks what each fetch reads from a request.
func TestFetches(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 8443}
	for _, tc := range []struct {
		name string
		test Test
		req  *http.Request
		want bool
	}{
		{"path is raw", Test{Fetch: "path", Values: []string{"/a%2Fb"}}, request("GET", "/a%2Fb?x"), true},
		{"path of an absolute URI", Test{Fetch: "path", Values: []string{"/p"}}, request("GET", "http://h/p?q"), true},
		{"no path in *", Test{Fetch: "path", Match: MatchFound}, request("OPTIONS", "*"), false},
		{"url is the whole target", Test{Fetch: "url", Values: []string{"/a?b"}}, request("GET", "/a?b"), true},
		{"query without ?", Test{Fetch: "query", Match: MatchFound}, request("GET", "/a"), false},
		{"empty query", Test{Fetch: "query", Values: []string{""}}, request("GET", "/a?"), true},
		{"base", Test{Fetch: "base", Values: []string{"h:81/a"}}, request("GET", "/a?b", "Host", "h:81"), true},
		{"hdr splits values", Test{Fetch: "hdr", Args: []string{"x"}, Values: []string{"b"}}, request("GET", "/", "X", "a, b"), true},
		{"hdr keeps quoted commas", Test{Fetch: "hdr", Args: []string{"x"}, Values: []string{`"a, b"`}}, request("GET", "/", "X", `"a, b", c`), true},
		{"fhdr does not split", Test{Fetch: "fhdr", Args: []string{"x"}, Values: []string{"a, b"}}, request("GET", "/", "X", "a, b"), true},
		{"hdr(host) has the port", Test{Fetch: "hdr", Args: []string{"host"}, Values: []string{"h:81"}}, request("GET", "/", "Host", "h:81"), true},
		{"hdr occurrence", Test{Fetch: "hdr", Args: []string{"x", "-1"}, Values: []string{"c"}}, request("GET", "/", "X", "a, b", "X", "c"), true},
		{"hdr occurrence misses", Test{Fetch: "hdr", Args: []string{"x", "1"}, Values: []string{"c"}}, request("GET", "/", "X", "a, b", "X", "c"), false},
		{"hdr_cnt", Test{Fetch: "hdr_cnt", Args: []string{"x"}, Values: []string{"3"}}, request("GET", "/", "X", "a, b", "X", "c"), true},
		{"hdr_cnt of none", Test{Fetch: "hdr_cnt", Args: []string{"x"}, Values: []string{"0"}}, request("GET", "/"), true},
		{"hdr_val", Test{Fetch: "hdr_val", Args: []string{"x"}, Values: []string{"gt", "9"}}, request("GET", "/", "X", "10abc"), true},
		{"cook", Test{Fetch: "cook", Args: []string{"s"}, Values: []string{"v"}}, request("GET", "/", "Cookie", "a=1; s=v"), true},
		{"cook_cnt", Test{Fetch: "cook_cnt", Args: []string{"s"}, Values: []string{"2"}}, request("GET", "/", "Cookie", "s=1", "Cookie", "s=2"), true},
		{"url_param", Test{Fetch: "url_param", Args: []string{"p"}, Values: []string{"2"}}, request("GET", "/x?a=1;p=2"), true},
		{"url_param needs =", Test{Fetch: "url_param", Args: []string{"p"}, Match: MatchFound}, request("GET", "/x?p&a=1"), false},
		{"url_param delimiter", Test{Fetch: "url_param", Args: []string{"p", ";"}, Values: []string{"2"}}, request("GET", "/x;p=2"), true},
		{"url_param i", Test{Fetch: "url_param", Args: []string{"p", "", "i"}, Values: []string{"2"}}, request("GET", "/x?P=2"), true},
		{"method known", Test{Fetch: "method", Values: []string{"GET"}}, request("GET", "/"), true},
		{"method lower pattern", Test{Fetch: "method", Values: []string{"get"}}, request("GET", "/"), false},
		{"method other -i", Test{Fetch: "method", IgnoreCase: true, Values: []string{"purge"}}, request("PURGE", "/"), true},
		{"req_ver", Test{Fetch: "req_ver", Values: []string{"1.1"}}, request("GET", "/"), true},
		{"src", Test{Fetch: "src", Values: []string{"192.0.2.0/24"}}, request("GET", "/"), true},
		{"src_port", Test{Fetch: "src_port", Values: []string{"40000"}}, request("GET", "/"), true},
		{"dst", Test{Fetch: "dst", Values: []string{"127.0.0.9"}}, withLocal(request("GET", "/"), local), true},
		{"dst_port", Test{Fetch: "dst_port", Values: []string{"8443"}}, withLocal(request("GET", "/"), local), true},
		{"ssl_fc", Test{Fetch: "ssl_fc"}, request("GET", "/"), false},
		{"ssl_fc with TLS", Test{Fetch: "ssl_fc"}, withTLS(request("GET", "/"), "a.example"), true},
		{"ssl_fc_sni", Test{Fetch: "ssl_fc_sni", Match: MatchEnd, Values: []string{".example"}}, withTLS(request("GET", "/"), "a.example"), true},
		{"always_false", Test{Fetch: "always_false"}, request("GET", "/"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustMatcher(t, tc.test)
			if got := m.Match(tc.req); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			neg := &MatchACL{Terms: []Term{{Negate: true, Any: []Test{tc.test}}}}
			if err := neg.Provision(caddyContext()); err != nil {
				t.Fatal(err)
			}
			if got := neg.Match(tc.req); got == tc.want {
				t.Errorf("negated: got %v", got)
			}
		})
	}
}

func withLocal(r *http.Request, a net.Addr) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, a))
}

func withTLS(r *http.Request, sni string) *http.Request {
	r.TLS = &tls.ConnectionState{ServerName: sni, HandshakeComplete: true}
	return r
}

// TestProvisionRefuses checks the errors of Provision.
func TestProvisionRefuses(t *testing.T) {
	for _, test := range []Test{
		{Fetch: "nope"},
		{Fetch: "hdr"},
		{Fetch: "path", Match: MatchIP, Values: []string{"1.2.3.4"}},
		{Fetch: "src", Match: MatchBeg, Values: []string{"1"}},
		{Fetch: "hdr", Args: []string{"x", "two"}, Values: []string{"a"}},
		{Fetch: "srv_is_up", Args: []string{"nobackendslash"}},
		{Fetch: "ssl_fc", Match: MatchFound, Values: []string{"x"}},
	} {
		if err := test.Validate(); err == nil {
			t.Errorf("%+v: no error", test)
		}
	}
	if err := (&MatchACL{Terms: []Term{{Name: "x"}}}).Provision(caddyContext()); err == nil {
		t.Error("a term without tests was accepted")
	}
}

// TestBackendState checks nbsrv and srv_is_up against the backend
// registry.
func TestBackendState(t *testing.T) {
	two := 2
	cfg := lbmodule.BackendConfig{
		Backend: "matchers-test",
		Servers: []lbmodule.ServerConfig{
			{Name: "a", Dial: "127.0.0.1:1"},
			{Name: "b", Dial: "127.0.0.1:2", Weight: &two},
			{Name: "bk1", Dial: "127.0.0.1:3", Backup: true},
			{Name: "bk2", Dial: "127.0.0.1:4", Backup: true},
		},
	}
	b, err := lbmodule.AttachBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lbmodule.DetachBackend(b) })
	r := request("GET", "/")
	nbsrv := func() int64 {
		for n := int64(0); n <= 4; n++ {
			if mustMatcher(t, Test{Fetch: "nbsrv", Args: []string{"matchers-test"}, Values: []string{itoa(n)}}).Match(r) {
				return n
			}
		}
		return -1
	}
	up := func(s string) bool {
		return mustMatcher(t, Test{Fetch: "srv_is_up", Args: []string{"matchers-test/" + s}}).Match(r)
	}
	if n := nbsrv(); n != 2 {
		t.Errorf("nbsrv = %d, want 2", n)
	}
	must(t, b.SetAdminState("a", lbmodule.AdminDrain))
	if n := nbsrv(); n != 1 {
		t.Errorf("with a draining: nbsrv = %d, want 1", n)
	}
	if !up("a") {
		t.Error("a draining server is up for srv_is_up")
	}
	must(t, b.SetAdminState("b", lbmodule.AdminMaint))
	if up("b") {
		t.Error("a server in maintenance is up for srv_is_up")
	}
	// No active server: the first usable backup counts, alone.
	if n := nbsrv(); n != 1 {
		t.Errorf("backups only: nbsrv = %d, want 1", n)
	}
	must(t, b.SetOperational("bk1", false))
	must(t, b.SetOperational("bk2", false))
	if n := nbsrv(); n != 0 {
		t.Errorf("nothing usable: nbsrv = %d, want 0", n)
	}
	if up("bk1") {
		t.Error("a down server is up for srv_is_up")
	}
	if mustMatcher(t, Test{Fetch: "nbsrv", Args: []string{"no-such-backend"}, Values: []string{"0"}}).Match(r) != true {
		t.Error("an unknown backend does not have 0 servers")
	}
}

func itoa(n int64) string { return string(rune('0' + n)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
