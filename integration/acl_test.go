package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-haproxy/caddy-haproxy/internal/certtest"
)

// rawRequest is one request written byte for byte, from a chosen source
// address on 127.0.0.0/8.
type rawRequest struct {
	// src is the client's address ("" for 127.0.0.1).
	src string
	// method and target form the request line.
	method, target string
	// headers are written in order, one line each ("Name: value").
	headers []string
	// body follows the headers as it is.
	body string
}

func (r rawRequest) String() string {
	s := r.method + " " + r.target
	if r.src != "" {
		s += " from " + r.src
	}
	if len(r.headers) > 0 {
		s += " [" + strings.Join(r.headers, "; ") + "]"
	}
	return s
}

// wire is the request as written: the request line, the headers with a
// default Host and "Connection: close", and the body.
func (r rawRequest) wire() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.method, r.target)
	hasHost := false
	for _, h := range r.headers {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			hasHost = true
		}
		b.WriteString(h + "\r\n")
	}
	if !hasHost {
		b.WriteString("Host: test.local\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(r.body)
	return b.String()
}

// send writes the request on a new connection and returns the response
// with its body read.
func (r rawRequest) send(t *testing.T, addr string) (*http.Response, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if r.src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(r.src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, r.wire()); err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: r.method})
	if err != nil {
		t.Fatalf("%s: reading the response: %v", r, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// backendSpec names a backend and its origin for a config template.
type backendSpec struct{ Name, Addr string }

// TestACLRoutingMatchesHAProxy sends the same requests through HAProxy and
// caddy with a config of ACL-based use_backend rules and checks that every
// one reaches the same backend.
func TestACLRoutingMatchesHAProxy(t *testing.T) {
	var backends []backendSpec
	names := []string{"bdef"}
	for i := 1; i <= 35; i++ {
		names = append(names, fmt.Sprintf("b%02d", i))
	}
	for _, o := range startOrigins(t, names...) {
		backends = append(backends, backendSpec{o.name, o.Addr()})
	}
	port := freePort(t)
	patterns := filepath.Join(t.TempDir(), "paths.lst")
	if err := os.WriteFile(patterns, []byte("# paths\n/from-file\n  /indented\n\n/trailing \n#/commented\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "acl_routing.cfg", map[string]any{"Port": port, "Backends": backends, "PatternFile": patterns})
	addr := loopback(port)

	requests := aclRoutingRequests()
	route := func(name string) []string {
		out := make([]string, len(requests))
		for i, r := range requests {
			resp, body := r.send(t, addr)
			out[i] = fmt.Sprintf("%d %s", resp.StatusCode, body)
		}
		return out
	}
	haproxy := startHAProxy(t, cfg, addr)
	want := route("haproxy")
	haproxy.stop()

	startCaddy(t, cfg)
	got := route("caddy")
	for i, r := range requests {
		if got[i] != want[i] {
			t.Errorf("%s: caddy %q, haproxy %q", r, got[i], want[i])
		}
	}
	// The requests must exercise the rules, not all fall through.
	seen := map[string]bool{}
	for _, w := range want {
		seen[w] = true
	}
	if len(seen) < 15 {
		t.Errorf("only %d distinct outcomes: %v", len(seen), want)
	}
}

func aclRoutingRequests() []rawRequest {
	h := func(hs ...string) []string { return hs }
	var rs []rawRequest
	for _, path := range []string{
		"/", "/api/x", "/API/x", "/api", "/x.json", "/x.JSON", "/a.png", "/a.PNG", "/b.jpeg?x", "/static/a", "/a/static",
		"/a/static/b", "/staticx/a", "/ab", "/a", "/exact", "/u/x", "/U", "/x?a=b", "/x?c=1&a=bc", "/CI/x", "/ci/x", "/x?debug=1",
		"/x?debug=10", "/x?a=1&debug=1", "/x?Debug=1", "/a%2Fb", "/api%2Fx", "/v2/x", "/x/v2", "/v2", "/x.v2.y", "/x.txt", "/X.TXT",
		"/x?y.txt", "/static/../api/x", "//api/x",
	} {
		for _, m := range []string{"GET", "POST"} {
			rs = append(rs, rawRequest{method: m, target: path})
		}
	}
	for _, m := range []string{"HEAD", "PATCH", "patch", "PaTcH", "DELETE", "get", "OPTIONS"} {
		rs = append(rs, rawRequest{method: m, target: "/u/1"}, rawRequest{method: m, target: "/zz"})
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.16", "127.0.0.31", "127.0.0.32", "127.1.0.2"} {
		rs = append(rs, rawRequest{src: src, method: "GET", target: "/zz"}, rawRequest{src: src, method: "GET", target: "/x.txt"})
	}
	for _, hs := range [][]string{
		h("Host: x.example.com"), h("Host: X.Example.COM"), h("Host: x.example.com:80"), h("Host: www.example.org", "X-Flags: alpha, beta"),
		h("Host: www.example.org", "X-Flags: alpha"), h("Host: example.org:8080", "X-Flags: a", "X-Flags: betamax"),
		h("Host: example.orgx", "X-Flags: beta"), h("Host: a.example.org.uk", "X-Flags: beta"),
		h("X-Multi: a"), h("X-Multi: a, b"), h("X-Multi: a", "X-Multi: b"), h(`X-Multi: "a, b"`),
		h("Cookie: session=abc"), h("Cookie: a=1; session="), h("Cookie: sessionx=1"), h("Cookie: n=6"), h("Cookie: n=8; n=5"), h("Cookie: n=x"),
		h("User-Agent: GoogleBot"), h("User-Agent: bot/1.0"), h("Accept-Language: fr-FR"), h("Accept-Language: en, fr"),
		h("Accept-Language: fr, en"), h("X-Code: abcd"), h("X-Code: abc"), h("X-Code: ab, cdef"), h("X-Num: 15"), h("X-Num: 25"),
		h("X-Num: 15abc"), h("X-Num: 5, 12"), h("X-Num: -12"), h("X-Num: +12"),
		h("Host: x.example.com", "X-Ignored: 1"), h("Host: x.example.com"),
	} {
		rs = append(rs, rawRequest{method: "GET", target: "/zz", headers: hs})
	}
	rs = append(rs,
		rawRequest{method: "GET", target: "/bcd", headers: h("Host: x.example.com")},
		rawRequest{method: "GET", target: "/bcd?q", headers: h("Host: x.example.com")},
		rawRequest{method: "GET", target: "http://other.example/api/x", headers: h("Host: other.example")},
		rawRequest{method: "GET", target: "http://x.example.com/zz", headers: h("Host: x.example.com")},
		rawRequest{method: "GET", target: "/m-icase"}, rawRequest{method: "get", target: "/m-icase"}, rawRequest{method: "GET", target: "/m-lower"},
		rawRequest{method: "get", target: "/m-lower"}, rawRequest{method: "gEt", target: "/m-icase"},
		rawRequest{method: "GET", target: "/zz", headers: h(`X-Q: "a, b"`)}, rawRequest{method: "GET", target: "/zz", headers: h(`X-Q: "A, B", c`)},
		rawRequest{method: "GET", target: "/zz", headers: h(`X-Q: "a, b`)}, rawRequest{method: "GET", target: "/zz", headers: h(`X-Q: y,x`)},
		rawRequest{method: "GET", target: "/zz?p"}, rawRequest{method: "GET", target: "/zz?p="}, rawRequest{method: "GET", target: "/zz?a=1&p=2"},
		rawRequest{method: "GET", target: "/zz?a=1;p=2"}, rawRequest{method: "GET", target: "/zz;p=1"}, rawRequest{method: "GET", target: "/zz&p=1"}, rawRequest{method: "GET", target: "/zz?a&p=1"}, rawRequest{method: "GET", target: "/zz?P=1"},
		rawRequest{method: "GET", target: "/zz", headers: h("X-E:")}, rawRequest{method: "GET", target: "/zz", headers: h("X-E: a,,b")},
		rawRequest{method: "GET", target: "/zz", headers: h("X-E: a, ")}, rawRequest{method: "GET", target: "/zz", headers: h("X-E: x")},
		rawRequest{method: "GET", target: "/zz", headers: h("X-Occ: one, two")}, rawRequest{method: "GET", target: "/zz", headers: h("X-Occ: one", "X-Occ: two, x")},
		rawRequest{method: "GET", target: "/zz", headers: h("X-Occ: last, one")}, rawRequest{method: "GET", target: "/zz", headers: h("X-Occ: one, last")},
		rawRequest{method: "GET", target: "/from-file"}, rawRequest{method: "GET", target: "/indented"}, rawRequest{method: "GET", target: "/trailing"},
		rawRequest{method: "GET", target: "/trailing%20"}, rawRequest{method: "GET", target: "/commented"},
		rawRequest{method: "GET", target: "/zz", headers: h("X-Full: a, b")}, rawRequest{method: "GET", target: "/zz", headers: h("X-Full:   a, b  ")},
		rawRequest{method: "GET", target: "/zz", headers: h(`Cookie: q="xy"`)}, rawRequest{method: "GET", target: "/zz", headers: h(`Cookie: q = "xy"`)},
		rawRequest{method: "GET", target: "/zz", headers: h(`Cookie: a=1;q="x`)}, rawRequest{method: "GET", target: "/zz", headers: h(`Cookie: a="q=\"x"`)},
		rawRequest{method: "GET", target: "/zz", headers: h("X-Ref: www.example.com.evil")}, rawRequest{method: "GET", target: "/zz", headers: h("X-Ref: https://example.com/x")},
		rawRequest{method: "GET", target: "/zz", headers: h("X-Ref: x.org")}, rawRequest{method: "GET", target: "/zz", headers: h("X-Ref: org.x")},
		rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP:  10.1.2.3 ")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3:80")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3x")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: ::1")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: [::1]")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: ::1:80")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 1.1.1.1, 10.0.0.1")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3:abc")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3/8")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.300")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 0010.1.2.3")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 010.0.0.1")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3.4")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 1.1.1.1, 192.168.0.9")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 192.168.0.9, 1.1.1.1")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: ::ffff:10.0.0.1")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: ::1%lo")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 10.1.2.3:")}, rawRequest{method: "GET", target: "/zz", headers: h("X-IP: 00000010.1.2.3")},
		rawRequest{method: "POST", target: "/zz", headers: h("Transfer-Encoding: chunked"), body: "0\r\n\r\n"},
		rawRequest{method: "GET", target: "/zz", headers: h("Connection: close")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: keep-alive")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: foo")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: close, foo")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: Keep-Alive, Upgrade")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: foo, bar")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: Close")}, rawRequest{method: "GET", target: "/zz", headers: h("Connection: upgrade, close, x")},
		rawRequest{method: "GET", target: "/axyz?"}, rawRequest{method: "GET", target: "/aXyZ?b"}, rawRequest{method: "GET", target: "/aXyZ"},
	)
	return rs
}

