package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// timedOutcome is a response summarised by outcome, with how long it took.
type timedOutcome struct {
	text    string
	elapsed time.Duration
}

// sendTimed sends each request on its own connection and times it.
func sendTimed(t *testing.T, reqs []addrRequest) []timedOutcome {
	t.Helper()
	out := make([]timedOutcome, len(reqs))
	for i, q := range reqs {
		start := time.Now()
		resp, body := q.r.send(t, q.addr)
		out[i] = timedOutcome{outcome(resp, body), time.Since(start)}
	}
	return out
}

// addrRequest is a request and the listener it goes to.
type addrRequest struct {
	addr string
	r    rawRequest
}

func (q addrRequest) String() string { return fmt.Sprintf("%s to %s", q.r, q.addr) }

// gets is a plain GET of each target to addr.
func gets(addr string, targets ...string) []addrRequest {
	reqs := make([]addrRequest, len(targets))
	for i, target := range targets {
		reqs[i] = addrRequest{addr, rawRequest{method: "GET", target: target}}
	}
	return reqs
}

// TestTarpitMatchesHAProxy checks that caddy holds the requests HAProxy
// tarpits for the same time (the frontend's timeout tarpit, the backend's
// timeout connect, none for a frontend without timeout tarpit) and answers
// them the same way, including rules matching case variants.
func TestTarpitMatchesHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port, barePort := freePort(t), freePort(t)
	cfg := writeConfig(t, "rules_tarpit.cfg", map[string]any{"Port": port, "BarePort": barePort, "Origin": origin})
	addr, bare := loopback(port), loopback(barePort)
	const frontendDelay, backendDelay = 300 * time.Millisecond, 600 * time.Millisecond
	reqs := []struct {
		addrRequest
		delay time.Duration
	}{
		{addrRequest{addr, rawRequest{method: "GET", target: "/t500"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/t403/x"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/t429"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: []string{"User-Agent: SQLMap/1.5"}}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/bt"}}, backendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/wp-login.php"}}, frontendDelay},
		{addrRequest{addr, rawRequest{method: "GET", target: "/x"}}, 0},
		{addrRequest{addr, rawRequest{method: "GET", target: "/T500"}}, 0},
		{addrRequest{bare, rawRequest{method: "GET", target: "/t500"}}, 0},
		{addrRequest{bare, rawRequest{method: "GET", target: "/bt"}}, backendDelay},
	}
	var plain []addrRequest
	for _, q := range reqs {
		plain = append(plain, q.addrRequest)
	}
	check := func(name string, got []timedOutcome) {
		for i, q := range reqs {
			// A held request takes at least the delay and not much more;
			// the others answer well within the shortest delay.
			e := got[i].elapsed
			if e < q.delay || e > q.delay+frontendDelay*2/3 {
				t.Errorf("%s: %s to %s took %v, want %v", name, q.r, q.addr, e, q.delay)
			}
		}
	}
	haproxy := startHAProxy(t, cfg, addr, bare)
	want := sendTimed(t, plain)
	haproxy.stop()
	check("haproxy", want)

	startCaddy(t, cfg)
	got := sendTimed(t, plain)
	check("caddy", got)
	for i, q := range reqs {
		if got[i].text != want[i].text {
			t.Errorf("%s to %s:\ncaddy:\n%s\nhaproxy:\n%s", q.r, q.addr, got[i].text, want[i].text)
		}
	}
	if want[0].text == want[6].text {
		t.Errorf("the tarpit did not answer differently from the backend: %q", want[0].text)
	}
}

// compareRequests sends the requests through HAProxy, then caddy, on the
// same config and reports every answer (status, compared headers and body,
// which the echo origin makes the forwarded request) that differs. It
// returns HAProxy's answers.
func compareRequests(t *testing.T, cfg string, listeners []string, reqs []addrRequest) []string {
	t.Helper()
	return requestsMatchHAProxy(t, cfg, listeners, reqs, func(resp *http.Response, body string) string {
		// X-Page tells errorfile pages apart.
		return "X-Page: " + resp.Header.Get("X-Page") + "\n" + outcome(resp, body)
	})
}

// requestsMatchHAProxy sends the requests through HAProxy, then caddy, on
// the same config and reports every answer, as outcome tells it, that
// differs. It returns HAProxy's answers.
func requestsMatchHAProxy(t *testing.T, cfg string, listeners []string, reqs []addrRequest, outcome func(*http.Response, string) string) []string {
	t.Helper()
	run := func() []string { return sendEach(t, reqs, outcome) }
	return answersMatchHAProxy(t, cfg, listeners, run, func(i int) string { return reqs[i].String() })
}

