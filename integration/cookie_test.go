package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// This file runs the same haproxy.cfg with cookie persistence under the
// real HAProxy and under caddy, sends both the same cookie-bearing
// requests, and compares what the client and the servers see: the server
// that answered, the Set-Cookie and Cache-Control headers of the response,
// and the Cookie headers the server received.

// cookieOrigin answers its name, reports the Cookie headers it received in
// X-Got-Cookie (a JSON array), and adds to its response the headers the
// request asks for: each "X-Reply: Name: value" header becomes a response
// header.
func startCookieOrigin(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := json.Marshal(r.Header["Cookie"])
		w.Header().Set("X-Got-Cookie", string(got))
		for _, reply := range r.Header["X-Reply"] {
			k, v, _ := strings.Cut(reply, ":")
			w.Header().Add(k, strings.TrimSpace(v))
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// cookieRequest is one request of a scenario.
type cookieRequest struct {
	// what the step checks, for messages
	what   string
	method string
	// cookies are the Cookie header lines; {now-600} in a value is
	// replaced by HAProxy's date encoding of that time.
	cookies []string
	// replies are response headers the origin must add ("Name: value").
	replies []string
}

// cookieSeen is what one request observed.
type cookieSeen struct {
	Status       int
	Server       string
	SetCookie    []string
	CacheControl []string
	Forwarded    []string
}

// cookieScenario is a listen section and the requests sent to it in order.
type cookieScenario struct {
	name string
	// lines go into the listen section, before the servers; {s1}, {s2}
	// and {s3} in a server line stand for the origins' addresses, and
	// {closed} for a port nothing listens on.
	lines    []string
	servers  []string
	requests []cookieRequest
	// ready, when set, is polled on the section's URL until it holds,
	// before the requests (a health check must have run).
	ready func(t *testing.T, url string) bool
	// checked names the server line (a unique substring of it) whose
	// health checks the scenario relies on.
	checked string
}

func cookieScenarios() []cookieScenario {
	threeServers := []string{"server s1 {s1} cookie a1", "server s2 {s2} cookie b2", "server s3 {s3} cookie c3"}
	firstVisit := cookieRequest{what: "first visit"}
	return []cookieScenario{{
		name:    "insert",
		lines:   []string{"cookie SRV insert indirect nocache"},
		servers: threeServers,
		requests: []cookieRequest{
			firstVisit,
			{what: "revisit", cookies: []string{"SRV=b2"}},
			{what: "revisit among other cookies", cookies: []string{"a=1; SRV=c3; b = 2"}},
			{what: "several Cookie headers", cookies: []string{"x=1", "SRV=a1; y=2", "SRV=c3"}},
			{what: "RFC 2109 attributes", cookies: []string{"$Version=1; SRV=b2; $Path=/; z=9"}},
			{what: "foreign value", cookies: []string{"SRV=zz; q=1"}},
			{what: "empty value", cookies: []string{"SRV=; q=1"}},
			{what: "cookie name in other case", cookies: []string{"srv=b2"}},
			{what: "server sets the cookie", replies: []string{"Set-Cookie: SRV=app; path=/", "Set-Cookie: other=1"}},
			{what: "cacheable response gets private", replies: []string{"Cache-Control: max-age=60"}},
			{what: "validator makes it cacheable", replies: []string{"ETag: \"v1\""}},
			{what: "no-store response", replies: []string{"Cache-Control: no-store, max-age=60"}},
			{what: "POST is not cacheable", method: "POST", replies: []string{"Cache-Control: max-age=60"}},
			{what: "public POST is", method: "POST", replies: []string{"Cache-Control: public, max-age=60"}},
			{what: "no cookie inserted, no private", cookies: []string{"SRV=a1"}, replies: []string{"Cache-Control: max-age=60"}},
		},
	}, {
		name: "attributes",
		lines: []string{"cookie SRV insert maxidle 30m maxlife 2h domain .example.com domain .example.org httponly secure attr SameSite=Lax attr Priority=High",
			"http-response set-header X-Checked yes"},
		servers: threeServers,
		requests: []cookieRequest{
			firstVisit,
			{what: "fresh dates refreshed", cookies: []string{"SRV=b2|{now-60}|{now-600}"}},
			{what: "last date in the future", cookies: []string{"SRV=b2|{now+3600}|{now-600}"}},
			{what: "idle too long", cookies: []string{"SRV=b2|{now-3600}|{now-4000}"}},
			{what: "too old", cookies: []string{"SRV=c3|{now-60}|{now-9000}"}},
			{what: "more than a day ahead", cookies: []string{"SRV=c3|{now+90000}"}},
			{what: "without dates", cookies: []string{"SRV=a1"}},
			{what: "bad date characters", cookies: []string{"SRV=a1|ab!cd"}},
		},
	}, {
		name:    "postonly",
		lines:   []string{"cookie SRV insert postonly indirect"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "GET gets no cookie"},
			{what: "POST gets one", method: "POST"},
			{what: "POST with a valid cookie", method: "POST", cookies: []string{"SRV=a1"}},
		},
	}, {
		name:    "prefix",
		lines:   []string{"cookie APP prefix"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "server's cookie prefixed", replies: []string{"Set-Cookie: APP=xyz; path=/"}},
			{what: "prefix removed before the server", cookies: []string{"APP=b2~xyz; k=v"}, replies: []string{"Set-Cookie: APP=new; path=/"}},
			{what: "value without prefix", cookies: []string{"APP=c3"}},
			{what: "unknown prefix", cookies: []string{"APP=zz~xyz"}},
		},
	}, {
		name:    "rewrite",
		lines:   []string{"cookie APP rewrite"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "server's cookie rewritten", replies: []string{"Set-Cookie: APP=anything; path=/"}},
			{what: "revisit keeps its cookie", cookies: []string{"APP=c3"}, replies: []string{"Set-Cookie: APP = session ; path=/", "Set-Cookie: x = 1"}},
			{what: "no server cookie"},
		},
	}, {
		name:    "passive",
		lines:   []string{"cookie SRV indirect preserve"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "revisit", cookies: []string{"SRV=b2"}, replies: []string{"Set-Cookie: SRV=b2; path=/"}},
			{what: "first visit keeps the server's cookie", replies: []string{"Set-Cookie: SRV=a1"}},
		},
	}, {
		name:    "maint",
		lines:   []string{"cookie SRV insert indirect"},
		servers: []string{"server s1 {s1} cookie a1", "server s2 {s2} cookie b2 disabled", "server s3 {s3} cookie c3"},
		requests: []cookieRequest{
			{what: "cookie for a server in maintenance", cookies: []string{"SRV=b2"}},
			{what: "again", cookies: []string{"SRV=b2"}},
		},
	}, {
		name:    "maint-persist",
		lines:   []string{"cookie SRV insert indirect", "option persist"},
		servers: []string{"server s1 {s1} cookie a1", "server s2 {s2} cookie b2 disabled", "server s3 {s3} cookie c3"},
		requests: []cookieRequest{
			{what: "option persist follows the cookie", cookies: []string{"SRV=b2"}},
			firstVisit,
		},
	}, {
		name:    "weight0",
		lines:   []string{"cookie SRV insert indirect"},
		servers: []string{"server s1 {s1} cookie a1", "server s2 {s2} cookie b2 weight 0", "server s3 {s3} cookie c3"},
		requests: []cookieRequest{
			{what: "out of load balancing, still persistent", cookies: []string{"SRV=b2"}},
			firstVisit, firstVisit,
		},
	}, {
		name:    "down",
		lines:   []string{"cookie SRV insert indirect"},
		servers: []string{"server s1 {s1} cookie a1", "server s2 {closed} cookie b2 check inter 100ms"},
		checked: "cookie b2 check inter 100ms",
		ready: func(t *testing.T, url string) bool {
			// Until the check marks s2 down, the cookie leads to it
			// and the request fails.
			seen := cookieDo(t, url, cookieRequest{cookies: []string{"SRV=b2"}}, time.Now())
			return seen.Status == http.StatusOK
		},
		requests: []cookieRequest{
			{what: "cookie for a down server", cookies: []string{"SRV=b2"}},
			{what: "no cookie", cookies: nil},
		},
	}, {
		name:    "retry",
		lines:   []string{"cookie SRV insert indirect", "option redispatch", "retries 2"},
		servers: []string{"server s1 {closed} cookie a1", "server s2 {s2} cookie b2"},
		requests: []cookieRequest{
			{what: "redispatched first visit gets one cookie"},
		},
	}, {
		name:    "backup",
		lines:   []string{"cookie SRV insert indirect"},
		servers: []string{"server s1 {s1} cookie a1 disabled", "server s2 {s2} backup", "server s3 {s3} cookie c3 backup"},
		requests: []cookieRequest{
			{what: "backup without a cookie value clears the cookie"},
			{what: "cookie of a server in maintenance", cookies: []string{"SRV=a1"}},
			{what: "cookie of the second backup", cookies: []string{"SRV=c3"}},
		},
	}, {
		name:    "shared-value",
		lines:   []string{"cookie SRV insert"},
		servers: []string{"server s1 {s1} cookie x disabled", "server s2 {s2} cookie x", "server s3 {s3} cookie x"},
		requests: []cookieRequest{
			{what: "first usable server with the value", cookies: []string{"SRV=x"}},
			{what: "again", cookies: []string{"SRV=x"}},
		},
	}, {
		name:    "maxidle",
		lines:   []string{"cookie SRV insert indirect maxidle 30m"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "first date dropped", cookies: []string{"SRV=b2|{now-60}|{now-600}"}},
			{what: "recent future date kept", cookies: []string{"SRV=c3|{now+8}"}},
			{what: "no date", cookies: []string{"SRV=c3"}},
		},
	}, {
		name:    "preserve",
		lines:   []string{"cookie SRV insert preserve"},
		servers: threeServers,
		requests: []cookieRequest{
			{what: "server's cookie kept, none inserted", replies: []string{"Set-Cookie: SRV=mine; path=/app"}},
			{what: "inserted when the server sets none"},
			{what: "server's cookie on a revisit", cookies: []string{"SRV=a1"}, replies: []string{"Set-Cookie: SRV=; Max-Age=0"}},
		},
	}, {
		name:    "dynamic",
		lines:   []string{"dynamic-cookie-key s3cr3t", "cookie SRV insert dynamic indirect"},
		servers: []string{"server s1 {s1}", "server s2 {s2}", "server s3 {s3} cookie own"},
		requests: []cookieRequest{
			firstVisit, firstVisit, firstVisit,
		},
	}}
}