// echoOrigin answers with the request it received: method, URI and the
// headers the rules tests look at, one per line.
func echoOrigin(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.RequestURI)
		var names []string
		for k := range r.Header {
			if strings.HasPrefix(k, "X-") || k == "Authorization" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], " | "))
		}
		w.Header().Set("X-Drop", "1")
		w.Header().Set("Content-Type", "text/plain")
		if code, found := strings.CutPrefix(r.URL.Path, "/status/"); found {
			n, _ := strconv.Atoi(code)
			w.WriteHeader(n)
		}
		io.WriteString(w, b.String())
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// comparedHeaders are the response headers compared between HAProxy and
// caddy.
var comparedHeaders = []string{"Location", "Cache-Control", "Content-Type", "Www-Authenticate", "X-Resp", "X-Resp-Order", "X-Drop", "X-Ret", "X-Err", "X-Nf"}

// outcome summarises a response for comparison.
func outcome(resp *http.Response, body string) string {
	return outcomeWith(resp, body, comparedHeaders)
}

// outcomeWith summarises a response by its status, the given headers and
// its body.
func outcomeWith(resp *http.Response, body string, headers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", resp.StatusCode)
	for _, h := range headers {
		if v := resp.Header.Values(h); len(v) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", h, strings.Join(v, " | "))
		}
	}
	b.WriteString(body)
	return b.String()
}