// sendEach sends the requests in order and returns the outcome of each
// answer.
func sendEach(t *testing.T, reqs []addrRequest, outcome func(*http.Response, string) string) []string {
	t.Helper()
	out := make([]string, len(reqs))
	for i, q := range reqs {
		out[i] = outcome(q.r.send(t, q.addr))
	}
	return out
}

// atLeastDistinct checks that the answers count at least least different
// ones, so that the requests exercise the rules.
func atLeastDistinct(t *testing.T, answers []string, least int) {
	t.Helper()
	if n := distinct(answers); n < least {
		t.Errorf("only %d distinct answers", n)
	}
}

// distinct counts the different answers, so that a test can check that
// its requests exercise the rules.
func distinct(answers []string) int {
	seen := map[string]bool{}
	for _, a := range answers {
		seen[a] = true
	}
	return len(seen)
}

// TestVarsAndConvertersMatchHAProxy compares set-var rules, var() in ACLs
// and header values, and ACLs with converters (map files included), with
// deny rules that must block case variants, percent-encoded paths and
// duplicate headers exactly as HAProxy does.
func TestVarsAndConvertersMatchHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port := freePort(t)
	mapFile, err := filepath.Abs(filepath.Join("testdata", "rules_vars.map"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "rules_vars.cfg", map[string]any{"Port": port, "Origin": origin, "Map": mapFile})
	addr := loopback(port)
	h := func(hs ...string) []string { return hs }
	var reqs []addrRequest
	for _, host := range []string{"a.example.com", "A.Example.COM", "b.example.com", "api.example.com", "API.example.com", "unknown.example", "test.local", "a.example.com:80", "a.example.comx"} {
		for _, path := range []string{"/", "/osm/12/34/56.png", "/osm/16/1/2.png", "/osm//3/x.png?q=1", "/flag", "/admin", "/ADMIN/x", "/Admin", "/%61dmin", "/%41DMIN", "/x/ADMIN", "/x?/admin", "/a/b/c/d/e", "/a/x", "/a/X/y"} {
			reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: path, headers: h("Host: " + host)}})
		}
	}
	for _, hs := range [][]string{
		h("X-Dup: a, b", "X-Dup: c"), h("X-Dup: one"), h("X-Dup: x,y"), h("Cookie: c=1; c=2"), h("Cookie: c=7", "Cookie: d=1; c=8"),
		h("User-Agent: short"), h("User-Agent: a-very-long-user-agent-string"), h("User-Agent: short", "User-Agent: a-very-long-user-agent-string"),
		h("User-Agent: x, a-very-long-user-agent-string"),
	} {
		for _, target := range []string{"/osm/3/4/5.png", "/a/x"} {
			reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: target, headers: hs}})
		}
	}
	reqs = append(reqs, gets(addr, "/osm/3/4/5.png?a=x&a=y", "/OSM/3?b=1&a=Q%41", "/x?a", "/x?a=", "/go/Here?q", "/ret/zz")...)
	want := compareRequests(t, cfg, []string{addr}, reqs)
	atLeastDistinct(t, want, 30)
}

// TestAfterResponseMatchesHAProxy compares http-after-response rules on
// the server's responses and on the answers HAProxy and caddy make
// themselves: deny, redirect, tarpit, monitor-uri and a server that
// refuses connections; set-status there and in http-response rules.
func TestAfterResponseMatchesHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port, dead := freePort(t), freePort(t)
	cfg := writeConfig(t, "rules_after.cfg", map[string]any{"Port": port, "Origin": origin, "Dead": loopback(dead)})
	addr := loopback(port)
	var reqs []addrRequest
	reqs = append(reqs, gets(addr, "/", "/x", "/status/404", "/status/503", "/status/200", "/deny", "/DENY", "/redir", "/tarpit", "/mon", "/dead", "/teapot", "/xdead")...)
	want := compareRequests(t, cfg, []string{addr}, reqs)
	atLeastDistinct(t, want, 8)
}