// cookieConfigFile writes the config for all scenarios, one listen section
// per scenario on consecutive ports from base.
func cookieConfigFile(t *testing.T, scenarios []cookieScenario, base int, addrs map[string]string) string {
	var b strings.Builder
	b.WriteString("defaults\n  mode http\n  timeout connect 300ms\n  timeout client 5s\n  timeout server 5s\n\n")
	for i, sc := range scenarios {
		fmt.Fprintf(&b, "listen %s\n  bind %s\n", sc.name, loopback(base+i))
		for _, l := range sc.lines {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		for _, s := range sc.servers {
			for k, v := range addrs {
				s = strings.ReplaceAll(s, "{"+k+"}", v)
			}
			fmt.Fprintf(&b, "  %s\n", s)
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "cookie.cfg")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var datePlaceholder = regexp.MustCompile(`\{now([+-]\d+)?\}`)

// encodeCookieDate is HAProxy's 5-character date: (seconds+3)/4 in 30
// bits of base64, most significant first.
func encodeCookieDate(sec int64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	v := (sec + 3) >> 2
	var out [5]byte
	for i := range out {
		out[i] = alphabet[(v>>(24-6*i))&0x3f]
	}
	return string(out[:])
}

func decodeCookieDate(s string) (int64, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var v int64
	for i := 0; i < 5; i++ {
		d := strings.IndexByte(alphabet, s[i])
		if d < 0 {
			return 0, false
		}
		v = v<<6 | int64(d)
	}
	return v << 2, true
}

// cookieDo sends one request at time sent and records what it saw.
func cookieDo(t *testing.T, url string, in cookieRequest, sent time.Time) cookieSeen {
	t.Helper()
	method := in.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range in.cookies {
		c = datePlaceholder.ReplaceAllStringFunc(c, func(m string) string {
			var off int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimPrefix(m, "{now"), "}"), &off)
			return encodeCookieDate(sent.Unix() + off)
		})
		req.Header.Add("Cookie", c)
	}
	for _, r := range in.replies {
		req.Header.Add("X-Reply", r)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	seen := cookieSeen{Status: resp.StatusCode, SetCookie: resp.Header["Set-Cookie"], CacheControl: resp.Header["Cache-Control"]}
	if resp.StatusCode == http.StatusOK {
		seen.Server = string(body)
		if err := json.Unmarshal([]byte(resp.Header.Get("X-Got-Cookie")), &seen.Forwarded); err != nil {
			t.Fatalf("X-Got-Cookie %q: %v", resp.Header.Get("X-Got-Cookie"), err)
		}
	}
	// Dates depend on the clock: write them relative to the time the
	// request was sent, to the 10 seconds.
	for _, values := range [][]string{seen.SetCookie, seen.Forwarded} {
		for i, v := range values {
			values[i] = relativeDates(v, sent.Unix())
		}
	}
	return seen
}

var cookieDate = regexp.MustCompile(`\|([A-Za-z0-9+/]{5})`)

func relativeDates(v string, now int64) string {
	return cookieDate.ReplaceAllStringFunc(v, func(m string) string {
		d, ok := decodeCookieDate(m[1:])
		if !ok {
			return m
		}
		off := d - now
		// Dates are rounded up to 4 s, and the request takes time.
		if off < -5 {
			off -= 5
		} else {
			off += 5
		}
		return fmt.Sprintf("|<now%+d>", off/10*10)
	})
}

// cookieReadyTimeout bounds the wait for a scenario's ready condition.
const cookieReadyTimeout = 10 * time.Second

func waitCookieReady(t *testing.T, sc cookieScenario, url string) bool {
	deadline := time.Now().Add(cookieReadyTimeout)
	for !sc.ready(t, url) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// runCookieScenarios sends every scenario's requests to a running proxy,
// except to those in skip.
func runCookieScenarios(t *testing.T, scenarios []cookieScenario, base int, skip map[string]bool) [][]cookieSeen {
	t.Helper()
	all := make([][]cookieSeen, len(scenarios))
	for i, sc := range scenarios {
		if skip[sc.name] {
			continue
		}
		url := "http://" + loopback(base+i) + "/"
		if sc.ready != nil && !waitCookieReady(t, sc, url) {
			t.Errorf("%s: not ready after %v", sc.name, cookieReadyTimeout)
			continue
		}
		for _, r := range sc.requests {
			all[i] = append(all[i], cookieDo(t, url, r, time.Now()))
		}
	}
	return all
}

// TestCookiePersistenceMatchesHAProxy compares caddy with HAProxy on the
// cookie scenarios.
func TestCookiePersistenceMatchesHAProxy(t *testing.T) {
	addrs := map[string]string{
		"s1": startCookieOrigin(t, "s1"),
		"s2": startCookieOrigin(t, "s2"),
		"s3": startCookieOrigin(t, "s3"),
		// A port nothing listens on.
		"closed": loopback(freePort(t)),
	}
	scenarios := cookieScenarios()
	base := freePortRange(t, len(scenarios))
	cfg := cookieConfigFile(t, scenarios, base, addrs)

	var listeners []string
	for i := range scenarios {
		listeners = append(listeners, loopback(base+i))
	}
	haproxy := startHAProxy(t, cfg, listeners...)
	want := runCookieScenarios(t, scenarios, base, nil)
	haproxy.stop()

	c := startCaddy(t, cfg)
	c.waitListening(listeners...)
	requireTranslatedCookie(t, c)
	got := runCookieScenarios(t, scenarios, base, nil)

	for i, sc := range scenarios {
		if len(got[i]) != len(sc.requests) || len(want[i]) != len(sc.requests) {
			continue // skipped, or not ready (reported already)
		}
		for j, r := range sc.requests {
			g, _ := json.Marshal(got[i][j])
			w, _ := json.Marshal(want[i][j])
			if string(g) != string(w) {
				t.Errorf("%s: request %d (%s):\ncaddy   %s\nhaproxy %s", sc.name, j+1, r.what, g, w)
			}
		}
	}
	if t.Failed() {
		data, _ := os.ReadFile(cfg)
		t.Logf("config:\n%s", data)
	}
}

// TestCookieMaintenanceAtRunTimeMatchesHAProxy puts a server in
// maintenance while the proxy runs: HAProxy through its runtime API, caddy
// through a configuration reload on its admin API (the server "disabled").
// Requests with the server's cookie must then be load balanced and get a
// new cookie, and follow the cookie again once the server is back.
func TestCookieMaintenanceAtRunTimeMatchesHAProxy(t *testing.T) {
	s1, s2 := startCookieOrigin(t, "s1"), startCookieOrigin(t, "s2")
	port := freePort(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "admin.sock")
	config := func(s2Params string) []byte {
		return []byte(fmt.Sprintf("global\n  stats socket %s level admin\n\n"+
			"defaults\n  mode http\n  timeout connect 300ms\n  timeout client 5s\n  timeout server 5s\n\n"+
			"listen rt\n  bind %s\n  cookie SRV insert indirect\n  server s1 %s cookie a1\n  server s2 %s cookie b2%s\n",
			sock, loopback(port), s1, s2, s2Params))
	}
	cfg := filepath.Join(dir, "rt.cfg")
	if err := os.WriteFile(cfg, config(""), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "http://" + loopback(port) + "/"
	steps := []cookieRequest{
		{what: "before", cookies: []string{"SRV=b2"}},
		{what: "in maintenance", cookies: []string{"SRV=b2"}},
		{what: "first visit during maintenance"},
		{what: "back", cookies: []string{"SRV=b2"}},
	}
	run := func(setMaint func(bool)) []cookieSeen {
		var seen []cookieSeen
		for i, r := range steps {
			switch i {
			case 1:
				setMaint(true)
			case 3:
				setMaint(false)
			}
			seen = append(seen, cookieDo(t, url, r, time.Now()))
		}
		return seen
	}

	haproxy := startHAProxy(t, cfg, loopback(port))
	want := run(func(maint bool) {
		state := "ready"
		if maint {
			state = "maint"
		}
		haproxyCommand(t, sock, "set server rt/s2 state "+state)
	})
	haproxy.stop()

	c := startCaddy(t, cfg)
	c.waitListening(loopback(port))
	requireTranslatedCookie(t, c)
	got := run(func(maint bool) {
		params := ""
		if maint {
			params = " disabled"
		}
		if err := c.loadHAProxyConfig(config(params)); err != nil {
			t.Fatal(err)
		}
	})
	for i, r := range steps {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("request %d (%s):\ncaddy   %s\nhaproxy %s", i+1, r.what, g, w)
		}
	}
}

// requireTranslatedCookie fails the test when the adapter did not translate
// the cookie lines (the loaded config has no haproxy_cookie handler).
func requireTranslatedCookie(t *testing.T, c *caddyProc) {
	t.Helper()
	loaded, err := c.adminGet("/config/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loaded, `"handler":"haproxy_cookie"`) {
		t.Fatal("the adapted config has no haproxy_cookie handler: cookie persistence was not translated")
	}
}

// haproxyCommand sends one command to HAProxy's runtime API.
func haproxyCommand(t *testing.T, sock, cmd string) {
	t.Helper()
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatalf("runtime API: %v", err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(conn)
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("runtime API %q: %s", cmd, s)
	}
}