// outcomesOf returns a run for answersMatchHAProxy: it sends reqs to addr
// and summarises each answer with outcomeWith.
func outcomesOf(t *testing.T, addr string, reqs []rawRequest, headers []string) func() []string {
	return func() []string {
		out := make([]string, len(reqs))
		for i, r := range reqs {
			resp, body := r.send(t, addr)
			out[i] = outcomeWith(resp, body, headers)
		}
		return out
	}
}

// TestRequestRulesMatchHAProxy compares the answers and the forwarded
// requests of HAProxy and caddy for http-request, http-response, redirect
// and monitor rules.
func TestRequestRulesMatchHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port, monPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "acl_rules.cfg", map[string]any{"Port": port, "MonPort": monPort, "Origin": origin})
	addr, monAddr := loopback(port), loopback(monPort)
	h := func(hs ...string) []string { return hs }
	var reqs []addrRequest
	reqs = append(reqs, gets(addr,
		"/", "/health", "/health?x", "/admin", "/adminx", "/slow", "/unavail", "/after-allow", "/two", "/ret", "/hello",
		"/sec/a?b=1", "/old/x?y=1", "/old/x/?y=1", "/slash/x?q", "/slash/x/", "/slash/x?q/", "/locslash/x?q", "/keep/a?b", "/m", "/rw?k=v", "/private/a", "/private2", "/put", "/q?old=1",
		"/q", "/seturi?z=1", "/flag", "/host", "/status/404", "/status/500", "/status/302", "/status/399", "/status/599", "/status/204", "/leg/a?x", "/be-deny", "/rewritten",
	)...)
	reqs = append(reqs,
		addrRequest{addr, rawRequest{src: "127.0.0.5", method: "GET", target: "/admin"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/after-allow", headers: h("X-Allow: yes")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/admin", headers: h("X-Allow: yes")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/private/a", headers: h("X-Pass: letmein")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: h("X-Remove: 1", "X-Pre-A: 1", "x-pre-b: 2", "X-Prefix: 3", "X-Keep: 4")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: h("X-Rep: zabcz", "X-Rep: abd", "X-Rep: abc, abc")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: h("Host: example.com:8080", "X-Client: forged")}},
		addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: h("X-Added: zero")}},
		addrRequest{addr, rawRequest{method: "POST", target: "/put"}},
		addrRequest{addr, rawRequest{method: "GET", target: "http://test.local/sec/a?b=1"}},
		addrRequest{addr, rawRequest{method: "GET", target: "http://test.local/old/x?y=1"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/keep/a%7eb?x=%41"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/keep/%E2%82%AC/%2F?q"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/keep/a;b=c?d"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/rw%41?k=v"}},
		addrRequest{addr, rawRequest{method: "GET", target: "/x%2Fy?z"}},
		addrRequest{monAddr, rawRequest{method: "GET", target: "/up"}},
		addrRequest{monAddr, rawRequest{method: "GET", target: "/x"}},
	)
	requestsMatchHAProxy(t, cfg, []string{addr, monAddr}, reqs, outcome)
}