// TestOriginalToMatchesHAProxy compares the X-Original-To headers HAProxy
// and caddy forward: the listener's address appended after the client's
// own header and after the request rules, another header name from the
// backend, and the except networks of either section.
func TestOriginalToMatchesHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	port, plainPort := freePort(t), freePort(t)
	cfg := writeConfig(t, "rules_originalto.cfg", map[string]any{"Port": port, "PlainPort": plainPort, "Origin": origin})
	var reqs []addrRequest
	var listeners []string
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		listeners = append(listeners, addr)
		for _, path := range []string{"/", "/del", "/named", "/narrow"} {
			reqs = append(reqs,
				addrRequest{addr, rawRequest{method: "GET", target: path}},
				addrRequest{addr, rawRequest{method: "GET", target: path, headers: []string{"X-Original-To: 10.9.9.9"}}})
		}
	}
	for _, host := range []string{"127.0.0.1", "127.0.0.2"} {
		addr := net.JoinHostPort(host, strconv.Itoa(plainPort))
		listeners = append(listeners, addr)
		reqs = append(reqs, gets(addr, "/", "/named")...)
	}
	want := compareRequests(t, cfg, listeners, reqs)
	atLeastDistinct(t, want, 8)
}

// TestErrorPagesMatchHAProxy compares the pages of errorloc lines,
// http-errors sections brought in by errorfiles (in declaration order with
// errorfile lines) and http-error lines, for deny and tarpit rules and for
// a server that refuses connections.
func TestErrorPagesMatchHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"site503.http":  "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Page: site\r\n\r\nsite says down\n",
		"site403.http":  "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Page: site\r\n\r\nsite says no\n",
		"proxy503.http": "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Page: proxy\r\n\r\nproxy says down\n",
		"lf.txt":        "<h1>%[req.hdr(host)] is too fast</h1>\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ports := map[string]any{"Dir": dir, "Origin": origin, "Dead": loopback(freePort(t))}
	var listeners []string
	for _, name := range []string{"LocPort", "PagesPort", "Order1Port", "Order2Port"} {
		p := freePort(t)
		ports[name] = p
		listeners = append(listeners, loopback(p))
	}
	cfg := writeConfig(t, "rules_errorpages.cfg", ports)
	var reqs []addrRequest
	for _, addr := range listeners {
		reqs = append(reqs, gets(addr, "/", "/deny", "/slow", "/tarpit", "/dead", "/secdeny", "/secslow")...)
	}
	want := compareRequests(t, cfg, listeners, reqs)
	atLeastDistinct(t, want, 10)
}

// TestNormalizeURIMatchesHAProxy compares the targets HAProxy and caddy
// forward after normalize-uri rules, and the deny rules that follow them,
// on dot segments, repeated slashes, escapes and query order. (An
// absolute-form target is left out: HAProxy forwards it as it is, Caddy's
// proxy in origin form, with or without normalization.)
func TestNormalizeURIMatchesHAProxy(t *testing.T) {
	origin := echoOrigin(t)
	ports := map[string]any{"Origin": origin}
	var listeners []string
	for _, name := range []string{"Port1", "Port2", "Port3"} {
		p := freePort(t)
		ports[name] = p
		listeners = append(listeners, loopback(p))
	}
	cfg := writeConfig(t, "rules_normalize.cfg", ports)
	var reqs []addrRequest
	for _, addr := range listeners {
		reqs = append(reqs, gets(addr,
			"//a///b//?x=//y", "/./a/./b/.", "/a/.b/..c/./", "/a/b/../c", "/a/b/..", "/../a", "/../../a", "/a/../../b", "/a/b/../../../c/",
			"/a/%2e%2E/b", "/%61%7e%2f%41%2D%3a?q=%61%7e", "/%3a%2f%e2%82%ac%5a", "/x?b=2&a=1&b=1&a&c=3;d", "/x?", "/x?&&a",
			"/a/./../b/.?/./", "//a/../b", "/a/..//b", "/a/..", "/..", "/.", "/",
			"//admin", "/./admin", "/x/../admin", "/%61dmin", "/%2e/admin", "/../admin", "/x/%2E%2E/admin", "/ADMIN", "/x?admin",
		)...)
	}
	want := compareRequests(t, cfg, listeners, reqs)
	atLeastDistinct(t, want, 30)
}

// TestDynamicUseBackendMatchesHAProxy compares use_backend rules whose
// backend name is a sample expression (a header through converters and a
// map file, a variable): the same backend must answer, and a name that
// names no backend must reach the default backend.
func TestDynamicUseBackendMatchesHAProxy(t *testing.T) {
	origins := startOrigins(t, "a", "b", "dflt")
	port := freePort(t)
	mapFile, err := filepath.Abs(filepath.Join("testdata", "rules_dynamic.map"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "rules_dynamic.cfg", map[string]any{"Port": port, "Map": mapFile,
		"A": origins[0].Addr(), "B": origins[1].Addr(), "Dflt": origins[2].Addr()})
	addr := loopback(port)
	var reqs []addrRequest
	for _, host := range []string{"a.example", "A.EXAMPLE", "b.example", "c.example", "a.example:80", "be_a.example"} {
		for _, path := range []string{"/", "/m", "/v"} {
			for _, be := range []string{"", "be_a.example", "be_b.example", "BE_A.EXAMPLE", "dflt", "none"} {
				hs := []string{"Host: " + host}
				if be != "" {
					hs = append(hs, "X-Be: "+be)
				}
				reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: path, headers: hs}})
			}
		}
	}
	reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: "/v", headers: []string{"X-Be: be_a.example", "X-Be: be_b.example"}}})
	want := compareRequests(t, cfg, []string{addr}, reqs)
	if n := distinct(want); n != 3 {
		t.Errorf("%d distinct answers, want one per backend", n)
	}
}