// TestAuthMatchesHAProxy checks that caddy accepts and refuses the same
// basic-auth credentials as HAProxy for "http-request auth … unless
// { http_auth(<userlist>) }", with a clear-text and a bcrypt password.
func TestAuthMatchesHAProxy(t *testing.T) {
	o, other := startOrigin(t, "app"), startOrigin(t, "other")
	port, groupPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "acl_auth.cfg", map[string]any{"Port": port, "GroupPort": groupPort, "Origin": o.Addr(), "Other": other.Addr()})
	addr, groupAddr := loopback(port), loopback(groupPort)
	basic := func(cred string) []string {
		return []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(cred))}
	}
	var reqs []addrRequest
	for _, hs := range [][]string{
		nil, basic("alice:secret"), basic("alice:Secret"), basic("alice:"), basic("bob:hunter2"), basic("bob:hunter3"),
		basic("carol:secret"), basic("alice"), {"Authorization: Bearer x"}, {"Authorization: Basic !!!"},
		{"Authorization: basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))},
	} {
		reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: "/", headers: hs}})
		for _, path := range []string{"/", "/internal", "/other"} {
			reqs = append(reqs, addrRequest{groupAddr, rawRequest{method: "GET", target: path, headers: hs}})
			reqs = append(reqs, addrRequest{groupAddr, rawRequest{src: "127.0.0.2", method: "GET", target: path, headers: hs}})
		}
	}
	want := requestsMatchHAProxy(t, cfg, []string{addr, groupAddr}, reqs, authOutcome)
	// alice's valid credentials on the first frontend.
	if want[7] != `200 "" app` || want[0] == want[7] {
		t.Errorf("haproxy did not behave as the test expects: %q", want)
	}
}