// headerRulesMatchHAProxy sends GET / and GET /status/404 with each set
// of request headers through a config of header rules in front of the echo
// origin, compares the answers with HAProxy's, and returns HAProxy's.
func headerRulesMatchHAProxy(t *testing.T, cfgName string, headerSets [][]string) []string {
	t.Helper()
	origin := echoOrigin(t)
	port := freePort(t)
	cfg := writeConfig(t, cfgName, map[string]any{"Port": port, "Origin": origin})
	addr := loopback(port)
	var reqs []addrRequest
	for _, hs := range headerSets {
		for _, path := range []string{"/", "/status/404"} {
			reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: path, headers: hs}})
		}
	}
	return compareRequests(t, cfg, []string{addr}, reqs)
}

// TestReplaceValueMatchesHAProxy compares replace-value rules on request
// headers (several lines, quoted values, blanks, empty values) and on
// response headers.
func TestReplaceValueMatchesHAProxy(t *testing.T) {
	want := headerRulesMatchHAProxy(t, "rules_replace_value.cfg", [][]string{
		nil, {"X-V: a1, b2,a3 ,  a4"}, {"X-V: a1"}, {`X-V: "a1, a2", a3`}, {"X-W: abc, bcd, zzz"}, {"X-W: abc,,b"},
		{"X-W: b1", "X-W: c, b2"}, {"X-Q: SECRET, public"}, {"X-Q: secretive"}, {"X-V: , a"},
	})
	atLeastDistinct(t, want, 12)
}

// TestHeaderRulesBothWaysMatchHAProxy compares request and response
// header rules written in turns, which the adapter merges into fewer
// handlers, on what the server receives and what the client gets.
func TestHeaderRulesBothWaysMatchHAProxy(t *testing.T) {
	want := headerRulesMatchHAProxy(t, "rules_headers_both_ways.cfg", [][]string{
		nil, {"X-Remove: 1", "X-Keep: 2"}, {"X-Added: zero"}, {"X-Resp: client", "X-Client: forged"},
	})
	// A client's X-Added, X-Resp and X-Client are overwritten.
	atLeastDistinct(t, want, 4)
}

// TestUseServerMatchesHAProxy compares use-server rules: the server a
// matching rule names answers, even with weight 0; a down server's rule is
// passed over for the next matching one, else the load balancer picks.
func TestUseServerMatchesHAProxy(t *testing.T) {
	origins := startOrigins(t, "s1", "s2", "s3")
	port := freePort(t)
	cfg := writeConfig(t, "rules_use_server.cfg", map[string]any{"Port": port,
		"S1": origins[0].Addr(), "S2": origins[1].Addr(), "S3": origins[2].Addr(), "Down": loopback(freePort(t))})
	addr := loopback(port)
	var reqs []addrRequest
	reqs = append(reqs, gets(addr, "/two", "/three", "/x", "/down", "/lb", "/two", "/lb", "/x", "/three", "/lb")...)
	reqs = append(reqs, addrRequest{addr, rawRequest{method: "GET", target: "/x", headers: []string{"X-Srv: THREE"}}})
	// Both must have seen the down server fail its check first.
	wait := func() {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			resp, body := rawRequest{method: "GET", target: "/down"}.send(t, addr)
			if resp.StatusCode == 200 && body == "s2" {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("the down server was never seen down")
	}
	run := func() []string {
		wait()
		return sendEach(t, reqs, func(resp *http.Response, body string) string {
			return fmt.Sprintf("%d %s", resp.StatusCode, body)
		})
	}
	want := answersMatchHAProxy(t, cfg, []string{addr}, run, func(i int) string { return fmt.Sprintf("request %d %s", i, reqs[i].r) })
	if distinct(want) != 3 {
		t.Errorf("haproxy's answers do not involve the three servers: %q", want)
	}
}