// TestErrorFilesMatchHAProxy compares the pages HAProxy and caddy send from
// errorfiles.
func TestErrorFilesMatchHAProxy(t *testing.T) {
	o := startOrigin(t, "app")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"403.http":  "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nCache-Control: no-cache\r\nX-Custom: {yes}\r\nConnection: close\r\n\r\nGo away\n",
		"403b.http": "HTTP/1.1 403 Forbidden\r\nX-Page: backend\r\nContent-Type: text/plain\r\n\r\nbackend says no\n",
		"503.http":  "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n",
		"200.http":  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nalive\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	cfg := writeConfig(t, "acl_errorfiles.cfg", map[string]any{"Port": port, "Origin": o.Addr(), "Dir": dir})
	addr := loopback(port)
	reqs := []rawRequest{
		{method: "GET", target: "/deny"}, {method: "GET", target: "/deny503"}, {method: "GET", target: "/deny429"},
		{method: "GET", target: "/auth"}, {method: "GET", target: "/mon"}, {method: "GET", target: "/mon", headers: []string{"X-Fail: 1"}},
		{method: "GET", target: "/nobackend"}, {method: "GET", target: "/app/deny"}, {method: "GET", target: "/app/x"},
	}
	headers := []string{"Content-Type", "Cache-Control", "X-Custom", "X-Page", "Www-Authenticate"}
	answersMatchHAProxy(t, cfg, []string{addr}, outcomesOf(t, addr, reqs, headers), func(i int) string { return reqs[i].String() })
}

// selfSignedPEM writes a certificate for the names and its key into one
// PEM file, as "bind … ssl crt" takes it.
func selfSignedPEM(t *testing.T, names ...string) string {
	t.Helper()
	c := certtest.Issue(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names})
	return writeTestFile(t, t.TempDir(), "site.pem", keyPairPEM(t, c))
}

// TestTLSConditionsMatchHAProxy compares ssl_fc and ssl_fc_sni routing and
// the ssl_fc_sni placeholder between HAProxy and caddy.
func TestTLSConditionsMatchHAProxy(t *testing.T) {
	b1, b2, bdef := startOrigin(t, "b1"), startOrigin(t, "b2"), startOrigin(t, "bdef")
	port, tlsPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "acl_tls.cfg", map[string]any{
		"Port": port, "TLSPort": tlsPort, "Cert": selfSignedPEM(t, "a.example", "b.example", "c.test"),
		"B1": b1.Addr(), "B2": b2.Addr(), "Bdef": bdef.Addr(),
	})
	addr, tlsAddr := loopback(port), loopback(tlsPort)
	type probe struct {
		sni, path string
		tls       bool
	}
	probes := []probe{
		{"a.example", "/", true}, {"A.EXAMPLE", "/", true}, {"b.example", "/", true}, {"c.test", "/", true}, {"", "/", true},
		{"", "/", false}, {"", "/secure/x?y", false},
	}
	run := func() []string {
		out := make([]string, len(probes))
		for i, p := range probes {
			target := "http://" + addr + p.path
			tr := &http.Transport{DisableKeepAlives: true}
			if p.tls {
				target = "https://" + tlsAddr + p.path
				tr.TLSClientConfig = &tls.Config{ServerName: p.sni, InsecureSkipVerify: true}
			}
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Get(target)
			if err != nil {
				t.Fatalf("%+v: %v", p, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sni := ""
			for _, o := range []*origin{b1, b2, bdef} {
				if o.name == string(body) {
					sni = o.lastHeader().Get("X-Sni")
				}
			}
			out[i] = fmt.Sprintf("%d %s %q %q", resp.StatusCode, body, resp.Header.Get("Location"), sni)
		}
		return out
	}
	answersMatchHAProxy(t, cfg, []string{addr, tlsAddr}, run, func(i int) string { return fmt.Sprintf("%+v", probes[i]) })
}

// TestRepliesMatchHAProxy compares deny and return answers with reply
// options (payloads, files, headers) between HAProxy and caddy.
func TestRepliesMatchHAProxy(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"body.txt":  "file body {x}\n",
		"lf.txt":    "lf %[src] here\n",
		"page.http": "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Custom: yes\r\n\r\nGo away\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	cfg := writeConfig(t, "acl_replies.cfg", map[string]any{"Port": port, "Dir": dir})
	addr := loopback(port)
	var reqs []rawRequest
	for _, path := range []string{"/s", "/h", "/d404", "/f", "/lf", "/ef", "/def", "/rh", "/lfs", "/other"} {
		reqs = append(reqs, rawRequest{method: "GET", target: path})
	}
	// Content-Length is framing: HAProxy sends an errorfile without one
	// and closes; the bodies are compared.
	headers := []string{"Content-Type", "Cache-Control", "X-A", "X-B", "X-C", "X-Custom"}
	answersMatchHAProxy(t, cfg, []string{addr}, outcomesOf(t, addr, reqs, headers), func(i int) string { return reqs[i].String() })
}
